//! End to end over a real socket against the real `qun` binary: bootstrap
//! admin, users, a group, the polls app uploaded and installed, a poll
//! created with `/poll`, three votes through the action route, and the
//! group's live stream delivering the poll card and the results.

mod server_common;

use std::time::Duration;

use futures::StreamExt;
use qun_tests::{Backend, TestDb, backend_tests};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use server_common::Server;
use tokio::sync::mpsc;

backend_tests!(a_poll_runs_end_to_end_over_http);

const ADMIN: &str = "e2e-bootstrap-admin-token";

/// A small client for one server.
struct Api {
    client: Client,
    base: String,
}

impl Api {
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        let text = response.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn post(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::POST, path, token, Some(body))
            .await
    }

    async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.send(reqwest::Method::GET, path, token, None).await
    }

    /// Create a user as the admin; returns (id, token).
    async fn user(&self, name: &str, developer: bool) -> (String, String) {
        let (status, body) = self
            .post(
                "/v1/users",
                ADMIN,
                json!({"name": name, "developer": developer}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        (
            body["id"].as_str().expect("id").into(),
            body["token"].as_str().expect("token").into(),
        )
    }

    /// Follow a group's stream from the start; events arrive as (id, message).
    async fn follow(
        &self,
        gid: &str,
        token: &str,
        last_event_id: i64,
    ) -> mpsc::UnboundedReceiver<(i64, Value)> {
        let response = self
            .client
            .get(format!("{}/v1/groups/{gid}/stream", self.base))
            .bearer_auth(token)
            .header("Last-Event-ID", last_event_id.to_string())
            .send()
            .await
            .expect("stream");
        assert_eq!(response.status(), StatusCode::OK);
        assert!(
            response.headers()["content-type"]
                .to_str()
                .is_ok_and(|c| c.starts_with("text/event-stream")),
            "{:?}",
            response.headers()
        );
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut bytes = response.bytes_stream();
            let mut buffer = String::new();
            while let Some(Ok(chunk)) = bytes.next().await {
                buffer.push_str(&String::from_utf8_lossy(&chunk));
                while let Some(end) = buffer.find("\n\n") {
                    let block: String = buffer.drain(..end + 2).collect();
                    let (mut id, mut data) = (None, String::new());
                    let mut new_message = true;
                    for line in block.lines() {
                        // Only new messages (`event: message`), not updates.
                        if let Some(v) = line.strip_prefix("event:") {
                            new_message = v.trim() == "message";
                        } else if let Some(v) = line.strip_prefix("id:") {
                            id = v.trim().parse::<i64>().ok();
                        } else if let Some(v) = line.strip_prefix("data:") {
                            data.push_str(v.trim_start());
                        }
                    }
                    if let (true, Some(id), Ok(message)) =
                        (new_message, id, serde_json::from_str::<Value>(&data))
                        && tx.send((id, message)).is_err()
                    {
                        return;
                    }
                }
            }
        });
        rx
    }
}

/// The next event, or a panic naming what was awaited (a hang guard, not a timing assertion).
async fn next_event(rx: &mut mpsc::UnboundedReceiver<(i64, Value)>, what: &str) -> (i64, Value) {
    tokio::time::timeout(Duration::from_secs(60), rx.recv())
        .await
        .unwrap_or_else(|_| panic!("the stream did not deliver {what}"))
        .unwrap_or_else(|| panic!("the stream ended before {what}"))
}

async fn a_poll_runs_end_to_end_over_http(backend: Backend) {
    let Some(db) = TestDb::new(backend).await else {
        return;
    };
    let polls = qun_components::read(qun_tests::polls());
    let mut server = Server::start(&db.url, ADMIN);
    let api = Api {
        client: Client::new(),
        base: server.base.clone(),
    };

    let (status, health) = api.get("/healthz", "").await;
    assert_eq!((status, &health["status"]), (StatusCode::OK, &json!("ok")));

    // The bootstrap admin creates everyone else.
    let (status, me) = api.get("/v1/me", ADMIN).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(
        (me["name"].as_str(), me["admin"].as_bool()),
        (Some("admin"), Some(true))
    );
    let (_, dev) = api.user("dev", true).await;
    let (_, owner) = api.user("owner", false).await;
    let mut voters = Vec::new();
    for name in ["ann", "ben", "cat"] {
        voters.push(api.user(name, false).await);
    }

    let (status, group) = api
        .post("/v1/groups", &owner, json!({"name": "lunch"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{group}");
    let gid = group["id"].as_str().expect("group id").to_string();
    for (id, _) in &voters {
        let (status, body) = api
            .post(
                &format!("/v1/groups/{gid}/members"),
                &owner,
                json!({"user_id": id}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let (_, members) = api
        .get(&format!("/v1/groups/{gid}/members"), &voters[0].1)
        .await;
    assert_eq!(members.as_array().map(Vec::len), Some(4), "{members}");

    // The developer registers the app and uploads the component.
    let (status, body) = api
        .post("/v1/apps", &dev, json!({"slug": "polls", "name": "Polls"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let response = api
        .client
        .post(format!("{}/v1/apps/polls/versions", api.base))
        .bearer_auth(&dev)
        .header("content-type", "application/wasm")
        .body(polls.clone())
        .send()
        .await
        .expect("upload");
    assert_eq!(response.status(), StatusCode::CREATED);
    let version: Value = response.json().await.expect("version json");
    assert_eq!(version["commands"], json!(["poll"]));
    assert_eq!(version["status"], json!("pending"));
    let version_id = version["version"].as_str().expect("version").to_string();
    let (_, catalog) = api.get("/v1/catalog", &owner).await;
    assert_eq!(catalog, json!([]), "a pending version is not listed");
    // A platform admin reviews and approves it.
    let (_, queue) = api.get("/v1/admin/reviews", ADMIN).await;
    assert_eq!(queue[0]["app"], "polls", "{queue}");
    let (status, body) = api
        .post(
            &format!("/v1/admin/apps/polls/versions/{version_id}/approve"),
            ADMIN,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], json!("approved"));
    let capabilities = version["capabilities"].clone();
    assert!(
        capabilities
            .as_array()
            .is_some_and(|c| c.contains(&json!("messaging"))),
        "{version}"
    );
    // The same version again is a conflict.
    let again = api
        .client
        .post(format!("{}/v1/apps/polls/versions", api.base))
        .bearer_auth(&dev)
        .body(polls)
        .send()
        .await;
    assert_eq!(again.expect("re-upload").status(), StatusCode::CONFLICT);

    let (_, catalog) = api.get("/v1/catalog", &owner).await;
    assert!(
        catalog
            .as_array()
            .is_some_and(|c| c.iter().any(|a| a["slug"] == "polls")),
        "{catalog}"
    );

    // The owner installs it with everything it asks for.
    let (status, body) = api
        .post(
            &format!("/v1/groups/{gid}/apps"),
            &owner,
            json!({"app": "polls", "grants": capabilities}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["commands"], json!(["poll"]));

    // Watch the group from its first message.
    let mut stream = api.follow(&gid, &voters[2].1, 0).await;

    // An unknown command says which ones exist.
    let (status, body) = api
        .post(
            &format!("/v1/groups/{gid}/messages"),
            &voters[0].1,
            json!({"text": "/lunch now"}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["error"]["code"], json!("unknown_command"));
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("/poll")),
        "{body}"
    );

    let (status, posted) = api
        .post(
            &format!("/v1/groups/{gid}/messages"),
            &voters[0].1,
            json!({"text": "/poll Lunch? | noodles, dumplings, rice"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{posted}");
    // The app posts the poll's card itself ("Poll #1: Lunch? (noodles 0, ...)")
    // and keeps it up to date; the poll's id is in its text.
    let (status, timeline) = api.get(&format!("/v1/groups/{gid}/messages"), &owner).await;
    assert_eq!(status, StatusCode::OK, "{timeline}");
    let poll = timeline
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["text"].as_str())
        .find_map(|t| t.strip_prefix("Poll #").and_then(|r| r.split(':').next()))
        .unwrap_or_else(|| panic!("no poll card after {posted}: {timeline}"))
        .to_string();

    for ((_, token), choice) in voters.iter().zip([0, 1, 1]) {
        let (status, body) = api
            .post(
                &format!("/v1/groups/{gid}/apps/polls/actions/vote"),
                token,
                json!({"poll": poll, "choices": [choice]}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, results) = api
        .post(
            &format!("/v1/groups/{gid}/apps/polls/actions/results"),
            &owner,
            json!({"poll": poll}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{results}");
    let votes: Vec<u64> = results["options"]
        .as_array()
        .expect("options")
        .iter()
        .filter_map(|o| o["votes"].as_u64())
        .collect();
    assert_eq!(votes, [1, 2, 0]);

    // The creator closes the poll; the app posts the results.
    let (status, closed) = api
        .post(
            &format!("/v1/groups/{gid}/apps/polls/actions/close"),
            &voters[0].1,
            json!({"poll": poll}),
        )
        .await;
    assert_eq!(
        (status, &closed["closed"]),
        (StatusCode::OK, &json!(true)),
        "{closed}"
    );
    // The app's refusal reaches the user with its reason.
    let (status, body) = api
        .post(
            &format!("/v1/groups/{gid}/apps/polls/actions/vote"),
            &voters[1].1,
            json!({"poll": poll, "choices": [0]}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["code"], json!("app_invalid"));
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("closed")),
        "{body}"
    );

    // The stream delivered the command, the poll card (then its updates as
    // votes came in) and the results, in order.
    let header = |m: &Value| {
        m["blocks"][0]["text"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    let (first_id, typed) = next_event(&mut stream, "the /poll message").await;
    assert_eq!(
        typed["text"],
        json!("/poll Lunch? | noodles, dumplings, rice")
    );
    let (card_id, card) = next_event(&mut stream, "the poll card").await;
    assert!(card_id > first_id);
    assert_eq!(header(&card), "Lunch?", "{card}");
    assert!(
        card["installation_id"].is_string(),
        "posted by the app: {card}"
    );
    let mut results = None;
    for _ in 0..20 {
        let (id, event) = next_event(&mut stream, "the results message").await;
        if header(&event).starts_with("Results: Lunch?") {
            results = Some((id, event));
            break;
        }
    }
    let (results_id, _) = results.expect("the results reach the stream");
    assert!(results_id > card_id);

    // Resuming with Last-Event-ID replays only what came after.
    let mut resumed = api.follow(&gid, &owner, card_id).await;
    let mut replayed = Vec::new();
    for _ in 0..20 {
        let (id, _) = next_event(&mut resumed, "the replayed results").await;
        assert!(id > card_id, "replayed {id}, not after {card_id}");
        replayed.push(id);
        if id == results_id {
            break;
        }
    }
    assert_eq!(replayed.last(), Some(&results_id), "{replayed:?}");

    let (_, history) = api
        .get(
            &format!("/v1/groups/{gid}/messages?after={first_id}&limit=10"),
            &owner,
        )
        .await;
    assert_eq!(history.as_array().map(Vec::len), Some(2), "{history}");

    let metrics = api
        .client
        .get(format!("{}/metrics", api.base))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        metrics.contains("qun_invocations_total{app=\"polls\",outcome=\"ok\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains("qun_invocations_total{app=\"polls\",outcome=\"invalid\"}"),
        "{metrics}"
    );
    assert!(metrics.contains("qun_http_requests_total"), "{metrics}");

    // SIGTERM ends the open streams and the server exits cleanly.
    assert!(
        server.terminate(),
        "qun serve did not shut down cleanly on SIGTERM"
    );
    drop(stream);
}
