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
    /// Time spent inside host calls so far (not counted against the deadline).
    pub(crate) host_time: std::time::Duration,
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
    ) -> Self {
        let calls = CallLog::new(limits.capability_calls);
        let stdout = CapturedOutput::new(limits.stdio_bytes);
        let stderr = CapturedOutput::new(limits.stdio_bytes);
        let wasi = WasiCtx::builder()
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .build();
        InvocationState {
            wasi,
            table: ResourceTable::new(),
            limiter: MemoryLimiter::new(limits.memory_bytes),
            stdout,
            stderr,
            ident,
            grants,
            db,
            limits,
            effects: Effects::default(),
            calls,
            logs: Vec::new(),
            usage,
            started: std::time::Instant::now(),
            host_time: std::time::Duration::ZERO,
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
