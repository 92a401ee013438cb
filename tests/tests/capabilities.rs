//! The capabilities as an app sees them: grants, isolation between groups,
//! atomic invocations, storage semantics, quotas, timers.

use qun_host::{InvokeError, Limits};
use qun_tests::{Backend, World, app_error, backend_tests};
use serde_json::json;

backend_tests!(
    same_app_in_two_groups_never_sees_the_other_groups_data,
    an_app_cannot_reach_members_of_another_group,
    a_capability_not_granted_is_denied_audited_and_changes_nothing,
    a_trap_an_error_a_timeout_or_oom_leaves_no_write_and_no_message,
    storage_get_set_delete_list_and_compare_and_swap,
    storage_quota_and_message_rate_are_enforced,
    the_message_rate_holds_when_invocations_race,
    timers_are_stored_replaced_and_cancelled_atomically,
    concurrent_increments_of_one_key_lose_no_update,
    storage_use_and_the_audit_chain_stay_exact_on_every_commit_path,
    command_replies_are_posted_by_the_app,
);

async fn same_app_in_two_groups_never_sees_the_other_groups_data(backend: Backend) {
    let Some(w) = World::new(backend).await else {
        return;
    };
    let (ga, owner_a, _) = w.group(0).await;
    let (gb, owner_b, _) = w.group(0).await;
    let a = w.install(qun_components::PROBE, &ga, &["storage"]).await;
    let b = w.install(qun_components::PROBE, &gb, &["storage"]).await;

    w.action(
        &a,
        &owner_a.id,
        "set",
        json!({"key": "secret", "value": "from A"}),
    )
    .await
    .expect("set in A");
    w.action(
        &b,
        &owner_b.id,
        "set",
        json!({"key": "secret", "value": "from B"}),
    )
    .await
    .expect("set in B");
    assert_eq!(
        w.action(&a, &owner_a.id, "get", json!({"key": "secret"}))
            .await
            .expect("get")["value"],
        "from A"
    );
    assert_eq!(
        w.action(&b, &owner_b.id, "get", json!({"key": "secret"}))
            .await
            .expect("get")["value"],
        "from B"
    );
    let listed = w
        .action(&a, &owner_a.id, "list", json!({"prefix": "", "limit": 100}))
        .await
        .expect("list");
    assert_eq!(listed["entries"], json!([["secret", "from A"]]));

    // The context is the host's: each installation sees only its own group.
    let ctx = w
        .action(&a, &owner_a.id, "context", json!({}))
        .await
        .expect("context");
    assert_eq!(ctx["group_id"], json!(ga));
    assert_eq!(ctx["installation_id"], json!(a));
    assert_eq!(ctx["actor"], json!(owner_a.id));

    // A member of group B cannot invoke group A's installation at all.
    let err = w
        .action(&a, &owner_b.id, "get", json!({"key": "secret"}))
        .await
        .expect_err("outsider refused");
    assert!(matches!(err, InvokeError::NotMember(_)), "{err:?}");
}

async fn an_app_cannot_reach_members_of_another_group(backend: Backend) {
    let Some(w) = World::new(backend).await else {
        return;
    };
    let (ga, owner_a, members_a) = w.group(1).await;
    let (_gb, owner_b, _) = w.group(0).await;
    let a = w
        .install(qun_components::PROBE, &ga, &["membership", "messaging"])
        .await;

    let member = w
        .action(&a, &owner_a.id, "member", json!({"id": members_a[0].id}))
        .await
        .expect("own member");
    assert_eq!(member["role"], "member");
    let err = w
        .action(&a, &owner_a.id, "member", json!({"id": owner_b.id}))
        .await
        .expect_err("foreign member");
    assert_eq!(app_error(&err).map(|e| e.0), Some("not-found"), "{err:?}");
    let err = w
        .action(
            &a,
            &owner_a.id,
            "dm",
            json!({"to": owner_b.id, "text": "hi"}),
        )
        .await
        .expect_err("foreign dm");
    assert_eq!(app_error(&err).map(|e| e.0), Some("not-found"), "{err:?}");
    assert!(
        w.store()
            .direct_messages(&owner_b.id)
            .await
            .expect("dms")
            .is_empty()
    );

    let group = w
        .action(&a, &owner_a.id, "group", json!({}))
        .await
        .expect("group");
    assert_eq!(group["id"], json!(ga));
    assert_eq!(group["member_count"], json!(2));
    let page = w
        .action(&a, &owner_a.id, "members", json!({"limit": 1}))
        .await
        .expect("members");
    assert_eq!(page["members"].as_array().map(Vec::len), Some(1));
    let rest = w
        .action(
            &a,
            &owner_a.id,
            "members",
            json!({"limit": 10, "cursor": page["next"]}),
        )
        .await
        .expect("page 2");
    assert_eq!(rest["members"].as_array().map(Vec::len), Some(1));
    assert_eq!(rest["next"], json!(null));

    w.action(
        &a,
        &owner_a.id,
        "dm",
        json!({"to": members_a[0].id, "text": "hello"}),
    )
    .await
    .expect("dm own member");
    let dms = w
        .store()
        .direct_messages(&members_a[0].id)
        .await
        .expect("dms");
    assert_eq!(dms.len(), 1);
    assert_eq!(dms[0].text.as_deref(), Some("hello"));
}

async fn a_capability_not_granted_is_denied_audited_and_changes_nothing(backend: Backend) {
    let Some(w) = World::new(backend).await else {
        return;
    };
    let (gid, owner, members) = w.group(1).await;
    // Everything but storage and messaging.
    let app = w
        .install(qun_components::PROBE, &gid, &["membership", "scheduler"])
        .await;

    let err = w
        .action(&app, &owner.id, "set", json!({"key": "k", "value": "v"}))
        .await
        .expect_err("storage denied");
    let (code, message) = app_error(&err).expect("app error");
    assert_eq!(code, "denied");
    assert!(message.contains("storage"), "{message}");
    let err = w
        .action(&app, &owner.id, "post", json!({"text": "spam"}))
        .await
        .expect_err("messaging denied");
    assert_eq!(app_error(&err).map(|e| e.0), Some("denied"));
    let err = w
        .action(
            &app,
            &owner.id,
            "dm",
            json!({"to": members[0].id, "text": "spam"}),
        )
        .await
        .expect_err("dm denied");
    assert_eq!(app_error(&err).map(|e| e.0), Some("denied"));

    assert!(w.messages(&gid).await.is_empty(), "nothing was posted");
    assert!(
        w.store()
            .direct_messages(&members[0].id)
            .await
            .expect("dms")
            .is_empty()
    );
    assert!(
        w.store().kv_get(&app, "k").await.expect("kv").is_none(),
        "nothing was stored"
    );

    let audit = w.store().audit_of(&app).await.expect("audit");
    let denied: Vec<_> = audit
        .iter()
        .filter(|r| r.outcome == "denied")
        .map(|r| r.action.as_str())
        .collect();
    assert_eq!(
        denied,
        ["storage.set", "messaging.post", "messaging.send-direct"]
    );
    assert!(
        audit
            .iter()
            .filter(|r| !r.action.starts_with("installation."))
            .all(|r| r.group_id.as_deref() == Some(gid.as_str())
                && r.actor.as_deref() == Some(owner.id.as_str()))
    );
}

async fn a_trap_an_error_a_timeout_or_oom_leaves_no_write_and_no_message(backend: Backend) {
    let Some(w) = World::new(backend).await else {
        return;
    };
    let (gid, owner, _) = w.group(0).await;
    let app = w
        .install(qun_components::PROBE, &gid, &["storage", "messaging"])
        .await;

    let err = w
        .action(
            &app,
            &owner.id,
            "set-post-trap",
            json!({"key": "t", "value": "x", "text": "trapped"}),
        )
        .await
        .expect_err("trap");
    assert!(
        matches!(err, InvokeError::Trap(ref m) if m.contains("probe trap") || m.contains("unreachable")),
        "{err:?}"
    );
    let err = w
        .action(
            &app,
            &owner.id,
            "set-post-fail",
            json!({"key": "f", "value": "x", "text": "failed"}),
        )
        .await
        .expect_err("error");
    assert_eq!(app_error(&err).map(|e| e.0), Some("invalid"));

    let err = w
        .action(
            &app,
            &owner.id,
            "set-post-loop",
            json!({"key": "l", "value": "x", "text": "looped"}),
        )
        .await
        .expect_err("timeout");
    assert!(matches!(err, InvokeError::Timeout(_)), "{err:?}");
    let err = w
        .action(
            &app,
            &owner.id,
            "set-post-grow",
            json!({"key": "g", "value": "x", "text": "grew", "mb": 64}),
        )
        .await
        .expect_err("memory");
    assert!(matches!(err, InvokeError::MemoryLimit(_)), "{err:?}");

    assert!(w.messages(&gid).await.is_empty(), "no message survived");
    for key in ["l", "g"] {
        assert!(
            w.store().kv_get(&app, key).await.expect("kv").is_none(),
            "no write survived a timeout or OOM"
        );
    }
    assert!(
        w.store().kv_get(&app, "t").await.expect("kv").is_none(),
        "no write survived the trap"
    );
    assert!(
        w.store().kv_get(&app, "f").await.expect("kv").is_none(),
        "no write survived the error"
    );
    let inst = w
        .store()
        .installation(&app)
        .await
        .expect("inst")
        .expect("exists");
    assert_eq!((inst.storage_bytes, inst.storage_keys), (0, 0));

    // The same calls without the failure do commit.
    w.action(&app, &owner.id, "set", json!({"key": "ok", "value": "x"}))
        .await
        .expect("set");
    w.action(&app, &owner.id, "post", json!({"text": "posted"}))
        .await
        .expect("post");
    assert_eq!(w.messages(&gid).await.len(), 1);
    assert!(w.store().kv_get(&app, "ok").await.expect("kv").is_some());
}

async fn storage_get_set_delete_list_and_compare_and_swap(backend: Backend) {
    let Some(w) = World::new(backend).await else {
        return;
    };
    let (gid, owner, _) = w.group(0).await;
    let app = w.install(qun_components::PROBE, &gid, &["storage"]).await;
    let act =
        |name: &'static str, payload: serde_json::Value| w.action(&app, &owner.id, name, payload);

    for key in ["b/2", "a/1", "b/1", "b/3", "c"] {
        act("set", json!({"key": key, "value": format!("v-{key}")}))
            .await
            .expect("set");
    }
    let page = act("list", json!({"prefix": "b/", "limit": 2}))
        .await
        .expect("list");
    assert_eq!(page["entries"], json!([["b/1", "v-b/1"], ["b/2", "v-b/2"]]));
    let next = act(
        "list",
        json!({"prefix": "b/", "limit": 2, "cursor": page["next"]}),
    )
    .await
    .expect("list");
    assert_eq!(next["entries"], json!([["b/3", "v-b/3"]]));
    assert_eq!(next["next"], json!(null));

    assert_eq!(
        act("delete", json!({"key": "b/2"})).await.expect("delete")["existed"],
        json!(true)
    );
    assert_eq!(
        act("delete", json!({"key": "b/2"})).await.expect("delete")["existed"],
        json!(false)
    );
    assert_eq!(
        act("get", json!({"key": "b/2"})).await.expect("get")["value"],
        json!(null)
    );

    let swapped = act("cas", json!({"key": "c", "expected": "wrong", "new": "x"}))
        .await
        .expect("cas");
    assert_eq!(swapped["swapped"], json!(false));
    let swapped = act("cas", json!({"key": "c", "expected": "v-c", "new": "x"}))
        .await
        .expect("cas");
    assert_eq!(swapped["swapped"], json!(true));
    let created = act(
        "cas",
        json!({"key": "new", "expected": null, "new": "first"}),
    )
    .await
    .expect("cas");
    assert_eq!(created["swapped"], json!(true));
    let again = act(
        "cas",
        json!({"key": "new", "expected": null, "new": "second"}),
    )
    .await
    .expect("cas");
    assert_eq!(again["swapped"], json!(false));
    assert_eq!(
        act("get", json!({"key": "new"})).await.expect("get")["value"],
        "first"
    );

    let inst = w
        .store()
        .installation(&app)
        .await
        .expect("inst")
        .expect("exists");
    assert_eq!(inst.storage_keys, 5, "a/1 b/1 b/3 c new");

    let err = act("set", json!({"key": "", "value": "x"}))
        .await
        .expect_err("empty key");
    assert_eq!(app_error(&err).map(|e| e.0), Some("invalid"));
    let err = act("set", json!({"key": "k".repeat(600), "value": "x"}))
        .await
        .expect_err("long key");
    assert_eq!(app_error(&err).map(|e| e.0), Some("invalid"));
}

async fn storage_quota_and_message_rate_are_enforced(backend: Backend) {
    let limits = Limits {
        storage_keys: 3,
        storage_bytes: 200,
        messages_per_minute: 2,
        ..Limits::default()
    };
    let Some(w) = World::with_limits(backend, limits).await else {
        return;
    };
    let (gid, owner, _) = w.group(0).await;
    let app = w
        .install(qun_components::PROBE, &gid, &["storage", "messaging"])
        .await;
    let act =
        |name: &'static str, payload: serde_json::Value| w.action(&app, &owner.id, name, payload);

    for key in ["a", "b", "c"] {
        act("set", json!({"key": key, "value": "1"}))
            .await
            .expect("within quota");
    }
    let err = act("set", json!({"key": "d", "value": "1"}))
        .await
        .expect_err("4th key");
    assert_eq!(
        app_error(&err).map(|e| e.0),
        Some("quota-exceeded"),
        "{err:?}"
    );
    act("set", json!({"key": "a", "value": "overwrite is fine"}))
        .await
        .expect("overwrite within quota");
    let err = act("set", json!({"key": "b", "value": "x".repeat(300)}))
        .await
        .expect_err("bytes");
    assert_eq!(
        app_error(&err).map(|e| e.0),
        Some("quota-exceeded"),
        "{err:?}"
    );
    act("delete", json!({"key": "c"}))
        .await
        .expect("delete frees a key");
    act("set", json!({"key": "d", "value": "1"}))
        .await
        .expect("room again");

    act("post", json!({"text": "one"}))
        .await
        .expect("1st message");
    act("post", json!({"text": "two"}))
        .await
        .expect("2nd message");
    let err = act("post", json!({"text": "three"}))
        .await
        .expect_err("rate limit");
    assert_eq!(
        app_error(&err).map(|e| e.0),
        Some("quota-exceeded"),
        "{err:?}"
    );
    assert_eq!(w.messages(&gid).await.len(), 2);
}

async fn timers_are_stored_replaced_and_cancelled_atomically(backend: Backend) {
    let Some(w) = World::new(backend).await else {
        return;
    };
    let (gid, owner, _) = w.group(0).await;
    let app = w
        .install(qun_components::PROBE, &gid, &["scheduler", "storage"])
        .await;
    let denied = w.install(qun_components::STATEFUL, &gid, &[]).await;
    let _ = denied;
    let act =
        |name: &'static str, payload: serde_json::Value| w.action(&app, &owner.id, name, payload);

    act(
        "schedule",
        json!({"key": "t1", "at": 4_102_444_800_000i64, "payload": "p1"}),
    )
    .await
    .expect("schedule");
    act(
        "schedule",
        json!({"key": "t1", "at": 4_102_444_900_000i64, "payload": "p2"}),
    )
    .await
    .expect("replace");
    let timers = w.store().timers(&app).await.expect("timers");
    assert_eq!(timers.len(), 1);
    assert_eq!(
        (timers[0].due_at, timers[0].payload.as_str()),
        (4_102_444_900_000, "p2")
    );
    assert_eq!(
        act("cancel", json!({"key": "t1"})).await.expect("cancel")["existed"],
        json!(true)
    );
    assert_eq!(
        act("cancel", json!({"key": "t1"})).await.expect("cancel")["existed"],
        json!(false)
    );
    assert!(w.store().timers(&app).await.expect("timers").is_empty());

    // A due timer fires as an event the app handles (the probe records it).
    act(
        "schedule",
        json!({"key": "due", "at": 1_000, "payload": "wake"}),
    )
    .await
    .expect("schedule");
    let report = w
        .runtime
        .deliver_due(
            &qun_host::runtime::DeliveryConfig::default(),
            "test",
            qun_host::store::now_ms(),
        )
        .await
        .expect("deliver");
    assert_eq!(report.timers, 1);
    assert!(w.store().timers(&app).await.expect("timers").is_empty());
    let events = act("list", json!({"prefix": "events/", "limit": 10}))
        .await
        .expect("list");
    let recorded: Vec<String> = events["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| e[1].as_str().unwrap_or_default().to_string())
        .collect();
    // The install's `installed` event first, then the timer.
    assert_eq!(recorded.len(), 2, "{recorded:?}");
    assert!(recorded[0].contains("\"installed\""), "{recorded:?}");
    assert!(
        recorded[1].contains("timer-fired") && recorded[1].contains("wake"),
        "{recorded:?}"
    );
}

async fn concurrent_increments_of_one_key_lose_no_update(backend: Backend) {
    // About lost updates, not deadlines (see the polls concurrency test).
    let limits = Limits {
        deadline: std::time::Duration::from_secs(5),
        ..Limits::default()
    };
    let Some(w) = World::with_limits(backend, limits).await else {
        return;
    };
    let (gid, owner, _) = w.group(0).await;
    let app = w.install(qun_components::PROBE, &gid, &["storage"]).await;
    let calls = (0..40).map(|_| w.action(&app, &owner.id, "incr", json!({"key": "counter"})));
    let results = futures::future::join_all(calls).await;
    for r in &results {
        assert!(r.is_ok(), "{r:?}");
    }
    let value = w
        .action(&app, &owner.id, "get", json!({"key": "counter"}))
        .await
        .expect("get");
    assert_eq!(value["value"], json!("40"), "every increment counted");
}

/// Storage use (what the quotas are checked against) and the audit chain
/// stay exact whichever way a commit goes: on PostgreSQL a plain write
/// commits in one call of `qun_commit`, a write with a message through a
/// transaction; both run here, one after the other and at once, on the same
/// keys.
/// Invocations running at once each see the limit not yet reached (the
/// messages of the others are not committed); the commit counts again
/// under the installation's lock, so no more than the limit is posted, and
/// a refused commit leaves its key unwritten too.
async fn the_message_rate_holds_when_invocations_race(backend: Backend) {
    let limits = Limits {
        messages_per_minute: 3,
        ..Limits::default()
    };
    let Some(w) = World::with_limits(backend, limits).await else {
        return;
    };
    let (gid, owner, _) = w.group(0).await;
    let app = w
        .install(qun_components::PROBE, &gid, &["storage", "messaging"])
        .await;
    let at_once = (0..10).map(|i| {
        let (w, app, owner) = (&w, &app, &owner.id);
        async move {
            let key = format!("k{i}");
            let done = w
                .action(
                    app,
                    owner,
                    "set-post",
                    json!({"key": key, "value": "v", "text": key}),
                )
                .await;
            (key, done)
        }
    });
    let mut posted = Vec::new();
    for (key, done) in futures::future::join_all(at_once).await {
        match done {
            Ok(_) => posted.push(key),
            Err(InvokeError::Quota(message)) => {
                assert!(message.contains("3 messages per minute"), "{message}")
            }
            Err(e) => match app_error(&e) {
                Some(("quota-exceeded", _)) => {}
                _ => panic!("{key}: {e:?}"),
            },
        }
    }
    posted.sort();
    assert_eq!(posted.len(), 3, "as many as the limit: {posted:?}");
    let mut texts: Vec<String> = (w.messages(&gid).await.into_iter())
        .filter_map(|m| m.text)
        .collect();
    texts.sort();
    assert_eq!(
        texts, posted,
        "the messages of the invocations that succeeded"
    );
    let listed = w
        .action(
            &app,
            &owner.id,
            "list",
            json!({"prefix": "k", "limit": 100}),
        )
        .await
        .expect("list");
    let keys: Vec<&str> = (listed["entries"].as_array().expect("entries").iter())
        .map(|e| e[0].as_str().expect("key"))
        .collect();
    assert_eq!(keys, posted, "a refused commit wrote no key");
}

async fn storage_use_and_the_audit_chain_stay_exact_on_every_commit_path(backend: Backend) {
    let limits = Limits {
        deadline: std::time::Duration::from_secs(5),
        messages_per_minute: 100,
        ..Limits::default()
    };
    let Some(w) = World::with_limits(backend, limits).await else {
        return;
    };
    let (gid, owner, _) = w.group(0).await;
    let app = w
        .install(
            qun_components::PROBE,
            &gid,
            &["storage", "messaging", "scheduler"],
        )
        .await;
    let act = |name: &'static str, payload: serde_json::Value| {
        let (w, app, owner) = (&w, &app, &owner.id);
        async move { w.action(app, owner, name, payload).await.expect(name) }
    };
    let in_an_hour = qun_host::store::now_ms() + 3_600_000;
    act("set", json!({"key": "a", "value": "1"})).await;
    // Sizes count bytes, not characters.
    act("set", json!({"key": "ключ", "value": "значение"})).await;
    act("set-post", json!({"key": "b", "value": "xx", "text": "b"})).await;
    act("set", json!({"key": "a", "value": "a longer value"})).await;
    act("delete", json!({"key": "ключ"})).await;
    act("cas", json!({"key": "c", "expected": null, "new": "v"})).await;
    act(
        "set-schedule",
        json!({"key": "d", "value": "dd", "timer": "t", "at": in_an_hour}),
    )
    .await;
    let at_once = (0..20).map(|i| {
        let key = format!("k{}", i % 5);
        if i % 2 == 0 {
            act("set", json!({"key": key, "value": "x".repeat(i)}))
        } else {
            act(
                "set-post",
                json!({"key": key, "value": "y".repeat(i), "text": "t"}),
            )
        }
    });
    futures::future::join_all(at_once).await;
    act("delete", json!({"key": "b"})).await;

    let listed = act("list", json!({"prefix": "", "limit": 100})).await;
    let entries = listed["entries"].as_array().expect("entries");
    let bytes: usize = entries
        .iter()
        .map(|e| e[0].as_str().expect("key").len() + e[1].as_str().expect("value").len())
        .sum();
    let keys: Vec<&str> = entries
        .iter()
        .map(|e| e[0].as_str().expect("key"))
        .collect();
    assert_eq!(keys, ["a", "c", "d", "k0", "k1", "k2", "k3", "k4"]);
    let inst = w
        .store()
        .installation(&app)
        .await
        .expect("read")
        .expect("installation");
    assert_eq!(
        (inst.storage_keys, inst.storage_bytes),
        (keys.len() as i64, bytes as i64),
        "the use counted is the use stored"
    );
    let verified = w.store().verify_audit().await.expect("verify");
    assert!(verified.broken.is_none(), "{:?}", verified.broken);
    assert_eq!(w.messages(&gid).await.len(), 11, "every message posted");
}

async fn command_replies_are_posted_by_the_app(backend: Backend) {
    let Some(w) = World::new(backend).await else {
        return;
    };
    let (gid, owner, _) = w.group(0).await;
    // No messaging grant: a reply to a command needs none.
    let app = w.install(qun_components::PROBE, &gid, &[]).await;
    let outcome = w
        .command(&app, &owner.id, "probe", "hello there")
        .await
        .expect("command");
    assert_eq!(outcome.posted.len(), 1);
    let messages = w.messages(&gid).await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].text.as_deref(), Some("probe: hello there"));
    assert_eq!(messages[0].installation_id.as_deref(), Some(app.as_str()));
}
