//! Timers through the runtime: the per-installation limit on pending timers
//! (rescheduling a key does not count twice, another installation has its
//! own allowance), cancel by key, and a timer of an uninstalled app never
//! fires.

use qun_host::Limits;
use qun_host::runtime::{DeliveryConfig, InvokeError};
use qun_host::store::now_ms;
use qun_tests::{Backend, World, backend_tests};
use serde_json::json;

backend_tests!(
    pending_timers_are_limited_per_installation,
    an_uninstalled_app_never_hears_its_timers,
    the_running_loop_fires_timers_once_each
);

const GRANTS: &[&str] = &["storage", "messaging", "scheduler"];

async fn pending_timers_are_limited_per_installation(backend: Backend) {
    let limits = Limits {
        pending_timers: 2,
        ..Limits::default()
    };
    let Some(w) = World::with_limits(backend, limits).await else {
        return;
    };
    let (gid, owner, _) = w.group(0).await;
    let (other_gid, other_owner, _) = w.group(0).await;
    let inst = w.install(qun_components::PROBE, &gid, GRANTS).await;
    let other = w.install(qun_components::PROBE, &other_gid, GRANTS).await;
    let far = now_ms() + 3_600_000;
    let schedule = |inst: String, actor: String, key: &'static str| {
        let w = &w;
        async move {
            w.action(
                &inst,
                &actor,
                "schedule",
                json!({"key": key, "at": far, "payload": key}),
            )
            .await
        }
    };
    schedule(inst.clone(), owner.id.clone(), "a")
        .await
        .expect("a");
    schedule(inst.clone(), owner.id.clone(), "b")
        .await
        .expect("b");
    // Rescheduling a pending key replaces it.
    schedule(inst.clone(), owner.id.clone(), "b")
        .await
        .expect("b again");
    let err = schedule(inst.clone(), owner.id.clone(), "c")
        .await
        .expect_err("over the limit");
    assert!(matches!(err, InvokeError::Quota(_)), "{err:?}");
    assert!(err.to_string().contains("2 pending timers"), "{err}");
    let keys: Vec<String> = w
        .store()
        .timers(&inst)
        .await
        .expect("timers")
        .into_iter()
        .map(|t| t.key)
        .collect();
    assert_eq!(keys, ["a", "b"]);
    // A timer over the limit refuses the whole commit, storage writes
    // included (on PostgreSQL they travel in one statement with it), and a
    // replaced one still fits.
    let set_schedule = |key: &'static str, timer: &'static str| {
        w.action(
            &inst,
            &owner.id,
            "set-schedule",
            json!({"key": key, "value": "v", "timer": timer, "at": far}),
        )
    };
    let err = set_schedule("k", "c").await.expect_err("over the limit");
    assert!(matches!(err, InvokeError::Quota(_)), "{err:?}");
    assert!(err.to_string().contains("2 pending timers"), "{err}");
    assert!(
        w.store().kv_get(&inst, "k").await.expect("read").is_none(),
        "the write went with the refused timer"
    );
    set_schedule("k", "b")
        .await
        .expect("b replaced, with a write");
    assert!(w.store().kv_get(&inst, "k").await.expect("read").is_some());
    let timers = w.store().timers(&inst).await.expect("timers");
    assert_eq!(
        timers.iter().map(|t| t.key.as_str()).collect::<Vec<_>>(),
        ["a", "b"]
    );
    assert_eq!(timers[1].payload, "b");
    // Another installation has its own allowance.
    schedule(other.clone(), other_owner.id.clone(), "c")
        .await
        .expect("other");
    // Cancelling frees a place.
    let cancelled = w
        .action(&inst, &owner.id, "cancel", json!({"key": "a"}))
        .await
        .expect("cancel");
    assert_eq!(cancelled["existed"], json!(true));
    schedule(inst.clone(), owner.id.clone(), "c")
        .await
        .expect("c after cancel");
    let keys: Vec<String> = w
        .store()
        .timers(&inst)
        .await
        .expect("timers")
        .into_iter()
        .map(|t| t.key)
        .collect();
    assert_eq!(keys, ["b", "c"]);
}

async fn an_uninstalled_app_never_hears_its_timers(backend: Backend) {
    let Some(w) = World::new(backend).await else {
        return;
    };
    let (gid, owner, _) = w.group(0).await;
    let inst = w.install(qun_components::PROBE, &gid, GRANTS).await;
    w.action(
        &inst,
        &owner.id,
        "schedule",
        json!({"key": "k", "at": 1_000, "payload": "p"}),
    )
    .await
    .expect("schedule");
    let row = w
        .store()
        .installation(&inst)
        .await
        .expect("get")
        .expect("exists");
    assert!(
        w.store()
            .uninstall(&row, &owner.id)
            .await
            .expect("uninstall")
    );
    let report = w
        .runtime
        .deliver_due(&DeliveryConfig::default(), "h", now_ms())
        .await
        .expect("deliver");
    assert_eq!((report.timers, report.delivered), (0, 0), "{report:?}");
    assert!(
        w.store()
            .events_of_installation(&inst)
            .await
            .expect("outbox")
            .is_empty()
    );
}

async fn the_running_loop_fires_timers_once_each(backend: Backend) {
    let Some(w) = World::new(backend).await else {
        return;
    };
    let (gid, owner, _) = w.group(0).await;
    let inst = w.install(qun_components::PROBE, &gid, GRANTS).await;
    let delivery = w.runtime.spawn_delivery_loop(DeliveryConfig::default());
    let start = now_ms();
    for i in 0..5_i64 {
        w.action(
            &inst,
            &owner.id,
            "schedule",
            json!({"key": format!("t{i}"), "at": start + 1_000 + 200 * i, "payload": "p"}),
        )
        .await
        .expect("schedule");
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let fired = loop {
        let outbox = w
            .store()
            .events_of_installation(&inst)
            .await
            .expect("outbox");
        let fired: Vec<_> = outbox
            .into_iter()
            .filter(|e| e.status == "delivered" && e.body.kind() == "timer-fired")
            .collect();
        if fired.len() == 5 {
            break fired;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timers did not fire: {fired:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    delivery.stop(std::time::Duration::from_secs(10)).await;
    let keys: Vec<String> = fired
        .iter()
        .filter_map(|e| match &e.body {
            qun_host::store::EventBody::TimerFired { key, .. } => Some(key.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(keys, ["t0", "t1", "t2", "t3", "t4"]);
    assert!(w.store().timers(&inst).await.expect("timers").is_empty());
    // For the record (not asserted): how late each was handled.
    let late: Vec<i64> = fired
        .iter()
        .filter_map(|e| match &e.body {
            qun_host::store::EventBody::TimerFired { due, .. } => Some(e.delivered_at? - due),
            _ => None,
        })
        .collect();
    eprintln!("timers handled this many ms after due: {late:?}");
}
