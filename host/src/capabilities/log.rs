//! Implementation of the `qun:app/log` interface.
//!
//! Log lines are kept even when the invocation fails: they are how a
//! developer finds out why.

use super::generated::qun::app::log::{Host, Level};
use crate::runtime::InvocationState;

/// Lines one invocation may write; the rest are dropped.
const MAX_LINES: usize = 100;

impl Host for InvocationState {
    async fn write(&mut self, level: Level, message: String, fields: Vec<(String, String)>) {
        let started = std::time::Instant::now();
        // Past the `capability_calls` cap the line is dropped (the call has
        // no error to return; the invocation fails when it ends).
        if let Err(e) = self.calls.admit() {
            self.audit_call::<()>("log.write", started, &Err(e));
            return;
        }
        let level = match level {
            Level::Trace => "trace",
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        };
        let max = self.limits.string_bytes;
        let fields = fields
            .into_iter()
            .take(32)
            .map(|(k, v)| (truncate(k, max), truncate(v, max)))
            .collect();
        if self.logs.len() < MAX_LINES {
            self.push_log(level, truncate(message, max), fields);
        }
        self.audit_call::<()>("log.write", started, &Ok(()));
    }
}

/// At most `max` bytes of `s`, cut at a character boundary.
pub(crate) fn truncate(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}
