//! The developer's loop in a terminal (issue 16, first part): `qun login`,
//! `qun app new` (a working app with a unit test, outside this repository),
//! `build`, `check`, `publish`, `status` and `logs`, against a real server.

mod server_common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use qun_tests::{Backend, TestDb, backend_tests};
use reqwest::Client;
use serde_json::{Value, json};
use server_common::{Server, qun_bin};

backend_tests!(
    a_scaffolded_app_is_built_checked_published_and_approved_through_the_cli,
    developer_mode_runs_unreviewed_uploads_only_in_the_developers_own_group,
);

// Scaffolding in other languages does not depend on the database: SQLite.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn javascript_and_python_apps_are_scaffolded_tested_built_and_published_through_the_cli() {
    let Some(db) = TestDb::new(Backend::Sqlite).await else {
        return;
    };
    let server = Server::start(&db.url, ADMIN);
    let created: Value = Client::new()
        .post(format!("{}/v1/users", server.base))
        .bearer_auth(ADMIN)
        .json(&json!({"name": "polly", "developer": true}))
        .send()
        .await
        .expect("create a developer")
        .json()
        .await
        .expect("json");
    let token = created["token"].as_str().expect("token").to_string();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let home = std::env::temp_dir().join(format!("qun-dev-{}", uuid::Uuid::new_v4().simple()));
    let config = home.join("config");
    std::fs::create_dir_all(&home).expect("home");
    let out = qun(&config, &home, &["login", &server.base, "--token", &token]);
    assert!(out.status.success(), "{}", text(&out));
    // The project's own Python environment (scripts/py.sh installs the SDK
    // and componentize-py there) stands in for the app's `.venv`.
    let venv = root.join("target/py-venv/bin/python");
    let setup = Command::new("bash")
        .arg(root.join("scripts/py.sh"))
        .arg("venv")
        .output()
        .expect("scripts/py.sh venv");
    assert!(setup.status.success(), "{}", text(&setup));

    for (lang, name, caps) in [
        ("js", "hello-cli-js", "log, storage"),
        ("python", "hello-cli-py", "log, storage"),
    ] {
        let out = qun(&config, &home, &["app", "new", name, "--lang", lang]);
        assert!(out.status.success(), "{lang}: {}", text(&out));
        let app = home.join(name);
        // Its own unit test, in its own language, without wasm.
        let test = if lang == "js" {
            let install = Command::new("npm")
                .args(["install", "--no-audit", "--no-fund"])
                .current_dir(&app)
                .output()
                .expect("npm install");
            assert!(install.status.success(), "{}", text(&install));
            Command::new("npm")
                .arg("test")
                .current_dir(&app)
                .output()
                .expect("npm test")
        } else {
            Command::new(&venv)
                .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
                .current_dir(&app)
                .output()
                .expect("pytest")
        };
        assert!(test.status.success(), "{lang}: {}", text(&test));
        // Built and published through the CLI: the capabilities its code imports.
        let out = Command::new(qun_bin())
            .args(["app", "publish"])
            .current_dir(&app)
            .env("QUN_CONFIG_DIR", &config)
            .env("QUN_PYTHON", &venv)
            .env_remove("QUN_TOKEN")
            .output()
            .expect("qun app publish");
        assert!(out.status.success(), "{lang}: {}", text(&out));
        assert!(
            text(&out).contains(&format!("published {name} 0.1.0: pending")),
            "{}",
            text(&out)
        );
        let published = text(&out);
        let listed = published
            .split("(capabilities: ")
            .nth(1)
            .and_then(|rest| rest.split(')').next())
            .unwrap_or_default();
        let mut listed: Vec<&str> = listed.split(", ").collect();
        listed.sort_unstable();
        assert_eq!(listed.join(", "), caps, "{published}");
        let out = qun(&config, &app, &["app", "status"]);
        assert!(out.status.success(), "{}", text(&out));
        assert!(text(&out).contains("0.1.0 pending"), "{}", text(&out));
    }
    let _ = std::fs::remove_dir_all(&home);
}

const ADMIN: &str = "developer-cli-admin-token";

/// Where scaffolded apps build: shared by every run, so the SDK is compiled once.
fn scaffold_target() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/scaffold")
}

/// Run `qun ARGS` with its config in `config`, in `cwd`.
fn qun(config: &Path, cwd: &Path, args: &[&str]) -> Output {
    Command::new(qun_bin())
        .args(args)
        .current_dir(cwd)
        .env("QUN_CONFIG_DIR", config)
        .env("CARGO_TARGET_DIR", scaffold_target())
        .env_remove("QUN_TOKEN")
        .output()
        .expect("running qun")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

async fn a_scaffolded_app_is_built_checked_published_and_approved_through_the_cli(
    backend: Backend,
) {
    let Some(db) = TestDb::new(backend).await else {
        return;
    };
    let server = Server::start(&db.url, ADMIN);
    let client = Client::new();
    let api = |path: &str| format!("{}{path}", server.base);
    let created: Value = client
        .post(api("/v1/users"))
        .bearer_auth(ADMIN)
        .json(&json!({"name": "dora", "developer": true}))
        .send()
        .await
        .expect("create a developer")
        .json()
        .await
        .expect("json");
    let token = created["token"].as_str().expect("token").to_string();
    // One app name per backend: both variants build in the same target directory.
    let name = match backend {
        Backend::Sqlite => "checkin-sqlite",
        Backend::Postgres => "checkin-postgres",
    };
    let file = name.replace('-', "_");
    let home = std::env::temp_dir().join(format!("qun-dev-{}", uuid::Uuid::new_v4().simple()));
    let config = home.join("config");
    std::fs::create_dir_all(&home).expect("home");

    // Nothing works before logging in, and the error says what to do.
    let out = qun(&config, &home, &["app", "status", name]);
    assert!(!out.status.success());
    assert!(text(&out).contains("qun login"), "{}", text(&out));
    // A wrong token is refused; the right one is saved, never printed.
    let out = qun(
        &config,
        &home,
        &["login", &server.base, "--token", "not-a-token"],
    );
    assert!(!out.status.success(), "{}", text(&out));
    let out = qun(&config, &home, &["login", &server.base, "--token", &token]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("as dora, a developer"),
        "{}",
        text(&out)
    );
    assert!(!text(&out).contains(&token), "the token is never printed");

    // A new app, outside this repository, whose own unit test passes.
    let out = qun(&config, &home, &["app", "new", name]);
    assert!(out.status.success(), "{}", text(&out));
    let app = home.join(name);
    let test = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["test", "--quiet"])
        .current_dir(&app)
        .env("CARGO_TARGET_DIR", scaffold_target())
        .output()
        .expect("cargo test");
    assert!(test.status.success(), "{}", text(&test));
    let out = qun(&config, &home, &["app", "new", name]);
    assert!(
        !out.status.success(),
        "an existing folder is not overwritten"
    );

    // Built, checked offline, published: pending review.
    let out = qun(&config, &app, &["app", "build"]);
    assert!(out.status.success(), "{}", text(&out));
    let wasm = scaffold_target().join(format!("wasm32-wasip2/release/{file}.wasm"));
    let out = qun(
        &config,
        &app,
        &["app", "check", wasm.to_str().expect("utf-8 path")],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("commands:     /checkin"),
        "{}",
        text(&out)
    );
    let out = qun(&config, &app, &["app", "publish"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains(&format!("published {name} 0.1.0: pending")),
        "{}",
        text(&out)
    );
    assert!(
        text(&out).contains("(capabilities: membership, storage)"),
        "read from its imports: {}",
        text(&out)
    );
    // The same version again: the error names the fix.
    let out = qun(
        &config,
        &app,
        &["app", "publish", wasm.to_str().expect("path")],
    );
    assert!(!out.status.success());
    assert!(
        text(&out).contains("raise the app's version"),
        "{}",
        text(&out)
    );

    // An admin approves it; `status` shows the decision.
    let approved = client
        .post(api(&format!(
            "/v1/admin/apps/{name}/versions/0.1.0/approve"
        )))
        .bearer_auth(ADMIN)
        .json(&json!({}))
        .send()
        .await
        .expect("approve");
    assert!(approved.status().is_success());
    let out = qun(&config, &app, &["app", "status"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("0.1.0 approved"), "{}", text(&out));
    let out = qun(&config, &app, &["app", "logs"]);
    assert!(out.status.success(), "{}", text(&out));
    let _ = std::fs::remove_dir_all(&home);
}

async fn developer_mode_runs_unreviewed_uploads_only_in_the_developers_own_group(backend: Backend) {
    let Some(db) = TestDb::new(backend).await else {
        return;
    };
    let server = Server::start(&db.url, ADMIN);
    let client = Client::new();
    let call = |method: reqwest::Method, path: &str, token: &str, body: Option<Value>| {
        let mut request = client
            .request(method, format!("{}{path}", server.base))
            .bearer_auth(token.to_string());
        if let Some(body) = body {
            request = request.json(&body);
        }
        async move {
            let response = request.send().await.expect("request");
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            (status, body)
        }
    };
    let post =
        |path: &str, token: &str, body: Value| call(reqwest::Method::POST, path, token, Some(body));
    let user = |name: &'static str, developer: bool| {
        let post = &post;
        async move {
            let (status, body) = post(
                "/v1/users",
                ADMIN,
                json!({"name": name, "developer": developer}),
            )
            .await;
            assert_eq!(status, 201, "{body}");
            (
                body["id"].as_str().expect("id").to_string(),
                body["token"].as_str().expect("token").to_string(),
            )
        }
    };
    let (dev_id, dev) = user("dora", true).await;
    let (_, olga) = user("olga", false).await;
    let (status, mine) = post("/v1/groups", &dev, json!({"name": "dora's test group"})).await;
    assert_eq!(status, 201, "{mine}");
    let mine = mine["id"].as_str().expect("gid").to_string();
    let (_, theirs) = post("/v1/groups", &olga, json!({"name": "olga's class"})).await;
    let theirs = theirs["id"].as_str().expect("gid").to_string();
    let (status, body) = post(
        &format!("/v1/groups/{theirs}/members"),
        &olga,
        json!({"user_id": dev_id, "role": "admin"}),
    )
    .await;
    assert_eq!(status, 201, "{body}");

    let (status, body) = post(
        "/v1/apps",
        &dev,
        json!({"slug": "upgrader", "name": "Upgrader"}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let upload = |path: &'static str| {
        let client = &client;
        let base = &server.base;
        let dev = &dev;
        async move {
            let response = client
                .post(format!("{base}/v1/apps/upgrader/versions"))
                .bearer_auth(dev)
                .header("content-type", "application/wasm")
                .body(qun_components::read(path))
                .send()
                .await
                .expect("upload");
            assert_eq!(response.status().as_u16(), 201);
        }
    };
    upload(qun_components::UPGRADER_V1).await;
    let install = json!({"app": "upgrader", "grants": ["storage"], "dev": true});
    // Not in a group the developer does not own, even as its admin.
    let (status, body) = post(&format!("/v1/groups/{theirs}/apps"), &dev, install.clone()).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("not_your_group")),
        "{body}"
    );
    // Nobody else may use developer mode, nor install the unreviewed version.
    let (status, _) = post(&format!("/v1/groups/{theirs}/apps"), &olga, install.clone()).await;
    assert!(status == 403 || status == 404, "{status}");
    let (status, _) = post(
        &format!("/v1/groups/{theirs}/apps"),
        &olga,
        json!({"app": "upgrader", "grants": ["storage"]}),
    )
    .await;
    assert_eq!(status, 404, "an unreviewed app is invisible to others");
    // Without developer mode, the developer too needs a reviewed version.
    let (status, body) = post(
        &format!("/v1/groups/{mine}/apps"),
        &dev,
        json!({"app": "upgrader", "grants": ["storage"]}),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("version_not_found")),
        "no approved version: {body}"
    );

    // In the developer's own group it runs the pending upload...
    let (status, body) = post(&format!("/v1/groups/{mine}/apps"), &dev, install).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["version"], "1.0.0");
    let action = format!("/v1/groups/{mine}/apps/upgrader/actions/version");
    let (status, body) = post(&action, &dev, json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.to_string().contains("1.0.0"), "{body}");
    // ...and the next upload replaces it there at once, grants kept.
    upload(qun_components::UPGRADER_V2).await;
    let (status, body) = post(&action, &dev, json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.to_string().contains("2.0.0"), "{body}");
    let (_, installed) = call(
        reqwest::Method::GET,
        &format!("/v1/groups/{mine}/apps"),
        &dev,
        None,
    )
    .await;
    assert_eq!(installed[0]["version"], "2.0.0", "{installed}");
    assert_eq!(installed[0]["grants"], json!(["storage"]), "{installed}");
    let (_, audit) = call(
        reqwest::Method::GET,
        &format!("/v1/admin/audit?group={mine}&action=installation.dev_upgrade"),
        ADMIN,
        None,
    )
    .await;
    // Its pending timers, listed and fired now (messenger: a daily reminder).
    let (status, body) = post(
        "/v1/apps",
        &dev,
        json!({"slug": "messenger", "name": "Messenger"}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let response = client
        .post(format!("{}/v1/apps/messenger/versions", server.base))
        .bearer_auth(&dev)
        .header("content-type", "application/wasm")
        .body(qun_components::read(qun_components::MESSENGER))
        .send()
        .await
        .expect("upload");
    assert_eq!(response.status().as_u16(), 201);
    let (status, body) = post(
        &format!("/v1/groups/{mine}/apps"),
        &dev,
        json!({"app": "messenger", "grants": ["messaging", "storage", "scheduler"], "dev": true}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = post(
        &format!("/v1/groups/{mine}/apps/messenger/actions/remind"),
        &dev,
        json!({}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let timers_path = format!("/v1/groups/{mine}/apps/messenger/timers");
    let (status, timers) = call(reqwest::Method::GET, &timers_path, &dev, None).await;
    assert_eq!(status, 200, "{timers}");
    assert_eq!(timers[0]["key"], "daily", "{timers}");
    assert_eq!(timers[0]["recurring"], true);
    let (status, _) = call(
        reqwest::Method::GET,
        &format!("/v1/groups/{theirs}/apps/messenger/timers"),
        &olga,
        None,
    )
    .await;
    assert_eq!(status, 404, "not installed there");
    let (status, _) = post(&format!("{timers_path}/nope/fire"), &dev, json!({})).await;
    assert_eq!(status, 404);
    let (status, _) = post(&format!("{timers_path}/daily/fire"), &dev, json!({})).await;
    assert_eq!(status, 202);
    let mut fired = false;
    for _ in 0..100 {
        let (_, timeline) = call(
            reqwest::Method::GET,
            &format!("/v1/groups/{mine}/messages"),
            &dev,
            None,
        )
        .await;
        if timeline.to_string().contains("reminder daily") {
            fired = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(fired, "the fired timer reached the app");
    assert!(
        audit.to_string().contains("installation.dev_upgrade"),
        "{audit}"
    );
}
