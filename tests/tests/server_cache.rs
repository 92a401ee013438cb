//! Issue 12 item 2: what every request reads is cached per host, and a
//! change made through one host is honoured by another host on the same
//! database — two real `qun serve` processes, real HTTP. Host B reads and
//! caches first; then host A revokes a grant, suspends the app, disables a
//! user and revokes a token, and B must refuse accordingly.
//!
//! On SQLite (processes on one machine, a shared stamp file) B honours the
//! change on its very next request. On PostgreSQL B learns it by `NOTIFY`,
//! delivered after A's commit: B's answer is polled for, with a generous
//! bound (it takes about a millisecond).
//!
//! Apps' stored values are cached per host too (`store::kv_cache`), and
//! there B must answer from the database's value on its very next request,
//! on both backends: every cached read is checked before the answer counts.

mod server_common;

use std::time::{Duration, Instant};

use qun_tests::{Backend, TestDb, backend_tests};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use server_common::Server;

backend_tests!(
    a_change_on_one_host_is_honoured_by_the_other,
    an_apps_stored_value_changed_on_one_host_is_read_fresh_by_the_other,
);

const ADMIN: &str = "admin-token";

struct Api {
    client: Client,
}

impl Api {
    async fn send(
        &self,
        base: &str,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .client
            .request(method, format!("{base}{path}"))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        let body = response.json::<Value>().await.unwrap_or(Value::Null);
        (status, body)
    }

    async fn ok(&self, base: &str, method: Method, path: &str, token: &str, body: Value) -> Value {
        let (status, body) = self.send(base, method, path, token, Some(body)).await;
        assert!(status.is_success(), "{path}: {status} {body}");
        body
    }

    async fn user(&self, base: &str, name: &str, developer: bool) -> (String, String) {
        let body = self
            .ok(
                base,
                Method::POST,
                "/v1/users",
                ADMIN,
                json!({"name": name, "developer": developer}),
            )
            .await;
        (
            body["id"].as_str().expect("id").to_string(),
            body["token"].as_str().expect("token").to_string(),
        )
    }
}

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

/// Ask until `done` holds for the answer: at once on SQLite; on PostgreSQL
/// within a generous bound (the other host learns the change by `NOTIFY`).
async fn until<F, Fut>(
    backend: Backend,
    what: &str,
    mut ask: F,
    done: impl Fn(StatusCode, &Value) -> bool,
) where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = (StatusCode, Value)>,
{
    let bound = match backend {
        Backend::Sqlite => Duration::ZERO,
        Backend::Postgres => Duration::from_secs(10),
    };
    let start = Instant::now();
    loop {
        let (status, body) = ask().await;
        if done(status, &body) {
            return;
        }
        assert!(
            start.elapsed() < bound,
            "{what}: host B still answers {status} {body}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Two `qun serve` processes (A and B) over one fresh database.
async fn two_servers(backend: Backend) -> Option<(TestDb, Server, Server)> {
    let db = TestDb::new(backend).await?;
    let (a, b) = (Server::start(&db.url, ADMIN), Server::start(&db.url, ADMIN));
    Some((db, a, b))
}

/// A group with polls installed (every capability granted), an owner and a
/// member, set up through host `a`.
struct Group {
    gid: String,
    owner: String,
    member_id: String,
    member: String,
    all: Value,
}

async fn polls_group(api: &Api, a: &str) -> Group {
    // Everything is set up through host A.
    let (_, dev) = api.user(a, "dev", true).await;
    let (_, owner) = api.user(a, "owner", false).await;
    let (member_id, member) = api.user(a, "member", false).await;
    let group = api
        .ok(a, Method::POST, "/v1/groups", &owner, json!({"name": "g"}))
        .await;
    let gid = group["id"].as_str().expect("gid").to_string();
    api.ok(
        a,
        Method::POST,
        &format!("/v1/groups/{gid}/members"),
        &owner,
        json!({"user_id": member_id}),
    )
    .await;
    api.ok(
        a,
        Method::POST,
        "/v1/apps",
        &dev,
        json!({"slug": "polls", "name": "Polls"}),
    )
    .await;
    let upload = api
        .client
        .post(format!("{a}/v1/apps/polls/versions"))
        .bearer_auth(&dev)
        .header("content-type", "application/wasm")
        .body(qun_components::read(qun_tests::polls()))
        .send()
        .await
        .expect("upload");
    assert_eq!(upload.status(), StatusCode::CREATED);
    let version: Value = upload.json().await.expect("version");
    let v = version["version"].as_str().expect("version");
    api.ok(
        a,
        Method::POST,
        &format!("/v1/admin/apps/polls/versions/{v}/approve"),
        ADMIN,
        json!({}),
    )
    .await;
    let all = version["capabilities"].clone();
    api.ok(
        a,
        Method::POST,
        &format!("/v1/groups/{gid}/apps"),
        &owner,
        json!({"app": "polls", "grants": all}),
    )
    .await;

    Group {
        gid,
        owner,
        member_id,
        member,
        all,
    }
}

async fn a_change_on_one_host_is_honoured_by_the_other(backend: Backend) {
    let Some((_db, a_host, b_host)) = two_servers(backend).await else {
        return;
    };
    let (a, b) = (a_host.base.as_str(), b_host.base.as_str());
    let api = Api {
        client: Client::new(),
    };
    let Group {
        gid,
        owner,
        member_id,
        member,
        all,
    } = polls_group(&api, a).await;

    // Host B answers (and caches the token, the member, the installation).
    let messages = format!("/v1/groups/{gid}/messages");
    api.ok(
        b,
        Method::POST,
        &messages,
        &member,
        json!({"text": "/poll Q? | yes, no"}),
    )
    .await;
    let results = format!("/v1/groups/{gid}/apps/polls/actions/results");
    let vote = format!("/v1/groups/{gid}/apps/polls/actions/vote");
    api.ok(
        b,
        Method::POST,
        &vote,
        &member,
        json!({"poll": "1", "choices": [0]}),
    )
    .await;
    let answer = api
        .ok(b, Method::POST, &results, &member, json!({"poll": "1"}))
        .await;
    assert_eq!(answer["options"][0]["votes"], json!(1), "{answer}");
    let read = || {
        api.send(
            b,
            Method::POST,
            &results,
            &member,
            Some(json!({"poll": "1"})),
        )
    };

    // A grant revoked on A: B's next read of the app's storage is refused.
    let without_storage: Vec<Value> = all
        .as_array()
        .expect("capabilities")
        .iter()
        .filter(|c| *c != "storage")
        .cloned()
        .collect();
    let app = format!("/v1/groups/{gid}/apps/polls");
    api.ok(
        a,
        Method::PATCH,
        &app,
        &owner,
        json!({"grants": without_storage}),
    )
    .await;
    until(backend, "grant revoked", read, |s, _| !s.is_success()).await;
    // A vote needs storage: refused too.
    let (status, body) = api
        .send(
            b,
            Method::POST,
            &vote,
            &member,
            Some(json!({"poll": "1", "choices": [1]})),
        )
        .await;
    assert!(!status.is_success(), "{status} {body}");
    api.ok(a, Method::PATCH, &app, &owner, json!({"grants": all}))
        .await;
    until(backend, "grant given back", read, |s, _| s.is_success()).await;

    // The app suspended by a platform admin on A.
    api.ok(
        a,
        Method::POST,
        "/v1/admin/apps/polls/suspend",
        ADMIN,
        json!({"reason": "under review"}),
    )
    .await;
    until(backend, "app suspended", read, |s, body| {
        s == StatusCode::CONFLICT && code(body) == "suspended"
    })
    .await;
    api.ok(
        a,
        Method::POST,
        "/v1/admin/apps/polls/resume",
        ADMIN,
        json!({}),
    )
    .await;
    until(backend, "app resumed", read, |s, _| s.is_success()).await;

    // The member disabled on A: their token stops working on B.
    let me = || api.send(b, Method::GET, "/v1/me", &member, None);
    let (status, _) = me().await;
    assert_eq!(status, StatusCode::OK);
    api.ok(
        a,
        Method::POST,
        &format!("/v1/admin/users/{member_id}/disable"),
        ADMIN,
        json!({"reason": "test"}),
    )
    .await;
    until(backend, "user disabled", me, |s, body| {
        s == StatusCode::UNAUTHORIZED && code(body) == "user_disabled"
    })
    .await;
    api.ok(
        a,
        Method::POST,
        &format!("/v1/admin/users/{member_id}/enable"),
        ADMIN,
        json!({}),
    )
    .await;
    until(backend, "user enabled", me, |s, _| s == StatusCode::OK).await;

    // The owner's tokens revoked on A.
    let owner_me = || api.send(b, Method::GET, "/v1/me", &owner, None);
    let (status, me_body) = owner_me().await;
    assert_eq!(status, StatusCode::OK);
    let owner_id = me_body["id"].as_str().expect("id").to_string();
    api.ok(
        a,
        Method::POST,
        &format!("/v1/admin/users/{owner_id}/tokens/revoke"),
        ADMIN,
        json!({}),
    )
    .await;
    until(backend, "token revoked", owner_me, |s, body| {
        s == StatusCode::UNAUTHORIZED && code(body) == "token_revoked"
    })
    .await;
}

/// B keeps a poll (and a poll that does not exist yet) in its cache of
/// stored values; A closes the one and creates the other. B's very next
/// vote and results see both, with no waiting.
async fn an_apps_stored_value_changed_on_one_host_is_read_fresh_by_the_other(backend: Backend) {
    let Some((_db, a_host, b_host)) = two_servers(backend).await else {
        return;
    };
    let (a, b) = (a_host.base.as_str(), b_host.base.as_str());
    let api = Api {
        client: Client::new(),
    };
    let Group {
        gid, owner, member, ..
    } = polls_group(&api, a).await;
    let messages = format!("/v1/groups/{gid}/messages");
    let vote = format!("/v1/groups/{gid}/apps/polls/actions/vote");
    let results = format!("/v1/groups/{gid}/apps/polls/actions/results");
    let close = format!("/v1/groups/{gid}/apps/polls/actions/close");
    api.ok(
        a,
        Method::POST,
        &messages,
        &owner,
        json!({"text": "/poll Q? | yes, no"}),
    )
    .await;

    // B reads poll 1 (twice, so the second read comes from its cache) and
    // finds no poll 2.
    for choice in [0, 1] {
        api.ok(
            b,
            Method::POST,
            &vote,
            &member,
            json!({"poll": "1", "choices": [choice]}),
        )
        .await;
    }
    let answer = api
        .ok(b, Method::POST, &results, &member, json!({"poll": "1"}))
        .await;
    assert_eq!(answer["options"][1]["votes"], json!(1), "{answer}");
    assert_eq!(answer["closed"], json!(false), "{answer}");
    let (status, body) = api
        .send(
            b,
            Method::POST,
            &vote,
            &member,
            Some(json!({"poll": "2", "choices": [0]})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");

    // A closes poll 1 and creates poll 2.
    api.ok(a, Method::POST, &close, &owner, json!({"poll": "1"}))
        .await;
    api.ok(
        a,
        Method::POST,
        &messages,
        &owner,
        json!({"text": "/poll R? | up, down"}),
    )
    .await;

    // B at once: the closed poll refuses the vote, and shows as closed with
    // the one ballot it had; the new poll takes a vote.
    let (status, body) = api
        .send(
            b,
            Method::POST,
            &vote,
            &member,
            Some(json!({"poll": "1", "choices": [0]})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("closed"),
        "{body}"
    );
    let answer = api
        .ok(b, Method::POST, &results, &member, json!({"poll": "1"}))
        .await;
    assert_eq!(answer["closed"], json!(true), "{answer}");
    assert_eq!(answer["options"][0]["votes"], json!(0), "{answer}");
    assert_eq!(answer["options"][1]["votes"], json!(1), "{answer}");
    let answer = api
        .ok(
            b,
            Method::POST,
            &vote,
            &member,
            json!({"poll": "2", "choices": [1]}),
        )
        .await;
    assert_eq!(answer["choices"], json!([1]), "{answer}");
    let answer = api
        .ok(a, Method::POST, &results, &owner, json!({"poll": "2"}))
        .await;
    assert_eq!(answer["options"][1]["votes"], json!(1), "{answer}");
}
