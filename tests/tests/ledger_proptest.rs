//! A property test of the ledger: random sequences of credits, payment
//! requests, confirms, declines, refunds, expiries and retries of all of them
//! (replayed idempotency keys, second confirms). After every step the ledger
//! check passes and the money in the system has changed only by credits; a
//! retry never moves money. On SQLite and PostgreSQL.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use qun_host::limits::PaymentConfig;
use qun_host::store::ledger::{AdminCredit, PaymentProvider, user_account};
use qun_host::store::{Decision, PaymentError, PaymentRecord, PaymentState, Role};
use qun_host::{Store, store::new_id, store::now_ms};
use qun_tests::{Backend, TestDb, unique};

const CASES: u32 = 24;

/// What the cases did, to show the property saw real work.
#[derive(Default)]
struct Counters {
    steps: AtomicUsize,
    settled: AtomicUsize,
    refunds: AtomicUsize,
}

#[derive(Debug, Clone)]
enum Op {
    Credit {
        user: usize,
        amount: i64,
    },
    Request {
        payer: usize,
        amount: i64,
    },
    Confirm {
        payment: usize,
        by: Option<usize>,
        key: Option<u8>,
    },
    Decline {
        payment: usize,
        by: usize,
    },
    Refund {
        payment: usize,
        amount: i64,
        key: u8,
    },
    Expire {
        payment: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..4usize, 1..8_000i64).prop_map(|(user, amount)| Op::Credit { user, amount }),
        5 => (0..4usize, 1..3_000i64).prop_map(|(payer, amount)| Op::Request { payer, amount }),
        8 => (0..8usize, proptest::option::weighted(0.25, 0..4usize), proptest::option::of(0..3u8))
            .prop_map(|(payment, by, key)| Op::Confirm { payment, by, key }),
        1 => (0..8usize, 0..4usize).prop_map(|(payment, by)| Op::Decline { payment, by }),
        5 => (0..8usize, 1..1_500i64, 0..3u8)
            .prop_map(|(payment, amount, key)| Op::Refund { payment, amount, key }),
        // Rare: the sweep expires every overdue request of the case at once.
        1 => (0..8usize).prop_map(|payment| Op::Expire { payment }),
    ]
}

/// One case's cast: an owner and three members (index 0 is the owner), a
/// developer, an installation.
struct Cast {
    users: Vec<String>,
    developer: String,
    group: String,
    installation: String,
    app: String,
}

async fn cast(store: &Store) -> Cast {
    let mut users = Vec::new();
    for name in ["owner", "m1", "m2", "m3"] {
        users.push(
            store
                .create_user(&unique(name), &unique("tok"), false, false)
                .await
                .expect("user")
                .id,
        );
    }
    let developer = store
        .create_user(&unique("dev"), &unique("tok"), false, true)
        .await
        .expect("dev")
        .id;
    let group = store
        .create_group(&unique("g"), &users[0])
        .await
        .expect("group")
        .id;
    for user in &users[1..] {
        store
            .add_member(&group, user, Role::Member)
            .await
            .expect("member");
    }
    let app = unique("app");
    store
        .create_app(&app, "App", "", &developer)
        .await
        .expect("app");
    let installation = store
        .install(&group, &app, "0.1.0", &["payments".to_string()], &users[0])
        .await
        .expect("install")
        .id;
    Cast {
        users,
        developer,
        group,
        installation,
        app,
    }
}

async fn balances(store: &Store, cast: &Cast) -> BTreeMap<String, i64> {
    let mut out = BTreeMap::new();
    for user in cast.users.iter().chain([&cast.developer]) {
        out.insert(
            user.clone(),
            store
                .account_balance(&user_account(user, "CNY"))
                .await
                .expect("balance"),
        );
    }
    out
}

async fn run_case(store: &Store, counters: &Counters, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let config = PaymentConfig {
        platform_fee_bps: 333,
        developer_share_bps: 777,
        ..PaymentConfig::default()
    };
    let cast = cast(store).await;
    let start = store.money_in_system("CNY").await.expect("total");
    let mut credited = 0i64;
    // Everyone starts with some money, so most confirms can succeed.
    for user in &cast.users {
        AdminCredit
            .credit(store, user, 3_000, "CNY", "start")
            .await
            .expect("credit");
        credited += 3_000;
    }
    let mut payments: Vec<String> = Vec::new();
    for (step, op) in ops.into_iter().enumerate() {
        counters.steps.fetch_add(1, Ordering::Relaxed);
        let before = balances(store, &cast).await;
        let mut must_not_move = false;
        match op.clone() {
            Op::Credit { user, amount } => {
                AdminCredit
                    .credit(store, &cast.users[user], amount, "CNY", "test")
                    .await
                    .expect("credit");
                credited += amount;
            }
            Op::Request { payer, amount } => {
                let now = now_ms();
                let record = PaymentRecord {
                    id: new_id("pay"),
                    installation_id: cast.installation.clone(),
                    group_id: cast.group.clone(),
                    app: cast.app.clone(),
                    payer: cast.users[payer].clone(),
                    amount,
                    currency: "CNY".into(),
                    memo: format!("step {step}"),
                    idempotency_key: unique("key"),
                    status: PaymentState::Pending,
                    refunded: 0,
                    owner: None,
                    developer: None,
                    fee: 0,
                    share: 0,
                    created_at: now,
                    expires_at: now + 3_600_000,
                    decided_at: None,
                };
                let mut tx = store.begin_write().await.expect("tx");
                tx.insert_payment(&record).await.expect("insert");
                tx.commit().await.expect("commit");
                payments.push(record.id);
            }
            Op::Confirm { payment, by, key } => {
                let Some(id) = payments.get(payment % payments.len().max(1)) else {
                    continue;
                };
                let current = store.payment(id).await.expect("read").expect("row");
                // Mostly the payer; sometimes somebody else, who must not see it.
                let by = by.map_or(current.payer.clone(), |i| cast.users[i].clone());
                must_not_move = current.status != PaymentState::Pending || by != current.payer;
                let key = key.map(|k| format!("{id}-{k}"));
                let result = store
                    .decide_payment(id, &by, Decision::Confirm, &config, key.as_deref())
                    .await;
                match result {
                    Ok(decided) => {
                        if decided.decided.is_some() {
                            counters.settled.fetch_add(1, Ordering::Relaxed);
                        }
                        if decided.decided.is_none() {
                            must_not_move = true; // a replay
                        }
                    }
                    Err(PaymentError::InsufficientFunds { .. }) => must_not_move = true,
                    Err(PaymentError::NotFound | PaymentError::NotPending(_)) => {
                        prop_assert!(must_not_move, "refused a pending confirm by its payer")
                    }
                    Err(PaymentError::KeyReused(_)) => must_not_move = true,
                    Err(e) => return Err(TestCaseError::fail(format!("confirm: {e}"))),
                }
            }
            Op::Decline { payment, by } => {
                let Some(id) = payments.get(payment % payments.len().max(1)) else {
                    continue;
                };
                must_not_move = true;
                let _ = store
                    .decide_payment(id, &cast.users[by], Decision::Decline, &config, None)
                    .await;
            }
            Op::Refund {
                payment,
                amount,
                key,
            } => {
                let Some(id) = payments.get(payment % payments.len().max(1)) else {
                    continue;
                };
                let current = store.payment(id).await.expect("read").expect("row");
                match store
                    .refund_payment(id, amount, &format!("r{key}"), "user:test")
                    .await
                {
                    Ok((after, fresh)) => {
                        prop_assert!(after.refunded <= after.amount);
                        if fresh {
                            counters.refunds.fetch_add(1, Ordering::Relaxed);
                            prop_assert_eq!(after.refunded, current.refunded + amount);
                        } else {
                            must_not_move = true;
                            prop_assert_eq!(after.refunded, current.refunded);
                        }
                    }
                    Err(PaymentError::RefundTooLarge { refundable }) => {
                        must_not_move = true;
                        prop_assert_eq!(refundable, current.amount - current.refunded);
                        prop_assert!(amount > refundable);
                    }
                    Err(
                        PaymentError::NotSettled(_)
                        | PaymentError::KeyReused(_)
                        | PaymentError::InsufficientFunds { .. },
                    ) => must_not_move = true,
                    Err(e) => return Err(TestCaseError::fail(format!("refund: {e}"))),
                }
            }
            Op::Expire { payment } => {
                let Some(id) = payments.get(payment % payments.len().max(1)) else {
                    continue;
                };
                must_not_move = true;
                // Make it overdue, then let the sweep find it.
                let current = store.payment(id).await.expect("read").expect("row");
                if current.status == PaymentState::Pending {
                    store
                        .expire_payments(current.expires_at, 1_000)
                        .await
                        .expect("expire");
                }
            }
        }
        let report = store.ledger_check().await.expect("check");
        prop_assert!(report.ok, "after {op:?}: {:?}", report.differences());
        let total = store.money_in_system("CNY").await.expect("total");
        prop_assert_eq!(
            total - start,
            credited,
            "money changed other than by credits"
        );
        if must_not_move {
            prop_assert_eq!(
                &balances(store, &cast).await,
                &before,
                "{:?} moved money",
                op
            );
        }
    }
    for id in &payments {
        let p = store.payment(id).await.expect("read").expect("row");
        prop_assert!(p.refunded <= p.amount);
        if p.status != PaymentState::Settled {
            prop_assert_eq!(p.refunded, 0);
        }
    }
    Ok(())
}

fn run(backend: Backend) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let Some(db) = rt.block_on(TestDb::new(backend)) else {
        return;
    };
    let counters = Counters::default();
    let mut runner = TestRunner::new(Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&proptest::collection::vec(op(), 1..30), |ops| {
        rt.block_on(run_case(&db.store, &counters, ops))
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let load = |n: &AtomicUsize| n.load(Ordering::Relaxed);
    let (steps, settled, refunds) = (
        load(&counters.steps),
        load(&counters.settled),
        load(&counters.refunds),
    );
    eprintln!("{backend:?}: {CASES} cases, {steps} steps, {settled} settled, {refunds} refunds");
    assert!(
        settled > 0 && refunds > 0,
        "the cases never settled or refunded"
    );
}

#[test]
fn sqlite_ledger_holds_under_random_operations() {
    run(Backend::Sqlite);
}

#[test]
fn postgres_ledger_holds_under_random_operations() {
    run(Backend::Postgres);
}
