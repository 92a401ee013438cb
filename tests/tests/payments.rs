//! Payments as the app, the payer, the group owner and the platform admin see
//! them: requests through the real probe component, consent, money moving
//! with fee and share, refunds, idempotency, concurrency, the ledger check.

mod server_common;

use std::time::Duration;

use axum::http::{Method, StatusCode};
use qun_host::store::ledger::{platform_account, user_account};
use qun_host::store::{PaymentState, User};
use qun_host::{AppState, Limits};
use qun_tests::{Backend, World, app_error, backend_tests, unique};
use serde_json::{Value, json};
use server_common::{call, code, router_over};

backend_tests!(
    same_key_twice_is_one_request_and_other_parameters_conflict,
    concurrent_requests_with_one_key_make_one_request,
    without_the_grant_payments_are_denied_audited_and_nothing_exists,
    a_non_member_cannot_be_asked_to_pay,
    amounts_must_be_positive_within_the_maximum_in_a_real_currency,
    confirming_moves_the_money_with_fee_and_share_and_tells_the_app,
    twenty_concurrent_confirms_debit_once,
    twenty_concurrent_confirms_with_one_idempotency_key_answer_alike,
    insufficient_funds_is_an_error_and_nothing_moves,
    only_the_payer_sees_confirms_or_declines,
    declining_and_expiring_tell_the_app_and_move_nothing,
    partial_refunds_never_exceed_the_payment_and_reverse_the_shares,
    an_app_refunds_its_own_payments_only,
    an_app_reads_only_its_own_payments,
    wallet_and_ledger_routes_are_for_their_owners,
);

/// A group with the probe installed, a router over the same store, tokens.
struct Setup {
    w: World,
    state: AppState,
    app: axum::Router,
    gid: String,
    inst: String,
    owner: (User, String),
    members: Vec<(User, String)>,
    admin: String,
    /// Delivers outcome events while the test runs.
    _delivery: qun_host::runtime::DeliveryLoop,
}

async fn user_with_token(w: &World, name: &str, admin: bool) -> (User, String) {
    let token = unique("tok");
    let user = w
        .store()
        .create_user(&unique(name), &token, admin, false)
        .await
        .expect("user");
    (user, token)
}

async fn setup(backend: Backend, limits: Limits, grants: &[&str]) -> Option<Setup> {
    let w = World::with_limits(backend, limits.clone()).await?;
    let owner = user_with_token(&w, "owner", false).await;
    let group = w
        .store()
        .create_group(&unique("group"), &owner.0.id)
        .await
        .expect("group");
    let mut members = Vec::new();
    for i in 0..3 {
        let m = user_with_token(&w, &format!("member{i}"), false).await;
        w.store()
            .add_member(&group.id, &m.0.id, qun_host::store::Role::Member)
            .await
            .expect("member");
        members.push(m);
    }
    let (_, admin) = user_with_token(&w, "admin", true).await;
    let inst = w.install(qun_components::PROBE, &group.id, grants).await;
    let runtime = qun_host::Runtime::new(
        w.store().clone(),
        qun_host::RuntimeConfig {
            limits,
            cache_dir: Some(qun_tests::cache_dir()),
        },
    )
    .expect("runtime");
    let delivery = runtime.spawn_delivery_loop(qun_host::runtime::DeliveryConfig {
        poll: Duration::from_millis(50),
        ..Default::default()
    });
    let state = AppState::new(runtime, qun_host::http::HttpConfig::default());
    let app = qun_host::app(state.clone());
    Some(Setup {
        w,
        state,
        app,
        gid: group.id,
        inst,
        owner,
        members,
        admin,
        _delivery: delivery,
    })
}

const ALL: &[&str] = &["payments", "storage", "membership"];

impl Setup {
    /// The probe asks `payer` to pay.
    async fn pay(
        &self,
        payer: &str,
        amount: u64,
        key: &str,
    ) -> Result<Value, qun_host::InvokeError> {
        self.w
            .action(
                &self.inst,
                &self.owner.0.id,
                "pay",
                json!({"payer": payer, "amount": amount, "currency": "CNY", "memo": "ticket", "key": key}),
            )
            .await
    }

    async fn credit(&self, user: &str, amount: i64) {
        let (status, body) = call(
            &self.app,
            Method::POST,
            &format!("/v1/admin/wallets/{user}/credit"),
            Some(&self.admin),
            server_common::json(json!({"amount": amount, "currency": "CNY"})),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    async fn balance(&self, user: &str) -> i64 {
        self.w
            .store()
            .account_balance(&user_account(user, "CNY"))
            .await
            .expect("balance")
    }

    async fn decide(&self, token: &str, id: &str, what: &str) -> (StatusCode, Value) {
        call(
            &self.app,
            Method::POST,
            &format!("/v1/payments/{id}/{what}"),
            Some(token),
            None,
        )
        .await
    }

    async fn assert_ledger_ok(&self) {
        let report = self.w.store().ledger_check().await.expect("check");
        assert!(report.ok, "{:?}", report.differences());
        let (status, body) = call(
            &self.app,
            Method::GET,
            "/v1/admin/ledger/check",
            Some(&self.admin),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["ok"], json!(true), "{body}");
    }

    /// The event of `kind` about `payment` the probe recorded, waiting for
    /// the outbox to deliver it (generous bound, not a timing assertion).
    async fn event(&self, payment: &str, kind: &str) -> Value {
        for _ in 0..1200 {
            let got = self
                .w
                .action(
                    &self.inst,
                    &self.owner.0.id,
                    "list",
                    json!({"prefix": "event/", "limit": 1000}),
                )
                .await
                .expect("list");
            let found: Vec<Value> = got["entries"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|e| e[1].as_str())
                .filter_map(|text| serde_json::from_str::<Value>(text).ok())
                .filter(|e| e["kind"] == json!(kind) && e["payment"]["id"] == json!(payment))
                .collect();
            if let Some(event) = found.first() {
                assert_eq!(found.len(), 1, "heard once: {found:?}");
                return event.clone();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the app never heard {kind} for {payment}");
    }

    async fn payment_rows(&self) -> usize {
        self.w
            .store()
            .payments_of_group(&self.gid, None, 1000)
            .await
            .expect("payments")
            .len()
    }
}

async fn same_key_twice_is_one_request_and_other_parameters_conflict(backend: Backend) {
    let Some(s) = setup(backend, Limits::default(), ALL).await else {
        return;
    };
    let payer = s.members[0].0.id.clone();
    let first = s.pay(&payer, 500, "k1").await.expect("first");
    assert_eq!(first["status"], json!("pending"));
    assert_eq!(first["amount"], json!(500));
    let again = s.pay(&payer, 500, "k1").await.expect("again");
    assert_eq!(again["id"], first["id"], "same key, same request");
    assert_eq!(s.payment_rows().await, 1);

    let err = s.pay(&payer, 600, "k1").await.expect_err("other amount");
    assert_eq!(app_error(&err).map(|e| e.0), Some("conflict"));
    let err = s
        .pay(&s.members[1].0.id, 500, "k1")
        .await
        .expect_err("other payer");
    assert_eq!(app_error(&err).map(|e| e.0), Some("conflict"));
    assert_eq!(s.payment_rows().await, 1);

    // The payer sees exactly one pending request.
    let (status, body) = call(
        &s.app,
        Method::GET,
        "/v1/me/payments?status=pending",
        Some(&s.members[0].1),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["payments"].as_array().map(Vec::len), Some(1), "{body}");
    assert_eq!(body["payments"][0]["id"], first["id"]);
    assert_eq!(body["payments"][0]["memo"], json!("ticket"));
}

async fn concurrent_requests_with_one_key_make_one_request(backend: Backend) {
    let Some(s) = setup(backend, Limits::default(), ALL).await else {
        return;
    };
    let s = std::sync::Arc::new(s);
    let payer = s.members[0].0.id.clone();
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let (s, payer) = (s.clone(), payer.clone());
        tasks.push(tokio::spawn(
            async move { s.pay(&payer, 900, "once").await },
        ));
    }
    let mut ids = std::collections::BTreeSet::new();
    for task in tasks {
        let answer = task.await.expect("task").expect("every request answers");
        ids.insert(answer["id"].as_str().expect("id").to_string());
    }
    assert_eq!(ids.len(), 1, "one request for one key: {ids:?}");
    assert_eq!(s.payment_rows().await, 1);

    // The same key with different amounts at once: one wins, the rest conflict.
    let mut tasks = Vec::new();
    for amount in 1..=6u64 {
        let (s, payer) = (s.clone(), payer.clone());
        tasks.push(tokio::spawn(
            async move { s.pay(&payer, amount, "race").await },
        ));
    }
    let mut won = 0;
    for task in tasks {
        match task.await.expect("task") {
            Ok(_) => won += 1,
            Err(e) => assert_eq!(app_error(&e).map(|e| e.0), Some("conflict"), "{e}"),
        }
    }
    assert_eq!(won, 1);
    assert_eq!(s.payment_rows().await, 2);
}

async fn without_the_grant_payments_are_denied_audited_and_nothing_exists(backend: Backend) {
    let Some(s) = setup(backend, Limits::default(), &["storage"]).await else {
        return;
    };
    let err = s
        .pay(&s.members[0].0.id, 500, "k1")
        .await
        .expect_err("not granted");
    let (code, message) = app_error(&err).expect("app error");
    assert_eq!(code, "denied");
    assert!(message.contains("`payments`"), "{message}");
    assert_eq!(s.payment_rows().await, 0);
    let audit = s.w.store().audit_of(&s.inst).await.expect("audit");
    assert!(
        audit
            .iter()
            .any(|r| r.action == "payments.request" && r.outcome == "denied"),
        "{audit:?}"
    );
}

async fn a_non_member_cannot_be_asked_to_pay(backend: Backend) {
    let Some(s) = setup(backend, Limits::default(), ALL).await else {
        return;
    };
    let (outsider, _) = user_with_token(&s.w, "outsider", false).await;
    // A member of another group is an outsider here too.
    let (_, other_owner, _) = s.w.group(0).await;
    for payer in [outsider.id.as_str(), other_owner.id.as_str(), "u_nobody"] {
        let err = s.pay(payer, 500, &unique("k")).await.expect_err("outsider");
        assert_eq!(app_error(&err).map(|e| e.0), Some("not-found"), "{err}");
    }
    assert_eq!(s.payment_rows().await, 0);
}

async fn amounts_must_be_positive_within_the_maximum_in_a_real_currency(backend: Backend) {
    let mut limits = Limits::default();
    limits.payments.max_amount = 10_000;
    let Some(s) = setup(backend, limits, ALL).await else {
        return;
    };
    let payer = s.members[0].0.id.clone();
    for amount in [0, 10_001, u64::MAX] {
        let err = s
            .pay(&payer, amount, &unique("k"))
            .await
            .expect_err("amount");
        assert_eq!(app_error(&err).map(|e| e.0), Some("invalid"), "{amount}");
    }
    let err =
        s.w.action(
            &s.inst,
            &s.owner.0.id,
            "pay",
            json!({"payer": payer, "amount": 5, "currency": "yuan", "memo": "", "key": "c"}),
        )
        .await
        .expect_err("currency");
    assert_eq!(app_error(&err).map(|e| e.0), Some("invalid"));
    s.pay(&payer, 10_000, "max")
        .await
        .expect("the maximum is allowed");
    assert_eq!(s.payment_rows().await, 1);
}

async fn confirming_moves_the_money_with_fee_and_share_and_tells_the_app(backend: Backend) {
    let mut limits = Limits::default();
    limits.payments.platform_fee_bps = 300;
    limits.payments.developer_share_bps = 1_000;
    let Some(s) = setup(backend, limits, ALL).await else {
        return;
    };
    let (payer, token) = s.members[0].clone();
    s.credit(&payer.id, 5_000).await;
    // 999: fee 29.97 → 29, share 99.9 → 99, the owner gets the other 871.
    let p = s.pay(&payer.id, 999, "k").await.expect("pay");
    let id = p["id"].as_str().expect("id").to_string();
    let (status, body) = s.decide(&token, &id, "confirm").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], json!("settled"));
    assert_eq!(body["fee"], json!(29));
    assert_eq!(body["share"], json!(99));
    assert_eq!(s.balance(&payer.id).await, 5_000 - 999);
    assert_eq!(s.balance(&s.owner.0.id).await, 871);
    assert_eq!(s.balance(&s.w.developer.id).await, 99);
    let fee =
        s.w.store()
            .account_balance(&platform_account("CNY"))
            .await
            .expect("fee");
    assert_eq!(fee, 29);
    assert_eq!(
        s.w.store().money_in_system("CNY").await.expect("total"),
        5_000
    );
    s.assert_ledger_ok().await;

    let (status, wallet) = call(&s.app, Method::GET, "/v1/me/wallet", Some(&token), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        wallet["balances"],
        json!([{"currency": "CNY", "balance": 4_001}])
    );
    let event = s.event(&id, "payment-settled").await;
    assert_eq!(event["kind"], json!("payment-settled"));
    assert_eq!(event["payment"]["status"], json!("settled"));
    assert_eq!(event["payment"]["id"], json!(id));
    // The app's status call agrees.
    let status =
        s.w.action(&s.inst, &s.owner.0.id, "payment", json!({"id": id}))
            .await
            .expect("status");
    assert_eq!(status["status"], json!("settled"));
}

async fn twenty_concurrent_confirms_debit_once(backend: Backend) {
    let Some(s) = setup(backend, Limits::default(), ALL).await else {
        return;
    };
    let (payer, token) = s.members[0].clone();
    s.credit(&payer.id, 10_000).await;
    let p = s.pay(&payer.id, 700, "k").await.expect("pay");
    let id = p["id"].as_str().expect("id").to_string();
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (app, token, id) = (s.app.clone(), token.clone(), id.clone());
        tasks.push(tokio::spawn(async move {
            call(
                &app,
                Method::POST,
                &format!("/v1/payments/{id}/confirm"),
                Some(&token),
                None,
            )
            .await
        }));
    }
    let mut ok = 0;
    for task in tasks {
        let (status, body) = task.await.expect("task");
        match status {
            StatusCode::OK => ok += 1,
            StatusCode::CONFLICT => assert_eq!(code(&body), "not_pending", "{body}"),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(ok, 1, "exactly one confirm succeeds");
    assert_eq!(s.balance(&payer.id).await, 10_000 - 700, "debited once");
    s.assert_ledger_ok().await;
    // The payer's decision is in the audit trail, once.
    let (_, trail) = call(
        &s.app,
        Method::GET,
        "/v1/admin/audit?limit=500",
        Some(&s.admin),
        None,
    )
    .await;
    let confirms: Vec<&Value> = trail["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["action"] == "payment.confirm")
        .collect();
    assert_eq!(confirms.len(), 1, "{trail}");
    assert_eq!(confirms[0]["actor"], json!(payer.id));
    assert_eq!(confirms[0]["group_id"], json!(s.gid));
    assert!(
        trail["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .any(|e| e["action"] == "wallet.credit")
    );
}

async fn twenty_concurrent_confirms_with_one_idempotency_key_answer_alike(backend: Backend) {
    let Some(s) = setup(backend, Limits::default(), ALL).await else {
        return;
    };
    let (payer, token) = s.members[0].clone();
    s.credit(&payer.id, 10_000).await;
    let p = s.pay(&payer.id, 700, "k").await.expect("pay");
    let id = p["id"].as_str().expect("id").to_string();
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (app, token, id) = (s.app.clone(), token.clone(), id.clone());
        tasks.push(tokio::spawn(async move {
            use tower::ServiceExt;
            let request = axum::http::Request::post(format!("/v1/payments/{id}/confirm"))
                .header("authorization", format!("Bearer {token}"))
                .header("idempotency-key", "pay-once")
                .body(axum::body::Body::empty())
                .expect("request");
            let response = app.oneshot(request).await.expect("response");
            let status = response.status();
            let bytes = http_body_util::BodyExt::collect(response.into_body())
                .await
                .expect("body")
                .to_bytes();
            (status, bytes)
        }));
    }
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.expect("task"));
    }
    let first = answers[0].clone();
    assert_eq!(first.0, StatusCode::OK);
    assert!(
        answers.iter().all(|a| *a == first),
        "every replay answers the first result"
    );
    assert_eq!(s.balance(&payer.id).await, 10_000 - 700);
    // The key cannot be reused for another request.
    let (status, body) = {
        use tower::ServiceExt;
        let request = axum::http::Request::post(format!("/v1/payments/{id}/decline"))
            .header("authorization", format!("Bearer {token}"))
            .header("idempotency-key", "pay-once")
            .body(axum::body::Body::empty())
            .expect("request");
        let response = s.app.clone().oneshot(request).await.expect("response");
        let status = response.status();
        let bytes = http_body_util::BodyExt::collect(response.into_body())
            .await
            .expect("body")
            .to_bytes();
        (
            status,
            serde_json::from_slice::<Value>(&bytes).expect("json"),
        )
    };
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(code(&body), "idempotency_key_reused");
    s.assert_ledger_ok().await;
}

async fn insufficient_funds_is_an_error_and_nothing_moves(backend: Backend) {
    let Some(s) = setup(backend, Limits::default(), ALL).await else {
        return;
    };
    let (payer, token) = s.members[0].clone();
    s.credit(&payer.id, 300).await;
    let p = s.pay(&payer.id, 301, "k").await.expect("pay");
    let id = p["id"].as_str().expect("id").to_string();
    let (status, body) = s.decide(&token, &id, "confirm").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(code(&body), "insufficient_funds");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("300") && m.contains("301")),
        "{body}"
    );
    assert_eq!(s.balance(&payer.id).await, 300);
    assert_eq!(s.balance(&s.owner.0.id).await, 0);
    let still = s.w.store().payment(&id).await.expect("read").expect("row");
    assert_eq!(still.status, PaymentState::Pending);
    s.assert_ledger_ok().await;
    // After a top-up the same request can be paid.
    s.credit(&payer.id, 1).await;
    let (status, _) = s.decide(&token, &id, "confirm").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(s.balance(&payer.id).await, 0);
    s.assert_ledger_ok().await;
}

async fn only_the_payer_sees_confirms_or_declines(backend: Backend) {
    let Some(s) = setup(backend, Limits::default(), ALL).await else {
        return;
    };
    let (payer, token) = s.members[0].clone();
    s.credit(&payer.id, 1_000).await;
    let p = s.pay(&payer.id, 100, "k").await.expect("pay");
    let id = p["id"].as_str().expect("id").to_string();
    let (outsider, outsider_token) = user_with_token(&s.w, "outsider", false).await;
    let _ = outsider;
    for other in [&s.owner.1, &s.members[1].1, &outsider_token, &s.admin] {
        for what in ["confirm", "decline"] {
            let (status, body) = s.decide(other, &id, what).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{what}: {body}");
            assert_eq!(code(&body), "payment_not_found");
        }
        let (_, list) = call(&s.app, Method::GET, "/v1/me/payments", Some(other), None).await;
        assert_eq!(list["payments"], json!([]));
    }
    let (status, _) = call(
        &s.app,
        Method::POST,
        &format!("/v1/payments/{id}/confirm"),
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = s.decide(&token, "pay_nothing", "confirm").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, body) = call(
        &s.app,
        Method::GET,
        "/v1/me/payments?status=lost",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(code(&body), "invalid_status");
    assert_eq!(s.balance(&payer.id).await, 1_000, "nobody else moved money");
    // Once decided it stays decided.
    let (status, body) = s.decide(&token, &id, "decline").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], json!("declined"));
    let event = s.event(&id, "payment-failed").await;
    assert_eq!(event["reason"], json!("declined"));
    assert_eq!(event["payment"]["status"], json!("declined"));
    let (status, body) = s.decide(&token, &id, "confirm").await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(code(&body), "not_pending");
    assert_eq!(s.balance(&payer.id).await, 1_000);
}

async fn declining_and_expiring_tell_the_app_and_move_nothing(backend: Backend) {
    let mut limits = Limits::default();
    limits.payments.expiry_ms = 1;
    let Some(s) = setup(backend, limits, ALL).await else {
        return;
    };
    let (payer, token) = s.members[0].clone();
    s.credit(&payer.id, 1_000).await;
    // Expiry: nobody answers; the sweep marks it expired and tells the app.
    let expiring = s.pay(&payer.id, 100, "late").await.expect("pay");
    let expiring = expiring["id"].as_str().expect("id").to_string();
    let sweep = qun_host::http::spawn_payment_expiry(s.state.clone(), Duration::from_millis(50));
    let event = s.event(&expiring, "payment-failed").await;
    sweep.abort();
    assert_eq!(event["kind"], json!("payment-failed"));
    assert_eq!(event["reason"], json!("expired"));
    assert_eq!(event["payment"]["status"], json!("expired"));
    let (status, body) = s.decide(&token, &expiring, "confirm").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");

    // A request confirmed after its time (before the sweep ran) is refused as expired.
    let late = s.pay(&payer.id, 100, "later").await.expect("pay");
    let late = late["id"].as_str().expect("id").to_string();
    tokio::time::sleep(Duration::from_millis(5)).await;
    let (status, body) = s.decide(&token, &late, "confirm").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(code(&body), "expired");
    assert_eq!(s.balance(&payer.id).await, 1_000);
    let event = s.event(&late, "payment-failed").await;
    assert_eq!(event["reason"], json!("expired"));
    s.assert_ledger_ok().await;
}

async fn partial_refunds_never_exceed_the_payment_and_reverse_the_shares(backend: Backend) {
    let mut limits = Limits::default();
    limits.payments.platform_fee_bps = 300;
    limits.payments.developer_share_bps = 1_000;
    let Some(s) = setup(backend, limits, ALL).await else {
        return;
    };
    let (payer, token) = s.members[0].clone();
    s.credit(&payer.id, 10_000).await;
    let p = s.pay(&payer.id, 1_000, "k").await.expect("pay");
    let id = p["id"].as_str().expect("id").to_string();
    assert_eq!(s.decide(&token, &id, "confirm").await.0, StatusCode::OK);
    s.assert_ledger_ok().await;
    // fee 30, share 100, owner 870.
    let refund = |amount: i64, key: &str, token: String| {
        let (app, gid, id, key) = (s.app.clone(), s.gid.clone(), id.clone(), key.to_string());
        async move {
            call(
                &app,
                Method::POST,
                &format!("/v1/groups/{gid}/payments/{id}/refund"),
                Some(&token),
                server_common::json(json!({"amount": amount, "idempotency_key": key})),
            )
            .await
        }
    };
    let (status, body) = refund(600, "r1", s.owner.1.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["refunded"], json!(600));
    // 600 of 1000: fee 18 and share 60 go back, the owner gives 522.
    assert_eq!(s.balance(&payer.id).await, 10_000 - 1_000 + 600);
    assert_eq!(s.balance(&s.owner.0.id).await, 870 - 522);
    assert_eq!(s.balance(&s.w.developer.id).await, 100 - 60);
    s.assert_ledger_ok().await;

    // The same key again refunds nothing more.
    let (status, body) = refund(600, "r1", s.owner.1.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["refunded"], json!(600));
    let (status, body) = refund(500, "r1", s.owner.1.clone()).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(code(&body), "idempotency_key_reused");

    // Together more than the payment: refused, nothing moves.
    let (status, body) = refund(600, "r2", s.owner.1.clone()).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(code(&body), "refund_exceeds_payment");
    assert_eq!(s.balance(&payer.id).await, 9_600);
    s.assert_ledger_ok().await;

    // Only the owner may refund; outsiders do not see the payment at all.
    let (status, _) = refund(100, "r3", s.members[1].1.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, outsider) = user_with_token(&s.w, "outsider", false).await;
    let (status, _) = refund(100, "r3", outsider).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The rest, exactly: every share is back where it came from.
    let (status, body) = refund(400, "r4", s.owner.1.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["refunded"], json!(1_000));
    assert_eq!(s.balance(&payer.id).await, 10_000);
    assert_eq!(s.balance(&s.owner.0.id).await, 0);
    assert_eq!(s.balance(&s.w.developer.id).await, 0);
    let fee =
        s.w.store()
            .account_balance(&platform_account("CNY"))
            .await
            .expect("fee");
    assert_eq!(fee, 0);
    s.assert_ledger_ok().await;

    // Owners and admins list the group's payments; members may not.
    let path = format!("/v1/groups/{}/payments", s.gid);
    let (status, body) = call(&s.app, Method::GET, &path, Some(&s.owner.1), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["payments"][0]["refunded"], json!(1_000));
    let (_, settled) = call(
        &s.app,
        Method::GET,
        &format!("{path}?status=settled"),
        Some(&s.owner.1),
        None,
    )
    .await;
    assert_eq!(
        settled["payments"].as_array().map(Vec::len),
        Some(1),
        "{settled}"
    );
    let (_, pending) = call(
        &s.app,
        Method::GET,
        &format!("{path}?status=pending"),
        Some(&s.owner.1),
        None,
    )
    .await;
    assert_eq!(pending["payments"], json!([]));
    let (status, _) = call(&s.app, Method::GET, &path, Some(&token), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

async fn an_app_refunds_its_own_payments_only(backend: Backend) {
    let Some(s) = setup(backend, Limits::default(), ALL).await else {
        return;
    };
    let (payer, token) = s.members[0].clone();
    s.credit(&payer.id, 10_000).await;
    let p = s.pay(&payer.id, 1_000, "k").await.expect("pay");
    let id = p["id"].as_str().expect("id").to_string();
    let refund = |amount: u64, key: &str| {
        s.w.action(
            &s.inst,
            &s.owner.0.id,
            "refund",
            json!({"id": id, "amount": amount, "key": key}),
        )
    };
    let err = refund(100, "early").await.expect_err("pending");
    assert_eq!(app_error(&err).map(|e| e.0), Some("invalid"));
    assert_eq!(s.decide(&token, &id, "confirm").await.0, StatusCode::OK);
    let done = refund(250, "r1").await.expect("refund");
    assert_eq!(done["refunded"], json!(250));
    let again = refund(250, "r1").await.expect("replay");
    assert_eq!(again["refunded"], json!(250));
    let err = refund(300, "r1").await.expect_err("key reused");
    assert_eq!(app_error(&err).map(|e| e.0), Some("conflict"));
    let err = refund(751, "r2").await.expect_err("too much");
    assert_eq!(app_error(&err).map(|e| e.0), Some("invalid"));
    assert_eq!(s.balance(&payer.id).await, 10_000 - 1_000 + 250);
    s.assert_ledger_ok().await;

    // The same app in another group cannot touch it.
    let (other_gid, other_owner, _) = s.w.group(0).await;
    let other = s.w.install(qun_components::PROBE, &other_gid, ALL).await;
    let err =
        s.w.action(
            &other,
            &other_owner.id,
            "refund",
            json!({"id": id, "amount": 1, "key": "steal"}),
        )
        .await
        .expect_err("not theirs");
    assert_eq!(app_error(&err).map(|e| e.0), Some("not-found"));
    assert_eq!(s.balance(&payer.id).await, 9_250);
}

async fn an_app_reads_only_its_own_payments(backend: Backend) {
    let Some(s) = setup(backend, Limits::default(), ALL).await else {
        return;
    };
    let p = s.pay(&s.members[0].0.id, 100, "k").await.expect("pay");
    let (other_gid, other_owner, _) = s.w.group(0).await;
    let other = s.w.install(qun_components::PROBE, &other_gid, ALL).await;
    let err =
        s.w.action(&other, &other_owner.id, "payment", json!({"id": p["id"]}))
            .await
            .expect_err("another installation's payment");
    assert_eq!(app_error(&err).map(|e| e.0), Some("not-found"));
    let mine =
        s.w.action(&s.inst, &s.owner.0.id, "payment", json!({"id": p["id"]}))
            .await
            .expect("own payment");
    assert_eq!(mine, p);
}

async fn wallet_and_ledger_routes_are_for_their_owners(backend: Backend) {
    let Some(s) = setup(backend, Limits::default(), ALL).await else {
        return;
    };
    let target = s.members[0].0.id.clone();
    let credit = |token: Option<String>, user: String, body: Value| {
        let app = s.app.clone();
        async move {
            call(
                &app,
                Method::POST,
                &format!("/v1/admin/wallets/{user}/credit"),
                token.as_deref(),
                server_common::json(body),
            )
            .await
        }
    };
    let ok = json!({"amount": 100, "currency": "CNY"});
    let (status, _) = credit(None, target.clone(), ok.clone()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = credit(Some(s.owner.1.clone()), target.clone(), ok.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = credit(Some(s.admin.clone()), "u_nobody".into(), ok.clone()).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    for (bad, want) in [
        (json!({"amount": 0, "currency": "CNY"}), "invalid_amount"),
        (json!({"amount": -5, "currency": "CNY"}), "invalid_amount"),
        (json!({"amount": 5, "currency": "cny"}), "invalid_currency"),
    ] {
        let (status, body) = credit(Some(s.admin.clone()), target.clone(), bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(code(&body), want);
    }
    assert_eq!(s.balance(&target).await, 0, "no refused credit moved money");
    let (status, body) = credit(Some(s.admin.clone()), target.clone(), ok).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["balance"], json!(100));
    let (status, _) = call(
        &s.app,
        Method::GET,
        "/v1/admin/ledger/check",
        Some(&s.owner.1),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = call(&s.app, Method::GET, "/v1/me/wallet", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    s.assert_ledger_ok().await;
    let _ = router_over;
}
