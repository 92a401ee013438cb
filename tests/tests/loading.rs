//! Loading components: capabilities come from the binary's imports, the
//! app describes itself, compiled code survives a restart, and the bytes
//! that run are the bytes that were uploaded.

use qun_host::{Capability, InvokeError, Runtime, RuntimeConfig};
use qun_tests::{Backend, World, backend_tests};
use serde_json::json;

backend_tests!(
    capabilities_are_read_from_the_imports,
    compiled_code_is_cached_on_disk_and_reused_after_a_restart,
    a_flipped_byte_in_a_stored_component_is_refused,
);

async fn capabilities_are_read_from_the_imports(backend: Backend) {
    let Some(w) = World::new(backend).await else {
        return;
    };
    let probe = w
        .runtime
        .load(&qun_components::read(qun_components::PROBE))
        .await
        .expect("probe");
    assert_eq!(
        probe.capabilities,
        Capability::ALL.to_vec(),
        "the probe calls every capability"
    );
    let noop = w
        .runtime
        .load(&qun_components::read(qun_components::NOOP))
        .await
        .expect("noop");
    assert!(
        noop.capabilities.is_empty(),
        "noop asks for nothing: {:?}",
        noop.capabilities
    );
    let polls = w
        .runtime
        .load(&qun_components::read(qun_tests::polls()))
        .await
        .expect("polls");
    assert_eq!(
        polls.capabilities,
        [
            Capability::Membership,
            Capability::Messaging,
            Capability::Storage,
            Capability::Scheduler
        ]
    );
    assert_eq!(polls.manifest.name, "polls");
    assert_eq!(polls.manifest.version, "0.1.0");
    assert_eq!(
        polls
            .manifest
            .commands
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>(),
        ["poll"]
    );
    let actions: Vec<_> = polls
        .manifest
        .actions
        .iter()
        .map(|a| a.name.as_str())
        .collect();
    assert_eq!(actions, ["vote", "mine", "close", "results"]);
}

async fn compiled_code_is_cached_on_disk_and_reused_after_a_restart(backend: Backend) {
    let Some(w) = World::new(backend).await else {
        return;
    };
    let cache = std::env::temp_dir().join(qun_tests::unique("qun-cache"));
    let bytes = qun_components::read(qun_components::PROBE);
    let config = RuntimeConfig {
        cache_dir: Some(cache.clone()),
        ..Default::default()
    };

    let first = Runtime::new(w.store().clone(), config.clone()).expect("runtime");
    let app = first.load(&bytes).await.expect("load");
    let files: Vec<_> = std::fs::read_dir(&cache)
        .expect("cache dir")
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(files.len(), 1, "one compiled artifact: {files:?}");
    let name = files[0]
        .file_name()
        .and_then(|n| n.to_str())
        .expect("name")
        .to_string();
    assert!(
        name.starts_with(&app.sha256),
        "keyed by the wasm's sha256: {name}"
    );
    let written = std::fs::metadata(&files[0])
        .and_then(|m| m.modified())
        .expect("mtime");
    drop(first);

    // A "restarted" host: a new engine over the same cache directory.
    let second = Runtime::new(w.store().clone(), config).expect("runtime");
    let again = second.load(&bytes).await.expect("load from cache");
    assert_eq!(again.manifest.name, "probe");
    assert_eq!(
        std::fs::read_dir(&cache).expect("cache dir").count(),
        1,
        "nothing recompiled"
    );
    let still = std::fs::metadata(&files[0])
        .and_then(|m| m.modified())
        .expect("mtime");
    assert_eq!(
        written, still,
        "the cached artifact was reused, not rewritten"
    );
    let echo = qun_host::Call::Action {
        value: None,
        message_id: None,
        name: "echo".into(),
        payload: "{\"a\":1}".into(),
    };
    let answer = second.dry_run(&again, &echo).await;
    assert!(
        matches!(answer, Ok(qun_host::Answer::Action { ref data, .. }) if data == "{\"a\":1}"),
        "{answer:?}"
    );

    // A corrupt cache file is ignored and replaced, never trusted.
    std::fs::write(&files[0], b"garbage").expect("corrupt the cache");
    let third = Runtime::new(
        w.store().clone(),
        RuntimeConfig {
            cache_dir: Some(cache.clone()),
            ..Default::default()
        },
    )
    .expect("runtime");
    third
        .load(&bytes)
        .await
        .expect("recompiled after a corrupt cache");
    let _ = std::fs::remove_dir_all(&cache);
}

async fn a_flipped_byte_in_a_stored_component_is_refused(backend: Backend) {
    let Some(w) = World::new(backend).await else {
        return;
    };
    let (gid, owner, _) = w.group(0).await;
    let inst = w.install(qun_components::NOOP, &gid, &[]).await;
    w.action(&inst, &owner.id, "noop", json!({}))
        .await
        .expect("runs before tampering");

    // Flip one byte of the stored component behind the host's back, then
    // start a fresh host (nothing cached in memory or on disk).
    let mut bytes = qun_components::read(qun_components::NOOP);
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&w.db.url)
        .await
        .expect("connect");
    sqlx::query("UPDATE app_versions SET wasm = $1 WHERE app_slug = 'noop'")
        .bind(bytes)
        .execute(&mut conn)
        .await
        .expect("tamper");
    let fresh = Runtime::new(w.store().clone(), RuntimeConfig::default()).expect("runtime");
    let err = fresh
        .invoke(qun_host::Invocation {
            installation_id: inst.clone(),
            actor: Some(owner.id.clone()),
            call: qun_host::Call::Action {
                value: None,
                message_id: None,
                name: "noop".into(),
                payload: "{}".into(),
            },
            invocation_id: None,
        })
        .await
        .expect_err("tampered component refused");
    assert!(matches!(err, InvokeError::Tampered(_)), "{err:?}");
}
