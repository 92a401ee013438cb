//! The audit trail stays bounded whatever an app does (issue 10 items 2 and
//! 3), costs no global lock and no write for read-only invocations (issue 12
//! items 1 and 5), and `qun audit verify` stays exact over every chain.

use std::time::Duration;

use qun_host::store::{AuditRecord, SUMMARY_ACTION};
use qun_host::{Limits, Runtime, RuntimeConfig, Store};
use qun_tests::{Backend, World, backend_tests};
use serde_json::{Value, json};

backend_tests!(
    fifty_thousand_cheap_calls_leave_one_summary_row,
    past_the_call_cap_the_invocation_fails_by_name_and_keeps_nothing,
    denials_stay_individual_rows,
    a_read_only_invocation_writes_nothing_until_the_window_is_flushed,
    verify_detects_an_edited_row_in_any_chain,
    verify_detects_deleted_rows_in_any_chain,
    commits_of_different_installations_do_not_wait_on_each_other,
    an_event_claimed_by_a_dead_host_is_taken_over_visibly,
    re_run_attempts_still_leave_one_row_per_invocation,
    rows_from_before_the_per_installation_chains_stay_verified,
    abandoned_transactions_leave_nothing_and_their_connections_go_on,
    connections_the_server_ended_are_not_used_again,
    a_dropped_transaction_frees_its_locks_at_once,
);

/// Generous time limits: these tests count rows, never time.
fn roomy() -> Limits {
    Limits {
        deadline: Duration::from_secs(60),
        capability_calls: 100_000,
        ..Limits::default()
    }
}

/// The rows an app's calls left (decisions about the installation aside).
async fn call_rows(store: &Store, inst: &str) -> Vec<AuditRecord> {
    store
        .audit_of(inst)
        .await
        .expect("audit")
        .into_iter()
        .filter(|r| !r.action.starts_with("installation."))
        .collect()
}

fn detail(row: &AuditRecord) -> Value {
    serde_json::from_str(row.detail.as_deref().expect("detail")).expect("detail is JSON")
}

/// (count) of `call` with `outcome` in a summary row.
fn count_of(row: &AuditRecord, call: &str, outcome: &str) -> u64 {
    detail(row)["by"]
        .as_array()
        .expect("by")
        .iter()
        .find(|g| g["call"] == call && g["outcome"] == outcome)
        .and_then(|g| g["count"].as_u64())
        .unwrap_or(0)
}

async fn verify_broken(store: &Store) -> Option<qun_host::store::BrokenLink> {
    store.verify_audit().await.expect("verify").broken
}

async fn fifty_thousand_cheap_calls_leave_one_summary_row(backend: Backend) {
    let Some(w) = World::with_limits(backend, roomy()).await else {
        return;
    };
    let (gid, owner, _) = w.group(0).await;
    let inst = w.install(qun_components::CHATTY, &gid, &["storage"]).await;
    let answer = w
        .action(
            &inst,
            &owner.id,
            "calls",
            json!({"n": 50_000, "call": "get", "set": "w"}),
        )
        .await
        .expect("50,000 calls within the cap");
    assert_eq!(answer["ok"], 50_000, "{answer}");
    assert!(w.store().kv_get(&inst, "w").await.expect("kv").is_some());

    let rows = call_rows(w.store(), &inst).await;
    assert_eq!(rows.len(), 1, "one summary row, not one per call: {rows:?}");
    let summary = &rows[0];
    assert_eq!(summary.action, SUMMARY_ACTION);
    assert_eq!(summary.outcome, "ok");
    assert_eq!(summary.actor.as_deref(), Some(owner.id.as_str()));
    assert_eq!(count_of(summary, "storage.get", "ok"), 50_000);
    assert_eq!(count_of(summary, "storage.set", "ok"), 1);
    assert_eq!(detail(summary)["calls"], 50_001);
    assert!(verify_broken(w.store()).await.is_none());
}

async fn past_the_call_cap_the_invocation_fails_by_name_and_keeps_nothing(backend: Backend) {
    let Some(w) = World::with_limits(
        backend,
        Limits {
            capability_calls: 1_000,
            ..roomy()
        },
    )
    .await
    else {
        return;
    };
    let (gid, owner, _) = w.group(0).await;
    let inst = w
        .install(qun_components::CHATTY, &gid, &["storage", "messaging"])
        .await;
    for call in ["get", "log"] {
        let err = w
            .action(
                &inst,
                &owner.id,
                "calls",
                json!({"n": 5_000, "call": call, "set": "w"}),
            )
            .await
            .expect_err("past the cap");
        assert_eq!(err.code(), "capability_calls", "{err}");
        assert!(err.to_string().contains("1000"), "{err}");
        assert!(!err.is_fault(), "the cap is not a crash");
    }
    // The app ignored the refusals and answered ok: still nothing is kept.
    assert!(w.store().kv_get(&inst, "w").await.expect("kv").is_none());
    assert!(w.messages(&gid).await.is_empty());

    // Bounded audit: per invocation one failure summary; the refused calls
    // are counted in it, not written one by one.
    let rows = call_rows(w.store(), &inst).await;
    let summaries: Vec<&AuditRecord> = rows.iter().filter(|r| r.action == SUMMARY_ACTION).collect();
    assert_eq!(summaries.len(), 2, "{summaries:?}");
    for s in &summaries {
        assert_eq!(s.outcome, "error");
        assert_eq!(detail(s)["failure"], "capability_calls");
        assert_eq!(detail(s)["calls"], 5_001);
    }
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(count_of(summaries[0], "storage.get", "ok"), 999);
    assert_eq!(count_of(summaries[0], "storage.get", "error"), 4_001);
    assert!(verify_broken(w.store()).await.is_none());
}

async fn denials_stay_individual_rows(backend: Backend) {
    let Some(w) = World::with_limits(backend, roomy()).await else {
        return;
    };
    let (gid, owner, _) = w.group(0).await;
    // `messaging` is asked for but not granted.
    let inst = w.install(qun_components::CHATTY, &gid, &["storage"]).await;
    let answer = w
        .action(&inst, &owner.id, "calls", json!({"n": 5, "call": "post"}))
        .await
        .expect("the app ignores the denials");
    assert_eq!(answer["failed"], 5);
    // Written at once, in the invocation's own commit (no flush needed).
    let rows = call_rows(w.store(), &inst).await;
    let denied: Vec<&AuditRecord> = rows.iter().filter(|r| r.outcome == "denied").collect();
    assert_eq!(denied.len(), 5, "{rows:?}");
    assert!(denied.iter().all(|r| {
        r.action == "messaging.post"
            && r.actor.as_deref() == Some(owner.id.as_str())
            && r.detail
                .as_deref()
                .is_some_and(|d| d.contains("`messaging`"))
    }));
    let summaries: Vec<&AuditRecord> = rows.iter().filter(|r| r.action == SUMMARY_ACTION).collect();
    assert_eq!(summaries.len(), 1);
    assert_eq!(count_of(summaries[0], "messaging.post", "denied"), 5);
    assert!(w.messages(&gid).await.is_empty());
}

async fn a_read_only_invocation_writes_nothing_until_the_window_is_flushed(backend: Backend) {
    let Some(w) = World::with_limits(backend, roomy()).await else {
        return;
    };
    let (gid, owner, members) = w.group(1).await;
    let inst = w
        .install(qun_components::CHATTY, &gid, &["storage", "membership"])
        .await;
    let before = call_rows(w.store(), &inst).await.len();
    for (actor, n) in [(&owner.id, 50_000), (&members[0].id, 3)] {
        let answer = w
            .action(&inst, actor, "calls", json!({"n": n, "call": "get"}))
            .await
            .expect("read-only");
        assert_eq!(answer["ok"], n);
    }
    w.action(&inst, &owner.id, "calls", json!({"n": 2, "call": "group"}))
        .await
        .expect("read-only");
    assert_eq!(
        call_rows(w.store(), &inst).await.len(),
        before,
        "a read-only invocation writes no row by itself"
    );
    assert_eq!(w.store().audit_window().len(), 1);

    assert_eq!(w.store().flush_audit_window().await.expect("flush"), 1);
    let rows = call_rows(w.store(), &inst).await;
    assert_eq!(
        rows.len(),
        before + 1,
        "one row for the installation: {rows:?}"
    );
    let summary = rows.last().expect("summary");
    assert_eq!(summary.action, SUMMARY_ACTION);
    assert_eq!(summary.actor, None, "two members' invocations");
    assert_eq!(detail(summary)["invocations"], 3);
    assert_eq!(count_of(summary, "storage.get", "ok"), 50_003);
    assert_eq!(count_of(summary, "membership.current-group", "ok"), 2);
    assert!(w.store().audit_window().is_empty());
    assert_eq!(w.store().flush_audit_window().await.expect("flush"), 0);
    assert!(verify_broken(w.store()).await.is_none());
}

/// Two installations in two groups, each with a few committed rows, the
/// chains anchored. Returns their ids.
async fn two_chains(w: &World) -> [String; 2] {
    let mut out = Vec::new();
    for _ in 0..2 {
        let (gid, owner, _) = w.group(0).await;
        let inst = w.install(qun_components::PROBE, &gid, &["storage"]).await;
        for i in 0..3 {
            w.action(
                &inst,
                &owner.id,
                "set",
                json!({"key": format!("k{i}"), "value": "v"}),
            )
            .await
            .expect("set");
        }
        out.push(inst);
    }
    let anchored = w.store().anchor_audit_chains().await.expect("anchor");
    assert!(anchored >= 2, "{anchored}");
    let ok = w.store().verify_audit().await.expect("verify");
    assert!(ok.broken.is_none(), "{ok:?}");
    assert!(ok.chains >= 2 && ok.anchors >= 2, "{ok:?}");
    [out[0].clone(), out[1].clone()]
}

async fn db(w: &World) -> sqlx::AnyConnection {
    <sqlx::AnyConnection as sqlx::Connection>::connect(&w.db.url)
        .await
        .expect("connect")
}

/// Ids of a chain's rows, oldest first.
async fn chain_ids(w: &World, chain: &str) -> Vec<i64> {
    sqlx::query_scalar("SELECT id FROM audit WHERE chain = $1 ORDER BY seq")
        .bind(chain)
        .fetch_all(&mut db(w).await)
        .await
        .expect("ids")
}

async fn verify_detects_an_edited_row_in_any_chain(backend: Backend) {
    let Some(w) = World::new(backend).await else {
        return;
    };
    for chain in two_chains(&w).await {
        let ids = chain_ids(&w, &chain).await;
        for id in [ids[0], ids[ids.len() / 2], ids[ids.len() - 1]] {
            let original: String = sqlx::query_scalar("SELECT outcome FROM audit WHERE id = $1")
                .bind(id)
                .fetch_one(&mut db(&w).await)
                .await
                .expect("row");
            for outcome in ["denied", original.as_str()] {
                sqlx::query("UPDATE audit SET outcome = $2 WHERE id = $1")
                    .bind(id)
                    .bind(outcome)
                    .execute(&mut db(&w).await)
                    .await
                    .expect("edit");
                let broken = verify_broken(w.store()).await;
                if outcome == original {
                    assert!(broken.is_none(), "restored: {broken:?}");
                } else {
                    let broken = broken.expect("an edited row is found");
                    assert_eq!(broken.id, id);
                    assert_eq!(broken.chain.as_deref(), Some(chain.as_str()));
                }
            }
        }
    }
}

async fn verify_detects_deleted_rows_in_any_chain(backend: Backend) {
    let Some(w) = World::new(backend).await else {
        return;
    };
    let [a, b] = two_chains(&w).await;
    // A row in the middle of A: the next row no longer follows.
    let ids = chain_ids(&w, &a).await;
    sqlx::query("DELETE FROM audit WHERE id = $1")
        .bind(ids[1])
        .execute(&mut db(&w).await)
        .await
        .expect("delete");
    let broken = verify_broken(w.store())
        .await
        .expect("a deleted row is found");
    assert_eq!(
        (broken.id, broken.chain.as_deref()),
        (ids[2], Some(a.as_str()))
    );
    assert!(broken.reason.contains("missing"), "{}", broken.reason);

    // In a second database: B's newest row, then also its head rewritten to
    // hide it (the anchor still names the deleted row).
    let Some(w) = World::new(backend).await else {
        return;
    };
    let [_, b2] = two_chains(&w).await;
    let _ = b;
    let ids = chain_ids(&w, &b2).await;
    let newest = *ids.last().expect("rows");
    sqlx::query("DELETE FROM audit WHERE id = $1")
        .bind(newest)
        .execute(&mut db(&w).await)
        .await
        .expect("delete");
    let broken = verify_broken(w.store())
        .await
        .expect("a deleted tail is found");
    assert_eq!(broken.chain.as_deref(), Some(b2.as_str()));
    let (seq, hash): (i64, String) =
        sqlx::query_as("SELECT seq, hash FROM audit WHERE chain = $1 ORDER BY seq DESC LIMIT 1")
            .bind(&b2)
            .fetch_one(&mut db(&w).await)
            .await
            .expect("new tail");
    sqlx::query("UPDATE audit_chains SET seq = $2, head = $3 WHERE chain = $1")
        .bind(&b2)
        .bind(seq)
        .bind(&hash)
        .execute(&mut db(&w).await)
        .await
        .expect("rewrite head");
    let broken = verify_broken(w.store())
        .await
        .expect("the anchor still names the deleted row");
    assert_eq!(broken.chain.as_deref(), Some(b2.as_str()));
    assert!(broken.reason.contains("anchor"), "{}", broken.reason);
}

async fn commits_of_different_installations_do_not_wait_on_each_other(backend: Backend) {
    let Some(w) = World::with_limits(backend, roomy()).await else {
        return;
    };
    // A second host over the same database.
    let store2 = Store::connect(&w.db.url).await.expect("second host");
    let host2 = Runtime::new(
        store2.clone(),
        RuntimeConfig {
            limits: roomy(),
            cache_dir: Some(qun_tests::cache_dir()),
        },
    )
    .expect("runtime");
    let (ga, owner_a, _) = w.group(0).await;
    let (gb, owner_b, _) = w.group(0).await;
    let a = w.install(qun_components::PROBE, &ga, &["storage"]).await;
    let b = w.install(qun_components::PROBE, &gb, &["storage"]).await;

    if backend == Backend::Postgres {
        // Host 1 holds A's chain (a commit of A that has not finished) ...
        let mut held = w.store().begin_write().await.expect("tx");
        let mut record = AuditRecord::decision("test.hold", &owner_a.id);
        record.installation_id = Some(a.clone());
        held.insert_audit(&[record]).await.expect("hold A's chain");
        // ... while host 2 commits B: it must not wait for A.
        let set_b = host2.invoke(qun_host::Invocation {
            installation_id: b.clone(),
            actor: Some(owner_b.id.clone()),
            call: qun_host::Call::Action {
                value: None,
                message_id: None,
                name: "set".into(),
                payload: json!({"key": "k", "value": "b"}).to_string(),
            },
            invocation_id: None,
        });
        let done = tokio::time::timeout(Duration::from_secs(60), set_b).await;
        assert!(
            matches!(done, Ok(Ok(_))),
            "B's commit waited for A's chain: {done:?}"
        );
        held.commit().await.expect("commit A");
    }

    // Many commits of both installations on both hosts at once: all commit,
    // every chain stays exact.
    let mut tasks = Vec::new();
    for i in 0..16 {
        let (rt, inst, actor) = match i % 4 {
            0 => (w.runtime.clone(), a.clone(), owner_a.id.clone()),
            1 => (host2.clone(), a.clone(), owner_a.id.clone()),
            2 => (w.runtime.clone(), b.clone(), owner_b.id.clone()),
            _ => (host2.clone(), b.clone(), owner_b.id.clone()),
        };
        tasks.push(tokio::spawn(async move {
            rt.invoke(qun_host::Invocation {
                installation_id: inst,
                actor: Some(actor),
                call: qun_host::Call::Action {
                    value: None,
                    message_id: None,
                    name: "set".into(),
                    payload: json!({"key": format!("k{i}"), "value": "v"}).to_string(),
                },
                invocation_id: None,
            })
            .await
        }));
    }
    for task in tasks {
        task.await.expect("join").expect("committed");
    }
    w.store().anchor_audit_chains().await.expect("anchor");
    let verification = w.store().verify_audit().await.expect("verify");
    assert!(verification.broken.is_none(), "{verification:?}");
    for inst in [&a, &b] {
        let rows = call_rows(w.store(), inst).await;
        assert!(rows.len() >= 8, "{inst}: {}", rows.len());
    }
    store2.close().await;
}

async fn an_event_claimed_by_a_dead_host_is_taken_over_visibly(backend: Backend) {
    use qun_host::runtime::DeliveryConfig;
    use qun_host::store::{Role, now_ms};
    let Some(w) = World::new(backend).await else {
        return;
    };
    let host2 = Runtime::new(
        Store::connect(&w.db.url).await.expect("second host"),
        RuntimeConfig {
            limits: Limits::default(),
            cache_dir: Some(qun_tests::cache_dir()),
        },
    )
    .expect("runtime");
    let (gid, _, _) = w.group(0).await;
    let inst = w
        .install(qun_components::RECORDER, &gid, &["storage", "messaging"])
        .await;
    let user = w.user("joiner").await;
    w.store()
        .join_member(&gid, &user.id, Role::Member)
        .await
        .expect("join");
    let config = DeliveryConfig::default();
    assert!(config.lease.as_secs() <= 10, "a short lease by default");
    let lease = config.lease.as_millis() as i64;

    // A host claims the head event and dies without delivering it.
    let claimed = w
        .store()
        .claim_events("host_dead", now_ms(), lease, 32)
        .await
        .expect("claim");
    let event = claimed
        .iter()
        .find(|e| e.installation_id == inst)
        .expect("the head event is claimed")
        .clone();
    assert_eq!(event.attempts, 0);
    // While the claim is live nobody else takes it; renewing keeps it live.
    let report = host2
        .deliver_due(&config, "host_b", now_ms())
        .await
        .expect("deliver");
    assert_eq!(report.delivered, 0, "{report:?}");
    assert!(
        w.store()
            .renew_claim(event.id, "host_dead", now_ms() + lease)
            .await
            .expect("renew")
    );
    assert!(
        !w.store()
            .renew_claim(event.id, "host_b", now_ms() + lease)
            .await
            .expect("renew"),
        "only the holder renews"
    );

    // Once the claim has run out, the other host takes the event over.
    let report = host2
        .deliver_due(&config, "host_b", now_ms() + lease + 1_000)
        .await
        .expect("deliver");
    assert!(report.delivered >= 1, "{report:?}");
    let after = w
        .store()
        .events_of_installation(&inst)
        .await
        .expect("outbox")
        .into_iter()
        .find(|e| e.id == event.id)
        .expect("event");
    assert_eq!(after.status, "delivered");
    assert_eq!(after.attempts, 1, "the dead host's attempt counts");
    assert!(
        after
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("host_dead") && e.contains("taken over by host_b")),
        "{after:?}"
    );
}

async fn re_run_attempts_still_leave_one_row_per_invocation(backend: Backend) {
    let Some(w) = World::with_limits(backend, roomy()).await else {
        return;
    };
    let (gid, owner, _) = w.group(0).await;
    let inst = w.install(qun_components::PROBE, &gid, &["storage"]).await;
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (rt, inst, actor) = (w.runtime.clone(), inst.clone(), owner.id.clone());
        tasks.push(tokio::spawn(async move {
            rt.invoke(qun_host::Invocation {
                installation_id: inst,
                actor: Some(actor),
                call: qun_host::Call::Action {
                    value: None,
                    message_id: None,
                    name: "incr".into(),
                    payload: json!({"key": "n"}).to_string(),
                },
                invocation_id: None,
            })
            .await
        }));
    }
    let mut attempts = 0;
    for task in tasks {
        attempts += task.await.expect("join").expect("committed").attempts;
    }
    let rows = call_rows(w.store(), &inst).await;
    assert_eq!(
        rows.len(),
        8,
        "one row per invocation, however often re-run: {rows:?}"
    );
    let counted: u64 = rows
        .iter()
        .map(|r| detail(r)["attempts"].as_u64().unwrap_or(1))
        .sum();
    assert_eq!(counted, u64::from(attempts));
    let gets: u64 = rows.iter().map(|r| count_of(r, "storage.get", "ok")).sum();
    assert_eq!(
        gets,
        u64::from(attempts),
        "every attempt's calls are counted"
    );
    assert!(verify_broken(w.store()).await.is_none());
}

async fn rows_from_before_the_per_installation_chains_stay_verified(backend: Backend) {
    let Some(w) = World::new(backend).await else {
        return;
    };
    // Two rows of the old single chain, as the old code wrote them.
    let first = AuditRecord::decision("review.approve", "u_admin").app("probe", Some("1.0.0"));
    let second = AuditRecord::decision("app.suspend", "u_admin").app("probe", None);
    let h1 = first.chain_hash("");
    let h2 = second.chain_hash(&h1);
    let mut ids = Vec::new();
    for (r, hash) in [(&first, &h1), (&second, &h2)] {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO audit (at, installation_id, app_slug, app_version, group_id, actor, action, outcome, detail, duration_us, hash) \
             VALUES ($1, NULL, $2, $3, NULL, $4, $5, $6, NULL, 0, $7) RETURNING id",
        )
        .bind(r.at)
        .bind(&r.app_slug)
        .bind(&r.app_version)
        .bind(&r.actor)
        .bind(&r.action)
        .bind(&r.outcome)
        .bind(hash)
        .fetch_one(&mut db(&w).await)
        .await
        .expect("legacy row");
        ids.push(id);
    }
    // New rows go to per-installation chains beside them.
    two_chains(&w).await;
    let ok = w.store().verify_audit().await.expect("verify");
    assert!(ok.broken.is_none(), "{ok:?}");
    sqlx::query("UPDATE audit SET actor = 'u_someone_else' WHERE id = $1")
        .bind(ids[0])
        .execute(&mut db(&w).await)
        .await
        .expect("edit");
    let broken = verify_broken(w.store())
        .await
        .expect("an edited old row is found");
    assert_eq!((broken.id, broken.chain), (ids[0], None));
}

/// Connections are reused without sqlx's test (issue 12): one given back in
/// the middle of a transaction, or of a statement whose future was dropped,
/// must still leave nothing behind and serve the next user correctly.
async fn abandoned_transactions_leave_nothing_and_their_connections_go_on(backend: Backend) {
    let Some(w) = World::with_limits(backend, roomy()).await else {
        return;
    };
    let (gid, owner, _) = w.group(0).await;
    let inst = w.install(qun_components::PROBE, &gid, &["storage"]).await;
    let store = w.store();
    let row = |action: &str| {
        let mut record = AuditRecord::decision(action, &owner.id);
        record.installation_id = Some(inst.clone());
        record
    };
    for _ in 0..20 {
        // Written, then dropped without a commit (a conflict, an error).
        let mut tx = store.begin_write().await.expect("tx");
        tx.insert_audit(&[row("test.abandoned")])
            .await
            .expect("insert");
        drop(tx);
        // A read whose future is dropped before its answer arrives.
        let _ = tokio::time::timeout(Duration::ZERO, store.kv_get(&inst, "k")).await;
        // A transaction whose future is dropped while its BEGIN is on the way.
        let _ = tokio::time::timeout(Duration::ZERO, store.begin_write()).await;
        // The next transaction (likely on the same connection) commits.
        let mut tx = store
            .begin_write()
            .await
            .expect("tx after an abandoned one");
        tx.insert_audit(&[row("test.kept")]).await.expect("insert");
        tx.commit().await.expect("commit");
    }
    if backend == Backend::Sqlite {
        // Another process holds SQLite's write lock, so this BEGIN waits
        // there, and its future is dropped before it gets the lock: the
        // transaction it opens later must still be rolled back before the
        // connection serves anyone else.
        let other = Store::connect(&w.db.url).await.expect("second store");
        let held = other.begin_write().await.expect("the other writer");
        let waited = tokio::time::timeout(Duration::from_millis(200), store.begin_write()).await;
        assert!(waited.is_err(), "the BEGIN should have waited for the lock");
        drop(held);
        for _ in 0..3 {
            let mut tx = store
                .begin_write()
                .await
                .expect("tx after a cancelled BEGIN");
            tx.insert_audit(&[row("test.kept")]).await.expect("insert");
            tx.commit().await.expect("commit");
        }
        // The other store writes too: nobody holds the lock.
        let mut tx = other.begin_write().await.expect("the lock is free again");
        tx.insert_audit(&[row("test.kept")]).await.expect("insert");
        tx.commit().await.expect("commit");
    }
    let rows = store.audit_of(&inst).await.expect("audit");
    let count = |action: &str| rows.iter().filter(|r| r.action == action).count();
    assert_eq!(count("test.abandoned"), 0, "an uncommitted row was kept");
    let kept = if backend == Backend::Sqlite { 24 } else { 20 };
    assert_eq!(count("test.kept"), kept);
    assert!(verify_broken(store).await.is_none(), "the chain is exact");
    // The app's own reads and writes still work over the reused connections.
    let answer = w
        .action(&inst, &owner.id, "set", json!({"key": "k", "value": "v"}))
        .await
        .expect("set");
    assert_eq!(answer, json!({}));
    let kept = store
        .kv_get(&inst, "k")
        .await
        .expect("kv")
        .expect("k is set");
    assert_eq!(kept.value, b"v".to_vec());
}

/// End every session of the test's database but the one asking.
async fn terminate_sessions(url: &str) -> u64 {
    use sqlx::Connection;
    let mut admin = sqlx::PgConnection::connect(url).await.expect("admin");
    let ended: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()) t",
    )
    .fetch_one(&mut admin)
    .await
    .expect("terminate");
    admin.close().await.ok();
    ended as u64
}

/// PostgreSQL connections are reused without sqlx's pings (issue 12): a
/// session the server ended (a restart, a failover, an administrator) is
/// found out by a ping once it has been idle, and a request that meets one
/// sooner fails once for it, and it is closed, never handed out again.
async fn connections_the_server_ended_are_not_used_again(backend: Backend) {
    if backend != Backend::Postgres {
        return;
    }
    let Some(w) = World::with_limits(backend, roomy()).await else {
        return;
    };
    let (gid, owner, _) = w.group(0).await;
    let inst = w.install(qun_components::PROBE, &gid, &["storage"]).await;
    w.action(&inst, &owner.id, "set", json!({"key": "k", "value": "v"}))
        .await
        .expect("set");
    let store = w.store();
    let reads = |n: usize| futures::future::join_all((0..n).map(|_| store.kv_get(&inst, "k")));
    // Several connections busy at once, then idle in the stash.
    for read in reads(8).await {
        assert!(read.expect("read").is_some());
    }
    assert!(terminate_sessions(&w.db.url).await >= 1);
    // Idle past the test: every read works, no one sees the ended sessions.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    for read in reads(8).await {
        assert!(read.expect("a read after the sessions ended").is_some());
    }
    let got = w
        .action(&inst, &owner.id, "get", json!({"key": "k"}))
        .await
        .expect("get");
    assert_eq!(got, json!({"value": "v"}));
    // Ended again and used at once: each ended session fails one read at
    // most, then is gone.
    for read in reads(8).await {
        read.expect("read");
    }
    let ended = terminate_sessions(&w.db.url).await;
    let mut failed = 0;
    for _ in 0..ended + 10 {
        if store.kv_get(&inst, "k").await.is_err() {
            failed += 1;
        }
    }
    assert!(
        failed <= ended,
        "{failed} reads failed for {ended} ended sessions"
    );
    for _ in 0..10 {
        assert!(store.kv_get(&inst, "k").await.expect("read").is_some());
    }
    let mut tx = store.begin_write().await.expect("a transaction");
    tx.insert_audit(&[AuditRecord::decision("test.after", &owner.id)])
        .await
        .expect("insert");
    tx.commit().await.expect("commit");
}

/// A transaction dropped without a commit (a conflict, an error, a
/// cancelled request) gives its locks back at once, not when its connection
/// is next used (issue 12: connections are reused without sqlx's ping on
/// release, which used to send the rollback).
async fn a_dropped_transaction_frees_its_locks_at_once(backend: Backend) {
    let Some(w) = World::with_limits(backend, roomy()).await else {
        return;
    };
    let (gid, owner, _) = w.group(0).await;
    let inst = w.install(qun_components::PROBE, &gid, &["storage"]).await;
    let row = |action: &str| {
        let mut record = AuditRecord::decision(action, &owner.id);
        record.installation_id = Some(inst.clone());
        record
    };
    let store = w.store();
    // Another host on the same database.
    let other = Store::connect(&w.db.url).await.expect("second store");
    for round in 0..5 {
        let lock = format!("test:{round}");
        let mut tx = store.begin_write_locked(&lock).await.expect("tx");
        tx.insert_audit(&[row("test.dropped")])
            .await
            .expect("insert");
        drop(tx);
        // Generous: the lock comes back at once or never.
        let mut theirs =
            tokio::time::timeout(Duration::from_secs(20), other.begin_write_locked(&lock))
                .await
                .expect("the other host got the lock the dropped transaction held")
                .expect("tx");
        theirs
            .insert_audit(&[row("test.other")])
            .await
            .expect("insert");
        theirs.commit().await.expect("commit");
    }
    let rows = store.audit_of(&inst).await.expect("audit");
    let count = |action: &str| rows.iter().filter(|r| r.action == action).count();
    assert_eq!(count("test.dropped"), 0, "an uncommitted row was kept");
    assert_eq!(count("test.other"), 5);
    assert!(verify_broken(store).await.is_none(), "the chain is exact");
}
