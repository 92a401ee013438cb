//! Issue 11 items 6 and 7 against the real `qun serve`: names are for people
//! (free text in any script, control characters refused with a named 400),
//! and tokens have a lifecycle — a revoked token, an expired one and a
//! disabled user are refused on the very next request, also by a second
//! host process on the same database (on PostgreSQL once the `NOTIFY` that
//! drops the other host's cache arrived, about a millisecond after the
//! commit), and every change is audited.

mod server_common;

use qun_tests::{Backend, TestDb, backend_tests};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use server_common::Server;

backend_tests!(
    names_are_free_text_and_control_characters_are_refused,
    tokens_are_listed_created_and_revoked_on_every_host,
    an_admin_revokes_tokens_and_disables_users_on_every_host,
    a_publish_token_only_publishes,
);

async fn send(
    client: &Client,
    base: &str,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = client
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

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

/// `GET /v1/me` with `token` on `base` until it answers `want` (status, error
/// code; "" for none): at once on SQLite; on PostgreSQL another host learns
/// of a change by `NOTIFY`, after the commit, so it is asked again within a
/// generous bound (issue 12 item 2: each host caches tokens that worked).
async fn me_until(
    client: &Client,
    backend: Backend,
    base: &str,
    token: &str,
    want: (StatusCode, &str),
) {
    let bound = match backend {
        Backend::Sqlite => std::time::Duration::ZERO,
        Backend::Postgres => std::time::Duration::from_secs(10),
    };
    let start = std::time::Instant::now();
    loop {
        let (status, answer) = send(client, base, Method::GET, "/v1/me", token, None).await;
        if (status, code(&answer)) == want {
            return;
        }
        assert!(
            start.elapsed() < bound,
            "{base}: {status} {answer}, not {want:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// A user created by the admin; (id, token).
async fn user(client: &Client, base: &str, admin: &str, name: &str) -> (String, String) {
    let (status, body) = send(
        client,
        base,
        Method::POST,
        "/v1/users",
        admin,
        Some(json!({"name": name, "developer": true})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    (
        body["id"].as_str().expect("id").to_string(),
        body["token"].as_str().expect("token").to_string(),
    )
}

async fn names_are_free_text_and_control_characters_are_refused(backend: Backend) {
    let Some(db) = TestDb::new(backend).await else {
        return;
    };
    let server = Server::start(&db.url, "admin-token");
    let (client, base) = (Client::new(), server.base.as_str());

    // Groups: "Class 3", "Li Wei", "李伟" are names.
    for name in ["Class 3", "Li Wei", "李伟"] {
        let (status, body) = send(
            &client,
            base,
            Method::POST,
            "/v1/groups",
            "admin-token",
            Some(json!({"name": name})),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{name}: {body}");
        assert_eq!(body["name"], name);
    }
    // A user: a plain handle, and a display name in any script.
    let (status, body) = send(
        &client,
        base,
        Method::POST,
        "/v1/users",
        "admin-token",
        Some(json!({"name": "liwei", "display_name": "李伟"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["display_name"], "李伟");
    let token = body["token"].as_str().expect("token").to_string();
    let (_, me) = send(&client, base, Method::GET, "/v1/me", &token, None).await;
    assert_eq!(
        (me["name"].as_str(), me["display_name"].as_str()),
        (Some("liwei"), Some("李伟"))
    );
    let (status, body) = send(
        &client,
        base,
        Method::POST,
        "/v1/users",
        "admin-token",
        Some(json!({"name": "li2", "display_name": "Li Wei"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // NUL and control characters: the same named 400 on both backends.
    for (path, body) in [
        ("/v1/groups", json!({"name": "Class\u{0}3"})),
        ("/v1/groups", json!({"name": "bell\u{7}"})),
        (
            "/v1/users",
            json!({"name": "li3", "display_name": "Li\u{0}Wei"}),
        ),
        (
            "/v1/users",
            json!({"name": "li4", "display_name": "esc\u{1b}[31m"}),
        ),
    ] {
        let (status, answer) = send(
            &client,
            base,
            Method::POST,
            path,
            "admin-token",
            Some(body.clone()),
        )
        .await;
        assert_eq!(
            (status, code(&answer)),
            (StatusCode::BAD_REQUEST, "invalid_text"),
            "{path} {body}: {answer}"
        );
    }
    // A name is one line, not blank, at most 100 characters; a handle is plain ASCII.
    for (path, body) in [
        ("/v1/groups", json!({"name": "two\nlines"})),
        ("/v1/groups", json!({"name": "tab\there"})),
        ("/v1/groups", json!({"name": "   "})),
        ("/v1/groups", json!({"name": "伟".repeat(101)})),
        ("/v1/users", json!({"name": "li wei"})),
        ("/v1/users", json!({"name": "李伟"})),
        ("/v1/users", json!({"name": "аlice"})),
    ] {
        let (status, answer) = send(
            &client,
            base,
            Method::POST,
            path,
            "admin-token",
            Some(body.clone()),
        )
        .await;
        assert_eq!(
            (status, code(&answer)),
            (StatusCode::BAD_REQUEST, "invalid_name"),
            "{path} {body}: {answer}"
        );
    }
}

async fn tokens_are_listed_created_and_revoked_on_every_host(backend: Backend) {
    let Some(db) = TestDb::new(backend).await else {
        return;
    };
    let first = Server::start(&db.url, "admin-token");
    let second = Server::start(&db.url, "admin-token");
    let client = Client::new();
    let (a, b) = (first.base.as_str(), second.base.as_str());
    let (alice_id, alice) = user(&client, a, "admin-token", "alice").await;

    // Alice names a second token; both work on both hosts.
    let (status, created) = send(
        &client,
        a,
        Method::POST,
        "/v1/me/tokens",
        &alice,
        Some(json!({"name": "laptop CLI"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let laptop = created["token"].as_str().expect("token").to_string();
    let laptop_id = created["id"].as_str().expect("id").to_string();
    assert_eq!(created["scope"], "full");
    for base in [a, b] {
        let (status, me) = send(&client, base, Method::GET, "/v1/me", &laptop, None).await;
        assert_eq!(
            (status, me["id"].as_str()),
            (StatusCode::OK, Some(alice_id.as_str()))
        );
    }
    let (_, list) = send(&client, b, Method::GET, "/v1/me/tokens", &alice, None).await;
    let names: Vec<&str> = list
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(names.len(), 2, "{list}");
    assert!(
        names.contains(&"laptop CLI") && names.contains(&"initial"),
        "{list}"
    );
    assert!(
        !list.to_string().contains(&laptop),
        "a secret was listed: {list}"
    );

    // Nobody else can revoke it: for them it does not exist.
    let (_, bob) = user(&client, a, "admin-token", "bob").await;
    let (status, answer) = send(
        &client,
        a,
        Method::DELETE,
        &format!("/v1/me/tokens/{laptop_id}"),
        &bob,
        None,
    )
    .await;
    assert_eq!(
        (status, code(&answer)),
        (StatusCode::NOT_FOUND, "token_not_found")
    );

    // Revoked on host A: refused on the next request on host B, with its code.
    let (status, revoked) = send(
        &client,
        a,
        Method::DELETE,
        &format!("/v1/me/tokens/{laptop_id}"),
        &alice,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{revoked}");
    assert!(revoked["revoked_at"].is_i64(), "{revoked}");
    for base in [b, a] {
        me_until(
            &client,
            backend,
            base,
            &laptop,
            (StatusCode::UNAUTHORIZED, "token_revoked"),
        )
        .await;
    }
    // Alice's other token still works.
    let (status, _) = send(&client, b, Method::GET, "/v1/me", &alice, None).await;
    assert_eq!(status, StatusCode::OK);

    // An expiring token stops working once it expires.
    let (status, created) = send(
        &client,
        a,
        Method::POST,
        "/v1/me/tokens",
        &alice,
        Some(json!({"name": "short", "expires_in_secs": 1})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let short = created["token"].as_str().expect("token").to_string();
    let mut refused = None;
    for _ in 0..100 {
        let (status, answer) = send(&client, b, Method::GET, "/v1/me", &short, None).await;
        if status == StatusCode::UNAUTHORIZED {
            refused = Some(code(&answer).to_string());
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(refused.as_deref(), Some("token_expired"));

    // Everything was audited, with who did it.
    let (_, audit) = send(
        &client,
        a,
        Method::GET,
        "/v1/admin/audit?limit=500",
        "admin-token",
        None,
    )
    .await;
    let actions: Vec<(String, String)> = audit["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap_or("").to_string(),
                e["actor"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(
        actions
            .iter()
            .filter(|(a, who)| a == "token.create" && who == &alice_id)
            .count(),
        2,
        "{actions:?}"
    );
    assert!(
        actions
            .iter()
            .any(|(a, who)| a == "token.revoke" && who == &alice_id),
        "{actions:?}"
    );
}

async fn an_admin_revokes_tokens_and_disables_users_on_every_host(backend: Backend) {
    let Some(db) = TestDb::new(backend).await else {
        return;
    };
    let first = Server::start(&db.url, "admin-token");
    let second = Server::start(&db.url, "admin-token");
    let client = Client::new();
    let (a, b) = (first.base.as_str(), second.base.as_str());
    let (carol_id, carol) = user(&client, a, "admin-token", "carol").await;
    let (dave_id, dave) = user(&client, a, "admin-token", "dave").await;

    // Only admins may.
    let (status, _) = send(
        &client,
        a,
        Method::POST,
        &format!("/v1/admin/users/{dave_id}/disable"),
        &carol,
        Some(json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Disabled on host A: refused on host B at once, with its own code.
    let (status, body) = send(
        &client,
        a,
        Method::POST,
        &format!("/v1/admin/users/{carol_id}/disable"),
        "admin-token",
        Some(json!({"reason": "compromised laptop"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for base in [b, a] {
        me_until(
            &client,
            backend,
            base,
            &carol,
            (StatusCode::UNAUTHORIZED, "user_disabled"),
        )
        .await;
    }
    let (status, answer) = send(
        &client,
        b,
        Method::POST,
        &format!("/v1/admin/users/{carol_id}/disable"),
        "admin-token",
        Some(json!({})),
    )
    .await;
    assert_eq!((status, code(&answer)), (StatusCode::CONFLICT, "unchanged"));
    // Enabled again: her token works again.
    let (status, _) = send(
        &client,
        b,
        Method::POST,
        &format!("/v1/admin/users/{carol_id}/enable"),
        "admin-token",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    me_until(&client, backend, a, &carol, (StatusCode::OK, "")).await;

    // Every token of Dave's revoked on host B: refused on host A.
    let (status, body) = send(
        &client,
        b,
        Method::POST,
        &format!("/v1/admin/users/{dave_id}/tokens/revoke"),
        "admin-token",
        None,
    )
    .await;
    assert_eq!(
        (status, body["revoked"].as_u64()),
        (StatusCode::OK, Some(1)),
        "{body}"
    );
    me_until(
        &client,
        backend,
        a,
        &dave,
        (StatusCode::UNAUTHORIZED, "token_revoked"),
    )
    .await;

    // An unknown user is a 404; audited decisions name the admin.
    let (status, _) = send(
        &client,
        a,
        Method::POST,
        "/v1/admin/users/u_nobody/tokens/revoke",
        "admin-token",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, audit) = send(
        &client,
        a,
        Method::GET,
        "/v1/admin/audit?limit=500",
        "admin-token",
        None,
    )
    .await;
    let actions: Vec<&str> = audit["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    for action in ["user.disable", "user.enable", "token.revoke_all"] {
        assert!(
            actions.contains(&action),
            "{action} not audited: {actions:?}"
        );
    }
}

async fn a_publish_token_only_publishes(backend: Backend) {
    let Some(db) = TestDb::new(backend).await else {
        return;
    };
    let server = Server::start(&db.url, "admin-token");
    let (client, base) = (Client::new(), server.base.as_str());
    let (_, dev) = user(&client, base, "admin-token", "dev").await;
    let (status, _) = send(
        &client,
        base,
        Method::POST,
        "/v1/apps",
        &dev,
        Some(json!({"slug": "polls", "name": "Polls"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, created) = send(
        &client,
        base,
        Method::POST,
        "/v1/me/tokens",
        &dev,
        Some(json!({"name": "ci", "scope": "publish"})),
    )
    .await;
    let publish = created["token"].as_str().expect("token").to_string();
    // It uploads.
    let wasm = std::fs::read(qun_tests::polls()).expect("polls component");
    let response = client
        .post(format!("{base}/v1/apps/polls/versions"))
        .bearer_auth(&publish)
        .header("content-type", "application/wasm")
        .body(wasm)
        .send()
        .await
        .expect("upload");
    assert_eq!(response.status(), StatusCode::CREATED);
    // It does nothing else.
    for (method, path, body) in [
        (Method::POST, "/v1/groups", Some(json!({"name": "x"}))),
        (Method::GET, "/v1/me/tokens", None),
        (
            Method::POST,
            "/v1/me/tokens",
            Some(json!({"name": "escalate"})),
        ),
    ] {
        let (status, answer) = send(&client, base, method.clone(), path, &publish, body).await;
        assert_eq!(
            (status, code(&answer)),
            (StatusCode::FORBIDDEN, "token_scope"),
            "{method} {path}: {answer}"
        );
    }
}
