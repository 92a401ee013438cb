//! The HTTP API of a real `qun serve`, as the end-to-end tests call it:
//! JSON in and out, a bearer token per call, users made by the admin.

use reqwest::{Client, Method};
use serde_json::{Value, json};

use super::Server;

/// A client of one server, knowing its admin token.
pub struct Api {
    /// The HTTP client.
    pub client: Client,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The bootstrap admin token.
    pub admin: String,
}

impl Api {
    /// A client of `server`, whose admin token is `admin`.
    pub fn new(server: &Server, admin: &str) -> Api {
        Api {
            client: Client::new(),
            base: server.base.clone(),
            admin: admin.to_string(),
        }
    }

    /// Any call: (status, body as JSON, or as a JSON string when it is not JSON).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// `GET`.
    pub async fn get(&self, path: &str, token: &str) -> (u16, Value) {
        self.call(Method::GET, path, token, None).await
    }

    /// `GET`, which must answer `200`: the body.
    pub async fn get_ok(&self, path: &str, token: &str) -> Value {
        let (status, body) = self.get(path, token).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    /// `POST` with a JSON body.
    pub async fn post(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        self.call(Method::POST, path, token, Some(body)).await
    }

    /// `PATCH` with a JSON body.
    pub async fn patch(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        self.call(Method::PATCH, path, token, Some(body)).await
    }

    /// A new user: (id, token).
    pub async fn user(&self, name: &str, developer: bool) -> (String, String) {
        let (status, body) = self
            .post(
                "/v1/users",
                &self.admin,
                json!({"name": name, "developer": developer}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        (
            body["id"].as_str().expect("id").to_string(),
            body["token"].as_str().expect("token").to_string(),
        )
    }

    /// Upload the component at `file` as `dev` (registering `slug` first if
    /// needed); the version.
    pub async fn upload(&self, dev: &str, slug: &str, file: &str) -> Value {
        self.publish(dev, slug, qun_components::read(file)).await
    }

    /// Upload `bytes` as a version of `slug` as `dev` (registering it first if
    /// needed), following the upload while it compiles (`202`); the version.
    pub async fn publish(&self, dev: &str, slug: &str, bytes: Vec<u8>) -> Value {
        let (status, body) = self
            .post("/v1/apps", dev, json!({"slug": slug, "name": slug}))
            .await;
        assert!(
            status == 201 || body["error"]["code"] == "slug_taken",
            "{status} {body}"
        );
        let response = self
            .client
            .post(format!("{}/v1/apps/{slug}/versions", self.base))
            .bearer_auth(dev)
            .header("content-type", "application/wasm")
            .body(bytes)
            .send()
            .await
            .expect("upload");
        let status = response.status().as_u16();
        let mut body: Value = response.json().await.expect("json");
        match status {
            201 => body,
            202 => {
                let path = format!(
                    "/v1/apps/{slug}/uploads/{}",
                    body["id"].as_str().expect("upload id")
                );
                for _ in 0..600 {
                    if body["status"] != "compiling" {
                        break;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                    body = self.get_ok(&path, dev).await;
                }
                assert_eq!(body["status"], "done", "{slug}: {body}");
                body["version"].clone()
            }
            _ => panic!("uploading {slug}: {status} {body}"),
        }
    }

    /// Approve `slug` `version` as the admin.
    pub async fn approve(&self, slug: &str, version: &str) {
        let (status, body) = self
            .post(
                &format!("/v1/admin/apps/{slug}/versions/{version}/approve"),
                &self.admin,
                json!({}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }

    /// A group owned by `owner` with `member` in it: its id.
    pub async fn group(&self, owner: &str, member_id: &str, name: &str) -> String {
        let (status, group) = self.post("/v1/groups", owner, json!({"name": name})).await;
        assert_eq!(status, 201, "{group}");
        let id = group["id"].as_str().expect("group id").to_string();
        let (status, body) = self
            .post(
                &format!("/v1/groups/{id}/members"),
                owner,
                json!({"user_id": member_id, "role": "member"}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        id
    }

    /// Install `slug` in `group` as its owner with `grants`: the installation id.
    pub async fn install(&self, owner: &str, group: &str, slug: &str, grants: Value) -> String {
        let (status, inst) = self
            .post(
                &format!("/v1/groups/{group}/apps"),
                owner,
                json!({"app": slug, "grants": grants}),
            )
            .await;
        assert_eq!(status, 201, "{inst}");
        inst["id"].as_str().expect("installation id").to_string()
    }

    /// Audit rows of `app` with `action`, oldest first.
    pub async fn audit(&self, app: &str, action: &str) -> Vec<Value> {
        let (status, page) = self
            .get(
                &format!("/v1/admin/audit?app={app}&action={action}&limit=500"),
                &self.admin,
            )
            .await;
        assert_eq!(status, 200, "{page}");
        let mut rows = page["entries"].as_array().cloned().expect("entries");
        rows.reverse();
        rows
    }
}
