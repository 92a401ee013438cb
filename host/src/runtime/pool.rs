//! Who may run now: per-installation and per-group turns (fairness between
//! apps and groups), and the instance pool's slots, counted in what each
//! component actually needs (core instances, memories, tables).
//!
//! Waiting for either is back-pressure with a bound: past `admission_wait`
//! an invocation is refused with `busy` (its installation or group has
//! enough running already) or `host_busy` (the host's pool is full). Neither
//! is ever the app's fault.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::limits::Limits;

/// Whose turn it is, per installation and per group.
pub struct Admission {
    installations: Mutex<HashMap<String, Arc<Semaphore>>>,
    groups: Mutex<HashMap<String, Arc<Semaphore>>>,
    per_installation: usize,
    per_group: usize,
    wait: Duration,
}

/// The right to run, held for the whole invocation (all its attempts).
pub struct Turn {
    _installation: OwnedSemaphorePermit,
    _group: OwnedSemaphorePermit,
}

/// Why an invocation may not run now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crowded {
    /// The installation already runs its share.
    Installation(usize),
    /// The apps of the group already run their share.
    Group(usize),
}

impl Admission {
    /// Turns as `limits` say.
    pub fn new(limits: &Limits) -> Admission {
        Admission {
            installations: Mutex::new(HashMap::new()),
            groups: Mutex::new(HashMap::new()),
            per_installation: limits.installation_concurrency.max(1) as usize,
            per_group: limits.group_concurrency.max(1) as usize,
            wait: limits.admission_wait,
        }
    }

    /// Wait (at most `admission_wait`) for a turn of `installation` in `group`.
    pub async fn admit(&self, group: &str, installation: &str) -> Result<Turn, Crowded> {
        let inst = semaphore(&self.installations, installation, self.per_installation);
        let grp = semaphore(&self.groups, group, self.per_group);
        let deadline = tokio::time::Instant::now() + self.wait;
        // Always installation first, then group: no two waiters can hold
        // what the other wants.
        let installation = tokio::time::timeout_at(deadline, inst.acquire_owned())
            .await
            .map_err(|_| Crowded::Installation(self.per_installation))?
            .map_err(|_| Crowded::Installation(self.per_installation))?;
        let group = tokio::time::timeout_at(deadline, grp.acquire_owned())
            .await
            .map_err(|_| Crowded::Group(self.per_group))?
            .map_err(|_| Crowded::Group(self.per_group))?;
        Ok(Turn {
            _installation: installation,
            _group: group,
        })
    }
}

fn semaphore(map: &Mutex<HashMap<String, Arc<Semaphore>>>, key: &str, n: usize) -> Arc<Semaphore> {
    let mut map = map.lock().unwrap_or_else(|p| p.into_inner());
    if map.len() > 10_000 {
        // Forget idle entries (nobody holds or waits for them).
        map.retain(|_, s| Arc::strong_count(s) > 1 || s.available_permits() < n);
    }
    map.entry(key.to_string())
        .or_insert_with(|| Arc::new(Semaphore::new(n)))
        .clone()
}

/// What one instance of a component takes from the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Needs {
    /// Core wasm instances.
    pub core_instances: u32,
    /// Linear memories.
    pub memories: u32,
    /// Tables.
    pub tables: u32,
}

impl std::fmt::Display for Needs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} core instances, {} memories, {} tables",
            self.core_instances, self.memories, self.tables
        )
    }
}

/// Core instances a component creates when instantiated: every core
/// `instantiate` in it and in its nested components. Read from the bytes,
/// before compiling anything.
pub fn core_instances_of(bytes: &[u8]) -> Result<u32, String> {
    let mut count: u32 = 0;
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        let payload = payload.map_err(|e| e.to_string())?;
        if let wasmparser::Payload::InstanceSection(reader) = payload {
            for instance in reader {
                if let wasmparser::Instance::Instantiate { .. } =
                    instance.map_err(|e| e.to_string())?
                {
                    count = count.saturating_add(1);
                }
            }
        }
    }
    Ok(count)
}

/// The instance pool: how much of it is free, in the units wasmtime's
/// pooling allocator counts, so an invocation waits here instead of failing
/// inside wasmtime.
pub struct InstancePool {
    slots: Arc<Semaphore>,
    core_instances: Arc<Semaphore>,
    memories: Arc<Semaphore>,
    tables: Arc<Semaphore>,
    /// The most one component may need (a quarter of each total).
    pub max: Needs,
    /// The totals.
    pub total: Needs,
    wait: Duration,
}

/// Slots of the pool held by one live instance; release only after its
/// wasmtime `Store` is dropped.
pub struct PoolPermit {
    _permits: [OwnedSemaphorePermit; 4],
}

/// The pool stayed full for the whole wait.
#[derive(Debug, Clone, Copy)]
pub struct PoolFull;

impl InstancePool {
    /// The pool for `limits` (the same numbers the engine is configured with).
    pub fn new(limits: &Limits) -> InstancePool {
        let total = totals(limits);
        InstancePool {
            slots: Arc::new(Semaphore::new(limits.concurrent_invocations.max(1) as usize)),
            core_instances: Arc::new(Semaphore::new(total.core_instances as usize)),
            memories: Arc::new(Semaphore::new(total.memories as usize)),
            tables: Arc::new(Semaphore::new(total.tables as usize)),
            max: per_component(limits),
            total,
            wait: limits.admission_wait,
        }
    }

    /// Whether one instance needing `needs` could ever run here.
    pub fn fits(&self, needs: &Needs) -> bool {
        needs.core_instances <= self.max.core_instances
            && needs.memories <= self.max.memories
            && needs.tables <= self.max.tables
    }

    /// Instance slots free right now.
    pub fn free_slots(&self) -> usize {
        self.slots.available_permits()
    }

    /// Wait (at most `admission_wait`) until the pool has room for `needs`.
    pub async fn acquire(&self, needs: &Needs) -> Result<PoolPermit, PoolFull> {
        let deadline = tokio::time::Instant::now() + self.wait;
        let take = |s: &Arc<Semaphore>, n: u32| {
            let s = s.clone();
            async move {
                tokio::time::timeout_at(deadline, s.acquire_many_owned(n))
                    .await
                    .map_err(|_| PoolFull)?
                    .map_err(|_| PoolFull)
            }
        };
        // One order for everyone.
        let slot = take(&self.slots, 1).await?;
        let core = take(
            &self.core_instances,
            needs.core_instances.min(self.max.core_instances),
        )
        .await?;
        let memories = take(&self.memories, needs.memories.min(self.max.memories)).await?;
        let tables = take(&self.tables, needs.tables.min(self.max.tables)).await?;
        Ok(PoolPermit {
            _permits: [slot, core, memories, tables],
        })
    }
}

/// The pool's totals for `limits`.
pub fn totals(limits: &Limits) -> Needs {
    Needs {
        core_instances: limits.pool_core_instances.max(4),
        memories: limits.pool_memories.max(4),
        tables: limits.pool_tables.max(4),
    }
}

/// The most one component may need: a quarter of each total, so at least
/// four instances fit at once.
pub fn per_component(limits: &Limits) -> Needs {
    let t = totals(limits);
    Needs {
        core_instances: t.core_instances / 4,
        memories: t.memories / 4,
        tables: t.tables / 4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_crowded_installation_waits_then_is_refused() {
        let limits = Limits {
            installation_concurrency: 1,
            group_concurrency: 2,
            admission_wait: Duration::from_millis(20),
            ..Limits::default()
        };
        let admission = Admission::new(&limits);
        let first = admission.admit("g", "a").await;
        assert!(first.is_ok());
        assert_eq!(
            admission.admit("g", "a").await.err(),
            Some(Crowded::Installation(1))
        );
        let other = admission.admit("g", "b").await;
        assert!(other.is_ok());
        assert_eq!(
            admission.admit("g", "c").await.err(),
            Some(Crowded::Group(2))
        );
        drop(first);
        let again = admission.admit("g", "a").await;
        assert!(again.is_ok(), "a turn given back is taken again");
        assert_eq!(
            admission.admit("g", "c").await.err(),
            Some(Crowded::Group(2))
        );
        drop(other);
        assert!(admission.admit("g", "c").await.is_ok());
    }

    #[tokio::test]
    async fn the_pool_waits_for_room_and_refuses_past_the_wait() {
        let limits = Limits {
            pool_core_instances: 16,
            admission_wait: Duration::from_millis(20),
            ..Limits::default()
        };
        let pool = InstancePool::new(&limits);
        let big = Needs {
            core_instances: 4,
            memories: 1,
            tables: 1,
        };
        assert!(pool.fits(&big));
        assert!(!pool.fits(&Needs {
            core_instances: 5,
            ..big
        }));
        let held: Vec<_> = futures::future::join_all((0..4).map(|_| pool.acquire(&big))).await;
        assert!(held.iter().all(|p| p.is_ok()));
        assert!(pool.acquire(&big).await.is_err());
        drop(held);
        assert!(pool.acquire(&big).await.is_ok());
    }
}
