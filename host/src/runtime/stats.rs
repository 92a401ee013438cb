//! Invocation counts, errors and latency per app version, on this host since
//! it started (issue 14: the developer console). Kept in memory, one entry
//! per version invoked: bounded by the versions stored.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// One version's numbers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VersionStats {
    /// Invocations that ran (or tried to).
    pub invocations: u64,
    /// Of those, how many failed (the app's error, a trap, a timeout, the
    /// host refusing it).
    pub errors: u64,
    /// Total time, in microseconds.
    pub total_us: u64,
    /// The slowest one, in microseconds.
    pub max_us: u64,
}

/// Every version's numbers.
#[derive(Debug)]
pub struct Stats {
    /// When counting started (ms since the epoch).
    pub since: i64,
    by_version: Mutex<HashMap<(String, String), VersionStats>>,
}

impl Default for Stats {
    fn default() -> Self {
        Stats {
            since: crate::store::now_ms(),
            by_version: Mutex::new(HashMap::new()),
        }
    }
}

impl Stats {
    /// Count one invocation of `slug` `version`.
    pub fn record(&self, slug: &str, version: &str, failed: bool, took: Duration) {
        let us = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        let mut map = self.by_version.lock().unwrap_or_else(|p| p.into_inner());
        let entry = map
            .entry((slug.to_string(), version.to_string()))
            .or_default();
        entry.invocations += 1;
        entry.errors += u64::from(failed);
        entry.total_us = entry.total_us.saturating_add(us);
        entry.max_us = entry.max_us.max(us);
    }

    /// The numbers of every version of `slug` invoked so far.
    pub fn of_app(&self, slug: &str) -> Vec<(String, VersionStats)> {
        let map = self.by_version.lock().unwrap_or_else(|p| p.into_inner());
        let mut out: Vec<_> = map
            .iter()
            .filter(|((s, _), _)| s == slug)
            .map(|((_, v), stats)| (v.clone(), *stats))
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_kept_per_version() {
        let stats = Stats::default();
        stats.record("polls", "1.0.0", false, Duration::from_millis(2));
        stats.record("polls", "1.0.0", true, Duration::from_millis(6));
        stats.record("polls", "1.1.0", false, Duration::from_millis(1));
        stats.record("events", "1.0.0", false, Duration::from_millis(1));
        let polls = stats.of_app("polls");
        assert_eq!(polls.len(), 2);
        assert_eq!(
            polls[0],
            (
                "1.0.0".to_string(),
                VersionStats {
                    invocations: 2,
                    errors: 1,
                    total_us: 8000,
                    max_us: 6000
                }
            )
        );
        assert_eq!(polls[1].1.invocations, 1);
    }
}
