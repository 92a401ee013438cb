//! Summaries of capability calls, and the in-memory window that holds the
//! summaries of read-only invocations until they are flushed.
//!
//! An invocation that only read commits nothing and opens no write
//! transaction; its summary is merged here, per installation, and written
//! as one row per installation by [`Store::flush_audit_window`] (every
//! second or so by `qun serve`, and when it shuts down). Memory is bounded
//! by the number of installations times the number of distinct calls.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use super::{AuditRecord, Store, StoreError};

/// The action name of summary rows.
pub const SUMMARY_ACTION: &str = "calls.summary";

/// Capability calls of one or more invocations of one installation, grouped
/// by `interface.function` and outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallSummary {
    /// The installation.
    pub installation_id: String,
    /// Its app.
    pub app_slug: String,
    /// The app version.
    pub app_version: String,
    /// The group.
    pub group_id: String,
    /// The member the invocations ran for (`None` when several, or none).
    pub actor: Option<String>,
    /// When the first summarised call was made (ms).
    pub at: i64,
    /// Invocations summarised.
    pub invocations: u64,
    /// Attempts they took (more than the invocations after conflicts).
    pub attempts: u64,
    /// Calls made.
    pub calls: u64,
    /// Time spent in those calls (µs).
    pub total_us: i64,
    /// (`interface.function`, outcome) → (count, total µs).
    pub by: BTreeMap<(String, String), (u64, i64)>,
    /// Denials and errors not written as their own rows (past the
    /// per-invocation bound).
    pub unlisted: u64,
    /// How the invocation ended when it did not commit (an error code).
    pub failure: Option<String>,
}

impl CallSummary {
    /// Count one call.
    pub fn add(&mut self, action: &str, outcome: &str, at: i64, us: i64) {
        if self.calls == 0 || at < self.at {
            self.at = at;
        }
        self.calls += 1;
        self.total_us += us;
        // A handful of distinct calls: find without allocating.
        match self
            .by
            .iter_mut()
            .find(|((a, o), _)| a == action && o == outcome)
        {
            Some((_, entry)) => {
                entry.0 += 1;
                entry.1 += us;
            }
            None => {
                self.by
                    .insert((action.to_string(), outcome.to_string()), (1, us));
            }
        }
    }

    /// Add another summary of the same installation.
    pub fn merge(&mut self, other: &CallSummary) {
        if other.calls > 0 && (self.calls == 0 || other.at < self.at) {
            self.at = other.at;
        }
        if self.actor != other.actor {
            self.actor = None;
        }
        self.invocations += other.invocations;
        self.attempts += other.attempts;
        self.calls += other.calls;
        self.total_us += other.total_us;
        self.unlisted += other.unlisted;
        for (key, (count, us)) in &other.by {
            let entry = self.by.entry(key.clone()).or_insert((0, 0));
            entry.0 += count;
            entry.1 += us;
        }
    }

    /// The audit row: outcome `ok`, or `error` when the invocation failed;
    /// the groups as JSON in `detail`.
    pub fn record(&self) -> AuditRecord {
        let by: Vec<serde_json::Value> = self
            .by
            .iter()
            .map(|((call, outcome), (count, us))| {
                serde_json::json!({"call": call, "outcome": outcome, "count": count, "us": us})
            })
            .collect();
        let mut detail = serde_json::json!({
            "invocations": self.invocations,
            "calls": self.calls,
            "by": by,
        });
        if self.unlisted > 0 {
            detail["unlisted"] = self.unlisted.into();
        }
        if self.attempts > self.invocations {
            detail["attempts"] = self.attempts.into();
        }
        if let Some(failure) = &self.failure {
            detail["failure"] = failure.clone().into();
        }
        AuditRecord {
            at: self.at,
            installation_id: Some(self.installation_id.clone()),
            app_slug: Some(self.app_slug.clone()),
            app_version: Some(self.app_version.clone()),
            group_id: Some(self.group_id.clone()),
            actor: self.actor.clone(),
            action: SUMMARY_ACTION.to_string(),
            outcome: if self.failure.is_some() {
                "error"
            } else {
                "ok"
            }
            .to_string(),
            detail: Some(detail.to_string()),
            duration_us: self.total_us,
        }
    }
}

/// Summaries of read-only invocations not yet written, per installation
/// (and app version, so a row never mixes versions).
#[derive(Debug, Default)]
pub struct AuditWindow {
    pending: Mutex<HashMap<(String, String), CallSummary>>,
}

impl AuditWindow {
    /// Merge a read-only invocation's summary.
    pub fn add(&self, summary: CallSummary) {
        if summary.calls == 0 {
            return;
        }
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        let key = (summary.installation_id.clone(), summary.app_version.clone());
        match pending.get_mut(&key) {
            Some(existing) => existing.merge(&summary),
            None => {
                pending.insert(key, summary);
            }
        }
    }

    /// Installations with summaries not yet written.
    pub fn len(&self) -> usize {
        self.pending.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Whether nothing waits to be written.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn take(&self) -> Vec<CallSummary> {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        let mut taken: Vec<CallSummary> = pending.drain().map(|(_, s)| s).collect();
        taken.sort_by(|a, b| a.installation_id.cmp(&b.installation_id));
        taken
    }
}

impl Store {
    /// The window of read-only invocations' summaries.
    pub fn audit_window(&self) -> &AuditWindow {
        &self.window
    }

    /// Write every summary waiting in the window: one row per installation,
    /// in one transaction. On failure the summaries are put back.
    pub async fn flush_audit_window(&self) -> Result<usize, StoreError> {
        let taken = self.window.take();
        if taken.is_empty() {
            return Ok(0);
        }
        let records: Vec<AuditRecord> = taken.iter().map(CallSummary::record).collect();
        let written = async {
            let mut tx = self.begin_write().await?;
            tx.insert_audit(&records).await?;
            tx.commit().await
        }
        .await;
        match written {
            Ok(()) => Ok(records.len()),
            Err(e) => {
                for summary in taken {
                    self.window.add(summary);
                }
                Err(e)
            }
        }
    }
}

/// The background task of `qun serve` that flushes the window and anchors
/// the chains' heads.
pub struct AuditFlusher {
    stop: tokio::sync::oneshot::Sender<()>,
    handle: tokio::task::JoinHandle<()>,
}

impl Store {
    /// Flush the window every `every`, and anchor the chains' heads every
    /// `anchor_every`, until [`AuditFlusher::stop`].
    pub fn spawn_audit_flusher(
        &self,
        every: std::time::Duration,
        anchor_every: std::time::Duration,
    ) -> AuditFlusher {
        let store = self.clone();
        let (stop, mut stopped) = tokio::sync::oneshot::channel();
        let handle = tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut last_anchor = tokio::time::Instant::now();
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = &mut stopped => break,
                }
                if let Err(e) = store.flush_audit_window().await {
                    tracing::error!(
                        "could not write the audit summaries of read-only invocations: {e}"
                    );
                }
                if last_anchor.elapsed() >= anchor_every {
                    last_anchor = tokio::time::Instant::now();
                    if let Err(e) = store.anchor_audit_chains().await {
                        tracing::error!("could not anchor the audit chains: {e}");
                    }
                }
            }
            // Shutting down: nothing summarised is lost.
            if let Err(e) = store.flush_audit_window().await {
                tracing::error!(
                    "could not write the audit summaries of read-only invocations: {e}"
                );
            }
            if let Err(e) = store.anchor_audit_chains().await {
                tracing::error!("could not anchor the audit chains: {e}");
            }
        });
        AuditFlusher { stop, handle }
    }
}

impl AuditFlusher {
    /// Flush and anchor one last time, then end.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        if let Err(e) = self.handle.await {
            tracing::error!("the audit flusher ended abnormally: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(actor: &str, calls: &[(&str, &str)]) -> CallSummary {
        let mut s = CallSummary {
            installation_id: "i_1".into(),
            app_slug: "probe".into(),
            app_version: "1.0.0".into(),
            group_id: "g_1".into(),
            actor: Some(actor.into()),
            invocations: 1,
            ..CallSummary::default()
        };
        for (i, (call, outcome)) in calls.iter().enumerate() {
            s.add(call, outcome, 100 + i as i64, 5);
        }
        s
    }

    #[test]
    fn summaries_of_one_installation_merge_into_one_bounded_row() {
        let window = AuditWindow::default();
        for _ in 0..1000 {
            window.add(summary(
                "u_a",
                &[("storage.get", "ok"), ("storage.get", "ok")],
            ));
        }
        window.add(summary("u_b", &[("membership.group", "ok")]));
        let taken = window.take();
        assert_eq!(taken.len(), 1);
        let s = &taken[0];
        assert_eq!(
            (s.invocations, s.calls, s.actor.clone()),
            (1001, 2001, None)
        );
        assert_eq!(s.by[&("storage.get".into(), "ok".into())], (2000, 10_000));
        let record = s.record();
        assert_eq!(record.action, SUMMARY_ACTION);
        assert!(record.detail.is_some_and(|d| d.len() < 500));
        assert!(window.is_empty());
    }
}
