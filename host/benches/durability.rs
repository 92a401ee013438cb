//! What power-loss durability costs on SQLite (WAL): the same one-row write
//! transaction on a connection with `synchronous = NORMAL` (every ordinary
//! commit) and with `synchronous = FULL` (`Store::begin_durable`: settled
//! payments, refunds, ledger entries), plus a real wallet top-up, which posts
//! a balanced ledger transaction through `begin_durable`.
//!
//! `cargo bench -p qun-host --bench durability`

use criterion::{Criterion, criterion_group, criterion_main};
use qun_host::Store;
use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;

async fn raw_pool(url: &str, synchronous: &'static str) -> AnyPool {
    AnyPoolOptions::new()
        .max_connections(1)
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                sqlx::Executor::execute(
                    &mut *conn,
                    "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 10000;",
                )
                .await?;
                sqlx::Executor::execute(&mut *conn, synchronous).await?;
                Ok(())
            })
        })
        .connect(url)
        .await
        .expect("raw pool")
}

async fn one_row(pool: &AnyPool, i: i64) {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.expect("begin");
    sqlx::query("INSERT INTO bench_rows (n, body) VALUES ($1, $2)")
        .bind(i)
        .bind("a ledger-sized row of about sixty bytes, like a posting")
        .execute(&mut *tx)
        .await
        .expect("insert");
    tx.commit().await.expect("commit");
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("tokio");
    let dir = std::env::temp_dir().join(format!("qun-bench-durability-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let url = format!("sqlite://{}?mode=rwc", dir.join("bench.db").display());
    let (store, normal, full, user) = rt.block_on(async {
        let store = Store::connect(&url).await.expect("sqlite");
        let user = store
            .create_user("payer", "bench-token", false, false)
            .await
            .expect("user");
        let normal = raw_pool(&url, "PRAGMA synchronous = NORMAL").await;
        let full = raw_pool(&url, "PRAGMA synchronous = FULL").await;
        sqlx::query("CREATE TABLE IF NOT EXISTS bench_rows (n INTEGER, body TEXT)")
            .execute(&normal)
            .await
            .expect("table");
        (store, normal, full, user)
    });

    let mut g = c.benchmark_group("sqlite_commit");
    let mut i = 0i64;
    g.bench_function("synchronous_normal", |b| {
        b.to_async(&rt).iter(|| {
            i += 1;
            let pool = &normal;
            async move { one_row(pool, i).await }
        })
    });
    g.bench_function("synchronous_full", |b| {
        b.to_async(&rt).iter(|| {
            i += 1;
            let pool = &full;
            async move { one_row(pool, i).await }
        })
    });
    g.bench_function("credit_wallet_durable", |b| {
        b.to_async(&rt).iter(|| {
            let (store, user) = (&store, &user);
            async move {
                store
                    .credit_wallet("bench", &user.id, 1, "EUR", "bench top-up")
                    .await
                    .expect("credit")
            }
        })
    });
    g.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench);
criterion_main!(benches);
