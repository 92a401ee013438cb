//! Apps in JavaScript and Python (issue 15), against a real `qun serve`:
//! `examples/checkin-js`, `examples/checkin-py`, both SDK templates and a
//! thrower per language, built from source here with the SDKs' own build
//! commands (`scripts/js.sh build`, `scripts/py.sh build`: componentize-js
//! and componentize-py installed into project-local folders), uploaded over
//! HTTP, approved, installed with exactly the grants they ask for, and used
//! as members would: a command, a click, a timer, 16 calls at once, and an
//! uncaught error that ends up in the app's log. And a JavaScript app built
//! with componentize-js's default features (`wasi:http` imported): accepted,
//! run, and its `fetch` refused inside the sandbox.

mod server_common;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use qun_tests::{Backend, TestDb, backend_tests};
use serde_json::{Value, json};
use server_common::Server;
use server_common::api::Api;

backend_tests!(
    javascript_apps_run_like_rust_ones,
    python_apps_run_like_rust_ones,
    a_default_javascript_build_runs_and_its_fetch_is_refused,
);

const ADMIN: &str = "languages-admin-token";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// What one language brings: its script, its apps, and their actions.
struct Lang {
    /// `js` or `py`.
    short: &'static str,
    /// The check-in example's "who is in" action.
    who: &'static str,
    /// The template's command, and the text its answer starts with.
    hello: (&'static str, &'static str),
}

const JS: Lang = Lang {
    short: "js",
    who: "who",
    hello: ("/hello", "Hello, "),
};

const PY: Lang = Lang {
    short: "py",
    who: "whos-in",
    hello: ("/hello world", "Hello, world!"),
};

/// Build the example, the template (as `hello-<lang>`) and the thrower of
/// `lang` once per test run; the components' paths by app name.
fn components(lang: &Lang) -> &'static Vec<(String, PathBuf)> {
    static JS_BUILT: OnceLock<Vec<(String, PathBuf)>> = OnceLock::new();
    static PY_BUILT: OnceLock<Vec<(String, PathBuf)>> = OnceLock::new();
    let cell = if lang.short == "js" {
        &JS_BUILT
    } else {
        &PY_BUILT
    };
    cell.get_or_init(|| {
        let script = root().join(format!("scripts/{}.sh", lang.short));
        let run = |args: &[&str]| {
            let out = Command::new("bash")
                .arg(&script)
                .args(args)
                .current_dir(root())
                .output()
                .expect("running the language's build script");
            assert!(
                out.status.success(),
                "{} {args:?} failed:\n{}\n{}",
                script.display(),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let out = root().join("target/lang");
        run(&["examples"]);
        let thrower = out.join(format!("thrower-{}.wasm", lang.short));
        run(&[
            "build",
            &format!("tests/lang/thrower-{}", lang.short),
            thrower.to_str().expect("utf-8 path"),
        ]);
        ["checkin", "hello", "thrower"]
            .iter()
            .map(|app| {
                let name = format!("{app}-{}", lang.short);
                let path = out.join(format!("{name}.wasm"));
                assert!(path.is_file(), "{} was not built", path.display());
                (name, path)
            })
            .collect()
    })
}

/// `tests/lang/fetcher-js` built WITHOUT `-d http` (componentize-js's
/// defaults: it imports `wasi:http/types` and `wasi:http/outgoing-handler`),
/// once per test run.
fn fetcher_js() -> &'static PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let out = root().join("target/lang/fetcher-js.wasm");
        let built = Command::new("bash")
            .arg(root().join("scripts/js.sh"))
            .args(["build", "tests/lang/fetcher-js"])
            .arg(&out)
            .arg("--default-features")
            .current_dir(root())
            .output()
            .expect("running scripts/js.sh");
        assert!(
            built.status.success(),
            "building fetcher-js failed:\n{}\n{}",
            String::from_utf8_lossy(&built.stdout),
            String::from_utf8_lossy(&built.stderr)
        );
        let bytes = std::fs::read(&out).expect("fetcher-js.wasm");
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            text.contains("wasi:http/outgoing-handler@0.2"),
            "a default build imports wasi:http"
        );
        out
    })
}

/// The group's timeline as text, polled until it contains `needle`.
async fn wait_for(api: &Api, gid: &str, token: &str, needle: &str) -> String {
    let mut text = String::new();
    for _ in 0..150 {
        text = api
            .get_ok(&format!("/v1/groups/{gid}/messages"), token)
            .await
            .to_string();
        if text.contains(needle) {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("{needle:?} never reached the timeline of {gid}: {text}");
}

fn names(list: &Value) -> BTreeSet<String> {
    list.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

async fn javascript_apps_run_like_rust_ones(backend: Backend) {
    apps_run_like_rust_ones(backend, &JS).await;
}

async fn python_apps_run_like_rust_ones(backend: Backend) {
    apps_run_like_rust_ones(backend, &PY).await;
}

async fn apps_run_like_rust_ones(backend: Backend, lang: &Lang) {
    let Some(db) = TestDb::new(backend).await else {
        return;
    };
    let built = components(lang);
    // Compiled code is shared by both backends' servers: the same bytes
    // compile once per run (the first server compiles, outside its requests).
    let cache = root().join("target/lang-cache");
    let server = Server::start_env(
        &db.url,
        ADMIN,
        &[],
        &[("QUN_CACHE_DIR", cache.to_str().expect("utf-8 path"))],
    );
    let api = Api::new(&server, ADMIN);
    let s = lang.short;
    let (dev_id, dev) = api.user(&format!("dev-{s}"), true).await;
    let (_, olga) = api.user("olga", false).await;
    let (ann_id, ann) = api.user("ann", false).await;
    let (ben_id, ben) = api.user("ben", false).await;
    let (status, group) = api
        .post("/v1/groups", &olga, json!({"name": "class 3b"}))
        .await;
    assert_eq!(status, 201, "{group}");
    let gid = group["id"].as_str().expect("gid").to_string();
    for (id, role) in [(&ann_id, "member"), (&ben_id, "member")] {
        let (status, body) = api
            .post(
                &format!("/v1/groups/{gid}/members"),
                &olga,
                json!({"user_id": id, "role": role}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }

    // Uploaded, with the capabilities their code imports and nothing more.
    let expected = [
        (
            "checkin",
            set(&["membership", "messaging", "storage", "scheduler", "log"]),
        ),
        ("hello", set(&["storage", "log"])),
        ("thrower", set(&[])),
    ];
    let mut versions = std::collections::HashMap::new();
    for ((name, path), (app, wanted)) in built.iter().zip(expected.iter()) {
        assert!(name.starts_with(app));
        let version = api
            .publish(&dev, name, std::fs::read(path).expect("the component"))
            .await;
        assert_eq!(version["status"], "pending", "{version}");
        assert_eq!(
            names(&version["capabilities"]),
            *wanted,
            "{name}: {version}"
        );
        let (status, body) = api
            .post(
                &format!("/v1/admin/apps/{name}/versions/0.1.0/approve"),
                ADMIN,
                json!({}),
            )
            .await;
        assert!(status == 200 || status == 201, "{status}: {body}");
        versions.insert(*app, (name.clone(), version));
    }
    let slug = |app: &str| versions[app].0.clone();
    let grants = |app: &str| versions[app].1["capabilities"].clone();

    // Installed with exactly the grants asked for; more is refused.
    let checkin = slug("checkin");
    let (status, body) = api
        .post(
            &format!("/v1/groups/{gid}/apps"),
            &olga,
            json!({"app": checkin, "grants": ["storage", "payments"]}),
        )
        .await;
    assert_eq!(status, 400, "payments is not asked for: {body}");
    for app in ["checkin", "hello", "thrower"] {
        let (status, body) = api
            .post(
                &format!("/v1/groups/{gid}/apps"),
                &olga,
                json!({"app": slug(app), "grants": grants(app)}),
            )
            .await;
        assert_eq!(status, 201, "{app}: {body}");
    }

    // A command: ann checks in, the day's card appears with her name.
    let (status, body) = api
        .post(
            &format!("/v1/groups/{gid}/messages"),
            &ann,
            json!({"text": "/checkin"}),
        )
        .await;
    assert!(status == 200 || status == 201, "{status}: {body}");
    wait_for(&api, &gid, &ann, "ann").await;
    // An action (the card's button): ben checks in; the card counts two.
    let (status, body) = api
        .post(
            &format!("/v1/groups/{gid}/apps/{checkin}/actions/checkin"),
            &ben,
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let timeline = wait_for(&api, &gid, &ben, "ben").await;
    assert!(
        timeline.contains("ann, ben") || timeline.contains("ben, ann"),
        "the card names both: {timeline}"
    );

    // 16 calls at once: every one answered.
    let who = format!("/v1/groups/{gid}/apps/{checkin}/actions/{}", lang.who);
    let calls = (0..16).map(|i| {
        let token = if i % 2 == 0 { ann.clone() } else { ben.clone() };
        let api = &api;
        let who = who.clone();
        async move { api.post(&who, &token, json!({})).await }
    });
    let answers = futures::future::join_all(calls).await;
    for (status, body) in &answers {
        assert_eq!(*status, 200, "{body}");
    }
    // Each answer is a private reply to the member who clicked.
    let mine = api
        .get_ok(&format!("/v1/groups/{gid}/messages?limit=100"), &ann)
        .await;
    let private = mine
        .as_array()
        .map(|all| {
            all.iter()
                .filter(|m| {
                    m["private"] == true
                        && m["text"]
                            .as_str()
                            .is_some_and(|t| t.contains("ann") && t.contains("ben"))
                })
                .count()
        })
        .unwrap_or_default();
    assert_eq!(private, 8, "ann's 8 private answers: {mine}");

    // The template: its command answers.
    let (status, body) = api
        .post(
            &format!("/v1/groups/{gid}/messages"),
            &ann,
            json!({"text": lang.hello.0}),
        )
        .await;
    assert!(status == 200 || status == 201, "{status}: {body}");
    wait_for(&api, &gid, &ann, lang.hello.1).await;

    // An uncaught error: `internal` with its message, in the app's log with
    // what it printed; the next call is answered as usual.
    let thrower = slug("thrower");
    let (status, body) = api
        .post(
            &format!("/v1/groups/{gid}/apps/{thrower}/actions/boom"),
            &ann,
            json!({}),
        )
        .await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["error"]["code"], "app_internal", "{body}");
    let message = body["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let cause = if s == "js" { "items" } else { "KeyError" };
    assert!(message.contains(cause), "{message}");
    let log = api
        .get_ok(&format!("/v1/apps/{thrower}/logs"), &dev)
        .await
        .to_string();
    assert!(log.contains("about to explode"), "what it printed: {log}");
    assert!(log.contains(cause), "the error in the log: {log}");
    assert!(log.contains("explode"), "with where it happened: {log}");
    let (status, body) = api
        .post(
            &format!("/v1/groups/{gid}/apps/{thrower}/actions/fine"),
            &ann,
            json!({}),
        )
        .await;
    assert_eq!((status, body), (200, json!({"ok": true})));

    // A timer: in the developer's own test group (developer mode), where
    // the developer fires it now instead of waiting for the evening.
    let (status, mine) = api
        .post("/v1/groups", &dev, json!({"name": "dev test"}))
        .await;
    assert_eq!(status, 201, "{mine}");
    let mine = mine["id"].as_str().expect("gid").to_string();
    let (status, body) = api
        .post(
            &format!("/v1/groups/{mine}/apps"),
            &dev,
            json!({"app": checkin, "grants": grants("checkin"), "dev": true}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = api
        .post(
            &format!("/v1/groups/{mine}/messages"),
            &dev,
            json!({"text": "/checkin"}),
        )
        .await;
    assert!(status == 200 || status == 201, "{status}: {body}");
    let timers_path = format!("/v1/groups/{mine}/apps/{checkin}/timers");
    let mut timers = Value::Null;
    for _ in 0..50 {
        timers = api.get_ok(&timers_path, &dev).await;
        if timers.as_array().is_some_and(|t| !t.is_empty()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let key = timers[0]["key"]
        .as_str()
        .expect("a pending timer")
        .to_string();
    // A key may hold `/` (checkin-py's `summary/<day>`): one path segment.
    let segment = key.replace('%', "%25").replace('/', "%2F");
    let (status, body) = api
        .post(&format!("{timers_path}/{segment}/fire"), &dev, json!({}))
        .await;
    assert_eq!(status, 202, "{body}");
    let timeline = wait_for(&api, &mine, &dev, "ummary").await;
    assert!(
        timeline.contains(&format!("dev-{s}")),
        "the summary names who checked in: {timeline}"
    );
    let _ = dev_id;
}

/// Issue 15 item 2: componentize-js's default build imports `wasi:http`
/// types and the outgoing handler. The host accepts it (nothing else asked
/// for), runs it, and refuses its `fetch` with an error the app sees: no
/// connection is ever made, not even to a listener on this machine.
async fn a_default_javascript_build_runs_and_its_fetch_is_refused(backend: Backend) {
    let Some(db) = TestDb::new(backend).await else {
        return;
    };
    let wasm = fetcher_js();
    let cache = root().join("target/lang-cache");
    let server = Server::start_env(
        &db.url,
        ADMIN,
        &[],
        &[("QUN_CACHE_DIR", cache.to_str().expect("utf-8 path"))],
    );
    let api = Api::new(&server, ADMIN);
    // A listener the app is pointed at: it must never see a connection.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("listener");
    listener.set_nonblocking(true).expect("nonblocking");
    let port = listener.local_addr().expect("addr").port();

    let (_, dev) = api.user("dev-fetcher", true).await;
    let version = api
        .publish(
            &dev,
            "fetcher-js",
            std::fs::read(wasm).expect("fetcher-js.wasm"),
        )
        .await;
    assert_eq!(version["status"], "pending", "{version}");
    assert_eq!(
        names(&version["capabilities"]),
        set(&[]),
        "wasi:http asks the owner for nothing: {version}"
    );
    api.approve("fetcher-js", "0.1.0").await;
    let (status, group) = api
        .post("/v1/groups", &dev, json!({"name": "fetching"}))
        .await;
    assert_eq!(status, 201, "{group}");
    let gid = group["id"].as_str().expect("gid").to_string();
    api.install(&dev, &gid, "fetcher-js", json!([])).await;

    let (status, body) = api
        .post(
            &format!("/v1/groups/{gid}/messages"),
            &dev,
            json!({"text": format!("/fetch http://127.0.0.1:{port}/secret")}),
        )
        .await;
    assert!(status == 200 || status == 201, "{status}: {body}");
    let timeline = wait_for(&api, &gid, &dev, "refused: ").await;
    assert!(!timeline.contains("fetched: "), "{timeline}");
    match listener.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("the app reached the network: {other:?}"),
    }
    // The app saw an error it could handle and logged it; it did not trap.
    let log = api
        .get_ok("/v1/apps/fetcher-js/logs", &dev)
        .await
        .to_string();
    assert!(log.contains("failed"), "{log}");
    assert!(!log.contains("trap"), "{log}");
}
