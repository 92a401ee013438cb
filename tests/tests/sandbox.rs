//! The sandbox: what a hostile or broken component can and cannot do to the
//! host, and what it is told when it breaks a limit.

use qun_host::{InvokeError, Limits, LoadError};
use qun_tests::{Backend, World, app_error, backend_tests};
use serde_json::json;

backend_tests!(
    infinite_loop_is_cut_off_and_the_host_keeps_serving,
    memory_past_the_cap_is_a_memory_error,
    deep_recursion_traps_instead_of_crashing_the_host,
    random_bytes_core_modules_and_foreign_imports_are_refused,
    sockets_are_linked_but_there_is_no_network,
    instance_memory_does_not_survive_an_invocation,
    oversized_payloads_and_answers_are_refused,
    stdout_and_log_lines_reach_the_app_log,
);

async fn infinite_loop_is_cut_off_and_the_host_keeps_serving(backend: Backend) {
    let Some(w) = World::new(backend).await else {
        return;
    };
    let (gid, owner, _) = w.group(0).await;
    let probe = w.install(qun_components::PROBE, &gid, &["storage"]).await;
    let (other_gid, other_owner, _) = w.group(0).await;
    let noop = w.install(qun_components::NOOP, &other_gid, &[]).await;

    let started = std::time::Instant::now();
    let err = w
        .action(&probe, &owner.id, "loop", json!({}))
        .await
        .expect_err("a loop cannot finish");
    assert!(
        matches!(err, InvokeError::Timeout(250)),
        "expected a timeout, got {err:?}"
    );
    assert!(started.elapsed().as_secs() < 30, "the loop was not cut off");

    // The host is fine: another app answers, and so does the same one.
    assert_eq!(
        w.action(&noop, &other_owner.id, "noop", json!({}))
            .await
            .expect("noop"),
        json!({})
    );
    w.action(&probe, &owner.id, "set", json!({"key": "k", "value": "v"}))
        .await
        .expect("probe still works");

    // The developer can see what happened.
    let logs = w.store().logs_of("probe", 50).await.expect("logs");
    assert!(
        logs.iter()
            .any(|l| l.level == "failure" && l.message.contains("did not finish")),
        "{logs:?}"
    );
}

async fn memory_past_the_cap_is_a_memory_error(backend: Backend) {
    let Some(w) = World::new(backend).await else {
        return;
    };
    let (gid, owner, _) = w.group(0).await;
    let probe = w.install(qun_components::PROBE, &gid, &[]).await;

    // Well under the 32 MiB cap: fine.
    let small = w
        .action(&probe, &owner.id, "grow", json!({"mb": 4}))
        .await
        .expect("4 MiB fits");
    assert_eq!(small["len"], json!(4 << 20));
    // Past it: a named error, not a crash.
    let err = w
        .action(&probe, &owner.id, "grow", json!({"mb": 64}))
        .await
        .expect_err("64 MiB is over the cap");
    assert!(
        matches!(err, InvokeError::MemoryLimit(n) if n == 32 << 20),
        "expected a memory error, got {err:?}"
    );
}

async fn deep_recursion_traps_instead_of_crashing_the_host(backend: Backend) {
    let Some(w) = World::new(backend).await else {
        return;
    };
    let (gid, owner, _) = w.group(0).await;
    let probe = w.install(qun_components::PROBE, &gid, &[]).await;

    let shallow = w
        .action(&probe, &owner.id, "recurse", json!({"depth": 100}))
        .await
        .expect("shallow recursion");
    assert_eq!(shallow["depth"], json!(100));
    let err = w
        .action(&probe, &owner.id, "recurse", json!({"depth": 10_000_000}))
        .await
        .expect_err("too deep");
    assert!(
        matches!(
            err,
            InvokeError::StackOverflow | InvokeError::MemoryLimit(_)
        ),
        "expected a stack overflow, got {err:?}"
    );
    // Still serving.
    w.action(&probe, &owner.id, "recurse", json!({"depth": 10}))
        .await
        .expect("host still alive");
}

async fn random_bytes_core_modules_and_foreign_imports_are_refused(backend: Backend) {
    let Some(w) = World::new(backend).await else {
        return;
    };
    let random: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let err = w
        .runtime
        .load(&random)
        .await
        .err()
        .expect("random bytes refused");
    assert!(matches!(err, LoadError::NotWasm), "{err:?}");
    assert!(err.to_string().contains("not a WebAssembly file"));

    let err = w
        .runtime
        .load(qun_components::CORE_MODULE)
        .await
        .err()
        .expect("core module refused");
    assert!(matches!(err, LoadError::CoreModule), "{err:?}");
    assert!(
        err.to_string().contains("wasm32-wasip2"),
        "the message says how to fix it: {err}"
    );

    let mut truncated = std::fs::read(qun_components::PROBE).expect("probe");
    truncated.truncate(truncated.len() / 2);
    let err = w
        .runtime
        .load(&truncated)
        .await
        .err()
        .expect("truncated component refused");
    assert!(matches!(err, LoadError::Invalid(_)), "{err:?}");

    let forbidden = std::fs::read(qun_components::FORBIDDEN).expect("forbidden component");
    let err = w
        .runtime
        .load(&forbidden)
        .await
        .err()
        .expect("foreign import refused");
    match &err {
        LoadError::ForbiddenImport(name) => assert!(
            name.starts_with("wasi:http/outgoing-handler"),
            "names the import: {name}"
        ),
        other => panic!("expected a forbidden import, got {other:?}"),
    }
    let message = err.to_string();
    assert!(message.contains("wasi:http/"), "{message}");
    assert!(
        message.contains("`-d http`"),
        "the message names the build flag that removes it: {message}"
    );
}

async fn sockets_are_linked_but_there_is_no_network(backend: Backend) {
    let Some(w) = World::new(backend).await else {
        return;
    };
    // Accepted: runtimes such as componentize-py import wasi:sockets
    // whatever the app does.
    let (gid, owner, _) = w.group(0).await;
    let app = w.install(qun_components::NETLESS, &gid, &[]).await;
    let err = w
        .action(&app, &owner.id, "connect", json!({}))
        .await
        .expect_err("no network");
    // The app's own error (its connect was refused), not a trap.
    let (code, message) = app_error(&err).expect("the app's error");
    assert_eq!(code, "internal", "{err:?}");
    assert!(message.starts_with("connect failed"), "{message}");
}

async fn instance_memory_does_not_survive_an_invocation(backend: Backend) {
    let Some(w) = World::new(backend).await else {
        return;
    };
    let (gid, owner, _) = w.group(0).await;
    let app = w.install(qun_components::STATEFUL, &gid, &[]).await;
    for _ in 0..3 {
        let answer = w
            .action(&app, &owner.id, "count", json!({}))
            .await
            .expect("count");
        assert_eq!(
            answer["count"],
            json!(1),
            "every invocation gets a fresh instance"
        );
    }
    // Memory grown and dirtied by one instance is zero for the next ones in
    // the slot, past the part the host keeps resident between instances too.
    for _ in 0..3 {
        let answer = w
            .action(&app, &owner.id, "grown", json!({}))
            .await
            .expect("grown");
        assert_eq!(
            answer["zero"],
            json!(true),
            "memory another instance wrote came back unzeroed"
        );
    }
}

async fn oversized_payloads_and_answers_are_refused(backend: Backend) {
    let limits = Limits {
        payload_bytes: 1024,
        ..Limits::default()
    };
    let Some(w) = World::with_limits(backend, limits).await else {
        return;
    };
    let (gid, owner, _) = w.group(0).await;
    let probe = w.install(qun_components::PROBE, &gid, &["storage"]).await;

    let err = w
        .action(&probe, &owner.id, "echo", json!({"x": "y".repeat(2000)}))
        .await
        .expect_err("payload too big");
    assert!(
        matches!(err, InvokeError::BadInput(ref m) if m.contains("limit is 1024")),
        "{err:?}"
    );
    let err = w
        .action(&probe, &owner.id, "big-reply", json!({"bytes": 5000}))
        .await
        .expect_err("answer too big");
    assert!(matches!(err, InvokeError::BadAnswer(_)), "{err:?}");

    let value = "v".repeat(70 * 1024);
    let err = w
        .action(
            &probe,
            &owner.id,
            "set",
            json!({"key": "big", "value": value}),
        )
        .await
        .expect_err("value too big");
    // The payload limit bites first here; raise it and the storage limit bites.
    assert!(matches!(err, InvokeError::BadInput(_)), "{err:?}");
}

async fn stdout_and_log_lines_reach_the_app_log(backend: Backend) {
    let Some(w) = World::new(backend).await else {
        return;
    };
    let (gid, owner, _) = w.group(0).await;
    let probe = w.install(qun_components::PROBE, &gid, &[]).await;
    w.action(
        &probe,
        &owner.id,
        "print",
        json!({"text": "hello from stdout"}),
    )
    .await
    .expect("print");
    w.action(
        &probe,
        &owner.id,
        "log",
        json!({"level": "warn", "message": "disk almost full"}),
    )
    .await
    .expect("log");
    let logs = w.store().logs_of("probe", 50).await.expect("logs");
    assert!(
        logs.iter()
            .any(|l| l.level == "stdout" && l.message == "hello from stdout"),
        "{logs:?}"
    );
    assert!(
        logs.iter()
            .any(|l| l.level == "stderr" && l.message == "hello from stdout"),
        "{logs:?}"
    );
    assert!(
        logs.iter()
            .any(|l| l.level == "warn" && l.message == "disk almost full"),
        "{logs:?}"
    );
    let _ = app_error;
}
