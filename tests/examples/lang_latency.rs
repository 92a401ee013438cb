//! Per-call latency of apps in each language (issue 15), against a real
//! `qun serve`, in one run: p50/p99 of sequential action calls over HTTP,
//! and the first call after a restart (compiled code from the cache, but
//! nothing loaded in memory yet).
//!
//! ```sh
//! ./scripts/js.sh examples && ./scripts/py.sh examples   # target/lang/checkin-{js,py}.wasm
//! cargo build --release --bin qun
//! QUN_BIN=target/release/qun cargo run --release -p qun-tests --example lang_latency
//! ```
//!
//! Measured: Rust `noop` (the sandbox and the HTTP path, no capability
//! call: the floor), the check-in examples' read-mostly action
//! (`who` / `whos-in`: a storage listing and a private reply, which commits
//! a message) in JavaScript and Python, and, when `target/lang/thrower-*.wasm`
//! are built (`tests/lang`, `scripts/{js,py}.sh build`), the throwers' `fine`
//! action: no capability call and nothing to commit, so the language
//! runtime's own cost per call beside `noop`'s. `QUN_LATENCY_SAMPLES` sets
//! the calls per app (300).
//!
//! After a restart each app's first call is measured twice: at once (while
//! the host may still be loading installed versions in the background) and
//! after a second restart and `QUN_SETTLE_SECS` (5) seconds of quiet.
//! `QUN_LATENCY_LOG=FILE` keeps the servers' logs (filter:
//! `QUN_LATENCY_RUST_LOG`, e.g. `qun_host::runtime=debug` for the time each
//! load takes, stage by stage).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use reqwest::Client;
use serde_json::{Value, json};

const ADMIN: &str = "lang-latency-admin-token";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `qun serve` on `dir`; killed when dropped.
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

fn start(dir: &PathBuf) -> Server {
    let bin = std::env::var("QUN_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root().join("target/release/qun"));
    let mut child = Command::new(&bin)
        .arg("serve")
        .env("QUN_LISTEN", "127.0.0.1:0")
        .env("QUN_DATA_DIR", dir)
        .env("QUN_BOOTSTRAP_ADMIN_TOKEN", ADMIN)
        .env("QUN_RATE_LIMITS", "false")
        // Each read answers with a private reply: a message the quota counts.
        .env("QUN_MESSAGES_PER_MINUTE", "1000000")
        .env(
            "RUST_LOG",
            std::env::var("QUN_LATENCY_RUST_LOG").unwrap_or_else(|_| "error".into()),
        )
        .stdout(Stdio::piped())
        // QUN_LATENCY_LOG=FILE: the servers' logs (QUN_LATENCY_RUST_LOG sets the filter).
        .stderr(match std::env::var("QUN_LATENCY_LOG") {
            Ok(path) => std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map(Stdio::from)
                .unwrap_or_else(|_| Stdio::null()),
            Err(_) => Stdio::null(),
        })
        .spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", bin.display()));
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let base = loop {
        match lines.next() {
            Some(Ok(line)) => {
                if let Some(addr) = line.strip_prefix("qun listening on ") {
                    break addr.trim().to_string();
                }
            }
            _ => panic!("qun serve exited before listening"),
        }
    };
    std::thread::spawn(move || for _ in lines {});
    Server { child, base }
}

async fn post(client: &Client, base: &str, path: &str, token: &str, body: Value) -> (u16, Value) {
    let response = client
        .post(format!("{base}{path}"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Register, upload (following a `202`), approve and install `wasm`.
async fn publish(client: &Client, base: &str, gid: &str, slug: &str, wasm: &PathBuf) {
    post(
        client,
        base,
        "/v1/apps",
        ADMIN,
        json!({"slug": slug, "name": slug}),
    )
    .await;
    let response = client
        .post(format!("{base}/v1/apps/{slug}/versions"))
        .bearer_auth(ADMIN)
        .header("content-type", "application/wasm")
        .body(std::fs::read(wasm).unwrap_or_else(|e| panic!("{}: {e}", wasm.display())))
        .send()
        .await
        .expect("upload");
    let mut body: Value = response.json().await.expect("json");
    if body["status"] == "compiling" {
        let path = format!(
            "{base}/v1/apps/{slug}/uploads/{}",
            body["id"].as_str().unwrap_or("?")
        );
        while body["status"] == "compiling" {
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            body = client
                .get(&path)
                .bearer_auth(ADMIN)
                .send()
                .await
                .expect("get")
                .json()
                .await
                .expect("json");
        }
        body = body["version"].clone();
    }
    let version = body["version"]
        .as_str()
        .unwrap_or_else(|| panic!("{slug}: {body}"))
        .to_string();
    post(
        client,
        base,
        &format!("/v1/admin/apps/{slug}/versions/{version}/approve"),
        ADMIN,
        json!({}),
    )
    .await;
    let (status, body) = post(
        client,
        base,
        &format!("/v1/groups/{gid}/apps"),
        ADMIN,
        json!({"app": slug, "grants": body["capabilities"]}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
}

fn percentiles(mut samples: Vec<f64>) -> (f64, f64) {
    samples.sort_by(f64::total_cmp);
    let at = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
    (at(0.50), at(0.99))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() {
    let samples: usize = std::env::var("QUN_LATENCY_SAMPLES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    let settle: u64 = std::env::var("QUN_SETTLE_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let mut apps: Vec<(&str, PathBuf, &str)> = vec![
        ("noop", PathBuf::from(qun_components::NOOP), "noop"),
        (
            "checkin-js",
            root().join("target/lang/checkin-js.wasm"),
            "who",
        ),
        (
            "checkin-py",
            root().join("target/lang/checkin-py.wasm"),
            "whos-in",
        ),
    ];
    for (slug, file) in [("thrower-js", "thrower-js"), ("thrower-py", "thrower-py")] {
        let path = root().join(format!("target/lang/{file}.wasm"));
        if path.is_file() {
            apps.push((slug, path, "fine"));
        }
    }
    let dir = std::env::temp_dir().join(format!("qun-lang-latency-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let client = Client::new();

    let server = start(&dir);
    let base = server.base.clone();
    // One group per app: both check-in apps answer /checkin.
    let mut groups = std::collections::HashMap::new();
    for (slug, wasm, _) in &apps {
        let (_, group) = post(&client, &base, "/v1/groups", ADMIN, json!({"name": slug})).await;
        let gid = group["id"].as_str().expect("gid").to_string();
        groups.insert(*slug, gid.clone());
        let started = Instant::now();
        publish(&client, &base, &gid, slug, wasm).await;
        let size = std::fs::metadata(wasm).map(|m| m.len()).unwrap_or_default();
        println!(
            "{slug}: {:.1} MiB, uploaded and compiled in {:.1} s",
            size as f64 / 1048576.0,
            started.elapsed().as_secs_f64()
        );
    }
    // Someone checked in, so the listing has a line.
    for (slug, _, _) in apps.iter().filter(|(s, _, _)| s.starts_with("checkin")) {
        let gid = &groups[slug];
        post(
            &client,
            &base,
            &format!("/v1/groups/{gid}/apps/{slug}/actions/checkin"),
            ADMIN,
            json!({}),
        )
        .await;
    }
    let call = |slug: &str, action: &str| {
        let gid = &groups[slug];
        let (client, path) = (
            client.clone(),
            format!("{base}/v1/groups/{gid}/apps/{slug}/actions/{action}"),
        );
        async move {
            let started = Instant::now();
            let response = client
                .post(&path)
                .bearer_auth(ADMIN)
                .json(&json!({}))
                .send()
                .await
                .expect("call");
            assert_eq!(response.status().as_u16(), 200, "{path}");
            started.elapsed().as_secs_f64() * 1000.0
        }
    };
    let mut warm = Vec::new();
    for (slug, _, action) in &apps {
        for _ in 0..10 {
            call(slug, action).await;
        }
        let mut times = Vec::with_capacity(samples);
        for _ in 0..samples {
            times.push(call(slug, action).await);
        }
        warm.push((*slug, percentiles(times)));
    }
    drop(server);

    // After a restart: each app's first call, then its second; once at
    // once, once after the host had `settle` seconds to warm up.
    let mut cold = Vec::new();
    for wait in [0, settle] {
        let server = start(&dir);
        let base = server.base.clone();
        tokio::time::sleep(std::time::Duration::from_secs(wait)).await;
        let mut round = Vec::new();
        for (slug, _, action) in &apps {
            let gid = &groups[slug];
            let path = format!("{base}/v1/groups/{gid}/apps/{slug}/actions/{action}");
            let mut firsts = Vec::new();
            for _ in 0..2 {
                let started = Instant::now();
                let response = client
                    .post(&path)
                    .bearer_auth(ADMIN)
                    .json(&json!({}))
                    .send()
                    .await
                    .expect("call");
                assert_eq!(response.status().as_u16(), 200, "{path}");
                firsts.push(started.elapsed().as_secs_f64() * 1000.0);
            }
            round.push((firsts[0], firsts[1]));
        }
        cold.push(round);
        drop(server);
    }
    let _ = std::fs::remove_dir_all(&dir);

    let floor = warm[0].1.0;
    println!("\n{samples} sequential calls per app, over HTTP (ms):");
    println!(
        "{:<12} {:>8} {:>8} {:>10} {:>12} {:>8} {:>14} {:>8}",
        "app", "p50", "p99", "p50/noop", "first (now)", "second", "first (+settle)", "second"
    );
    for (i, (slug, (p50, p99))) in warm.iter().enumerate() {
        let (now, now2) = cold[0][i];
        let (later, later2) = cold[1][i];
        println!(
            "{slug:<12} {p50:>8.2} {p99:>8.2} {:>10.1} {now:>12.1} {now2:>8.2} {later:>14.1} {later2:>8.2}",
            p50 / floor
        );
    }
    println!("(+settle: {settle} s after the restart)");
}
