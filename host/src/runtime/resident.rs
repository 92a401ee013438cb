//! The app versions kept loaded (issue 12 item 6): bounded in count and in
//! bytes of compiled code, the least recently used dropped first, so memory
//! follows the apps in use rather than every app ever loaded.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Loaded values by key (an app version's sha256). Dropping one here only
/// drops this map's reference: an invocation under way holds its own `Arc`
/// and keeps the app alive until it ends.
pub(crate) struct Resident<T> {
    max_items: usize,
    max_bytes: usize,
    bytes: usize,
    /// Bumped on every use; entries are ordered by their last one.
    clock: u64,
    items: HashMap<String, Entry<T>>,
    /// Last use → key, least recent first.
    order: BTreeMap<u64, String>,
    evicted: u64,
}

struct Entry<T> {
    value: Arc<T>,
    bytes: usize,
    used: u64,
}

impl<T> Resident<T> {
    /// At most `max_items` values (at least one) and `max_bytes` bytes; a
    /// single value larger than `max_bytes` is still kept while it is the
    /// most recent.
    pub(crate) fn new(max_items: usize, max_bytes: usize) -> Self {
        Resident {
            max_items: max_items.max(1),
            max_bytes,
            bytes: 0,
            clock: 0,
            items: HashMap::new(),
            order: BTreeMap::new(),
            evicted: 0,
        }
    }

    /// The value of `key`, now the most recently used.
    pub(crate) fn get(&mut self, key: &str) -> Option<Arc<T>> {
        let entry = self.items.get_mut(key)?;
        self.order.remove(&entry.used);
        self.clock += 1;
        entry.used = self.clock;
        self.order.insert(self.clock, key.to_string());
        Some(entry.value.clone())
    }

    /// Keep `value` (of `bytes`) as the most recently used, dropping the
    /// least recently used ones while over either bound.
    pub(crate) fn insert(&mut self, key: String, value: Arc<T>, bytes: usize) {
        if let Some(old) = self.items.remove(&key) {
            self.order.remove(&old.used);
            self.bytes -= old.bytes;
        }
        self.clock += 1;
        self.order.insert(self.clock, key.clone());
        self.bytes += bytes;
        self.items.insert(
            key,
            Entry {
                value,
                bytes,
                used: self.clock,
            },
        );
        // The newest entry is last in `order`, and at least one is kept, so
        // it is never the one dropped.
        while self.items.len() > self.max_items
            || (self.bytes > self.max_bytes && self.items.len() > 1)
        {
            let Some((_, oldest)) = self.order.pop_first() else {
                break;
            };
            if let Some(entry) = self.items.remove(&oldest) {
                self.bytes -= entry.bytes;
                self.evicted += 1;
            }
        }
    }

    /// Values kept.
    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    /// Bytes of the values kept.
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    /// Values dropped to stay within the bounds, since the start.
    pub(crate) fn evicted(&self) -> u64 {
        self.evicted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(r: &Resident<u32>) -> Vec<String> {
        r.order.values().cloned().collect()
    }

    #[test]
    fn the_least_recently_used_goes_first_when_over_the_count() {
        let mut r = Resident::new(2, usize::MAX);
        r.insert("a".into(), Arc::new(1), 10);
        r.insert("b".into(), Arc::new(2), 10);
        assert_eq!(r.get("a").as_deref(), Some(&1), "a is now the most recent");
        r.insert("c".into(), Arc::new(3), 10);
        assert!(r.get("b").is_none(), "b was the least recently used");
        assert_eq!(keys(&r), ["a", "c"]);
        assert_eq!((r.len(), r.bytes(), r.evicted()), (2, 20, 1));
    }

    #[test]
    fn bytes_are_bounded_but_the_newest_is_always_kept() {
        let mut r = Resident::new(100, 25);
        r.insert("a".into(), Arc::new(1), 10);
        r.insert("b".into(), Arc::new(2), 10);
        r.insert("c".into(), Arc::new(3), 10);
        assert_eq!(keys(&r), ["b", "c"], "30 bytes > 25: a goes");
        r.insert("huge".into(), Arc::new(4), 1000);
        assert_eq!(
            keys(&r),
            ["huge"],
            "larger than the bound alone, still kept"
        );
        assert_eq!(r.bytes(), 1000);
    }

    #[test]
    fn a_dropped_value_lives_on_for_whoever_holds_it() {
        let mut r = Resident::new(1, usize::MAX);
        r.insert("a".into(), Arc::new(1), 1);
        let held = r.get("a").expect("a");
        r.insert("b".into(), Arc::new(2), 1);
        assert!(r.get("a").is_none());
        assert_eq!(*held, 1, "the holder's Arc is untouched");
    }

    #[test]
    fn inserting_a_key_again_replaces_it() {
        let mut r = Resident::new(10, usize::MAX);
        r.insert("a".into(), Arc::new(1), 10);
        r.insert("a".into(), Arc::new(2), 5);
        assert_eq!((r.len(), r.bytes()), (1, 5));
        assert_eq!(r.get("a").as_deref(), Some(&2));
    }
}
