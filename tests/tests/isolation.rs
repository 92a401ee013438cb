//! No app can hurt another (issue 10, items 1, 6, 7 and 8): hostile apps
//! built from source try to starve other groups, fill the host's pool, make
//! unbounded bytes, flood members with direct messages, or commit after the
//! owner took a grant back. Each test asserts what a user would notice: the
//! named error, nothing persisted, the other group's call completing, the
//! innocent app still enabled.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use qun_host::store::{InstallationChange, Role};
use qun_host::{AppState, InvokeError, Limits, LoadError, Runtime, RuntimeConfig, Store};
use qun_tests::{Backend, World, backend_tests, unique};
use serde_json::{Value, json};
use tower::ServiceExt;

backend_tests!(
    a_looping_app_in_one_group_does_not_stop_another_group,
    a_crowded_installation_answers_busy_and_others_still_run,
    a_full_pool_is_host_busy_and_never_the_apps_fault,
    a_component_that_cannot_fit_the_pool_is_refused_with_its_numbers,
    a_huge_error_comes_back_cut,
    log_lines_are_bounded_per_invocation,
    log_lines_are_bounded_per_installation_and_minute,
    a_dm_flood_is_refused_with_dm_quota_and_nothing_is_sent,
    direct_messages_are_listed_a_page_at_a_time,
    buffered_effects_are_bounded_and_fail_atomically,
    large_timer_payloads_are_refused,
    a_grant_revoked_before_the_commit_drops_the_effects,
    an_app_disabled_before_the_commit_drops_the_effects,
    an_app_uninstalled_before_the_commit_drops_the_effects,
    a_storage_write_is_dropped_when_its_app_is_stopped_before_the_commit,
    an_app_the_host_can_no_longer_start_is_not_charged_a_fault,
    replay_records_are_bounded_per_app_over_its_groups,
);

async fn a_looping_app_in_one_group_does_not_stop_another_group(backend: Backend) {
    // A deadline of 1 s: the loops run that long, and a loaded test machine
    // does not time out group B's calls (latency is measured by
    // `tests/examples/load_isolation.rs`, not asserted here).
    let limits = Limits {
        deadline: Duration::from_secs(1),
        ..Limits::default()
    };
    let Some(w) = World::with_limits(backend, limits).await else {
        return;
    };
    let (ga, owner_a, _) = w.group(0).await;
    let (gb, owner_b, _) = w.group(0).await;
    let spin = w.install(qun_components::HOSTILE_SPIN, &ga, &[]).await;
    let probe = w.install(qun_components::PROBE, &gb, &["storage"]).await;

    // Four looping invocations in group A, and group B keeps working meanwhile.
    let loops: Vec<_> = (0..4)
        .map(|_| w.action(&spin, &owner_a.id, "spin", json!({})))
        .collect();
    let others = async {
        let mut answers = Vec::new();
        for _ in 0..10 {
            answers.push(
                w.action(&probe, &owner_b.id, "incr", json!({"key": "n"}))
                    .await
                    .map(|v| v["value"].clone()),
            );
        }
        answers
    };
    let (looped, answers) = tokio::join!(futures::future::join_all(loops), others);
    for r in looped {
        assert!(matches!(r, Err(InvokeError::Timeout(_))), "{r:?}");
    }
    for (i, r) in answers.into_iter().enumerate() {
        assert_eq!(r.expect("group B's call completes"), json!(i as i64 + 1));
    }
}

/// Default limits with a deadline long enough for thousands of host calls
/// in a debug build.
fn slow() -> Limits {
    Limits {
        deadline: Duration::from_secs(20),
        ..Limits::default()
    }
}

async fn a_crowded_installation_answers_busy_and_others_still_run(backend: Backend) {
    let limits = Limits {
        installation_concurrency: 1,
        admission_wait: Duration::from_millis(50),
        deadline: Duration::from_secs(5),
        ..Limits::default()
    };
    let Some(w) = World::with_limits(backend, limits).await else {
        return;
    };
    let (gid, owner, _) = w.group(0).await;
    let probe = w.install(qun_components::PROBE, &gid, &["storage"]).await;
    let other = w.install(qun_components::NOOP, &gid, &[]).await;
    let mut reached = w.pause_before_commit();

    let first = w.action(&probe, &owner.id, "set", json!({"key": "k", "value": "v"}));
    let rest = async {
        // The first invocation holds the installation's only turn at its commit.
        let (_, go) = reached.recv().await.expect("first invocation paused");
        w.runtime.set_before_commit(None);
        let second = w
            .action(&probe, &owner.id, "set", json!({"key": "k2", "value": "v"}))
            .await;
        // Another app of the same group still runs.
        let noop = w.action(&other, &owner.id, "noop", json!({})).await;
        let _ = go.send(());
        (second, noop)
    };
    let (first, (second, noop)) = tokio::join!(first, rest);
    first.expect("the first invocation commits");
    let err = second.expect_err("the second waits, then is refused");
    assert!(matches!(err, InvokeError::Busy(_)), "{err:?}");
    assert_eq!(err.code(), "busy");
    assert!(!err.is_fault(), "busy is never the app's fault");
    assert_eq!(
        qun_host::http::ApiError::from(err).status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    noop.expect("the group's other app runs");
    let got = w
        .action(&probe, &owner.id, "get", json!({"key": "k2"}))
        .await
        .expect("get");
    assert_eq!(
        got["value"],
        Value::Null,
        "the refused invocation kept nothing"
    );
}

async fn a_full_pool_is_host_busy_and_never_the_apps_fault(backend: Backend) {
    let limits = Limits {
        concurrent_invocations: 1,
        admission_wait: Duration::from_millis(50),
        deadline: Duration::from_secs(2),
        health_faults: 1,
        ..Limits::default()
    };
    let Some(w) = World::with_limits(backend, limits).await else {
        return;
    };
    let (ga, owner_a, _) = w.group(0).await;
    let (gb, owner_b, _) = w.group(0).await;
    let spin = w.install(qun_components::HOSTILE_SPIN, &ga, &[]).await;
    let probe = w.install(qun_components::PROBE, &gb, &["storage"]).await;

    let looping = w.action(&spin, &owner_a.id, "spin", json!({}));
    let innocent = async {
        // Wait until the looping app holds the pool's only slot.
        while w.runtime.free_pool_slots() > 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let mut errors = Vec::new();
        for _ in 0..3 {
            errors.push(
                w.action(
                    &probe,
                    &owner_b.id,
                    "set",
                    json!({"key": "k", "value": "v"}),
                )
                .await,
            );
        }
        errors
    };
    let (looped, refused) = tokio::join!(looping, innocent);
    assert!(matches!(looped, Err(InvokeError::Timeout(_))), "{looped:?}");
    for r in refused {
        let err = r.expect_err("no room in the pool");
        assert!(matches!(err, InvokeError::HostBusy), "{err:?}");
        assert_eq!(err.code(), "host_busy");
        assert_eq!(
            qun_host::http::ApiError::from(err).status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
    }
    // Three refusals with a health threshold of one: still enabled, and it runs.
    let inst = w
        .store()
        .installation(&probe)
        .await
        .expect("read")
        .expect("installation");
    assert!(inst.enabled, "a full pool is not the app's fault");
    w.action(
        &probe,
        &owner_b.id,
        "set",
        json!({"key": "k", "value": "v"}),
    )
    .await
    .expect("runs once the pool has room");
    // The looping app's own timeout is its fault.
    let spin = w
        .store()
        .installation(&spin)
        .await
        .expect("read")
        .expect("installation");
    assert!(
        !spin.enabled,
        "the looping app is disabled by its own timeout"
    );
}

async fn a_component_that_cannot_fit_the_pool_is_refused_with_its_numbers(backend: Backend) {
    // A quarter of 8 core instances: 2 per component, fewer than any app needs.
    let limits = Limits {
        pool_core_instances: 8,
        ..Limits::default()
    };
    let Some(w) = World::with_limits(backend, limits).await else {
        return;
    };
    let bytes = qun_components::read(qun_components::PROBE);
    let err = w
        .runtime
        .load(&bytes)
        .await
        .err()
        .expect("refused: it cannot fit");
    let LoadError::TooBig { needs, max } = &err else {
        panic!("{err:?}");
    };
    assert!(needs.core_instances > max.core_instances, "{err}");
    assert_eq!(max.core_instances, 2);
    let message = err.to_string();
    assert!(
        message.contains(&format!("{} core instances", needs.core_instances))
            && message.contains("at most 2 core instances"),
        "{message}"
    );
    let api = qun_host::http::ApiError::from(err);
    assert_eq!(
        (api.status(), api.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "component_too_big")
    );
}

async fn a_huge_error_comes_back_cut(backend: Backend) {
    // 20 MiB built and copied out of the sandbox: about bounds, not deadlines.
    let Some(w) = World::with_limits(backend, slow()).await else {
        return;
    };
    let (gid, owner, _) = w.group(0).await;
    let app = w.install(qun_components::HOSTILE_BYTES, &gid, &[]).await;
    let err = w
        .action(&app, &owner.id, "error", json!({"bytes": 20 << 20}))
        .await
        .expect_err("the app refuses");
    let (code, message) = qun_tests::app_error(&err).expect("the app's own error");
    assert_eq!(code, "invalid");
    assert!(
        message.len() < 2_300,
        "cut to about 2 KiB: {}",
        message.len()
    );
    assert!(message.starts_with("eeee"), "{}", &message[..20]);
    assert!(message.contains("20971520 bytes"), "says how big it was");
    // The log row of the failure is bounded too.
    let logs = w.store().logs_of("hostile-bytes", 100).await.expect("logs");
    assert!(!logs.is_empty());
    assert!(
        logs.iter().all(|l| l.message.len() < 4_096),
        "log rows are bounded"
    );
}

async fn log_lines_are_bounded_per_invocation(backend: Backend) {
    // Thousands of host calls: about bounds, not deadlines.
    let Some(w) = World::with_limits(backend, slow()).await else {
        return;
    };
    let (gid, owner, _) = w.group(0).await;
    let app = w.install(qun_components::HOSTILE_BYTES, &gid, &[]).await;
    w.action(
        &app,
        &owner.id,
        "logs",
        json!({"lines": 5000, "bytes": 4000}),
    )
    .await
    .expect("logging never fails");
    let logs = w
        .store()
        .logs_of("hostile-bytes", 10_000)
        .await
        .expect("logs");
    let bytes: usize = logs
        .iter()
        .map(|l| {
            l.message.len()
                + l.fields
                    .iter()
                    .map(|(k, v)| k.len() + v.len())
                    .sum::<usize>()
        })
        .sum();
    assert!(logs.len() <= 101, "{} lines", logs.len());
    assert!(bytes <= (64 << 10) + 1_000, "{bytes} bytes");
    assert!(
        logs.iter().any(|l| l.message.contains("log limit reached")),
        "the developer is told lines were dropped"
    );
}

async fn log_lines_are_bounded_per_installation_and_minute(backend: Backend) {
    // An app writing its 100 lines in every invocation, many times a minute:
    // past the installation's budget its lines stop reaching the database,
    // and its developer is told once.
    let limits = Limits {
        log_lines_per_minute: 150,
        ..slow()
    };
    let Some(w) = World::with_limits(backend, limits).await else {
        return;
    };
    let (gid, owner, _) = w.group(0).await;
    let app = w.install(qun_components::HOSTILE_BYTES, &gid, &[]).await;
    for _ in 0..3 {
        w.action(&app, &owner.id, "logs", json!({"lines": 100, "bytes": 10}))
            .await
            .expect("logging never fails");
    }
    let logs = w
        .store()
        .logs_of("hostile-bytes", 10_000)
        .await
        .expect("logs");
    let own = logs.iter().filter(|l| l.level == "info").count();
    assert_eq!(own, 150, "the budget's lines, no more");
    let told: Vec<_> = logs
        .iter()
        .filter(|l| l.message.contains("log rate limit reached"))
        .collect();
    assert_eq!(told.len(), 1, "said once a minute");
    assert!(
        told[0].message.contains("150 lines a minute"),
        "{}",
        told[0].message
    );
    // Another installation of the same app has its own budget.
    let (other_group, other_owner, _) = w.group(0).await;
    let other = w
        .install(qun_components::HOSTILE_BYTES, &other_group, &[])
        .await;
    w.action(
        &other,
        &other_owner.id,
        "logs",
        json!({"lines": 100, "bytes": 10}),
    )
    .await
    .expect("logging never fails");
    let logs = w
        .store()
        .logs_of("hostile-bytes", 10_000)
        .await
        .expect("logs");
    assert_eq!(logs.iter().filter(|l| l.level == "info").count(), 250);
}

async fn a_dm_flood_is_refused_with_dm_quota_and_nothing_is_sent(backend: Backend) {
    // Thousands of host calls: about bounds, not deadlines.
    let Some(w) = World::with_limits(backend, slow()).await else {
        return;
    };
    let (gid, owner, members) = w.group(1).await;
    let app = w
        .install(qun_components::HOSTILE_BYTES, &gid, &["messaging"])
        .await;
    let to = &members[0].id;
    // The app ignores the errors it is given and answers ok: the invocation
    // fails anyway, and none of its DMs is sent.
    let err = w
        .action(
            &app,
            &owner.id,
            "dms",
            json!({"to": to, "count": 1_000, "bytes": 15_000}),
        )
        .await
        .expect_err("a flood is refused");
    assert!(matches!(err, InvokeError::DmQuota(_)), "{err:?}");
    assert_eq!(err.code(), "dm_quota");
    assert!(
        err.to_string()
            .contains("20 direct messages per minute to one member"),
        "{err}"
    );
    let received = w.store().direct_messages(to).await.expect("dms");
    assert!(received.is_empty(), "nothing was sent: {}", received.len());

    // Within the bound they go out; the next ones in the same minute do not.
    let ok = w
        .action(
            &app,
            &owner.id,
            "dms",
            json!({"to": to, "count": 20, "bytes": 10}),
        )
        .await
        .expect("20 DMs to one member are fine");
    assert_eq!(ok["errors"], 0);
    let err = w
        .action(
            &app,
            &owner.id,
            "dms",
            json!({"to": to, "count": 1, "bytes": 10}),
        )
        .await
        .expect_err("the 21st within a minute is refused");
    assert_eq!(err.code(), "dm_quota");
    assert_eq!(w.store().direct_messages(to).await.expect("dms").len(), 20);
}

async fn direct_messages_are_listed_a_page_at_a_time(backend: Backend) {
    let Some(w) = World::new(backend).await else {
        return;
    };
    let (gid, owner, _) = w.group(0).await;
    let token = unique("token");
    let member = w
        .store()
        .create_user(&unique("reader"), &token, false, false)
        .await
        .expect("user");
    w.store()
        .add_member(&gid, &member.id, Role::Member)
        .await
        .expect("member");
    let app = w
        .install(qun_components::HOSTILE_BYTES, &gid, &["messaging"])
        .await;
    w.action(
        &app,
        &owner.id,
        "dms",
        json!({"to": member.id, "count": 15, "bytes": 10}),
    )
    .await
    .expect("15 DMs");

    let router = qun_host::app(AppState::new(w.runtime.clone(), Default::default()));
    let get = |path: String| {
        let router = router.clone();
        let token = token.clone();
        async move {
            let response = router
                .oneshot(
                    Request::get(path)
                        .header("authorization", format!("Bearer {token}"))
                        .body(Body::empty())
                        .expect("request"),
                )
                .await
                .expect("router answers");
            assert_eq!(response.status(), StatusCode::OK);
            let bytes = response
                .into_body()
                .collect()
                .await
                .expect("body")
                .to_bytes();
            serde_json::from_slice::<Vec<Value>>(&bytes).expect("a JSON list")
        }
    };
    let first = get("/v1/me/direct-messages?limit=10".into()).await;
    assert_eq!(first.len(), 10);
    let last = first[9]["id"].as_i64().expect("id");
    let second = get(format!("/v1/me/direct-messages?after={last}&limit=10")).await;
    assert_eq!(second.len(), 5);
    assert!(second.iter().all(|d| d["id"].as_i64() > Some(last)));
    let rest = get(format!(
        "/v1/me/direct-messages?after={}",
        second[4]["id"].as_i64().expect("id")
    ))
    .await;
    assert!(rest.is_empty());
    // Without a limit: a page of 50 at most.
    assert_eq!(get("/v1/me/direct-messages".into()).await.len(), 15);
}

async fn buffered_effects_are_bounded_and_fail_atomically(backend: Backend) {
    // Thousands of host calls: about bounds, not deadlines.
    let Some(w) = World::with_limits(backend, slow()).await else {
        return;
    };
    let (gid, owner, _) = w.group(0).await;
    let app = w
        .install(qun_components::HOSTILE_BYTES, &gid, &["storage"])
        .await;
    // 3000 small writes: past the 2000 effects one invocation may buffer.
    let err = w
        .action(
            &app,
            &owner.id,
            "writes",
            json!({"count": 3000, "bytes": 8}),
        )
        .await
        .expect_err("too many effects");
    assert!(matches!(err, InvokeError::EffectsLimit(_)), "{err:?}");
    assert_eq!(err.code(), "effects_limit");
    assert!(err.to_string().contains("2000 effects"), "{err}");
    // 80 writes of 60 KiB: past the 4 MiB.
    let err = w
        .action(
            &app,
            &owner.id,
            "writes",
            json!({"count": 80, "bytes": 60_000}),
        )
        .await
        .expect_err("too many bytes");
    assert_eq!(err.code(), "effects_limit");
    let inst = w
        .store()
        .installation(&app)
        .await
        .expect("read")
        .expect("installation");
    assert_eq!(
        (inst.storage_keys, inst.storage_bytes),
        (0, 0),
        "nothing was written"
    );
    assert!(inst.enabled, "a bound is not a fault");
    // Within the bounds it commits.
    w.action(&app, &owner.id, "writes", json!({"count": 100, "bytes": 8}))
        .await
        .expect("100 writes");
}

async fn large_timer_payloads_are_refused(backend: Backend) {
    let Some(w) = World::new(backend).await else {
        return;
    };
    let (gid, owner, _) = w.group(0).await;
    let app = w
        .install(qun_components::HOSTILE_BYTES, &gid, &["scheduler"])
        .await;
    let answer = w
        .action(
            &app,
            &owner.id,
            "timers",
            json!({"count": 3, "bytes": 9_000}),
        )
        .await
        .expect("the app carries on");
    assert_eq!(answer["errors"], 3);
    assert!(
        answer["first"]
            .as_str()
            .is_some_and(|m| m.contains("timer payload is 9000 bytes; the limit is 8192")),
        "{answer}"
    );
    let answer = w
        .action(
            &app,
            &owner.id,
            "timers",
            json!({"count": 3, "bytes": 8_000}),
        )
        .await
        .expect("within the bound");
    assert_eq!(answer["errors"], 0);
}

async fn a_grant_revoked_before_the_commit_drops_the_effects(backend: Backend) {
    let Some(w) = World::new(backend).await else {
        return;
    };
    let (gid, owner, _) = w.group(0).await;
    let probe = w
        .install(qun_components::PROBE, &gid, &["storage", "messaging"])
        .await;
    let mut reached = w.pause_before_commit();
    let run = w.action(&probe, &owner.id, "set", json!({"key": "k", "value": "v"}));
    let revoke = async {
        let (inst, go) = w.paused(&mut reached).await;
        let change = InstallationChange {
            version: inst.version.clone(),
            grants: vec!["messaging".into()],
            enabled: true,
            pending_version: None,
            disabled_reason: None,
            audit: Vec::new(),
        };
        assert!(
            w.store()
                .change_installation(&inst.id, &change, &owner.id)
                .await
                .expect("revoke")
        );
        let _ = go.send(());
    };
    let (result, ()) = tokio::join!(run, revoke);
    let err = result.expect_err("the effects are dropped");
    assert!(matches!(err, InvokeError::EffectsDropped(_)), "{err:?}");
    assert_eq!(err.code(), "effects_dropped");
    assert!(err.to_string().contains("`storage`"), "{err}");
    assert_eq!(
        qun_host::http::ApiError::from(err).status(),
        StatusCode::CONFLICT
    );
    // Nothing was written.
    let inst = w
        .store()
        .installation(&probe)
        .await
        .expect("read")
        .expect("installation");
    assert_eq!((inst.storage_keys, inst.storage_bytes), (0, 0));
    assert!(
        w.store().kv_get(&probe, "k").await.expect("read").is_none(),
        "the key was not stored"
    );
    assert!(inst.enabled, "dropped effects are not a fault");
}

async fn an_app_disabled_before_the_commit_drops_the_effects(backend: Backend) {
    let Some(w) = World::new(backend).await else {
        return;
    };
    let (gid, owner, _) = w.group(0).await;
    let probe = w.install(qun_components::PROBE, &gid, &["messaging"]).await;
    let mut reached = w.pause_before_commit();
    let run = w.action(&probe, &owner.id, "post", json!({"text": "hello"}));
    let disable = async {
        let (inst, go) = w.paused(&mut reached).await;
        assert!(
            w.store()
                .set_enabled(&inst, false, &owner.id)
                .await
                .expect("disable")
        );
        let _ = go.send(());
    };
    let (result, ()) = tokio::join!(run, disable);
    let err = result.expect_err("the effects are dropped");
    assert_eq!(err.code(), "effects_dropped");
    assert!(err.to_string().contains("disabled"), "{err}");
    assert!(w.messages(&gid).await.is_empty(), "nothing was posted");
}

async fn an_app_uninstalled_before_the_commit_drops_the_effects(backend: Backend) {
    let Some(w) = World::new(backend).await else {
        return;
    };
    let (gid, owner, _) = w.group(0).await;
    let probe = w
        .install(qun_components::PROBE, &gid, &["messaging", "storage"])
        .await;
    let mut reached = w.pause_before_commit();
    let run = w.action(&probe, &owner.id, "post", json!({"text": "hello"}));
    let uninstall = async {
        let (inst, go) = w.paused(&mut reached).await;
        assert!(
            w.store()
                .uninstall(&inst, &owner.id)
                .await
                .expect("uninstall")
        );
        let _ = go.send(());
    };
    let (result, ()) = tokio::join!(run, uninstall);
    let err = result.expect_err("the effects are dropped");
    assert_eq!(err.code(), "effects_dropped");
    assert!(err.to_string().contains("uninstalled"), "{err}");
    assert!(w.messages(&gid).await.is_empty(), "nothing was posted");
}

/// The same for an invocation that only writes storage (on PostgreSQL its
/// commit is one call of `qun_commit`, which checks again under the lock):
/// disabled, uninstalled, or the app suspended by an admin while it ran.
async fn a_storage_write_is_dropped_when_its_app_is_stopped_before_the_commit(backend: Backend) {
    let Some(w) = World::new(backend).await else {
        return;
    };
    for stop in ["disabled", "uninstalled", "suspended"] {
        let (gid, owner, _) = w.group(0).await;
        let probe = w.install(qun_components::PROBE, &gid, &["storage"]).await;
        let mut reached = w.pause_before_commit();
        let run = w.action(&probe, &owner.id, "set", json!({"key": "k", "value": "v"}));
        let stopping = async {
            let (inst, go) = w.paused(&mut reached).await;
            let done = match stop {
                "disabled" => w.store().set_enabled(&inst, false, &owner.id).await,
                "uninstalled" => w.store().uninstall(&inst, &owner.id).await,
                _ => {
                    w.store()
                        .set_suspended(&inst.app_slug, Some("abuse"), &owner.id)
                        .await
                }
            };
            assert!(done.expect("stop"), "{stop}");
            let _ = go.send(());
        };
        let (result, ()) = tokio::join!(run, stopping);
        let err = result.expect_err("the effects are dropped");
        assert_eq!(err.code(), "effects_dropped", "{stop}: {err}");
        assert!(err.to_string().contains(stop), "{stop}: {err}");
        assert!(
            w.store().kv_get(&probe, "k").await.expect("read").is_none(),
            "{stop}: the key was not stored"
        );
    }
}

/// A version checked at upload under one host's limits, run by a host whose
/// limits were lowered since (here: less memory than the app's initial
/// memory): every call is refused by name, and it is the host's setting,
/// never counted against the app's health (invariant 11).
async fn an_app_the_host_can_no_longer_start_is_not_charged_a_fault(backend: Backend) {
    let Some(w) = World::new(backend).await else {
        return;
    };
    let (gid, owner, _) = w.group(0).await;
    let inst = w.install(qun_components::NOOP, &gid, &[]).await;
    let store2 = Store::connect(&w.db.url).await.expect("second host");
    let lowered = Runtime::new(
        store2,
        RuntimeConfig {
            limits: Limits {
                // A Rust app's stack alone is 1 MiB of initial memory.
                memory_bytes: 256 << 10,
                health_faults: 1,
                ..Limits::default()
            },
            cache_dir: Some(qun_tests::cache_dir()),
        },
    )
    .expect("runtime");
    for _ in 0..3 {
        let err = lowered
            .invoke(qun_host::Invocation {
                installation_id: inst.clone(),
                actor: Some(owner.id.clone()),
                call: qun_host::Call::Action {
                    name: "noop".into(),
                    payload: "{}".into(),
                    value: None,
                    message_id: None,
                },
                invocation_id: None,
            })
            .await
            .expect_err("the app's memory is over this host's limit");
        assert_eq!(err.code(), "load_failed", "{err:?}");
        assert!(
            !err.is_fault(),
            "the host's limit is not the app's fault: {err:?}"
        );
        assert!(err.to_string().contains("limit"), "{err}");
    }
    let installation = w
        .store()
        .installation(&inst)
        .await
        .expect("read")
        .expect("still installed");
    assert!(
        installation.enabled,
        "the app was disabled for the host's limit"
    );
    // The host with the limits it was checked under still runs it.
    w.action(&inst, &owner.id, "noop", json!({}))
        .await
        .expect("runs where it fits");
}

/// An app failing in many groups keeps `replay_records_per_app` replay
/// records in all, the newest, however many groups it fails in.
async fn replay_records_are_bounded_per_app_over_its_groups(backend: Backend) {
    let limits = Limits {
        replay_records_per_app: 3,
        // No throttle: every failure would leave a record.
        replay_interval: Duration::ZERO,
        health_faults: 0,
        ..Limits::default()
    };
    let Some(w) = World::with_limits(backend, limits).await else {
        return;
    };
    let mut installs = Vec::new();
    for _ in 0..3 {
        let (gid, owner, _) = w.group(0).await;
        let inst = w
            .install(qun_components::PROBE, &gid, &["storage", "messaging"])
            .await;
        installs.push((inst, owner));
    }
    let mut failures = 0;
    for round in 0..2 {
        for (inst, owner) in &installs {
            let err = w
                .action(
                    inst,
                    &owner.id,
                    "set-post-trap",
                    json!({"key": "k", "value": "v", "text": format!("round {round}")}),
                )
                .await
                .expect_err("it traps");
            assert_eq!(err.code(), "trap");
            failures += 1;
            // Records are ordered by their millisecond.
            tokio::time::sleep(Duration::from_millis(3)).await;
        }
    }
    assert_eq!(failures, 6);
    let slug = w
        .store()
        .installation(&installs[0].0)
        .await
        .expect("read")
        .expect("installed")
        .app_slug;
    let kept = w
        .store()
        .replays(&slug, None, None, 100)
        .await
        .expect("replays");
    assert_eq!(kept.len(), 3, "{kept:?}");
    // The newest three: the second round, one per group.
    let mut groups: Vec<&str> = kept.iter().map(|r| r.installation_id.as_str()).collect();
    groups.sort_unstable();
    groups.dedup();
    assert_eq!(groups.len(), 3, "one per group: {kept:?}");
}
