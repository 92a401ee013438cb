//! The sandboxed component runtime: one engine, compiled apps cached per
//! sha256, a fresh instance per invocation, every invocation bounded.

pub(crate) mod checks;
mod delivery;
mod effects;
mod engine;
mod executor;
mod http;
pub mod interface;
mod invoke;
mod load;
mod log_budget;
pub mod manifest;
pub mod pool;
pub mod recurrence;
pub mod replay;
mod resident;
mod state;
pub mod stats;
mod stdio;
pub mod tape;
mod warm;

pub use delivery::{DeliveryConfig, DeliveryLoop, DeliveryReport, to_wit};
pub use effects::{CommitError, Committed, Effects, Identity, NewFile, OutDirect, OutMessage};
pub use invoke::{Answer, Call, Invocation, InvokeError, Outcome};
pub(crate) use load::AppPre;
pub use load::{ContractVersion, LoadError, LoadedApp, Manifest, Spec, check_header, sha256_hex};
pub use manifest::{MANIFEST_LIMITS, ManifestLimit, ManifestLimits};
pub use state::InvocationState;
pub(crate) use state::LimitHit;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::Semaphore;
use wasmtime::Engine;
use wasmtime::component::{HasSelf, Linker};

use crate::capabilities::{GroupApp, GroupAppPre, v0_1};
use crate::limits::Limits;
use crate::store::Store;

/// How to build a [`Runtime`].
#[derive(Debug, Clone, Default)]
pub struct RuntimeConfig {
    /// Bounds for every invocation.
    pub limits: Limits,
    /// Where compiled code is cached (none: compile on every load).
    pub cache_dir: Option<PathBuf>,
}

/// Runs apps. Cheap to clone.
#[derive(Clone)]
pub struct Runtime {
    inner: Arc<Inner>,
}

struct Inner {
    engine: Engine,
    /// The host functions of `qun:app@0.2.0` (and WASI).
    linker: Linker<InvocationState>,
    /// The `qun:app@0.1.0` adapter (and WASI).
    linker_v0_1: Linker<InvocationState>,
    db: Store,
    limits: Arc<Limits>,
    cache_dir: Option<PathBuf>,
    /// Loaded apps by sha256, the least recently used dropped past the
    /// budget (issue 12 item 6).
    apps: Mutex<resident::Resident<LoadedApp>>,
    /// Components compiled, and mapped from the compiled-code cache.
    compiled: AtomicU64,
    mapped: AtomicU64,
    /// Pooling-allocator slots, counted in what each component needs:
    /// invocations beyond this wait their turn.
    pool: pool::InstancePool,
    /// Per-installation and per-group turns.
    admission: pool::Admission,
    /// A test hook awaited between an invocation's run and its commit.
    before_commit: Mutex<Option<BeforeCommit>>,
    /// Invocations per version on this host (the developer console).
    stats: stats::Stats,
    /// Per-installation locks taken by invocations re-run after a conflict,
    /// so a hot installation makes progress instead of retrying forever.
    serial: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    // Issue 10 item 9: bounded compilation.
    /// One load per sha256 at a time: a second caller waits and then finds
    /// the app loaded instead of compiling it again.
    loading: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// When each installation last had a replay record written (issue 16).
    replays: replay::Throttle,
    /// Log lines kept per installation this minute (issue 10).
    log_budget: log_budget::LogBudget,
    /// Compilations running at once.
    compiles: Semaphore,
}

/// An app validated, compiled and described, but not yet kept: until
/// [`Runtime::keep`] nothing is cached, in memory or on disk, so a refused
/// upload leaves nothing behind.
pub struct Prepared {
    /// The app.
    pub app: Arc<LoadedApp>,
    unsaved: Option<load::Unsaved>,
    /// Held until the app is kept (or dropped): whoever waits for the same
    /// sha256 then finds it loaded instead of compiling it again.
    flight: Option<tokio::sync::OwnedMutexGuard<()>>,
}

/// The app versions a runtime holds loaded (issue 12 item 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadedStats {
    /// Versions loaded now.
    pub apps: usize,
    /// Bytes of their compiled code.
    pub code_bytes: usize,
    /// Versions dropped to stay within the budget, since the start.
    pub evicted: u64,
    /// Components compiled since the start.
    pub compiled: u64,
    /// Components mapped from the compiled-code cache since the start.
    pub mapped: u64,
}

/// Awaited with the installation id after an invocation ran and before its
/// effects are committed (tests use it to change the world in between).
pub type BeforeCommit = Arc<
    dyn Fn(String) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> + Send + Sync,
>;

/// A failure to set up the runtime.
#[derive(Debug, thiserror::Error)]
#[error("could not start the wasm runtime: {0}")]
pub struct RuntimeError(String);

impl Runtime {
    /// A runtime over `db`.
    pub fn new(db: Store, config: RuntimeConfig) -> Result<Runtime, RuntimeError> {
        let engine = engine::build(&config.limits).map_err(|e| RuntimeError(format!("{e:#}")))?;
        let err = |e: wasmtime::Error| RuntimeError(format!("{e:#}"));
        // One linker per contract version: a component links against the
        // one of the version it exports.
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(err)?;
        // `wasi:http` types and outgoing-handler, every request refused (http.rs).
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker).map_err(err)?;
        GroupApp::add_to_linker::<InvocationState, HasSelf<InvocationState>>(&mut linker, |s| s)
            .map_err(err)?;
        let mut linker_v0_1 = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker_v0_1).map_err(err)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker_v0_1).map_err(err)?;
        v0_1::GroupApp::add_to_linker::<InvocationState, HasSelf<InvocationState>>(
            &mut linker_v0_1,
            |s| s,
        )
        .map_err(err)?;
        let compiles = Semaphore::new(config.limits.compile_concurrency.max(1));
        let apps =
            resident::Resident::new(config.limits.loaded_apps, config.limits.loaded_code_bytes);
        let pool = pool::InstancePool::new(&config.limits);
        let admission = pool::Admission::new(&config.limits);
        Ok(Runtime {
            inner: Arc::new(Inner {
                engine,
                linker,
                linker_v0_1,
                db,
                limits: Arc::new(config.limits),
                cache_dir: config.cache_dir,
                apps: Mutex::new(apps),
                compiled: AtomicU64::new(0),
                mapped: AtomicU64::new(0),
                pool,
                admission,
                before_commit: Mutex::new(None),
                stats: stats::Stats::default(),
                serial: Mutex::new(HashMap::new()),
                loading: Mutex::new(HashMap::new()),
                replays: replay::Throttle::default(),
                log_budget: log_budget::LogBudget::default(),
                compiles,
            }),
        })
    }

    /// The store this runtime reads and writes.
    pub fn store(&self) -> &Store {
        &self.inner.db
    }

    /// Invocations per app version on this host.
    pub fn stats(&self) -> &stats::Stats {
        &self.inner.stats
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    /// Validate and compile `bytes`, read the capabilities it asks for from
    /// its imports, and ask the app to describe itself; keep the result
    /// cached (for bytes already accepted, such as a stored version).
    pub async fn load(&self, bytes: &[u8]) -> Result<Arc<LoadedApp>, LoadError> {
        let prepared = self.prepare(bytes).await?;
        Ok(self.keep(prepared).await)
    }

    /// Like [`Runtime::load`], but cache nothing until [`Runtime::keep`]:
    /// for an upload that may still be refused. One sha256 is prepared once
    /// at a time, and at most `compile_concurrency` compilations run at once
    /// (the others wait their turn).
    pub async fn prepare(&self, bytes: &[u8]) -> Result<Prepared, LoadError> {
        check_header(bytes)?;
        let sha256 = sha256_hex(bytes);
        self.prepare_as(bytes, sha256, None).await
    }

    /// Load a stored version whose bytes the caller has just checked
    /// against their recorded `sha256` (issue 15 item 4): the bytes are not
    /// hashed again, and `manifest`, stored at upload from this very
    /// component's `describe` (checked then), is used instead of
    /// instantiating the app to ask again; its memory images are made here,
    /// so the first call does not make them on its clock. A manifest that
    /// does not parse (an older layout) or names another contract version
    /// is asked for again.
    pub(crate) async fn load_stored(
        &self,
        bytes: &[u8],
        sha256: String,
        manifest: &serde_json::Value,
    ) -> Result<Arc<LoadedApp>, LoadError> {
        check_header(bytes)?;
        let manifest = serde_json::from_value::<Manifest>(manifest.clone()).ok();
        let prepared = self.prepare_as(bytes, sha256, manifest).await?;
        Ok(self.keep(prepared).await)
    }

    /// [`Runtime::prepare`] of `bytes` whose sha256 is `sha256`, with the
    /// manifest already known when `manifest` is given.
    async fn prepare_as(
        &self,
        bytes: &[u8],
        sha256: String,
        manifest: Option<Manifest>,
    ) -> Result<Prepared, LoadError> {
        if let Some(app) = self.cached(&sha256) {
            return Ok(Prepared {
                app,
                unsaved: None,
                flight: None,
            });
        }
        let flight = self.loading_lock(&sha256).lock_owned().await;
        if let Some(app) = self.cached(&sha256) {
            return Ok(Prepared {
                app,
                unsaved: None,
                flight: None,
            });
        }
        // Where a load's time goes (debug log `load stages`).
        let t0 = std::time::Instant::now();
        // Count what one instance takes from the pool before compiling: a
        // component that could never fit is refused with the numbers.
        let core_instances =
            pool::core_instances_of(bytes).map_err(|e| LoadError::Invalid(e.clone()))?;
        let max = self.inner.pool.max;
        if core_instances > max.core_instances {
            return Err(LoadError::TooBig {
                needs: pool::Needs {
                    core_instances,
                    ..pool::Needs::default()
                },
                max,
            });
        }
        let t_count = t0.elapsed();
        let engine = self.inner.engine.clone();
        let cache_dir = self.inner.cache_dir.clone();
        let digest = sha256.clone();
        let on_disk = tokio::task::spawn_blocking(move || {
            load::cached_component(&engine, &digest, cache_dir.as_deref())
        })
        .await
        .ok()
        .flatten();
        let (component, unsaved) = match on_disk {
            Some(component) => {
                self.inner.mapped.fetch_add(1, Ordering::Relaxed);
                (component, None)
            }
            None => {
                self.inner.compiled.fetch_add(1, Ordering::Relaxed);
                let _permit =
                    self.inner.compiles.acquire().await.map_err(|e| {
                        LoadError::Invalid(format!("compilation is shut down: {e}"))
                    })?;
                let engine = self.inner.engine.clone();
                let cache_dir = self.inner.cache_dir.clone();
                let owned = bytes.to_vec();
                let digest = sha256.clone();
                // Cranelift takes a while on a large component (tens of
                // seconds for a Python app): keep it off the async workers,
                // and on a thread of its own rather than tokio's blocking
                // pool, which a shutdown would wait for.
                let (done, compiled) = tokio::sync::oneshot::channel();
                std::thread::Builder::new()
                    .name("qun-compile".into())
                    .spawn(move || {
                        let _ = done.send(load::compile(
                            &engine,
                            &owned,
                            &digest,
                            cache_dir.as_deref(),
                        ));
                    })
                    .map_err(|_| LoadError::HostBusy)?;
                compiled
                    .await
                    .map_err(|_| LoadError::Invalid("compilation was interrupted".into()))??
            }
        };
        let t_code = t0.elapsed();
        let needs = match component.resources_required() {
            Some(r) => pool::Needs {
                core_instances,
                memories: r.num_memories,
                tables: r.num_tables,
            },
            // It imports core modules: it cannot be accounted, so it cannot run here.
            None => pool::Needs {
                core_instances,
                memories: u32::MAX,
                tables: u32::MAX,
            },
        };
        if !self.inner.pool.fits(&needs) {
            return Err(LoadError::TooBig { needs, max });
        }
        let image = component.image_range();
        let code_bytes = (image.end as usize).saturating_sub(image.start as usize);
        let contract = load::contract_of(&self.inner.engine, &component)?;
        let capabilities = load::capabilities_of(&self.inner.engine, &component, contract)?;
        let not_an_app = |e: wasmtime::Error| LoadError::NotAnApp(format!("{e:#}"));
        let pre = match contract {
            ContractVersion::V0_1 => AppPre::V0_1(
                v0_1::GroupAppPre::new(
                    self.inner
                        .linker_v0_1
                        .instantiate_pre(&component)
                        .map_err(not_an_app)?,
                )
                .map_err(not_an_app)?,
            ),
            ContractVersion::V0_2 => AppPre::V0_2(
                GroupAppPre::new(
                    self.inner
                        .linker
                        .instantiate_pre(&component)
                        .map_err(not_an_app)?,
                )
                .map_err(not_an_app)?,
            ),
        };
        let t_pre = t0.elapsed();
        let manifest = match manifest.filter(|m| m.contract == contract) {
            Some(manifest) => {
                let component = component.clone();
                let made =
                    tokio::task::spawn_blocking(move || component.initialize_copy_on_write_image())
                        .await;
                match made {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => tracing::warn!("memory images of {sha256}: {e:#}"),
                    Err(e) => tracing::warn!("memory images of {sha256}: {e}"),
                }
                manifest
            }
            None => {
                let info = self.describe(&pre, &sha256, needs).await?;
                load::manifest_from(info, contract)?
            }
        };
        tracing::debug!(
            sha256 = %sha256,
            count = ?t_count,
            code = ?(t_code - t_count),
            linked = ?(t_pre - t_code),
            described = ?(t0.elapsed() - t_pre),
            compiled = unsaved.is_some(),
            "load stages"
        );
        let actions = manifest.actions.iter().map(|a| a.name.clone()).collect();
        let app = Arc::new(LoadedApp {
            sha256: sha256.clone(),
            capabilities,
            manifest,
            pre,
            actions,
            needs,
            code_bytes,
        });
        Ok(Prepared {
            app,
            unsaved,
            flight: Some(flight),
        })
    }

    /// Keep a prepared app: write its compiled code to the cache and
    /// remember it, so later loads neither compile nor describe it again.
    pub async fn keep(&self, prepared: Prepared) -> Arc<LoadedApp> {
        let Prepared {
            app,
            unsaved,
            flight,
        } = prepared;
        if let Some(unsaved) = unsaved {
            let _ = tokio::task::spawn_blocking(move || unsaved.save()).await;
        }
        self.remember(app.clone());
        // Only now may the next caller for this sha256 look: it finds the app.
        drop(flight);
        app
    }

    fn loading_lock(&self, sha256: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = self.inner.loading.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, lock| Arc::strong_count(lock) > 1);
        map.entry(sha256.to_string()).or_default().clone()
    }

    fn cached(&self, sha256: &str) -> Option<Arc<LoadedApp>> {
        self.inner
            .apps
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(sha256)
    }

    fn remember(&self, app: Arc<LoadedApp>) {
        let bytes = app.code_bytes;
        self.inner
            .apps
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(app.sha256.clone(), app, bytes);
    }

    /// What is loaded, and how it got there (tests and metrics).
    pub fn loaded(&self) -> LoadedStats {
        let apps = self.inner.apps.lock().unwrap_or_else(|p| p.into_inner());
        LoadedStats {
            apps: apps.len(),
            code_bytes: apps.bytes(),
            evicted: apps.evicted(),
            compiled: self.inner.compiled.load(Ordering::Relaxed),
            mapped: self.inner.mapped.load(Ordering::Relaxed),
        }
    }

    /// Await `hook` between every invocation's run and its commit (tests only).
    #[doc(hidden)]
    pub fn set_before_commit(&self, hook: Option<BeforeCommit>) {
        *self
            .inner
            .before_commit
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = hook;
    }

    /// Instance slots of the pool free right now (tests and metrics).
    #[doc(hidden)]
    pub fn free_pool_slots(&self) -> usize {
        self.inner.pool.free_slots()
    }

    fn serial_lock(&self, installation_id: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = self.inner.serial.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 10_000 {
            map.retain(|_, lock| Arc::strong_count(lock) > 1);
        }
        map.entry(installation_id.to_string()).or_default().clone()
    }

    fn grants(
        &self,
        app: &LoadedApp,
        granted: &[String],
    ) -> HashSet<crate::capabilities::Capability> {
        app.capabilities
            .iter()
            .copied()
            .filter(|c| granted.iter().any(|g| g == c.name()))
            .collect()
    }
}
