//! Helpers of the event, timer and homework tests: a small HTTP client for
//! a real `qun serve`, uploading and installing apps, and polling until
//! something a user would notice has happened.

#![allow(dead_code)]

use std::future::Future;
use std::time::Duration;

use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

/// The bootstrap admin's token of every server these tests start.
pub const ADMIN: &str = "events-bootstrap-admin-token";

/// A client for one server.
#[derive(Clone)]
pub struct Api {
    /// The HTTP client.
    pub client: Client,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
}

impl Api {
    /// A client for `base`.
    pub fn new(base: &str) -> Api {
        Api {
            client: Client::new(),
            base: base.to_string(),
        }
    }

    /// One request; the body parsed as JSON (or kept as a string).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if !token.is_empty() {
            request = request.bearer_auth(token);
        }
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

    /// POST JSON.
    pub async fn post(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.send(Method::POST, path, token, Some(body)).await
    }

    /// GET.
    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.send(Method::GET, path, token, None).await
    }

    /// DELETE.
    pub async fn delete(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.send(Method::DELETE, path, token, None).await
    }

    /// Create a user as the admin; returns (id, token).
    pub async fn user(&self, name: &str, developer: bool) -> (String, String) {
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

    /// A group owned by `owner`; returns its id.
    pub async fn group(&self, owner: &str, name: &str) -> String {
        let (status, group) = self.post("/v1/groups", owner, json!({"name": name})).await;
        assert_eq!(status, StatusCode::CREATED, "{group}");
        group["id"].as_str().expect("group id").to_string()
    }

    /// Add `user` to the group as `owner`.
    pub async fn add_member(&self, gid: &str, owner: &str, user: &str) {
        let (status, body) = self
            .post(
                &format!("/v1/groups/{gid}/members"),
                owner,
                json!({"user_id": user}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }

    /// Register `slug` as `dev`, upload the component at `path`, and have the
    /// platform admin approve it.
    pub async fn publish(&self, dev: &str, slug: &str, path: &str) {
        let (status, body) = self
            .post("/v1/apps", dev, json!({"slug": slug, "name": slug}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let response = self
            .client
            .post(format!("{}/v1/apps/{slug}/versions", self.base))
            .bearer_auth(dev)
            .header("content-type", "application/wasm")
            .body(qun_components::read(path))
            .send()
            .await
            .expect("upload");
        assert_eq!(response.status(), StatusCode::CREATED);
        let uploaded: Value = response.json().await.expect("version json");
        let version = uploaded["version"].as_str().expect("version");
        let (status, body) = self
            .post(
                &format!("/v1/admin/apps/{slug}/versions/{version}/approve"),
                ADMIN,
                json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    /// Install `slug` in the group with `grants`; returns the installation id.
    pub async fn install(&self, gid: &str, owner: &str, slug: &str, grants: &[&str]) -> String {
        let (status, body) = self
            .post(
                &format!("/v1/groups/{gid}/apps"),
                owner,
                json!({"app": slug, "grants": grants}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_str().expect("installation id").to_string()
    }

    /// Run an action; panics unless it answers 200.
    pub async fn action(
        &self,
        gid: &str,
        slug: &str,
        token: &str,
        action: &str,
        payload: Value,
    ) -> Value {
        let (status, body) = self.try_action(gid, slug, token, action, payload).await;
        assert_eq!(status, StatusCode::OK, "{action}: {body}");
        body
    }

    /// Run an action.
    pub async fn try_action(
        &self,
        gid: &str,
        slug: &str,
        token: &str,
        action: &str,
        payload: Value,
    ) -> (StatusCode, Value) {
        self.post(
            &format!("/v1/groups/{gid}/apps/{slug}/actions/{action}"),
            token,
            payload,
        )
        .await
    }

    /// Post a message as `token`.
    pub async fn say(&self, gid: &str, token: &str, text: &str) -> (StatusCode, Value) {
        self.post(
            &format!("/v1/groups/{gid}/messages"),
            token,
            json!({"text": text}),
        )
        .await
    }

    /// The texts of the group's messages, oldest first.
    pub async fn texts(&self, gid: &str, token: &str) -> Vec<String> {
        let (status, body) = self
            .get(&format!("/v1/groups/{gid}/messages?limit=500"), token)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body.as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| m["text"].as_str().map(str::to_string))
            .collect()
    }

    /// The texts of the direct messages `token` received, oldest first.
    pub async fn directs(&self, token: &str) -> Vec<String> {
        let (status, body) = self.get("/v1/me/direct-messages", token).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body.as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| m["text"].as_str().map(str::to_string))
            .collect()
    }

    /// The events the probe installed in `gid` recorded, in arrival order.
    pub async fn probe_events(&self, gid: &str, slug: &str, token: &str) -> Vec<Value> {
        let mut out = Vec::new();
        let mut cursor = Value::Null;
        loop {
            let page = self
                .action(
                    gid,
                    slug,
                    token,
                    "list",
                    json!({"prefix": "events/", "cursor": cursor, "limit": 100}),
                )
                .await;
            for entry in page["entries"].as_array().into_iter().flatten() {
                let text = entry[1].as_str().unwrap_or_default();
                out.push(serde_json::from_str(text).unwrap_or(Value::Null));
            }
            if page["next"].is_null() {
                return out;
            }
            cursor = page["next"].clone();
        }
    }
}

/// Poll `check` until it answers `Some`, for up to `secs` seconds (a hang
/// guard, not a timing assertion); panics naming `what` otherwise.
pub async fn eventually<T, F, Fut>(secs: u64, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "gave up waiting for {what} after {secs} s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Milliseconds since the epoch.
pub fn now_ms() -> i64 {
    qun_host::store::now_ms()
}

/// The moment `ms` milliseconds from now as RFC 3339 in UTC
/// (`2026-12-03T08:13:06Z`): how a test types a due or start time to the
/// second (people type minutes; typed options take RFC 3339 too).
pub fn rfc3339_in(ms: i64) -> String {
    let at = now_ms() + ms;
    let (secs, days) = (at.div_euclid(1000), at.div_euclid(86_400_000));
    let of_day = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        of_day / 3600,
        of_day / 60 % 60,
        of_day % 60
    )
}
