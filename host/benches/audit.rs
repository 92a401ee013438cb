//! What the tamper-evident chain costs when appending an audit row, against
//! the same row appended without it, on SQLite.
//!
//! - `unchained`: the baseline — one write transaction (`BEGIN IMMEDIATE`)
//!   inserting the row with no hash: what appending cost before the chain.
//! - `chained`: `Store::append_audit` — the same transaction, plus reading
//!   the previous row's hash and hashing the new row into the chain.
//! - `verify_10k_rows`: walking a chain of 10 000 rows (`qun audit verify`).
//!
//! `cargo bench -p qun-host --bench audit`

use criterion::{Criterion, criterion_group, criterion_main};
use qun_host::Store;
use qun_host::store::AuditRecord;

fn record(i: u64) -> AuditRecord {
    AuditRecord {
        at: 1_700_000_000_000 + i as i64,
        installation_id: Some("i_0123456789abcdef".into()),
        app_slug: Some("polls".into()),
        app_version: Some("0.1.0".into()),
        group_id: Some("g_0123456789abcdef".into()),
        actor: Some("u_0123456789abcdef".into()),
        action: "storage.set".into(),
        outcome: "ok".into(),
        detail: None,
        duration_us: 42,
    }
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("tokio");
    let dir = std::env::temp_dir().join(format!("qun-bench-audit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("bench.db");
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let (store, raw) = rt.block_on(async {
        let store = Store::connect(&url).await.expect("sqlite");
        // The same connection settings as the store's (WAL, synchronous=NORMAL).
        let raw = sqlx::any::AnyPoolOptions::new()
            .max_connections(1)
            .after_connect(|conn, _meta| {
                Box::pin(async move {
                    sqlx::Executor::execute(
                        conn,
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 10000;",
                    )
                    .await?;
                    Ok(())
                })
            })
            .connect(&url)
            .await
            .expect("raw");
        (store, raw)
    });

    let mut g = c.benchmark_group("audit_append");
    let mut i = 0u64;
    g.bench_function("unchained", |b| {
        b.to_async(&rt).iter(|| {
            i += 1;
            let r = record(i);
            let raw = raw.clone();
            async move {
                let mut tx = raw.begin_with("BEGIN IMMEDIATE").await.expect("begin");
                sqlx::query(
                    "INSERT INTO audit (at, installation_id, app_slug, app_version, group_id, actor, action, outcome, detail, duration_us) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind(r.at)
                .bind(r.installation_id)
                .bind(r.app_slug)
                .bind(r.app_version)
                .bind(r.group_id)
                .bind(r.actor)
                .bind(r.action)
                .bind(r.outcome)
                .bind(r.detail)
                .bind(r.duration_us)
                .execute(&mut *tx)
                .await
                .expect("insert");
                tx.commit().await.expect("commit");
            }
        })
    });
    // The unchained rows above stand before the chain, as rows from before
    // the migration would; start the chain after them.
    g.bench_function("chained", |b| {
        b.to_async(&rt).iter(|| {
            i += 1;
            let r = record(i);
            let store = &store;
            async move { store.append_audit(&[r]).await.expect("append") }
        })
    });
    g.finish();

    let mut g = c.benchmark_group("audit_verify");
    g.sample_size(10);
    let fresh = rt.block_on(async {
        let fresh = Store::open_sqlite(&dir.join("verify.db"))
            .await
            .expect("sqlite");
        let rows: Vec<AuditRecord> = (0..10_000).map(record).collect();
        for chunk in rows.chunks(1000) {
            fresh.append_audit(chunk).await.expect("append");
        }
        fresh
    });
    g.bench_function("verify_10k_rows", |b| {
        b.to_async(&rt).iter(|| async {
            let v = fresh.verify_audit().await.expect("verify");
            assert!(v.broken.is_none() && v.rows == 10_000);
        })
    });
    g.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench);
criterion_main!(benches);
