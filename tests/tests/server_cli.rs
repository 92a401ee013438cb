//! The `qun` command line: `app check`, `user add`, and `serve --demo`
//! seeding the same demo however often it runs.

mod server_common;

use std::process::Command;

use qun_tests::{Backend, TestDb, backend_tests};
use reqwest::Client;
use serde_json::{Value, json};
use server_common::{Server, qun_bin};

backend_tests!(user_add_prints_a_working_token, the_demo_seed_is_idempotent);

#[test]
fn app_check_describes_a_valid_app_and_explains_a_rejection() {
    let ok = Command::new(qun_bin())
        .args(["app", "check", qun_tests::polls()])
        .output()
        .expect("qun app check");
    let stdout = String::from_utf8_lossy(&ok.stdout);
    assert!(
        ok.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    for line in [
        "name:         polls",
        "commands:     /poll",
        "actions:      vote, mine, close, results",
    ] {
        assert!(stdout.contains(line), "missing {line:?} in\n{stdout}");
    }
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("capabilities:") && l.contains("messaging")),
        "{stdout}"
    );

    let refused = Command::new(qun_bin())
        .args(["app", "check", qun_components::FORBIDDEN])
        .output()
        .expect("qun app check");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        !refused.status.success(),
        "a forbidden import must fail the check"
    );
    assert!(
        stderr.contains("rejected") && stderr.contains("wasi:http"),
        "{stderr}"
    );
}

async fn user_add_prints_a_working_token(backend: Backend) {
    let Some(db) = TestDb::new(backend).await else {
        return;
    };
    let add = |name: &str| {
        Command::new(qun_bin())
            .args(["user", "add", name, "--developer"])
            .env("DATABASE_URL", &db.url)
            .env("RUST_LOG", "warn")
            .output()
            .expect("qun user add")
    };
    let out = add("dana");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let user = db
        .store
        .user_by_token(&token)
        .await
        .expect("lookup")
        .expect("the printed token works");
    assert_eq!(
        (user.name.as_str(), user.is_developer, user.is_admin),
        ("dana", true, false)
    );

    let again = add("dana");
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
}

async fn the_demo_seed_is_idempotent(backend: Backend) {
    let Some(db) = TestDb::new(backend).await else {
        return;
    };
    let apps =
        std::env::temp_dir().join(format!("qun-demo-apps-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&apps).expect("apps dir");
    std::fs::copy(qun_tests::polls(), apps.join("qun_polls.wasm")).expect("copy polls");
    let apps_arg = apps.display().to_string();
    let client = Client::new();
    let get = |base: String, path: &'static str, token: &'static str| {
        let client = client.clone();
        async move {
            let response = client
                .get(format!("{base}{path}"))
                .bearer_auth(token)
                .send()
                .await
                .expect("request");
            response.json::<Value>().await.expect("json")
        }
    };

    let mut seen = Vec::new();
    for _run in 0..2 {
        let mut server = Server::start_with(&db.url, "", &["--demo", "--demo-apps", &apps_arg]);
        let me = get(server.base.clone(), "/v1/me", "demo-owner-token").await;
        let groups = me["groups"].as_array().cloned().unwrap_or_default();
        assert_eq!(groups.len(), 1, "{me}");
        assert_eq!(
            (groups[0]["name"].clone(), groups[0]["member_count"].clone()),
            (json!("demo"), json!(3))
        );
        let gid = groups[0]["id"].as_str().expect("gid").to_string();
        let installed = client
            .get(format!("{}/v1/groups/{gid}/apps", server.base))
            .bearer_auth("demo-alice-token")
            .send()
            .await
            .expect("apps")
            .json::<Value>()
            .await
            .expect("json");
        let slugs: Vec<&str> = installed
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|i| i["app"].as_str())
            .collect();
        assert_eq!(slugs, ["polls"], "{installed}");
        let catalog = get(server.base.clone(), "/v1/catalog", "demo-bob-token").await;
        assert_eq!(catalog.as_array().map(Vec::len), Some(1), "{catalog}");
        seen.push(gid);
        assert!(server.terminate(), "qun serve did not stop cleanly");
    }
    assert_eq!(seen[0], seen[1], "the second run reused the demo group");
    let admin = db
        .store
        .user_by_token("demo-admin-token")
        .await
        .expect("lookup")
        .expect("demo admin");
    assert!(admin.is_admin);
    let _ = std::fs::remove_dir_all(&apps);
}
