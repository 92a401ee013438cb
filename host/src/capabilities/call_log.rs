//! What one invocation's capability calls leave behind, kept in memory until
//! the invocation ends: counts and time per `interface.function` and outcome
//! (one summary row at most), the denials as rows of their own (up to a
//! bound; errors are counted in the summary, their messages reach the app),
//! and the `capability_calls` cap.

use std::time::Instant;

use super::{Error, error_message};
use crate::runtime::Identity;
use crate::store::{AuditRecord, CallSummary, now_ms};

/// Denials written as rows of their own per invocation; further ones are
/// only counted in the summary.
pub const INDIVIDUAL_ROWS: usize = 100;

/// The capability calls of one invocation attempt.
#[derive(Debug, Default)]
pub struct CallLog {
    summary: CallSummary,
    individual: Vec<AuditRecord>,
    limit: u64,
    exceeded: bool,
}

impl CallLog {
    /// An empty log allowing `limit` calls.
    pub fn new(limit: u64) -> CallLog {
        CallLog {
            limit,
            ..CallLog::default()
        }
    }

    /// Count a call about to be made; `quota-exceeded` past the cap (the
    /// invocation then fails with `capability_calls`, see [`CallLog::exceeded`]).
    pub fn admit(&mut self) -> Result<(), Error> {
        if self.summary.calls >= self.limit {
            self.exceeded = true;
            return Err(Error::QuotaExceeded(format!(
                "this invocation made more than {} capability calls (the `capability_calls` limit)",
                self.limit
            )));
        }
        Ok(())
    }

    /// Whether the app went past the cap.
    pub fn exceeded(&self) -> bool {
        self.exceeded
    }

    /// The cap.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Record a finished call.
    pub fn record<T>(
        &mut self,
        ident: &Identity,
        action: &str,
        started: Instant,
        result: &Result<T, Error>,
    ) {
        let at = now_ms();
        let us = i64::try_from(started.elapsed().as_micros()).unwrap_or(i64::MAX);
        let outcome = match result {
            Ok(_) => "ok",
            Err(Error::Denied(_)) => "denied",
            Err(_) => "error",
        };
        self.summary.add(action, outcome, at, us);
        if let Err(denied @ Error::Denied(_)) = result {
            let mut detail = error_message(denied);
            if self.individual.len() < INDIVIDUAL_ROWS {
                truncate(&mut detail, 1_000);
                self.individual.push(AuditRecord {
                    at,
                    installation_id: Some(ident.installation_id.clone()),
                    app_slug: Some(ident.app_slug.clone()),
                    app_version: Some(ident.app_version.clone()),
                    group_id: Some(ident.group_id.clone()),
                    actor: ident.actor.clone(),
                    action: action.to_string(),
                    outcome: outcome.to_string(),
                    detail: Some(detail),
                    duration_us: us,
                });
            } else {
                self.summary.unlisted += 1;
            }
        }
    }

    /// Whether a denial must be written: such an invocation is not read-only.
    pub fn has_denials(&self) -> bool {
        !self.individual.is_empty()
    }

    /// The summary of this invocation (`None` when it made no call);
    /// `failure` is the error code when it did not commit.
    pub fn summary(&self, ident: &Identity, failure: Option<&str>) -> Option<CallSummary> {
        if self.summary.calls == 0 {
            return None;
        }
        Some(CallSummary {
            installation_id: ident.installation_id.clone(),
            app_slug: ident.app_slug.clone(),
            app_version: ident.app_version.clone(),
            group_id: ident.group_id.clone(),
            actor: ident.actor.clone(),
            invocations: 1,
            attempts: self.summary.attempts + 1,
            failure: failure.map(str::to_string),
            ..self.summary.clone()
        })
    }

    /// Its denial rows alone.
    pub fn denials(&self) -> &[AuditRecord] {
        &self.individual
    }

    /// Count the calls of an earlier attempt of the same invocation (re-run
    /// after a conflict) in this one's summary.
    pub fn carry(&mut self, earlier: Option<CallSummary>) {
        if let Some(earlier) = earlier {
            let invocations = self.summary.invocations;
            self.summary.merge(&earlier);
            self.summary.invocations = invocations;
        }
    }

    /// The rows this invocation leaves: its denials, then one summary row.
    pub fn records(&self, ident: &Identity, failure: Option<&str>) -> Vec<AuditRecord> {
        let mut rows = self.individual.clone();
        rows.extend(self.summary(ident, failure).map(|s| s.record()));
        rows
    }
}

fn truncate(text: &mut String, max: usize) {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ident() -> Identity {
        Identity {
            group_id: "g_1".into(),
            installation_id: "i_1".into(),
            app_slug: "probe".into(),
            app_version: "1.0.0".into(),
            actor: Some("u_1".into()),
        }
    }

    #[test]
    fn fifty_thousand_calls_leave_one_row_and_denials_stay_individual() {
        let mut log = CallLog::new(100_000);
        let started = Instant::now();
        for _ in 0..50_000 {
            log.admit().expect("under the cap");
            log.record(&ident(), "storage.get", started, &Ok::<(), Error>(()));
        }
        for _ in 0..3 {
            log.admit().expect("under the cap");
            log.record::<()>(
                &ident(),
                "messaging.post",
                started,
                &Err(Error::Denied("no".into())),
            );
        }
        let rows = log.records(&ident(), None);
        assert_eq!(rows.len(), 4);
        assert!(rows[..3].iter().all(|r| r.outcome == "denied"));
        assert_eq!(rows[3].action, crate::store::SUMMARY_ACTION);
        assert!(log.has_denials());
        let s = log.summary(&ident(), None).expect("summary");
        assert_eq!(s.calls, 50_003);
        assert_eq!(s.by[&("storage.get".into(), "ok".into())].0, 50_000);
    }

    #[test]
    fn the_cap_refuses_further_calls_and_denial_rows_are_bounded() {
        let mut log = CallLog::new(500);
        let started = Instant::now();
        let mut refused = 0;
        for _ in 0..1_000 {
            let result: Result<(), Error> = log.admit().and(Err(Error::Denied("no".into())));
            if matches!(result, Err(Error::QuotaExceeded(_))) {
                refused += 1;
            }
            log.record(&ident(), "messaging.post", started, &result);
        }
        assert!(log.exceeded());
        assert_eq!(refused, 500);
        let rows = log.records(&ident(), Some("capability_calls"));
        assert_eq!(rows.len(), INDIVIDUAL_ROWS + 1);
        let summary = rows.last().expect("summary");
        assert_eq!(summary.outcome, "error");
        let detail = summary.detail.as_deref().unwrap_or_default();
        assert!(detail.contains("\"unlisted\":400"), "{detail}");
        assert!(
            detail.contains("\"failure\":\"capability_calls\""),
            "{detail}"
        );
    }
}
