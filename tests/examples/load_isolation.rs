//! Load isolation (issue 10): another group's latency while hostile apps run,
//! against a real `qun serve`, in one run.
//!
//! ```sh
//! cargo build --release --bin qun
//! QUN_BIN=target/release/qun cargo run --release -p qun-tests --example load_isolation
//! # (or with the debug build: dependencies are optimised there too)
//! QUN_BIN=target/debug/qun cargo run --example load_isolation
//! ```
//!
//! Measures group B's `noop` action and `/healthz` (sequential requests)
//! three times: idle; while four `hostile-spin` apps (each in its own group)
//! loop in `on-action` back to back; while one app floods the host with
//! concurrent calls making huge errors and logs. Prints p50/p99 and the
//! ratios to idle. `QUN_LOAD_SAMPLES` sets the requests per phase (300).
//! The load runs in a second process (this program with `--load`), at
//! `nice` `QUN_LOAD_NICE` (10): on a 2-core machine the clients of the
//! hostile apps would otherwise take the CPU the server needs, which is not
//! what is measured (set 0 to see that too).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

const ADMIN: &str = "load-isolation-admin-token";

struct Server {
    child: Child,
    base: String,
    _dir: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self._dir);
    }
}

fn start() -> Server {
    let bin = std::env::var("QUN_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/release/qun")
        });
    let dir = std::env::temp_dir().join(format!("qun-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut child = Command::new(&bin)
        .arg("serve")
        .env("QUN_LISTEN", "127.0.0.1:0")
        .env("QUN_DATA_DIR", &dir)
        .env("QUN_BOOTSTRAP_ADMIN_TOKEN", ADMIN)
        .env("QUN_HEALTH_FAULTS", "0")
        // The clients here are the load: rate limits would hide what is measured.
        .env("QUN_RATE_LIMITS", "false")
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", bin.display()));
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let base = loop {
        match lines.next() {
            Some(Ok(line)) => {
                if let Some(addr) = line.strip_prefix("qun listening on ") {
                    let addr = addr.trim();
                    break if addr.starts_with("http") {
                        addr.to_string()
                    } else {
                        format!("http://{addr}")
                    };
                }
            }
            _ => panic!("qun serve exited before listening"),
        }
    };
    std::thread::spawn(move || for _ in lines {});
    Server {
        child,
        base,
        _dir: dir,
    }
}

#[derive(Clone)]
struct Api {
    client: Client,
    base: String,
}

impl Api {
    async fn post(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .expect("request");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn user(&self, name: &str, developer: bool) -> String {
        let (_, body) = self
            .post(
                "/v1/users",
                ADMIN,
                json!({"name": name, "developer": developer}),
            )
            .await;
        body["token"].as_str().expect("token").to_string()
    }

    async fn group(&self, owner: &str, name: &str) -> String {
        let (_, body) = self.post("/v1/groups", owner, json!({"name": name})).await;
        body["id"].as_str().expect("group id").to_string()
    }

    async fn publish(&self, dev: &str, slug: &str, path: &str) {
        self.post("/v1/apps", dev, json!({"slug": slug, "name": slug}))
            .await;
        let response = self
            .client
            .post(format!("{}/v1/apps/{slug}/versions", self.base))
            .bearer_auth(dev)
            .header("content-type", "application/wasm")
            .body(qun_components::read(path))
            .send()
            .await
            .expect("upload");
        let uploaded: Value = response.json().await.expect("version json");
        let version = uploaded["version"].as_str().expect("version");
        self.post(
            &format!("/v1/admin/apps/{slug}/versions/{version}/approve"),
            ADMIN,
            json!({}),
        )
        .await;
    }

    async fn install(&self, gid: &str, owner: &str, slug: &str, grants: &[&str]) {
        let (status, body) = self
            .post(
                &format!("/v1/groups/{gid}/apps"),
                owner,
                json!({"app": slug, "grants": grants}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }

    async fn action(
        &self,
        gid: &str,
        slug: &str,
        token: &str,
        action: &str,
        payload: Value,
    ) -> StatusCode {
        self.post(
            &format!("/v1/groups/{gid}/apps/{slug}/actions/{action}"),
            token,
            payload,
        )
        .await
        .0
    }
}

/// (p50, p99) in ms of `n` sequential calls of `call`.
async fn measure<F, Fut>(n: usize, mut call: F) -> (f64, f64)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let started = Instant::now();
        call().await;
        samples.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    samples.sort_by(f64::total_cmp);
    let at = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
    (at(0.50), at(0.99))
}

struct Phase {
    name: &'static str,
    action: (f64, f64),
    healthz: (f64, f64),
}

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--load") {
        return load(&args[2..]).await;
    }
    let samples: usize = std::env::var("QUN_LOAD_SAMPLES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    let server = start();
    let api = Api {
        client: Client::new(),
        base: server.base.clone(),
    };
    let dev = api.user("dev", true).await;
    let owner = api.user("owner", false).await;
    api.publish(&dev, "noop", qun_components::NOOP).await;
    api.publish(&dev, "hostile-spin", qun_components::HOSTILE_SPIN)
        .await;
    api.publish(&dev, "hostile-bytes", qun_components::HOSTILE_BYTES)
        .await;
    let gb = api.group(&owner, "innocent").await;
    api.install(&gb, &owner, "noop", &[]).await;
    let mut spinners = Vec::new();
    for i in 0..4 {
        let g = api.group(&owner, &format!("looping-{i}")).await;
        api.install(&g, &owner, "hostile-spin", &[]).await;
        spinners.push(g);
    }
    let gf = api.group(&owner, "flooding").await;
    api.install(&gf, &owner, "hostile-bytes", &["storage"])
        .await;

    let run_phase = |name: &'static str| {
        let api = api.clone();
        let gb = gb.clone();
        let owner = owner.clone();
        async move {
            // Warm up.
            for _ in 0..20 {
                api.action(&gb, "noop", &owner, "noop", json!({})).await;
            }
            let action = measure(samples, || async {
                let status = api.action(&gb, "noop", &owner, "noop", json!({})).await;
                assert_eq!(status, StatusCode::OK, "the innocent group's call failed");
            })
            .await;
            let healthz = measure(samples, || async {
                api.client
                    .get(format!("{}/healthz", api.base))
                    .send()
                    .await
                    .expect("healthz");
            })
            .await;
            Phase {
                name,
                action,
                healthz,
            }
        }
    };

    let idle = run_phase("idle").await;

    // The load runs in a process of its own (another machine's clients, in
    // effect), so the measuring client's own scheduling is not part of what
    // is measured; `QUN_LOAD_NICE` (10) lowers its priority on a machine
    // with as few cores as this one (0: compete equally).
    let mut spin_args = vec!["spin".to_string(), api.base.clone(), owner.clone()];
    spin_args.extend(spinners.iter().cloned());
    let load = load_process(&spin_args);
    let looping = run_phase("4 looping apps").await;
    drop(load);

    let load = load_process(&[
        "flood".to_string(),
        api.base.clone(),
        owner.clone(),
        gf.clone(),
    ]);
    let flooding = run_phase("1 flooding app (16 clients)").await;
    let counts = load.finish();

    println!("group B's noop action and /healthz, {samples} sequential requests per phase");
    println!(
        "{:<30} {:>9} {:>9} {:>8} {:>8} | {:>9} {:>9} {:>8} {:>8}",
        "phase", "p50 ms", "p99 ms", "x p50", "x p99", "hz p50", "hz p99", "x p50", "x p99"
    );
    for phase in [&idle, &looping, &flooding] {
        println!(
            "{:<30} {:>9.2} {:>9.2} {:>8.2} {:>8.2} | {:>9.2} {:>9.2} {:>8.2} {:>8.2}",
            phase.name,
            phase.action.0,
            phase.action.1,
            phase.action.0 / idle.action.0,
            phase.action.1 / idle.action.1,
            phase.healthz.0,
            phase.healthz.1,
            phase.healthz.0 / idle.healthz.0,
            phase.healthz.1 / idle.healthz.1,
        );
    }
    println!("flooding app's answers by status: {counts}");
    drop(server);
}

/// The load of a phase, running in a child process until dropped.
struct LoadProcess {
    child: Child,
}

/// Start this program again as the load (`--load ARGS`).
fn load_process(args: &[String]) -> LoadProcess {
    let nice = std::env::var("QUN_LOAD_NICE").unwrap_or_else(|_| "10".into());
    let me = std::env::current_exe().expect("own path");
    let child = Command::new("nice")
        .arg("-n")
        .arg(&nice)
        .arg(me)
        .arg("--load")
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .expect("starting the load process");
    // Let it reach full speed before measuring.
    std::thread::sleep(std::time::Duration::from_millis(500));
    LoadProcess { child }
}

impl LoadProcess {
    /// Stop it; what it printed (the flood's answers by status).
    fn finish(mut self) -> String {
        // SIGTERM: the load prints its counts and exits.
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let mut out = String::new();
        if let Some(mut stdout) = self.child.stdout.take() {
            use std::io::Read;
            let _ = stdout.read_to_string(&mut out);
        }
        let _ = self.child.wait();
        out.trim().to_string()
    }
}

impl Drop for LoadProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `--load spin BASE TOKEN GROUP...`: each group's `hostile-spin` looping,
/// back to back; `--load flood BASE TOKEN GROUP`: 16 clients calling
/// `hostile-bytes` (huge errors, many log lines). Until SIGTERM, then the
/// answers by status are printed.
async fn load(args: &[String]) {
    let [kind, base, owner, groups @ ..] = args else {
        panic!("--load KIND BASE TOKEN GROUP...");
    };
    let api = Api {
        client: Client::new(),
        base: base.clone(),
    };
    let counts = Arc::new(std::sync::Mutex::new(
        std::collections::BTreeMap::<u16, u64>::new(),
    ));
    let calls: Vec<(String, &'static str, &'static str, Value)> = match kind.as_str() {
        "spin" => groups
            .iter()
            .map(|g| (g.clone(), "hostile-spin", "spin", json!({})))
            .collect(),
        "flood" => (0..16)
            .map(|i| {
                if i % 2 == 0 {
                    (
                        groups[0].clone(),
                        "hostile-bytes",
                        "error",
                        json!({"bytes": 1 << 20}),
                    )
                } else {
                    (
                        groups[0].clone(),
                        "hostile-bytes",
                        "logs",
                        json!({"lines": 500, "bytes": 4000}),
                    )
                }
            })
            .collect(),
        other => panic!("unknown load {other}"),
    };
    for (g, slug, action, payload) in calls {
        let (api, owner, counts) = (api.clone(), owner.clone(), counts.clone());
        tokio::spawn(async move {
            loop {
                let status = api.action(&g, slug, &owner, action, payload.clone()).await;
                *counts
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .entry(status.as_u16())
                    .or_default() += 1;
            }
        });
    }
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    term.recv().await;
    println!("{:?}", counts.lock().unwrap_or_else(|p| p.into_inner()));
}
