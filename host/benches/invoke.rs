//! What one invocation costs, against the same work done natively.
//!
//! - `native`: the Rust function a no-op `on-action` runs, called directly.
//! - `instantiate`: a fresh instance of the `noop` component from its cached
//!   `InstancePre` (pooling allocator), dropped at once.
//! - `invoke`: fresh instance + the no-op `on-action` call + drop: the cost
//!   of the sandbox per invocation.
//! - `invoke_committed`: the whole `Runtime::invoke` path on SQLite (load
//!   the installation, check the actor, run, commit audit rows).
//! - `probe_read_committed`: the whole path for the `probe` app's `get`
//!   action (one `storage.get`): an invocation that only read, which opens
//!   no write transaction (its audit summary waits in the window).
//! - `probe_write_committed`: the whole path for `probe`'s `set` action (one
//!   `storage.set`): one write transaction with the write and one summary
//!   row appended to the installation's audit chain.
//!
//! Measured 2026-12-03 on the 2-core machine under load from other builds
//! (load average 7–10), **dev profile** (the test build's bench binary run
//! with `--bench --warm-up-time 1 --measurement-time 5`), medians of two runs;
//! before = one audit row per call under the global chain lock, after = one
//! summary row per invocation in a per-installation chain, read-only
//! invocations writing nothing:
//!
//! | bench | before | after |
//! |---|---|---|
//! | `invoke_committed` (noop: no call, no row either way) | 0.86–1.07 ms | 0.60–0.88 ms |
//! | `probe_read_committed` (1 `storage.get`) | 1.8–3.3 ms | 1.1–1.3 ms |
//! | `probe_write_committed` (1 `storage.set`) | 2.3–3.4 ms | 2.6–3.0 ms |
//!
//! Each `probe_*` also runs `_untaped`: the same on a runtime with
//! `replay_records` 0, which keeps no replay tape (issue 16). Measured
//! 2026-12-03 (qun-host at opt-level 2, dev profile, a release build running
//! beside it): `probe_read_committed` 211–236 µs taped vs 131–195 µs
//! untaped, `probe_list_committed` (100 entries of 110 bytes answered)
//! 0.91–1.01 ms vs 0.77–0.98 ms; the spread between runs is larger than the
//! difference. `perf` of the read case puts every tape function together
//! (seeds, clocks, serialising the call) at about 0.3% of the samples.
//!
//! Measured 2026-12-04 (release, quiet 2-core machine, two runs each, with
//! `RUST_BACKTRACE=1` as set on this machine / `=0`): wasmtime with its default
//! features, `invoke` 15.2–15.4 / 10.6–10.8 µs and `invoke_committed`
//! 59–65 / 49–62 µs; without `backtrace` and `component-model-async` (each
//! dropped store unwound a parked fiber with an error that captured a Rust
//! backtrace), `invoke` 8.6–8.7 µs either way and `invoke_committed`
//! 54–57 µs. What `invoke_committed` adds is mostly the hand-off to the guest
//! executor and back (two thread wake-ups from idle: `_raw_spin_unlock_irq*`
//! is the top of its profile), which on a busy server is cheap (the no-op
//! action over HTTP runs at the peer's rate, see `scripts/bench.sh`).
//!
//! Measured 2026-12-04 (release, quiet 2-core machine, two runs each) with
//! an invocation's first slice run on the caller's thread
//! (`runtime/executor.rs`): `invoke` 11.6–11.8 µs; `invoke_committed`
//! 55–58 µs with every first slice counted against the callers' share
//! (most were handed over: a back-to-back loop spends it in a third of each
//! window), **23.9 µs** (2.0× `invoke`) with slices under 100 µs free, as
//! built; the build before (every invocation handed over): 73.8 µs (6.3×).
//! `probe_read_committed` 103–108 µs (slices counted) → 54–55 µs (as
//! built), `probe_write_committed` 244–256 → 191–203 µs.
//!
//! `cargo bench -p qun-host --bench invoke`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use qun_host::store::{AppVersion, Role, VersionStatus};
use qun_host::{Call, Invocation, Runtime, RuntimeConfig, Store};

/// What the noop app's `on-action` does, natively.
#[inline(never)]
fn native_on_action(action: &str, payload: &str) -> Result<String, String> {
    let _ = (black_box(action), black_box(payload));
    Ok("{}".to_string())
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("tokio");
    let dir = std::env::temp_dir().join(format!("qun-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (runtime, untaped, app, installation, actor, probe) = rt.block_on(async {
        let store = Store::open_sqlite(&dir.join("bench.db"))
            .await
            .expect("sqlite");
        let runtime = Runtime::new(
            store.clone(),
            RuntimeConfig {
                cache_dir: Some(dir.join("cache")),
                ..Default::default()
            },
        )
        .expect("runtime");
        let bytes = std::fs::read(qun_components::NOOP).expect("noop component");
        let app = runtime.load(&bytes).await.expect("load noop");
        let owner = store
            .create_user("owner", "token", false, true)
            .await
            .expect("user");
        let group = store.create_group("bench", &owner.id).await.expect("group");
        store
            .add_member(&group.id, &owner.id, Role::Owner)
            .await
            .expect("member");
        store
            .create_app("noop", "noop", "", &owner.id)
            .await
            .expect("app");
        let version = AppVersion {
            app_slug: "noop".into(),
            version: app.manifest.version.clone(),
            sha256: app.sha256.clone(),
            capabilities: vec![],
            manifest: serde_json::to_value(&app.manifest).expect("json"),
            status: VersionStatus::Approved,
            created_at: 0,
            review_reason: None,
            reviewed_by: None,
            reviewed_at: None,
        };
        store.add_version(&version, &bytes).await.expect("version");
        let inst = store
            .install(&group.id, "noop", &app.manifest.version, &[], &owner.id)
            .await
            .expect("install");
        let probe = std::fs::read(qun_components::PROBE).expect("probe component");
        let loaded = runtime.load(&probe).await.expect("load probe");
        store
            .create_app("probe", "probe", "", &owner.id)
            .await
            .expect("app");
        let version = AppVersion {
            app_slug: "probe".into(),
            version: loaded.manifest.version.clone(),
            sha256: loaded.sha256.clone(),
            capabilities: loaded
                .capabilities
                .iter()
                .map(|c| c.name().to_string())
                .collect(),
            manifest: serde_json::to_value(&loaded.manifest).expect("json"),
            status: VersionStatus::Approved,
            created_at: 0,
            review_reason: None,
            reviewed_by: None,
            reviewed_at: None,
        };
        store.add_version(&version, &probe).await.expect("version");
        let probe_inst = store
            .install(
                &group.id,
                "probe",
                &loaded.manifest.version,
                &["storage".to_string()],
                &owner.id,
            )
            .await
            .expect("install probe");
        // The same store, no replay tape (issue 16): what recording costs.
        let untaped = Runtime::new(
            store.clone(),
            RuntimeConfig {
                limits: qun_host::Limits {
                    replay_records: 0,
                    ..Default::default()
                },
                cache_dir: Some(dir.join("cache")),
            },
        )
        .expect("runtime");
        // 100 keys for `list` to page through.
        for i in 0..100 {
            runtime
                .invoke(Invocation {
                    installation_id: probe_inst.id.clone(),
                    actor: Some(owner.id.clone()),
                    call: Call::Action {
                        value: None,
                        message_id: None,
                        name: "set".into(),
                        payload: format!(
                            r#"{{"key":"item-{i:03}","value":"{}"}}"#,
                            "v".repeat(100)
                        ),
                    },
                    invocation_id: None,
                })
                .await
                .expect("set");
        }
        (runtime, untaped, app, inst.id, owner.id, probe_inst.id)
    });
    let call = Call::Action {
        value: None,
        message_id: None,
        name: "noop".into(),
        payload: "{}".into(),
    };

    let mut g = c.benchmark_group("noop_action");
    g.bench_function("native", |b| {
        b.iter(|| native_on_action(black_box("noop"), black_box("{}")))
    });
    g.bench_function("instantiate", |b| {
        b.to_async(&rt)
            .iter(|| async { runtime.instantiate_only(&app).await.expect("instantiate") })
    });
    g.bench_function("invoke", |b| {
        b.to_async(&rt)
            .iter(|| async { runtime.dry_run(&app, &call).await.expect("invoke") })
    });
    g.bench_function("invoke_committed", |b| {
        b.to_async(&rt).iter(|| async {
            runtime
                .invoke(Invocation {
                    installation_id: installation.clone(),
                    actor: Some(actor.clone()),
                    call: call.clone(),
                    invocation_id: None,
                })
                .await
                .expect("invoke")
        })
    });
    for (name, action, payload) in [
        ("probe_read_committed", "get", r#"{"key":"k"}"#),
        ("probe_write_committed", "set", r#"{"key":"k","value":"v"}"#),
        (
            "probe_list_committed",
            "list",
            r#"{"prefix":"item-","limit":100}"#,
        ),
    ] {
        let call = Call::Action {
            value: None,
            message_id: None,
            name: action.into(),
            payload: payload.into(),
        };
        // With the replay tape (the default), and without (`replay_records` 0).
        for (suffix, runtime) in [("", &runtime), ("_untaped", &untaped)] {
            g.bench_function(format!("{name}{suffix}"), |b| {
                b.to_async(&rt).iter(|| async {
                    runtime
                        .invoke(Invocation {
                            installation_id: probe.clone(),
                            actor: Some(actor.clone()),
                            call: call.clone(),
                            invocation_id: None,
                        })
                        .await
                        .expect("invoke")
                })
            });
        }
    }
    g.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench);
criterion_main!(benches);
