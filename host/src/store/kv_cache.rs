//! Apps' stored values as this host last saw them (issue 12 item 2): a key
//! most invocations read and few write (a poll, an event, settings) is read
//! from memory instead of the database.
//!
//! **Correctness does not depend on it.** Every key an invocation read, from
//! here or from the database, is checked against the database before its
//! answer counts: a commit checks the versions it read under the
//! installation's lock, and a read-only invocation that read anything from
//! here checks its reads in one snapshot (`runtime::effects::check_reads`).
//! A value another host changed is therefore caught as a conflict, and the
//! invocation runs again after its keys are forgotten here. What this host
//! commits is kept as it committed it (with the commit's version), so a key
//! written and read by turns (a counter) is read from here too. A stale
//! entry costs one re-run, never a wrong answer; a key read stale (one that
//! several hosts write by turns) is then read from the database for
//! [`BYPASS`].
//!
//! **Bounded.** Values up to [`VALUE_MAX`] bytes are kept, [`BUDGET`] bytes
//! in all, the least recently used dropped first: a hostile app can push
//! other apps' keys out (they are read from the database again), nothing
//! more.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hashlink::LruCache;

use super::KvRow;

/// Larger values are not kept.
pub const VALUE_MAX: usize = 16 * 1024;
/// What all entries may take (keys, values and bookkeeping).
pub const BUDGET: usize = 32 * 1024 * 1024;
/// Counted per entry beside its key and value.
const OVERHEAD: usize = 96;
/// A key found stale is read from the database for this long: one that
/// several hosts write by turns (a counter) would otherwise be stale here
/// every other time, and each time cost a re-run.
pub const BYPASS: Duration = Duration::from_secs(10);
/// Keys bypassing the cache at most (past it, all are let back in).
const BYPASS_MAX: usize = 10_000;

/// (installation, key) → the row as committed (`None`: absent).
pub struct KvCache {
    inner: Mutex<Inner>,
    /// Moves on every forget, so a fill that raced with one is dropped.
    generation: AtomicU64,
    budget: usize,
}

struct Inner {
    entries: LruCache<(String, String), Option<KvRow>>,
    bytes: usize,
    /// Keys read from the database until then (see [`BYPASS`]).
    bypass: HashMap<(String, String), Instant>,
}

impl Inner {
    fn bypassed(&mut self, entry: &(String, String)) -> bool {
        match self.bypass.get(entry) {
            Some(until) if *until > Instant::now() => true,
            Some(_) => {
                self.bypass.remove(entry);
                false
            }
            None => false,
        }
    }
}

/// Taken before a database read whose result may be kept
/// ([`KvCache::put`]).
#[derive(Debug, Clone, Copy)]
pub struct Ticket(u64);

fn size(installation: &str, key: &str, row: &Option<KvRow>) -> usize {
    installation.len() + 2 * key.len() + row.as_ref().map_or(0, |r| r.value.len()) + OVERHEAD
}

impl Default for KvCache {
    fn default() -> Self {
        Self::with_budget(BUDGET)
    }
}

impl KvCache {
    /// A cache of at most `budget` bytes.
    pub fn with_budget(budget: usize) -> KvCache {
        KvCache {
            inner: Mutex::new(Inner {
                entries: LruCache::new_unbounded(),
                bytes: 0,
                bypass: HashMap::new(),
            }),
            generation: AtomicU64::new(0),
            budget,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The row of `key` if it is here (`Some(None)`: known absent); else a
    /// ticket to [`KvCache::put`] what the database answers.
    pub fn get(&self, installation: &str, key: &str) -> Result<Option<KvRow>, Ticket> {
        let ticket = Ticket(self.generation.load(Ordering::Acquire));
        let mut inner = self.lock();
        match inner
            .entries
            .get(&(installation.to_string(), key.to_string()))
        {
            Some(row) => Ok(row.clone()),
            None => Err(ticket),
        }
    }

    /// Keep `row` as `key`'s, unless something was forgotten since
    /// `ticket` was taken or the value is too large.
    pub fn put(&self, ticket: Ticket, installation: &str, key: &str, row: &Option<KvRow>) {
        let mut inner = self.lock();
        if self.generation.load(Ordering::Acquire) != ticket.0 {
            return;
        }
        if inner.bypassed(&(installation.to_string(), key.to_string())) {
            return;
        }
        self.insert(&mut inner, installation, key, row.clone());
    }

    /// `key` as a commit of this host just wrote it (version `row.version`),
    /// unless a later commit's is here already; a deleted key is forgotten.
    pub fn wrote(&self, installation: &str, key: &str, row: Option<KvRow>) {
        let mut inner = self.lock();
        // Reads under way began before this commit: theirs are not kept.
        self.generation.fetch_add(1, Ordering::AcqRel);
        let entry = (installation.to_string(), key.to_string());
        let row = row.filter(|_| !inner.bypassed(&entry));
        match row {
            Some(row) if !matches!(inner.entries.peek(&entry), Some(Some(old)) if old.version > row.version) =>
            {
                self.insert(&mut inner, installation, key, Some(row));
            }
            Some(_) => {}
            None => {
                if let Some(old) = inner.entries.remove(&entry) {
                    inner.bytes -= size(installation, key, &old);
                }
            }
        }
    }

    fn insert(&self, inner: &mut Inner, installation: &str, key: &str, row: Option<KvRow>) {
        let entry = (installation.to_string(), key.to_string());
        if row.as_ref().is_some_and(|r| r.value.len() > VALUE_MAX) {
            if let Some(old) = inner.entries.remove(&entry) {
                inner.bytes -= size(installation, key, &old);
            }
            return;
        }
        let bytes = size(installation, key, &row);
        if let Some(old) = inner.entries.insert(entry, row) {
            inner.bytes -= size(installation, key, &old);
        }
        inner.bytes += bytes;
        while inner.bytes > self.budget {
            match inner.entries.remove_lru() {
                Some(((i, k), old)) => inner.bytes -= size(&i, &k, &old),
                None => break,
            }
        }
    }

    /// Drop `keys` of `installation` (they were written, or read stale).
    pub fn forget<'a>(&self, installation: &str, keys: impl IntoIterator<Item = &'a str>) {
        let mut inner = self.lock();
        self.generation.fetch_add(1, Ordering::AcqRel);
        for key in keys {
            if let Some(old) = inner
                .entries
                .remove(&(installation.to_string(), key.to_string()))
            {
                inner.bytes -= size(installation, key, &old);
            }
        }
    }

    /// `keys` of `installation` were read from here and found stale (or
    /// were part of a conflict): forget them and read them from the
    /// database for [`BYPASS`].
    pub fn contended<'a>(&self, installation: &str, keys: impl IntoIterator<Item = &'a str>) {
        let until = Instant::now() + BYPASS;
        let mut inner = self.lock();
        self.generation.fetch_add(1, Ordering::AcqRel);
        if inner.bypass.len() >= BYPASS_MAX {
            let now = Instant::now();
            inner.bypass.retain(|_, until| *until > now);
            if inner.bypass.len() >= BYPASS_MAX {
                inner.bypass.clear();
            }
        }
        for key in keys {
            let entry = (installation.to_string(), key.to_string());
            if let Some(old) = inner.entries.remove(&entry) {
                inner.bytes -= size(installation, key, &old);
            }
            inner.bypass.insert(entry, until);
        }
    }

    /// Bytes the entries take now.
    pub fn bytes(&self) -> usize {
        self.lock().bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(key: &str, value: &[u8], version: i64) -> Option<KvRow> {
        Some(KvRow {
            key: key.into(),
            value: value.to_vec(),
            version,
        })
    }

    #[test]
    fn a_value_kept_is_read_back_until_it_is_forgotten() {
        let cache = KvCache::default();
        let ticket = cache.get("i1", "poll/1").unwrap_err();
        cache.put(ticket, "i1", "poll/1", &row("poll/1", b"open", 3));
        assert_eq!(
            cache.get("i1", "poll/1").ok(),
            Some(row("poll/1", b"open", 3))
        );
        assert!(
            cache.get("i2", "poll/1").is_err(),
            "another installation's key"
        );
        cache.forget("i1", ["poll/1"]);
        assert!(cache.get("i1", "poll/1").is_err());
        assert_eq!(cache.bytes(), 0);
    }

    #[test]
    fn a_read_that_raced_with_a_forget_is_not_kept() {
        let cache = KvCache::default();
        let ticket = cache.get("i1", "k").unwrap_err();
        // Another invocation commits `k` while this one reads it.
        cache.forget("i1", ["k"]);
        cache.put(ticket, "i1", "k", &row("k", b"old", 1));
        assert!(cache.get("i1", "k").is_err());
    }

    #[test]
    fn a_commit_keeps_what_it_wrote_unless_a_later_one_did() {
        let cache = KvCache::default();
        let reading = cache.get("i1", "k").unwrap_err();
        cache.wrote("i1", "k", row("k", b"v7", 7));
        cache.wrote("i1", "k", row("k", b"v6", 6));
        assert_eq!(cache.get("i1", "k").ok(), Some(row("k", b"v7", 7)));
        // A read that began before the commits is not kept.
        cache.put(reading, "i1", "k", &row("k", b"v5", 5));
        assert_eq!(cache.get("i1", "k").ok(), Some(row("k", b"v7", 7)));
        cache.wrote("i1", "k", None);
        assert!(cache.get("i1", "k").is_err(), "deleted: read again");
    }

    #[test]
    fn a_key_found_stale_is_read_from_the_database_for_a_while() {
        let cache = KvCache::default();
        cache.wrote("i1", "next-id", row("next-id", b"4", 4));
        cache.contended("i1", ["next-id"]);
        assert!(cache.get("i1", "next-id").is_err());
        let ticket = cache.get("i1", "next-id").unwrap_err();
        cache.put(ticket, "i1", "next-id", &row("next-id", b"5", 5));
        cache.wrote("i1", "next-id", row("next-id", b"6", 6));
        assert!(
            cache.get("i1", "next-id").is_err(),
            "not kept while bypassed"
        );
        assert!(cache.get("i1", "other").is_err());
        let ticket = cache.get("i1", "other").unwrap_err();
        cache.put(ticket, "i1", "other", &row("other", b"x", 1));
        assert!(cache.get("i1", "other").is_ok(), "other keys are kept");
        assert_eq!(cache.bytes(), size("i1", "other", &row("other", b"x", 1)));
    }

    #[test]
    fn the_budget_holds_and_large_values_are_not_kept() {
        let cache = KvCache::with_budget(10 * (VALUE_MAX + OVERHEAD + 40));
        for i in 0..100 {
            let key = format!("k{i}");
            let ticket = cache.get("i1", &key).unwrap_err();
            cache.put(ticket, "i1", &key, &row(&key, &vec![0; VALUE_MAX], i));
            assert!(cache.bytes() <= 10 * (VALUE_MAX + OVERHEAD + 40));
        }
        assert!(cache.get("i1", "k99").is_ok(), "the newest stays");
        assert!(cache.get("i1", "k0").is_err(), "the oldest went");
        let ticket = cache.get("i1", "big").unwrap_err();
        cache.put(ticket, "i1", "big", &row("big", &vec![0; VALUE_MAX + 1], 1));
        assert!(cache.get("i1", "big").is_err());
    }
}
