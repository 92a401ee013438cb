//! Memory with many app versions (issue 12 item 6): RSS with 1,000 distinct
//! versions cached and used once each, and the restart time of `qun serve`.
//!
//! ```sh
//! cargo build --release --workspace --all-targets
//! QUN_BIN=target/release/qun target/release/examples/memory
//! ```
//!
//! 1. In this process: 1,000 variants of the `noop` test app (its bytes with
//!    a custom section appended, so each has its own sha256) are compiled
//!    into a fresh data directory's cache, stored as approved versions of
//!    1,000 apps and installed in one group; each is invoked once.
//! 2. `qun serve` is started on that data directory (time to a 200 from
//!    `/healthz`), every app is invoked once over HTTP (first call and all
//!    of them timed), and the server's RSS is read from `/proc/PID/status`.
//!    The cache directory is listed before and after: nothing is recompiled.
//! 3. It is stopped and started again (time to `/healthz`).
//!
//! `QUN_MEMORY_VERSIONS` sets the number of versions (1000); extra `qun
//! serve` options (e.g. `--app-cache-apps 100`) can be passed in
//! `QUN_MEMORY_SERVE_ARGS`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures::StreamExt;
use qun_host::store::{AppVersion, Role, VersionStatus};
use qun_host::{Call, Invocation, Runtime, RuntimeConfig, Store};

const TOKEN: &str = "memory-example-member-token";

/// `bytes` with a custom section `qun-variant` holding `n` appended: a
/// distinct component (and sha256) that behaves exactly like `bytes`.
fn variant(bytes: &[u8], n: usize) -> Vec<u8> {
    fn leb(mut v: usize, out: &mut Vec<u8>) {
        loop {
            let byte = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }
    let name = b"qun-variant";
    let data = format!("{n:08}");
    let mut payload = Vec::new();
    leb(name.len(), &mut payload);
    payload.extend_from_slice(name);
    payload.extend_from_slice(data.as_bytes());
    let mut out = bytes.to_vec();
    out.push(0); // custom section id
    leb(payload.len(), &mut out);
    out.extend_from_slice(&payload);
    out
}

/// (VmRSS, RssAnon, RssFile, VmHWM) in MiB of `pid`'s status.
fn rss(pid: &str) -> String {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map(|kb| format!("{:.0} MiB", kb / 1024.0))
            .unwrap_or_else(|| "?".into())
    };
    format!(
        "RSS {} (anon {}, file {}), peak {}",
        field("VmRSS:"),
        field("RssAnon:"),
        field("RssFile:"),
        field("VmHWM:")
    )
}

/// (files, bytes) in the cache directory.
fn cache_files(dir: &Path) -> (usize, u64) {
    let mut files = 0;
    let mut bytes = 0;
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        files += 1;
        bytes += entry.metadata().map(|m| m.len()).unwrap_or(0);
    }
    (files, bytes)
}

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Start `qun serve` on `dir`; the server and the time until `/healthz` answered 200.
async fn serve(dir: &Path, client: &reqwest::Client) -> (Server, Duration) {
    let bin = std::env::var("QUN_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/release/qun")
        });
    let port = {
        let socket = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
        socket.local_addr().expect("port").port()
    };
    let extra = std::env::var("QUN_MEMORY_SERVE_ARGS").unwrap_or_default();
    let started = Instant::now();
    let child = Command::new(&bin)
        .arg("serve")
        .args(extra.split_whitespace())
        .env("QUN_LISTEN", format!("127.0.0.1:{port}"))
        .env("QUN_DATA_DIR", dir)
        .env("QUN_RATE_LIMITS", "false")
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", bin.display()));
    let base = format!("http://127.0.0.1:{port}");
    loop {
        if let Ok(r) = client.get(format!("{base}/healthz")).send().await
            && r.status().is_success()
        {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "qun serve did not become healthy"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    (Server { child, base }, started.elapsed())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n: usize = std::env::var("QUN_MEMORY_VERSIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let dir = std::env::temp_dir().join(format!("qun-memory-{}", std::process::id()));
    let cache = dir.join("cache");
    std::fs::create_dir_all(&cache).expect("data dir");
    let me = std::process::id().to_string();

    // 1. Compile, store, install and invoke every version in this process.
    let store = Store::connect(&format!(
        "sqlite://{}?mode=rwc",
        dir.join("qun.db").display()
    ))
    .await
    .expect("database");
    let runtime = Runtime::new(
        store.clone(),
        RuntimeConfig {
            cache_dir: Some(cache.clone()),
            ..Default::default()
        },
    )
    .expect("runtime");
    let developer = store
        .create_user("developer", "memory-example-developer-token", false, true)
        .await
        .expect("developer");
    let member = store
        .create_user("member", TOKEN, false, false)
        .await
        .expect("member");
    let group = store
        .create_group("memory", &developer.id)
        .await
        .expect("group");
    store
        .add_member(&group.id, &member.id, Role::Member)
        .await
        .expect("member");
    let noop = qun_components::read(qun_components::NOOP);
    println!(
        "{n} versions of noop ({} bytes each), release build: {}",
        noop.len(),
        !cfg!(debug_assertions)
    );
    println!("before loading anything: {}", rss(&me));
    let started = Instant::now();
    let slugs: Vec<String> = futures::stream::iter(0..n)
        .map(|i| {
            let (runtime, store, developer, group, noop) = (
                runtime.clone(),
                store.clone(),
                developer.id.clone(),
                group.id.clone(),
                &noop,
            );
            async move {
                let bytes = variant(noop, i);
                let app = runtime.load(&bytes).await.expect("load");
                let slug = format!("mem{i:04}");
                store
                    .create_app(&slug, &slug, "a variant of noop", &developer)
                    .await
                    .expect("app");
                let version = AppVersion {
                    app_slug: slug.clone(),
                    version: app.manifest.version.clone(),
                    sha256: app.sha256.clone(),
                    capabilities: Vec::new(),
                    manifest: serde_json::to_value(&app.manifest).expect("manifest"),
                    status: VersionStatus::Approved,
                    created_at: 0,
                    review_reason: None,
                    reviewed_by: None,
                    reviewed_at: None,
                };
                store.add_version(&version, &bytes).await.expect("version");
                let inst = store
                    .install(&group, &slug, &app.manifest.version, &[], &developer)
                    .await
                    .expect("install");
                drop(app);
                runtime
                    .invoke(Invocation {
                        installation_id: inst.id,
                        actor: None,
                        call: Call::Action {
                            value: None,
                            message_id: None,
                            name: "noop".into(),
                            payload: "{}".into(),
                        },
                        invocation_id: None,
                    })
                    .await
                    .expect("invoke");
                slug
            }
        })
        .buffer_unordered(2)
        .collect()
        .await;
    let (files, bytes) = cache_files(&cache);
    println!(
        "compiled, stored, installed and invoked {n} versions in {:.1} s; cache: {files} files, {:.0} MiB",
        started.elapsed().as_secs_f64(),
        bytes as f64 / (1 << 20) as f64
    );
    println!("this process, {n} versions used: {}", rss(&me));
    drop(runtime);
    store.close().await;

    // 2. `qun serve` on that data directory: every app once over HTTP.
    let client = reqwest::Client::new();
    let (server, ready) = serve(&dir, &client).await;
    println!(
        "qun serve start to /healthz: {:.0} ms",
        ready.as_secs_f64() * 1000.0
    );
    println!("qun serve idle: {}", rss(&server.child.id().to_string()));
    let call = |base: &str, slug: &str| {
        client
            .post(format!(
                "{base}/v1/groups/{}/apps/{slug}/actions/noop",
                group.id
            ))
            .bearer_auth(TOKEN)
            .json(&serde_json::json!({}))
            .send()
    };
    let started = Instant::now();
    let first = call(&server.base, &slugs[0]).await.expect("first call");
    assert!(first.status().is_success(), "{}", first.status());
    let first_ms = started.elapsed().as_secs_f64() * 1000.0;
    let started = Instant::now();
    for slug in &slugs {
        let r = call(&server.base, slug).await.expect("call");
        assert!(r.status().is_success(), "{slug}: {}", r.status());
    }
    println!(
        "qun serve: first call {first_ms:.1} ms; all {n} apps once in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    println!(
        "qun serve, {n} versions used: {}",
        rss(&server.child.id().to_string())
    );
    let after = cache_files(&cache);
    println!(
        "cache after: {} files (before {files}): {}",
        after.0,
        if after.0 == files {
            "nothing recompiled"
        } else {
            "RECOMPILED"
        }
    );
    drop(server);

    // 3. Restart.
    let (server, ready) = serve(&dir, &client).await;
    println!(
        "qun serve restart to /healthz: {:.0} ms",
        ready.as_secs_f64() * 1000.0
    );
    let started = Instant::now();
    let r = call(&server.base, &slugs[n / 2])
        .await
        .expect("call after restart");
    assert!(r.status().is_success(), "{}", r.status());
    println!(
        "first call after restart: {:.1} ms",
        started.elapsed().as_secs_f64() * 1000.0
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}
