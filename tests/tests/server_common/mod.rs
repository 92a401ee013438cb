//! Helpers shared by the `server_*` tests: the real `qun` binary on a real
//! socket, and the router in process.

#![allow(dead_code)]

pub mod api;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use qun_host::http::HttpConfig;
use qun_host::{AppState, Limits, Runtime, RuntimeConfig};
use qun_tests::{Backend, TestDb};
use serde_json::Value;
use tower::ServiceExt;

/// The `qun` binary: `QUN_BIN`, or `target/debug/qun` (built first, so a
/// `cargo test -p qun-tests` never runs a stale one).
pub fn qun_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Ok(bin) = std::env::var("QUN_BIN") {
            return PathBuf::from(bin);
        }
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "-p", "qun-host", "--bin", "qun"])
            .current_dir(&root)
            .status()
            .expect("running cargo build for the qun binary");
        assert!(status.success(), "building the qun binary failed");
        let bin = root.join("target/debug/qun");
        assert!(bin.is_file(), "{} is missing", bin.display());
        bin
    })
    .clone()
}

/// A `qun serve` process on a free port; killed when dropped.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    dir: PathBuf,
}

impl Server {
    /// Start `qun serve` on `database_url` with a bootstrap admin token.
    pub fn start(database_url: &str, admin_token: &str) -> Server {
        Server::start_with(database_url, admin_token, &[])
    }

    /// Like [`Server::start`], with more arguments for `qun serve`. Rate
    /// limits are off: these tests call the API from one token and one
    /// address as fast as they can.
    pub fn start_with(database_url: &str, admin_token: &str, args: &[&str]) -> Server {
        Server::spawn(database_url, admin_token, args, false, &[])
    }

    /// Like [`Server::start_with`], with more environment variables.
    pub fn start_env(
        database_url: &str,
        admin_token: &str,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Server {
        Server::spawn(database_url, admin_token, args, false, env)
    }

    /// Like [`Server::start_with`], with the production rate limits on
    /// (tune them with `args`).
    pub fn start_limited(database_url: &str, admin_token: &str, args: &[&str]) -> Server {
        Server::spawn(database_url, admin_token, args, true, &[])
    }

    fn spawn(
        database_url: &str,
        admin_token: &str,
        args: &[&str],
        rate_limits: bool,
        env: &[(&str, &str)],
    ) -> Server {
        let dir =
            std::env::temp_dir().join(format!("qun-server-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("temp data dir");
        let mut child = Command::new(qun_bin())
            .arg("serve")
            .args(args)
            .env("QUN_LISTEN", "127.0.0.1:0")
            .env("QUN_DATA_DIR", &dir)
            .env("DATABASE_URL", database_url)
            .env("QUN_BOOTSTRAP_ADMIN_TOKEN", admin_token)
            .env("RUST_LOG", "warn")
            .env("QUN_RATE_LIMITS", rate_limits.to_string())
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starting qun serve");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let base = loop {
            match lines.next() {
                Some(Ok(line)) => {
                    if let Some(addr) = line.strip_prefix("qun listening on ") {
                        break addr.trim().to_string();
                    }
                }
                _ => {
                    let status = child.wait();
                    panic!("qun serve exited before listening: {status:?}");
                }
            }
        };
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Server { child, base, dir }
    }

    /// The server's data directory (`QUN_DATA_DIR`; file bytes are under `files/`).
    pub fn data_dir(&self) -> &std::path::Path {
        &self.dir
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Send SIGTERM and wait (bounded) for a clean exit; true if it exited 0.
    pub fn terminate(&mut self) -> bool {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        assert!(
            sent.is_ok_and(|s| s.success()),
            "could not signal the server"
        );
        for _ in 0..200 {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The router over a fresh database, in process; `None` when skipped.
pub async fn router(
    backend: Backend,
    config: HttpConfig,
) -> Option<(TestDb, AppState, axum::Router)> {
    let db = TestDb::new(backend).await?;
    let runtime = Runtime::new(
        db.store.clone(),
        RuntimeConfig {
            limits: Limits::default(),
            cache_dir: Some(qun_tests::cache_dir()),
        },
    )
    .expect("runtime");
    let state = AppState::new(runtime, config);
    let app = qun_host::app(state.clone());
    Some((db, state, app))
}

/// One request through the router; the status and the body as JSON (or
/// `Value::String` when it is not JSON).
pub async fn call(
    app: &axum::Router,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<(&str, Vec<u8>)>,
) -> (StatusCode, Value) {
    let mut request = Request::builder().method(method).uri(path);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let request = match body {
        Some((content_type, bytes)) => request
            .header("content-type", content_type)
            .body(Body::from(bytes)),
        None => request.body(Body::empty()),
    }
    .expect("request");
    let response = app.clone().oneshot(request).await.expect("router answers");
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    let value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
    (status, value)
}

/// A JSON body.
pub fn json(value: Value) -> Option<(&'static str, Vec<u8>)> {
    Some(("application/json", value.to_string().into_bytes()))
}

/// The `error.code` of an error body.
pub fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

/// Every operation in an OpenAPI document as (METHOD, path template).
pub fn operations(doc: &Value) -> Vec<(Method, String)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (name, method) in [
            ("get", Method::GET),
            ("post", Method::POST),
            ("put", Method::PUT),
            ("patch", Method::PATCH),
            ("delete", Method::DELETE),
        ] {
            if item.get(name).is_some() {
                out.push((method, path.clone()));
            }
        }
    }
    out
}

/// A path template with its `{params}` filled in.
pub fn fill(template: &str, params: &[(&str, &str)]) -> String {
    let mut path = template.to_string();
    for (name, value) in params {
        path = path.replace(&format!("{{{name}}}"), value);
    }
    path
}

/// A router over an existing store: a second "host" sharing the database.
pub fn router_over(store: qun_host::Store, config: HttpConfig) -> (AppState, axum::Router) {
    let runtime = Runtime::new(
        store,
        RuntimeConfig {
            limits: Limits::default(),
            cache_dir: Some(qun_tests::cache_dir()),
        },
    )
    .expect("runtime");
    let state = AppState::new(runtime, config);
    let app = qun_host::app(state.clone());
    (state, app)
}

/// Reads server-sent events from a response body.
pub struct SseReader {
    body: Body,
    buffer: String,
}

impl SseReader {
    /// Open `path` as `token`, with extra headers; panics unless it is a stream.
    pub async fn open(
        app: &axum::Router,
        path: &str,
        token: &str,
        headers: &[(&str, &str)],
    ) -> SseReader {
        let mut request = Request::get(path).header("authorization", format!("Bearer {token}"));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = app
            .clone()
            .oneshot(request.body(Body::empty()).expect("request"))
            .await
            .expect("response");
        assert_eq!(response.status(), StatusCode::OK);
        SseReader {
            body: response.into_body(),
            buffer: String::new(),
        }
    }

    /// The next event as (id, data), `None` when the stream ended. Panics
    /// when no event (keep-alives do not count) comes within a minute: a hang
    /// guard, not a timing assertion.
    pub async fn next(&mut self) -> Option<(i64, Value)> {
        let give_up = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let (mut id, mut data) = (None, String::new());
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id:") {
                        id = v.trim().parse::<i64>().ok();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim_start());
                    }
                }
                match (id, serde_json::from_str::<Value>(&data)) {
                    (Some(id), Ok(value)) => return Some((id, value)),
                    _ => continue, // a keep-alive comment
                }
            }
            let frame = tokio::time::timeout_at(give_up, self.body.frame())
                .await
                .expect("no event on the stream for a minute");
            match frame {
                None => return None,
                Some(Err(e)) => panic!("stream error: {e}"),
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        self.buffer.push_str(&String::from_utf8_lossy(&data));
                    }
                }
            }
        }
    }
}

/// Run the `qun` CLI with its configuration (login) in `config`.
pub fn qun_cli(config: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(qun_bin())
        .args(args)
        .env("QUN_CONFIG_DIR", config)
        .env_remove("QUN_TOKEN")
        .output()
        .expect("running qun")
}

/// What a command printed: stdout, then stderr.
pub fn printed(output: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}
