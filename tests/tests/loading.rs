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
    a_short_or_corrupt_cache_file_is_compiled_again_from_the_stored_source,
    an_app_evicted_under_a_tiny_budget_is_reloaded_from_the_cache_and_answers,
    a_restarted_host_loads_installed_versions_before_their_first_call,
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
    // The probe calls every capability but `files` (issue 17), which the
    // `filer` app covers (tests/tests/files.rs checks its capabilities).
    let all_but_files: Vec<Capability> = Capability::ALL
        .into_iter()
        .filter(|c| *c != Capability::Files)
        .collect();
    assert_eq!(
        probe.capabilities, all_but_files,
        "the probe calls every capability but files"
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
    let files = compiled_files(&cache);
    assert_eq!(files.len(), 1, "one compiled artifact: {files:?}");
    assert_eq!(
        std::fs::read_dir(&cache).expect("cache dir").count(),
        2,
        "the compiled code and its checksum, no temporary file left"
    );
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
    let loaded = second.loaded();
    assert_eq!(
        (loaded.compiled, loaded.mapped),
        (0, 1),
        "mapped from the cache, nothing recompiled"
    );
    assert_eq!(std::fs::read_dir(&cache).expect("cache dir").count(), 2);
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

    // A corrupt cache file is ignored and replaced, never trusted. (Never
    // while a host has it mapped: the cache is the host's own.)
    drop((app, again, second));
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
    assert_eq!(third.loaded().compiled, 1, "recompiled");
    let _ = std::fs::remove_dir_all(&cache);
}

/// The compiled-code files (not their checksums) in `cache`.
fn compiled_files(cache: &std::path::Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(cache)
        .expect("cache dir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .collect()
}

/// The probe's `echo` of `{"a": 1}`, run by `actor`.
async fn echo(w: &World, inst: &str, actor: &str) -> serde_json::Value {
    w.action(inst, actor, "echo", json!({"a": 1}))
        .await
        .expect("echo")
}

/// A new runtime over `w`'s store with its own cache directory `cache`,
/// as a restarted host would have (the old one, and its mappings, dropped).
fn restart(w: &mut World, cache: &std::path::Path, limits: qun_host::Limits) {
    w.runtime = Runtime::new(
        w.store().clone(),
        RuntimeConfig {
            limits,
            cache_dir: Some(cache.to_path_buf()),
        },
    )
    .expect("runtime");
}

async fn a_short_or_corrupt_cache_file_is_compiled_again_from_the_stored_source(backend: Backend) {
    let Some(mut w) = World::new(backend).await else {
        return;
    };
    let cache = std::env::temp_dir().join(qun_tests::unique("qun-cache"));
    restart(&mut w, &cache, Default::default());
    let (gid, owner, _) = w.group(0).await;
    let inst = w.install(qun_components::PROBE, &gid, &[]).await;
    assert_eq!(echo(&w, &inst, &owner.id).await, json!({"a": 1}));
    let files = compiled_files(&cache);
    assert_eq!(files.len(), 1, "{files:?}");
    let full = std::fs::read(&files[0]).expect("compiled code");

    // Cut short (as by a full disk or a crash without the checksum rename).
    restart(&mut w, &cache, Default::default());
    std::fs::write(&files[0], &full[..full.len() / 2]).expect("truncate");
    assert_eq!(echo(&w, &inst, &owner.id).await, json!({"a": 1}));
    let loaded = w.runtime.loaded();
    assert_eq!((loaded.compiled, loaded.mapped), (1, 0), "compiled again");
    assert_eq!(
        std::fs::read(&files[0]).expect("compiled code").len(),
        full.len(),
        "the short file was replaced"
    );

    // Corrupt in the middle, same length.
    restart(&mut w, &cache, Default::default());
    let mut corrupt = std::fs::read(&files[0]).expect("compiled code");
    let middle = corrupt.len() / 2;
    corrupt[middle] ^= 0xff;
    std::fs::write(&files[0], &corrupt).expect("corrupt");
    assert_eq!(echo(&w, &inst, &owner.id).await, json!({"a": 1}));
    assert_eq!(w.runtime.loaded().compiled, 1, "compiled again");

    // The replacement is good: the next start maps it.
    restart(&mut w, &cache, Default::default());
    assert_eq!(echo(&w, &inst, &owner.id).await, json!({"a": 1}));
    let loaded = w.runtime.loaded();
    assert_eq!((loaded.compiled, loaded.mapped), (0, 1), "mapped");
    let _ = std::fs::remove_dir_all(&cache);
}

async fn an_app_evicted_under_a_tiny_budget_is_reloaded_from_the_cache_and_answers(
    backend: Backend,
) {
    // One version loaded at a time; then compiled code of one byte at most
    // (each app alone is over it, so only the one just used stays).
    let one_app = qun_host::Limits {
        loaded_apps: 1,
        ..Default::default()
    };
    let one_byte = qun_host::Limits {
        loaded_code_bytes: 1,
        ..Default::default()
    };
    for limits in [one_app, one_byte] {
        let Some(mut w) = World::new(backend).await else {
            return;
        };
        let cache = std::env::temp_dir().join(qun_tests::unique("qun-cache"));
        restart(&mut w, &cache, limits);
        let (gid, owner, _) = w.group(0).await;
        let noop = w.install(qun_components::NOOP, &gid, &[]).await;
        let probe = w.install(qun_components::PROBE, &gid, &[]).await;
        for _ in 0..2 {
            assert_eq!(
                w.action(&noop, &owner.id, "noop", json!({}))
                    .await
                    .expect("noop"),
                json!({})
            );
            assert_eq!(
                w.action(&probe, &owner.id, "echo", json!({"b": 2}))
                    .await
                    .expect("echo"),
                json!({"b": 2})
            );
        }
        let loaded = w.runtime.loaded();
        assert_eq!(loaded.apps, 1, "{loaded:?}");
        assert_eq!(loaded.compiled, 2, "each compiled once: {loaded:?}");
        assert!(loaded.mapped >= 3, "reloaded from the cache: {loaded:?}");
        assert!(loaded.evicted >= 4, "{loaded:?}");

        // A holder (as an invocation under way) keeps an evicted app usable.
        let held = w
            .runtime
            .load(&qun_components::read(qun_components::NOOP))
            .await
            .expect("noop");
        w.action(&probe, &owner.id, "echo", json!({}))
            .await
            .expect("echo evicts noop");
        let call = qun_host::Call::Action {
            value: None,
            message_id: None,
            name: "noop".into(),
            payload: "{}".into(),
        };
        let answer = w.runtime.dry_run(&held, &call).await;
        assert!(
            matches!(answer, Ok(qun_host::Answer::Action { ref data, .. }) if data == "{}"),
            "{answer:?}"
        );
        let _ = std::fs::remove_dir_all(&cache);
    }
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

/// Issue 15 item 4: a host that starts loads what installed apps run (the
/// manifest stored at upload, no `describe`), so their first call finds
/// them loaded and loads nothing itself.
async fn a_restarted_host_loads_installed_versions_before_their_first_call(backend: Backend) {
    let Some(w) = World::new(backend).await else {
        return;
    };
    let (gid, owner, _) = w.group(0).await;
    let inst = w.install(qun_components::NOOP, &gid, &[]).await;

    let fresh = Runtime::new(w.store().clone(), RuntimeConfig::default()).expect("runtime");
    assert_eq!(fresh.loaded().apps, 0);
    assert_eq!(fresh.warm_up().await, 1, "the one installed version");
    let warmed = fresh.loaded();
    assert_eq!(warmed.apps, 1);
    let outcome = fresh
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
        .expect("the first call answers");
    assert!(
        matches!(outcome.answer, qun_host::Answer::Action { ref data, .. } if data == "{}"),
        "{:?}",
        outcome.answer
    );
    let after = fresh.loaded();
    assert_eq!(
        (after.apps, after.compiled, after.mapped),
        (warmed.apps, warmed.compiled, warmed.mapped),
        "the first call loaded nothing itself"
    );
}
