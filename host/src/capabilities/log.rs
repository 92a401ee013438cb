//! Implementation of the `qun:app/log` interface.
//!
//! Log lines are kept even when the invocation fails: they are how a
//! developer finds out why.

use super::generated::qun::app::log::{Host, Level};
use crate::runtime::InvocationState;

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
        // Bounded per line (string_bytes), and per invocation in lines and
        // bytes (log_lines, log_bytes); past that, lines are dropped and one
        // host line says so.
        let max = self.limits.string_bytes;
        let (max_lines, max_bytes) = (self.limits.log_lines, self.limits.log_bytes);
        if self.log_used < max_bytes {
            let message = truncate(message, max);
            let fields: Vec<(String, String)> = fields
                .into_iter()
                .take(32)
                .map(|(k, v)| (truncate(k, max), truncate(v, max)))
                .collect();
            let size = message.len() + fields.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>();
            if self.logs.len() >= max_lines || self.log_used + size > max_bytes {
                self.log_used = max_bytes;
                self.push_log(
                    "warn",
                    format!(
                        "log limit reached: one invocation may write {max_lines} lines of {max_bytes} bytes in all; later lines were dropped"
                    ),
                    vec![("code".into(), "log_limit".into())],
                );
            } else {
                self.log_used += size;
                self.push_log(level, message, fields);
            }
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
