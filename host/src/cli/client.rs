//! What the developer commands share: the server and token `qun login`
//! keeps in the user's config directory, and an HTTP client that turns the
//! API's error bodies into messages naming the fix.

use std::path::PathBuf;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The server and token of `qun login` (the token is never printed).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Login {
    /// The server's base URL, e.g. `https://qun.example.org`.
    pub server: String,
    /// An API token (a `publish` token is enough for the app commands).
    pub token: String,
}

/// `$QUN_CONFIG_DIR`, or the user's config directory + `qun`.
pub fn config_dir() -> anyhow::Result<PathBuf> {
    if let Some(dir) = std::env::var_os("QUN_CONFIG_DIR") {
        return Ok(PathBuf::from(dir));
    }
    dirs::config_dir()
        .map(|d| d.join("qun"))
        .context("no config directory for this user; set QUN_CONFIG_DIR")
}

fn login_file() -> anyhow::Result<PathBuf> {
    Ok(config_dir()?.join("login.json"))
}

impl Login {
    /// The saved login, or an error saying to run `qun login`.
    pub fn load() -> anyhow::Result<Login> {
        let file = login_file()?;
        let text = std::fs::read_to_string(&file).map_err(|_| {
            anyhow::anyhow!(
                "not logged in (no {}); run `qun login URL` first",
                file.display()
            )
        })?;
        serde_json::from_str(&text).with_context(|| format!("reading {}", file.display()))
    }

    /// Save it, readable by this user only.
    pub fn save(&self) -> anyhow::Result<PathBuf> {
        let file = login_file()?;
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let text = serde_json::to_string_pretty(self)?;
        write_private(&file, &text).with_context(|| format!("writing {}", file.display()))?;
        Ok(file)
    }
}

#[cfg(unix)]
fn write_private(file: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(file)?;
    f.write_all(text.as_bytes())
}

#[cfg(not(unix))]
fn write_private(file: &std::path::Path, text: &str) -> std::io::Result<()> {
    std::fs::write(file, text)
}

/// An API client for one login.
pub struct Api {
    http: reqwest13::Client,
    login: Login,
}

/// A refused request: the API's code and message, and the status.
#[derive(Debug)]
pub struct Refused {
    /// The HTTP status.
    pub status: u16,
    /// The API's error code (`version_exists`, ...).
    pub code: String,
    /// The API's message.
    pub message: String,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}, HTTP {})", self.message, self.code, self.status)?;
        match (self.status, self.code.as_str()) {
            (401, _) => write!(f, "; log in again with `qun login URL`"),
            (403, _) => write!(
                f,
                "; your account may not do this (developer accounts publish apps)"
            ),
            _ => Ok(()),
        }
    }
}

impl std::error::Error for Refused {}

impl Api {
    /// A client for the saved login.
    pub fn from_login() -> anyhow::Result<Api> {
        Api::new(Login::load()?)
    }

    /// A client for `login`.
    pub fn new(login: Login) -> anyhow::Result<Api> {
        let http = reqwest13::Client::builder()
            .user_agent(concat!("qun-cli/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Api { http, login })
    }

    /// The server's URL.
    pub fn server(&self) -> &str {
        &self.login.server
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.login.server.trim_end_matches('/'))
    }

    async fn answer(&self, response: reqwest13::Response) -> anyhow::Result<Value> {
        let status = response.status().as_u16();
        let text = response
            .text()
            .await
            .context("reading the server's answer")?;
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        if (200..300).contains(&status) {
            return Ok(body);
        }
        Err(Refused {
            status,
            code: body["error"]["code"]
                .as_str()
                .unwrap_or("error")
                .to_string(),
            message: body["error"]["message"]
                .as_str()
                .map(String::from)
                .unwrap_or_else(|| format!("the server answered {body}")),
        }
        .into())
    }

    fn unreachable(&self, e: reqwest13::Error) -> anyhow::Error {
        anyhow::anyhow!(
            "cannot reach {}: {e}; is the server running, and is the URL of `qun login` right?",
            self.login.server
        )
    }

    /// GET `path`.
    pub async fn get(&self, path: &str) -> anyhow::Result<Value> {
        let response = self
            .http
            .get(self.url(path))
            .bearer_auth(&self.login.token)
            .send()
            .await
            .map_err(|e| self.unreachable(e))?;
        self.answer(response).await
    }

    /// POST `body` as JSON to `path`.
    pub async fn post(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        let response = self
            .http
            .post(self.url(path))
            .bearer_auth(&self.login.token)
            .json(body)
            .send()
            .await
            .map_err(|e| self.unreachable(e))?;
        self.answer(response).await
    }

    /// PATCH `path` with `body` as JSON.
    pub async fn patch(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        let response = self
            .http
            .patch(self.url(path))
            .bearer_auth(&self.login.token)
            .json(body)
            .send()
            .await
            .map_err(|e| self.unreachable(e))?;
        self.answer(response).await
    }

    /// POST raw `bytes` of `content_type` to `path`.
    pub async fn upload(
        &self,
        path: &str,
        content_type: &str,
        bytes: Vec<u8>,
    ) -> anyhow::Result<Value> {
        let response = self
            .http
            .post(self.url(path))
            .bearer_auth(&self.login.token)
            .header("content-type", content_type)
            .body(bytes)
            .send()
            .await
            .map_err(|e| self.unreachable(e))?;
        self.answer(response).await
    }
}

/// The API's error code of `e`, if it is a refusal.
pub fn refusal(e: &anyhow::Error) -> Option<&Refused> {
    e.downcast_ref::<Refused>()
}

/// `bail!` unless `url` looks like a server URL.
pub fn check_url(url: &str) -> anyhow::Result<()> {
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        bail!("{url:?} is not a server URL; give it as http://HOST:PORT or https://HOST");
    }
    Ok(())
}
