//! Crash safety: the real `qun serve` under concurrent confirms over HTTP is
//! killed with SIGKILL, restarted on the same database, and the confirms are
//! retried. Afterwards `qun ledger check` passes and every payment was charged
//! exactly once. A tampered balance makes `qun ledger check` fail loudly.

mod server_common;

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use qun_tests::{Backend, TestDb, backend_tests};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use server_common::{Server, qun_bin};

backend_tests!(a_server_killed_during_confirms_never_charges_twice);

const ADMIN: &str = "crash-admin-token";
const PAYMENTS: usize = 60;
const AMOUNT: i64 = 1_000;

async fn post(
    client: &Client,
    base: &str,
    path: &str,
    token: &str,
    body: Value,
) -> (StatusCode, Value) {
    let response = client
        .post(format!("{base}{path}"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("request");
    let status = response.status();
    let text = response.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn get(client: &Client, base: &str, path: &str, token: &str) -> Value {
    let response = client
        .get(format!("{base}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("json")
}

/// `qun ledger check` on `url`: (exit ok, stdout).
fn ledger_check_cli(url: &str) -> (bool, String) {
    let dir = std::env::temp_dir().join(format!("qun-ledger-{}", uuid::Uuid::new_v4().simple()));
    let out = Command::new(qun_bin())
        .args(["ledger", "check"])
        .env("DATABASE_URL", url)
        .env("QUN_DATA_DIR", &dir)
        .env("RUST_LOG", "warn")
        .output()
        .expect("running qun ledger check");
    let _ = std::fs::remove_dir_all(&dir);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

async fn user(client: &Client, base: &str, name: &str, developer: bool) -> (String, String) {
    let (status, body) = post(
        client,
        base,
        "/v1/users",
        ADMIN,
        json!({"name": format!("{name}-{}", &uuid::Uuid::new_v4().simple().to_string()[..6]), "developer": developer}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    (
        body["id"].as_str().expect("id").into(),
        body["token"].as_str().expect("token").into(),
    )
}

/// Confirm every payment `copies` times at once (half of them with an
/// idempotency key); returns how many answers were 200.
async fn confirm_all(
    client: &Client,
    base: &str,
    token: &str,
    ids: &[String],
    copies: usize,
    settled: Arc<AtomicUsize>,
) -> Vec<tokio::task::JoinHandle<Option<StatusCode>>> {
    let mut tasks = Vec::new();
    for id in ids {
        for copy in 0..copies {
            let (client, base, token, id) = (
                client.clone(),
                base.to_string(),
                token.to_string(),
                id.clone(),
            );
            let settled = settled.clone();
            tasks.push(tokio::spawn(async move {
                let mut request = client
                    .post(format!("{base}/v1/payments/{id}/confirm"))
                    .bearer_auth(&token);
                if copy % 2 == 0 {
                    request = request.header("idempotency-key", format!("confirm-{id}"));
                }
                let status = request.send().await.ok()?.status();
                if status == StatusCode::OK {
                    settled.fetch_add(1, Ordering::SeqCst);
                }
                Some(status)
            }));
        }
    }
    tasks
}

async fn a_server_killed_during_confirms_never_charges_twice(backend: Backend) {
    let Some(db) = TestDb::new(backend).await else {
        return;
    };
    let client = Client::new();
    let mut server = Server::start(&db.url, ADMIN);
    let base = server.base.clone();
    let (_, dev) = user(&client, &base, "dev", true).await;
    let (_, owner) = user(&client, &base, "owner", false).await;
    let (payer_id, payer) = user(&client, &base, "payer", false).await;
    let (_, group) = post(&client, &base, "/v1/groups", &owner, json!({"name": "g"})).await;
    let gid = group["id"].as_str().expect("gid").to_string();
    let (status, _) = post(
        &client,
        &base,
        &format!("/v1/groups/{gid}/members"),
        &owner,
        json!({"user_id": payer_id}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = post(
        &client,
        &base,
        "/v1/apps",
        &dev,
        json!({"slug": "probe", "name": "Probe"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let upload = client
        .post(format!("{base}/v1/apps/probe/versions"))
        .bearer_auth(&dev)
        .body(qun_components::read(qun_components::PROBE))
        .send()
        .await
        .expect("upload");
    assert_eq!(upload.status(), StatusCode::CREATED);
    let (status, body) = post(
        &client,
        &base,
        "/v1/admin/apps/probe/versions/0.1.0/approve",
        ADMIN,
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = post(
        &client,
        &base,
        &format!("/v1/groups/{gid}/apps"),
        &owner,
        json!({"app": "probe", "grants": ["payments", "storage"]}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let start = 1_000_000;
    let (status, _) = post(
        &client,
        &base,
        &format!("/v1/admin/wallets/{payer_id}/credit"),
        ADMIN,
        json!({"amount": start, "currency": "CNY"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let mut ids = Vec::new();
    for i in 0..PAYMENTS {
        let (status, p) = post(
            &client,
            &base,
            &format!("/v1/groups/{gid}/apps/probe/actions/pay"),
            &owner,
            json!({"payer": payer_id, "amount": AMOUNT, "currency": "CNY", "memo": "seat", "key": format!("k{i}")}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{p}");
        ids.push(p["id"].as_str().expect("id").to_string());
    }

    // Three concurrent confirms per payment; SIGKILL once a few succeeded.
    let settled = Arc::new(AtomicUsize::new(0));
    let tasks = confirm_all(&client, &base, &payer, &ids, 3, settled.clone()).await;
    for _ in 0..6000 {
        if settled.load(Ordering::SeqCst) >= 5 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let killed = Command::new("kill")
        .args(["-KILL", &server.pid().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let mut answered = 0;
    for task in tasks {
        if task.await.expect("task").is_some() {
            answered += 1;
        }
    }
    let before_kill = settled.load(Ordering::SeqCst);
    eprintln!(
        "{backend:?}: {before_kill} confirms answered 200 and {answered} of {} requests were answered before SIGKILL",
        PAYMENTS * 3
    );
    drop(server);

    // After the crash, before anything else runs: the ledger is consistent.
    let (ok, out) = ledger_check_cli(&db.url);
    assert!(ok, "ledger check after the crash: {out}");

    // Restart on the same database and retry every confirm.
    server = Server::start(&db.url, ADMIN);
    let base = server.base.clone();
    let retried = Arc::new(AtomicUsize::new(0));
    for task in confirm_all(&client, &base, &payer, &ids, 2, retried.clone()).await {
        let status = task
            .await
            .expect("task")
            .expect("the restarted server answers");
        assert!(
            status == StatusCode::OK || status == StatusCode::CONFLICT,
            "retry answered {status}"
        );
    }
    let settled_list = get(
        &client,
        &base,
        "/v1/me/payments?status=settled&limit=1000",
        &payer,
    )
    .await;
    assert_eq!(
        settled_list["payments"].as_array().map(Vec::len),
        Some(PAYMENTS),
        "every payment settled once retried"
    );
    let wallet = get(&client, &base, "/v1/me/wallet", &payer).await;
    assert_eq!(
        wallet["balances"][0]["balance"],
        json!(start - AMOUNT * PAYMENTS as i64),
        "each payment charged exactly once"
    );
    let report = get(&client, &base, "/v1/admin/ledger/check", ADMIN).await;
    assert_eq!(report["ok"], json!(true), "{report}");
    let (ok, out) = ledger_check_cli(&db.url);
    assert!(ok && out.contains("ledger ok"), "{out}");
    drop(server);

    // A balance changed behind the ledger's back is reported, exit code 1.
    let pool = sqlx::AnyPool::connect(&db.url).await.expect("connect");
    sqlx::query("UPDATE ledger_accounts SET balance = balance + 7 WHERE owner_id = $1")
        .bind(&payer_id)
        .execute(&pool)
        .await
        .expect("tamper");
    pool.close().await;
    let (ok, out) = ledger_check_cli(&db.url);
    assert!(!ok, "a tampered ledger must fail the check: {out}");
    assert!(
        out.contains(&format!("user:{payer_id}:CNY")) && out.contains("entries sum to"),
        "{out}"
    );
}
