//! The data a wasmtime `Store` carries for one invocation.

use std::collections::HashSet;
use std::sync::Arc;

use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::effects::{Effects, Identity};
use super::stdio::CapturedOutput;
use crate::capabilities::Capability;
use crate::capabilities::call_log::CallLog;
use crate::limits::Limits;
use crate::store::{LogLine, Store, now_ms};

/// Caps linear memory and remembers whether the app hit the cap, so the
/// trap that follows can be reported as "memory limit" rather than a crash.
pub struct MemoryLimiter {
    max_bytes: usize,
    /// Set when a `memory.grow` past the cap was refused.
    pub exceeded: bool,
}

impl MemoryLimiter {
    /// A limiter allowing `max_bytes` of linear memory.
    pub fn new(max_bytes: usize) -> Self {
        MemoryLimiter {
            max_bytes,
            exceeded: false,
        }
    }
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.max_bytes {
            self.exceeded = true;
            return Ok(false);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}

/// Everything one invocation attempt needs; owned by its wasmtime `Store`.
pub struct InvocationState {
    pub(crate) wasi: WasiCtx,
    pub(crate) table: ResourceTable,
    pub(crate) limiter: MemoryLimiter,
    pub(crate) stdout: CapturedOutput,
    pub(crate) stderr: CapturedOutput,
    pub(crate) ident: Identity,
    pub(crate) grants: HashSet<Capability>,
    pub(crate) db: Store,
    pub(crate) limits: Arc<Limits>,
    pub(crate) effects: Effects,
    /// Capability calls made: the audit summary, denials, the cap.
    pub(crate) calls: CallLog,
    pub(crate) logs: Vec<LogLine>,
    /// Storage use (bytes, keys) when the invocation started.
    pub(crate) usage: (i64, i64),
    /// When the attempt started.
    pub(crate) started: std::time::Instant,
    // --- issue 10, item 6 (runtime): what this invocation has produced ---
    /// The first bound the app ran into (the invocation then fails with it).
    pub(crate) limit_hit: Option<LimitHit>,
    /// Effects buffered so far: (bytes, items).
    pub(crate) effects_used: (usize, usize),
    /// Bytes of the app's own log lines so far.
    pub(crate) log_used: usize,
    /// Direct messages this installation sent in the last minute before
    /// this invocation, in all and per recipient (read on first use).
    pub(crate) dm_recent: Option<(i64, std::collections::HashMap<String, i64>)>,
    /// Waiting for a thread after yielding, not counted against the deadline (item 1).
    pub(crate) clock: Arc<std::sync::Mutex<super::engine::RunClock>>,
    // --- issue 13 (qun:app@0.2.0) ---
    /// The actions the app declared (elements may name only these).
    pub(crate) declared_actions: Arc<[String]>,
    /// The group's time zone (recurring timers follow its clock).
    pub(crate) time_zone: String,
    /// The context's `now` (ms).
    pub(crate) now: i64,
    // --- issue 17 (files) ---
    /// Files a member gave the app in this invocation (checked by the host).
    pub(crate) given_files: HashSet<String>,
    /// Uploads the app started and has not finished, by upload id.
    pub(crate) uploads: std::collections::HashMap<u32, crate::blobs::Staged>,
    /// The next upload id.
    pub(crate) next_upload: u32,
    /// Bytes of files written by this attempt so far.
    pub(crate) file_bytes_written: u64,
    /// Bytes this attempt staged: removed when the state is dropped, after
    /// the commit moved what it keeps into place (or instead of it).
    pub(crate) staging: StagingCleanup,
    // --- issue 16 (replay) ---
    /// The invocation's replay tape: recording, replaying, or off.
    pub(crate) tape: super::tape::Tape,
    /// `wasi:http` types, every outgoing request refused (issue 15).
    pub(crate) http: super::http::HttpState,
}

/// Removes an attempt's staged bytes when dropped: after a commit they
/// have been copied into place; after a failure or a trap nothing of them
/// may stay (the periodic sweep removes what a crash leaves).
pub(crate) struct StagingCleanup {
    pub(crate) blobs: crate::blobs::Blobs,
    pub(crate) paths: Vec<String>,
}

impl Drop for StagingCleanup {
    fn drop(&mut self) {
        if self.paths.is_empty() {
            return;
        }
        let (blobs, paths) = (self.blobs.clone(), std::mem::take(&mut self.paths));
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                handle.spawn(async move {
                    for path in paths {
                        blobs.discard(&path).await;
                    }
                });
            }
            Err(_) => tracing::warn!("staged bytes left for the sweep: {paths:?}"),
        }
    }
}

/// A bound on what an invocation may produce.
#[derive(Debug, Clone)]
pub(crate) enum LimitHit {
    /// Too many bytes or items of effects buffered.
    Effects(String),
    /// Too many direct messages.
    Dms(String),
}

impl LimitHit {
    /// The invocation's error.
    pub(crate) fn to_error(&self) -> super::InvokeError {
        match self {
            LimitHit::Effects(m) => super::InvokeError::EffectsLimit(m.clone()),
            LimitHit::Dms(m) => super::InvokeError::DmQuota(m.clone()),
        }
    }

    /// What the app is told.
    pub(crate) fn message(&self) -> &str {
        match self {
            LimitHit::Effects(m) | LimitHit::Dms(m) => m,
        }
    }
}

impl InvocationState {
    /// A fresh state: WASI with no preopened directories, no environment, no
    /// arguments, no network; stdout/stderr captured for the app's log.
    pub(crate) fn new(
        ident: Identity,
        grants: HashSet<Capability>,
        db: Store,
        limits: Arc<Limits>,
        usage: (i64, i64),
        tape: super::tape::Tape,
    ) -> Self {
        let calls = CallLog::new(limits.capability_calls);
        let stdout = CapturedOutput::new(limits.stdio_bytes);
        let stderr = CapturedOutput::new(limits.stdio_bytes);
        // No network, said explicitly (these are wasmtime-wasi's defaults):
        // `wasi:sockets` is linked for runtimes that import it, and every
        // socket the guest tries is refused.
        let mut wasi = WasiCtx::builder();
        wasi.stdout(stdout.clone())
            .stderr(stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false);
        // Clocks and random numbers taken down (or answered) by the tape.
        tape.configure(&mut wasi);
        let wasi = wasi.build();
        InvocationState {
            wasi,
            table: ResourceTable::new(),
            limiter: MemoryLimiter::new(limits.memory_bytes),
            stdout,
            stderr,
            ident,
            grants,
            limits,
            effects: Effects::default(),
            calls,
            logs: Vec::new(),
            usage,
            started: std::time::Instant::now(),
            limit_hit: None,
            effects_used: (0, 0),
            log_used: 0,
            dm_recent: None,
            clock: Arc::default(),
            declared_actions: Arc::from(Vec::new()),
            time_zone: "UTC".into(),
            now: now_ms(),
            given_files: HashSet::new(),
            uploads: std::collections::HashMap::new(),
            next_upload: 1,
            file_bytes_written: 0,
            staging: StagingCleanup {
                blobs: db.blobs().clone(),
                paths: Vec::new(),
            },
            http: Default::default(),
            db,
            tape,
        }
    }

    /// Add a line to the app's log.
    pub(crate) fn push_log(&mut self, level: &str, message: String, fields: Vec<(String, String)>) {
        self.logs.push(LogLine {
            at: now_ms(),
            installation_id: Some(self.ident.installation_id.clone()),
            app_slug: self.ident.app_slug.clone(),
            app_version: self.ident.app_version.clone(),
            level: level.to_string(),
            // Diagnostics are kept, with what the database cannot store replaced.
            message: crate::text::scrub(&message).into_owned(),
            fields: fields
                .into_iter()
                .map(|(k, v)| {
                    (
                        crate::text::scrub(&k).into_owned(),
                        crate::text::scrub(&v).into_owned(),
                    )
                })
                .collect(),
        });
    }

    /// Count one more buffered effect of `bytes`; past the invocation's
    /// bound the app gets `quota-exceeded` and the invocation fails with
    /// `effects_limit` (nothing it did is kept).
    pub(crate) fn charge_effect(&mut self, bytes: usize) -> Result<(), crate::capabilities::Error> {
        if let Some(hit) = &self.limit_hit {
            return Err(crate::capabilities::Error::QuotaExceeded(
                hit.message().to_string(),
            ));
        }
        let (used, items) = self.effects_used;
        let (used, items) = (used.saturating_add(bytes), items + 1);
        let limits = &self.limits;
        if used > limits.effects_bytes || items > limits.effects_items {
            let message = format!(
                "effects_limit: one invocation may buffer {} effects of {} bytes in all \
                 (messages, direct messages, storage writes, timers, payments); this one tried {items} effects of {used} bytes",
                limits.effects_items, limits.effects_bytes
            );
            self.limit_hit = Some(LimitHit::Effects(message.clone()));
            return Err(crate::capabilities::Error::QuotaExceeded(message));
        }
        self.effects_used = (used, items);
        Ok(())
    }

    /// Turn captured stdout/stderr into log lines.
    pub(crate) fn drain_stdio(&mut self) {
        for (level, pipe) in [
            ("stdout", self.stdout.clone()),
            ("stderr", self.stderr.clone()),
        ] {
            let text = pipe.text();
            if !text.trim().is_empty() {
                self.push_log(level, text.trim_end().to_string(), Vec::new());
            }
        }
    }
}

impl WasiView for InvocationState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}
