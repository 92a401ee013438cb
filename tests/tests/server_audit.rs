//! A real `qun serve` writes the audit summaries of read-only invocations
//! (which commit nothing) about a second later, and when it stops; it
//! anchors the audit chains so `qun audit verify` covers their newest rows.

mod events_common;
mod server_common;

use events_common::{ADMIN, Api, eventually};
use qun_host::store::{AuditRecord, SUMMARY_ACTION};
use qun_tests::{Backend, TestDb, backend_tests};
use serde_json::{Value, json};
use server_common::Server;

backend_tests!(read_only_summaries_are_written_by_the_server_and_at_shutdown);

async fn summaries(db: &TestDb, inst: &str) -> Vec<AuditRecord> {
    db.store
        .audit_of(inst)
        .await
        .expect("audit")
        .into_iter()
        .filter(|r| r.action == SUMMARY_ACTION)
        .collect()
}

fn calls(row: &AuditRecord) -> u64 {
    let detail: Value = serde_json::from_str(row.detail.as_deref().unwrap_or("{}")).expect("json");
    detail["calls"].as_u64().unwrap_or(0)
}

async fn read_only_summaries_are_written_by_the_server_and_at_shutdown(backend: Backend) {
    let Some(db) = TestDb::new(backend).await else {
        return;
    };
    let mut server = Server::start(&db.url, ADMIN);
    let api = Api::new(&server.base);
    let (_, dev) = api.user("dev", true).await;
    let (_, owner) = api.user("owner", false).await;
    api.publish(&dev, "chatty", qun_components::CHATTY).await;
    let gid = api.group(&owner, "g").await;
    let inst = api.install(&gid, &owner, "chatty", &["storage"]).await;

    let answer = api
        .action(
            &gid,
            "chatty",
            &owner,
            "calls",
            json!({"n": 3, "call": "get"}),
        )
        .await;
    assert_eq!(answer["ok"], 3, "{answer}");
    // Nothing was committed by the invocation; the server's flush writes it.
    let rows = eventually(30, "the summary of a read-only invocation", || async {
        let rows = summaries(&db, &inst).await;
        (!rows.is_empty()).then_some(rows)
    })
    .await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(calls(&rows[0]), 3);

    // One more, then stop at once: stopping writes what is still in memory.
    api.action(
        &gid,
        "chatty",
        &owner,
        "calls",
        json!({"n": 5, "call": "get"}),
    )
    .await;
    assert!(server.terminate(), "a clean shutdown");
    let rows = summaries(&db, &inst).await;
    assert_eq!(
        rows.iter().map(calls).collect::<Vec<_>>(),
        [3, 5],
        "{rows:?}"
    );
    let verification = db.store.verify_audit().await.expect("verify");
    assert!(verification.broken.is_none(), "{verification:?}");
    assert!(
        verification.anchors >= 1,
        "anchored at shutdown: {verification:?}"
    );
}
