//! Event delivery driven directly through the runtime (no HTTP): ordering
//! and exactly-once effects with two hosts delivering from one database at
//! once, "not now" for a disabled installation (no attempt counted, no timer
//! fired), retries with backoff and parking.

use qun_host::Runtime;
use qun_host::runtime::DeliveryConfig;
use qun_host::store::{Role, now_ms};
use qun_tests::{Backend, World, backend_tests};
use serde_json::{Value, json};

backend_tests!(
    two_hosts_deliver_each_event_once_in_order,
    a_disabled_installation_gets_its_events_and_timers_later,
    failures_back_off_then_park,
);

const GRANTS: &[&str] = &["storage", "messaging", "scheduler"];

async fn recorded(w: &World, inst: &str, actor: &str) -> Vec<Value> {
    let page = w
        .action(
            inst,
            actor,
            "list",
            json!({"prefix": "events/", "limit": 500}),
        )
        .await
        .expect("list");
    page["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| serde_json::from_str(e[1].as_str().unwrap_or_default()).expect("event json"))
        .collect()
}

async fn two_hosts_deliver_each_event_once_in_order(backend: Backend) {
    let Some(w) = World::new(backend).await else {
        return;
    };
    let (gid, owner, _) = w.group(0).await;
    let inst = w.install(qun_components::PROBE, &gid, GRANTS).await;
    let mut joined = Vec::new();
    for i in 0..12 {
        let user = w.user(&format!("joiner{i}")).await;
        assert!(
            w.store()
                .join_member(&gid, &user.id, Role::Member)
                .await
                .expect("join")
        );
        joined.push(user.id);
    }
    // Joining twice is no second event.
    assert!(
        !w.store()
            .join_member(&gid, &joined[0], Role::Admin)
            .await
            .expect("role")
    );

    // A second "host": its own runtime over the same database.
    let other = Runtime::new(w.store().clone(), Default::default()).expect("runtime");
    let config = DeliveryConfig::default();
    let now = now_ms();
    let (a, b) = tokio::join!(
        async {
            let mut total = 0;
            for _ in 0..20 {
                total += w
                    .runtime
                    .deliver_due(&config, "host-a", now_ms())
                    .await
                    .expect("a")
                    .delivered;
            }
            total
        },
        async {
            let mut total = 0;
            for _ in 0..20 {
                total += other
                    .deliver_due(&config, "host-b", now_ms())
                    .await
                    .expect("b")
                    .delivered;
            }
            total
        },
    );
    assert!(now <= now_ms());
    assert_eq!(
        a + b,
        13,
        "installed + 12 joins, each delivered by one host ({a} + {b})"
    );
    let events = recorded(&w, &inst, &owner.id).await;
    let members: Vec<&str> = events
        .iter()
        .skip(1)
        .filter_map(|e| e["member"].as_str())
        .collect();
    assert_eq!(events[0]["kind"], json!("installed"));
    assert_eq!(
        members,
        joined.iter().map(String::as_str).collect::<Vec<_>>()
    );
    let outbox = w
        .store()
        .events_of_installation(&inst)
        .await
        .expect("outbox");
    assert_eq!(outbox.len(), 13);
    assert!(
        outbox
            .iter()
            .all(|e| e.status == "delivered" && e.attempts == 0),
        "{outbox:?}"
    );
    // Delivered events are forgotten after the retention.
    let newest = outbox
        .iter()
        .filter_map(|e| e.delivered_at)
        .max()
        .unwrap_or(0);
    assert_eq!(
        w.store().purge_delivered(newest + 1).await.expect("purge"),
        13
    );
    assert!(
        w.store()
            .events_of_installation(&inst)
            .await
            .expect("outbox")
            .is_empty()
    );
}

async fn a_disabled_installation_gets_its_events_and_timers_later(backend: Backend) {
    let Some(w) = World::new(backend).await else {
        return;
    };
    let (gid, owner, _) = w.group(0).await;
    let inst = w.install(qun_components::PROBE, &gid, GRANTS).await;
    w.action(
        &inst,
        &owner.id,
        "schedule",
        json!({"key": "due", "at": 1_000, "payload": "p"}),
    )
    .await
    .expect("schedule");
    let row = w
        .store()
        .installation(&inst)
        .await
        .expect("get")
        .expect("exists");
    w.store()
        .update_installation(&inst, &row.version, &row.grants, false)
        .await
        .expect("disable");
    let user = w.user("late").await;
    w.store()
        .join_member(&gid, &user.id, Role::Member)
        .await
        .expect("join");

    let config = DeliveryConfig {
        not_now_retry: std::time::Duration::ZERO,
        ..DeliveryConfig::default()
    };
    let report = w
        .runtime
        .deliver_due(&config, "h", now_ms())
        .await
        .expect("deliver");
    assert_eq!((report.timers, report.delivered), (0, 0), "{report:?}");
    assert_eq!(report.deferred, 1, "{report:?}");
    assert_eq!(
        w.store().timers(&inst).await.expect("timers").len(),
        1,
        "the timer waits"
    );
    let outbox = w
        .store()
        .events_of_installation(&inst)
        .await
        .expect("outbox");
    assert!(
        outbox
            .iter()
            .all(|e| e.status == "pending" && e.attempts == 0),
        "{outbox:?}"
    );

    w.store()
        .update_installation(&inst, &row.version, &row.grants, true)
        .await
        .expect("enable");
    let report = w
        .runtime
        .deliver_due(&config, "h", now_ms())
        .await
        .expect("deliver");
    assert_eq!((report.timers, report.delivered), (1, 3), "{report:?}");
    let kinds: Vec<Value> = recorded(&w, &inst, &owner.id)
        .await
        .iter()
        .map(|e| e["kind"].clone())
        .collect();
    assert_eq!(
        kinds,
        [
            json!("installed"),
            json!("member-joined"),
            json!("timer-fired")
        ]
    );
}

async fn failures_back_off_then_park(backend: Backend) {
    let Some(w) = World::new(backend).await else {
        return;
    };
    let (gid, owner, _) = w.group(0).await;
    let inst = w.install(qun_components::PROBE, &gid, GRANTS).await;
    let config = DeliveryConfig {
        max_attempts: 3,
        backoff_base: std::time::Duration::from_secs(10),
        ..DeliveryConfig::default()
    };
    assert_eq!(
        (
            config.backoff_ms(1),
            config.backoff_ms(2),
            config.backoff_ms(3)
        ),
        (10_000, 20_000, 40_000)
    );
    w.runtime
        .deliver_due(&config, "h", now_ms())
        .await
        .expect("installed");
    w.action(
        &inst,
        &owner.id,
        "set",
        json!({"key": "fail-events", "value": "all"}),
    )
    .await
    .expect("set");
    let user = w.user("x").await;
    w.store()
        .join_member(&gid, &user.id, Role::Member)
        .await
        .expect("join");

    // Each pass delivers what is due at its clock: attempt 1 now, attempt 2
    // after the first backoff, attempt 3 after the second, then parked.
    let t0 = now_ms();
    let r1 = w.runtime.deliver_due(&config, "h", t0).await.expect("1");
    assert_eq!(r1.retried, 1, "{r1:?}");
    let r = w
        .runtime
        .deliver_due(&config, "h", t0 + 1_000)
        .await
        .expect("early");
    assert_eq!(
        r.retried + r.parked + r.delivered,
        0,
        "not before the backoff: {r:?}"
    );
    let event = &w
        .store()
        .events_of_installation(&inst)
        .await
        .expect("outbox")[1];
    assert_eq!((event.attempts, event.status.as_str()), (1, "pending"));
    assert!(event.next_attempt_at >= t0 + 10_000, "{event:?}");
    let r2 = w
        .runtime
        .deliver_due(&config, "h", event.next_attempt_at)
        .await
        .expect("2");
    assert_eq!(r2.retried, 1, "{r2:?}");
    let event = &w
        .store()
        .events_of_installation(&inst)
        .await
        .expect("outbox")[1];
    let r3 = w
        .runtime
        .deliver_due(&config, "h", event.next_attempt_at)
        .await
        .expect("3");
    assert_eq!(r3.parked, 1, "{r3:?}");
    let event = &w
        .store()
        .events_of_installation(&inst)
        .await
        .expect("outbox")[1];
    assert_eq!((event.attempts, event.status.as_str()), (3, "parked"));
    assert!(
        event
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("probe refuses member-joined")),
        "{event:?}"
    );
    let parked = w
        .store()
        .events_of_app("probe", Some("parked"), 10)
        .await
        .expect("parked");
    assert_eq!(parked.len(), 1);
}
