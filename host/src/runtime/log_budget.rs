//! What an installation's log lines cost across invocations (issue 10):
//! each invocation is bounded (`log_lines`, `log_bytes`), but an app failing
//! hundreds of times a second with 100 lines each would still keep the
//! shared writer busy with its rows. Per installation and minute, at most
//! `log_lines_per_minute` of its own lines (log, stdout, stderr) are kept
//! on this host; past it they are dropped and one `warn` line per minute
//! says how many. The host's `failure` lines are always kept (one per
//! failed invocation, already bounded by admission).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::store::LogLine;

const WINDOW: Duration = Duration::from_secs(60);

#[derive(Debug)]
struct Window {
    started: Instant,
    kept: u32,
    told: bool,
}

/// Lines kept per installation in the current minute.
#[derive(Debug, Default)]
pub(crate) struct LogBudget(Mutex<HashMap<String, Window>>);

impl LogBudget {
    /// Drop the lines of `logs` past the installation's budget (`limit` per
    /// minute); say so once a minute.
    pub(crate) fn apply(&self, installation: &str, logs: &mut Vec<LogLine>, limit: u32) {
        let own = logs.iter().filter(|l| l.level != "failure").count();
        if own == 0 {
            return;
        }
        let now = Instant::now();
        let mut windows = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if windows.len() > 10_000 {
            windows.retain(|_, w| now.duration_since(w.started) < WINDOW);
        }
        let window = windows.entry(installation.to_string()).or_insert(Window {
            started: now,
            kept: 0,
            told: false,
        });
        if now.duration_since(window.started) >= WINDOW {
            *window = Window {
                started: now,
                kept: 0,
                told: false,
            };
        }
        let room = limit.saturating_sub(window.kept) as usize;
        if own <= room {
            window.kept += own as u32;
            return;
        }
        let mut allowed = room;
        let mut dropped = 0usize;
        logs.retain(|l| {
            if l.level == "failure" {
                return true;
            }
            if allowed > 0 {
                allowed -= 1;
                true
            } else {
                dropped += 1;
                false
            }
        });
        window.kept = limit;
        if !window.told {
            window.told = true;
            let template = logs.iter().find(|l| l.level != "failure").or(logs.first());
            if let Some(template) = template.cloned() {
                logs.push(LogLine {
                    level: "warn".into(),
                    message: format!(
                        "log rate limit reached: this installation may write {limit} lines a minute; \
                         {dropped} lines of this invocation and any more this minute are dropped"
                    ),
                    fields: vec![("code".into(), "log_rate".into())],
                    ..template
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(level: &str, message: &str) -> LogLine {
        LogLine {
            at: 0,
            installation_id: Some("i_1".into()),
            app_slug: "probe".into(),
            app_version: "1.0.0".into(),
            level: level.into(),
            message: message.into(),
            fields: Vec::new(),
        }
    }

    #[test]
    fn lines_past_the_budget_are_dropped_failures_kept_and_it_is_said_once() {
        let budget = LogBudget::default();
        let mut first: Vec<LogLine> = (0..80).map(|i| line("info", &format!("a{i}"))).collect();
        budget.apply("i_1", &mut first, 100);
        assert_eq!(first.len(), 80);
        let mut second: Vec<LogLine> = (0..80).map(|i| line("info", &format!("b{i}"))).collect();
        second.push(line("failure", "the app crashed"));
        budget.apply("i_1", &mut second, 100);
        let own: Vec<&LogLine> = second.iter().filter(|l| l.level == "info").collect();
        assert_eq!(own.len(), 20);
        assert!(second.iter().any(|l| l.level == "failure"));
        let told: Vec<&LogLine> = second.iter().filter(|l| l.level == "warn").collect();
        assert_eq!(told.len(), 1);
        assert!(
            told[0].message.contains("60 lines of this invocation"),
            "{}",
            told[0].message
        );
        // Later in the minute: nothing more kept, nothing more said.
        let mut third = vec![line("stdout", "c"), line("failure", "again")];
        budget.apply("i_1", &mut third, 100);
        assert_eq!(third.len(), 1);
        assert_eq!(third[0].level, "failure");
        // Another installation has its own budget.
        let mut other = vec![line("info", "x")];
        budget.apply("i_2", &mut other, 100);
        assert_eq!(other.len(), 1);
    }
}
