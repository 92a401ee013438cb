//! The events app end to end over a real socket against the real `qun`
//! binary: a paid event with one seat; a paid RSVP asks the member to pay,
//! the member confirms through the payments API and becomes an attendee; the
//! next member is waitlisted; the attendee cancels before the cutoff and is
//! refunded, the waitlisted member is promoted and asked to pay; the reminder
//! timer sends the attendee a direct message; the ledger balances throughout.

mod events_common;
mod server_common;

use std::time::Duration;

use qun_tests::{Backend, TestDb, backend_tests};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use server_common::Server;

backend_tests!(a_paid_event_runs_end_to_end_over_http);

const ADMIN: &str = "events-e2e-admin-token";

struct Api {
    client: Client,
    base: String,
}

impl Api {
    async fn send(
        &self,
        method: Method,
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
        self.send(Method::POST, path, token, Some(body)).await
    }

    async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.send(Method::GET, path, token, None).await
    }

    /// A new user; returns (id, token).
    async fn user(&self, name: &str, developer: bool) -> (String, String) {
        let (status, body) = self
            .post(
                "/v1/users",
                ADMIN,
                json!({"name": format!("{name}-{}", &uuid::Uuid::new_v4().simple().to_string()[..6]), "developer": developer}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        (
            body["id"].as_str().expect("id").to_string(),
            body["token"].as_str().expect("token").to_string(),
        )
    }

    async fn balance(&self, token: &str) -> i64 {
        let (status, wallet) = self.get("/v1/me/wallet", token).await;
        assert_eq!(status, StatusCode::OK);
        wallet["balances"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|b| b["currency"] == "CNY")
            .and_then(|b| b["balance"].as_i64())
            .unwrap_or(0)
    }

    async fn ledger_ok(&self) {
        let (status, report) = self.get("/v1/admin/ledger/check", ADMIN).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(report["ok"], json!(true), "{report}");
    }

    /// Poll `what` until `done` holds (a generous bound, not a timing assertion).
    async fn until<F>(&self, what: &str, mut probe: impl AsyncFnMut() -> Value, done: F) -> Value
    where
        F: Fn(&Value) -> bool,
    {
        let mut last = Value::Null;
        for _ in 0..600 {
            last = probe().await;
            if done(&last) {
                return last;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{what} never happened; last seen {last}");
    }
}

/// How many reminders of the board games event a list of direct messages holds.
fn reminders(dms: &Value) -> usize {
    dms.as_array()
        .into_iter()
        .flatten()
        .filter(|m| {
            m["text"]
                .as_str()
                .is_some_and(|t| t.starts_with("Reminder:") && t.contains("Board games"))
        })
        .count()
}

async fn a_paid_event_runs_end_to_end_over_http(backend: Backend) {
    let Some(db) = TestDb::new(backend).await else {
        return;
    };
    let events = qun_components::plugin("events").expect("the events plugin was built");
    let server = Server::start(&db.url, ADMIN);
    let api = Api {
        client: Client::new(),
        base: server.base.clone(),
    };
    let (_, dev) = api.user("dev", true).await;
    let (_, owner) = api.user("owner", false).await;
    let (alice_id, alice) = api.user("alice", false).await;
    let (bob_id, bob) = api.user("bob", false).await;
    let (status, group) = api
        .post("/v1/groups", &owner, json!({"name": "club"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{group}");
    let gid = group["id"].as_str().expect("gid").to_string();
    for id in [&alice_id, &bob_id] {
        let (status, body) = api
            .post(
                &format!("/v1/groups/{gid}/members"),
                &owner,
                json!({"user_id": id}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let (status, body) = api
        .post(
            "/v1/apps",
            &dev,
            json!({"slug": "events", "name": "Events"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let upload = api
        .client
        .post(format!("{}/v1/apps/events/versions", api.base))
        .bearer_auth(&dev)
        .header("content-type", "application/wasm")
        .body(qun_components::read(events))
        .send()
        .await
        .expect("upload");
    assert_eq!(upload.status(), StatusCode::CREATED);
    let version: Value = upload.json().await.expect("version");
    let (status, body) = api
        .post(
            &format!(
                "/v1/admin/apps/events/versions/{}/approve",
                version["version"].as_str().expect("version")
            ),
            ADMIN,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = api
        .post(
            &format!("/v1/groups/{gid}/apps"),
            &owner,
            json!({"app": "events", "grants": version["capabilities"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    for token in [&alice, &bob] {
        let id = if *token == alice { &alice_id } else { &bob_id };
        let (status, body) = api
            .post(
                &format!("/v1/admin/wallets/{id}/credit"),
                ADMIN,
                json!({"amount": 5_000, "currency": "CNY"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    // One seat, 10.00 CNY, refunds until 1 h before; it starts in 2 h and
    // 15 s, so the reminder (2 h before the start) comes due in about 15 s.
    let starts = events_common::rfc3339_in(7_215_000);
    let (status, posted) = api
        .post(
            &format!("/v1/groups/{gid}/messages"),
            &owner,
            json!({"text": format!("/event Board games | {starts} | 1 | 10.00 CNY | cutoff: 1h")}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{posted}");
    // The app posts the event's card itself ("Event #1 “Board games”: ...")
    // and keeps it up to date; the id is in its text.
    let (status, timeline) = api
        .get(&format!("/v1/groups/{gid}/messages?limit=50"), &owner)
        .await;
    assert_eq!(status, StatusCode::OK, "{timeline}");
    let event = timeline
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["text"].as_str())
        .find_map(|t| {
            t.strip_prefix("Event #")
                .and_then(|r| r.split(' ').next())
                .map(str::to_string)
        })
        .unwrap_or_else(|| panic!("no event card after {posted}: {timeline}"));
    let action = |name: &str| format!("/v1/groups/{gid}/apps/events/actions/{name}");

    // Alice RSVPs: her seat waits for her payment.
    let (status, rsvp) = api
        .post(&action("rsvp"), &alice, json!({"event": event}))
        .await;
    assert_eq!(status, StatusCode::OK, "{rsvp}");
    assert_eq!(rsvp["status"], json!("pending-payment"), "{rsvp}");
    let payment = rsvp["payment"]["id"].as_str().expect("payment").to_string();
    let (_, pending) = api.get("/v1/me/payments?status=pending", &alice).await;
    assert_eq!(pending["payments"][0]["id"], json!(payment), "{pending}");
    assert_eq!(pending["payments"][0]["amount"], json!(1_000));
    let (status, paid) = api
        .post(
            &format!("/v1/payments/{payment}/confirm"),
            &alice,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{paid}");
    assert_eq!(api.balance(&alice).await, 4_000);
    api.until(
        "alice confirmed",
        async || {
            api.post(&action("rsvp"), &alice, json!({"event": event}))
                .await
                .1
        },
        |v| v["status"] == "confirmed",
    )
    .await;
    api.ledger_ok().await;

    // Bob finds the event full.
    let (status, rsvp) = api
        .post(&action("rsvp"), &bob, json!({"event": event}))
        .await;
    assert_eq!(status, StatusCode::OK, "{rsvp}");
    assert_eq!(rsvp["status"], json!("waitlisted"), "{rsvp}");
    assert_eq!(rsvp["position"], json!(1));

    // The reminder reaches Alice (confirmed), not Bob (waitlisted).
    let dms = api
        .until(
            "the reminder",
            async || api.get("/v1/me/direct-messages", &alice).await.1,
            |v| reminders(v) > 0,
        )
        .await;
    assert_eq!(reminders(&dms), 1, "one reminder: {dms}");
    let (_, bob_dms) = api.get("/v1/me/direct-messages", &bob).await;
    assert_eq!(
        reminders(&bob_dms),
        0,
        "the waitlist gets no reminder: {bob_dms}"
    );

    // Alice cancels before the cutoff: refunded in full; Bob is promoted and
    // asked to pay.
    let (status, cancel) = api
        .post(&action("cancel"), &alice, json!({"event": event}))
        .await;
    assert_eq!(status, StatusCode::OK, "{cancel}");
    assert_eq!(cancel["refunded"], json!(1_000), "{cancel}");
    assert_eq!(api.balance(&alice).await, 5_000);
    api.ledger_ok().await;
    let (_, bobs) = api.get("/v1/me/payments?status=pending", &bob).await;
    let bob_payment = bobs["payments"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("bob was not asked to pay: {bobs}"))
        .to_string();
    let (status, _) = api
        .post(
            &format!("/v1/payments/{bob_payment}/confirm"),
            &bob,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let roster = api
        .until(
            "bob confirmed",
            async || {
                api.post(&action("attendees"), &owner, json!({"event": event}))
                    .await
                    .1
            },
            |v| {
                v["attendees"].as_array().is_some_and(|a| {
                    a.iter()
                        .any(|s| s["member"] == json!(bob_id) && s["status"] == "confirmed")
                })
            },
        )
        .await;
    assert_eq!(roster["waitlist"], json!([]), "{roster}");
    assert_eq!(roster["seats_taken"], json!(1), "{roster}");
    assert!(
        roster["left"]
            .as_array()
            .is_some_and(|l| l.iter().any(|x| x["member"] == json!(alice_id))),
        "{roster}"
    );
    // Members cannot see the organizer's view.
    let (status, _) = api
        .post(&action("attendees"), &alice, json!({"event": event}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(api.balance(&bob).await, 4_000);
    api.ledger_ok().await;
}
