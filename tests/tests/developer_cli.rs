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

backend_tests!(a_scaffolded_app_is_built_checked_published_and_approved_through_the_cli);

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
        text(&out).contains("raise `version` in Cargo.toml"),
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
