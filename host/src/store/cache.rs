//! What every request reads and what rarely changes, kept in memory
//! (issue 12 item 2): token → user, group membership and role, an
//! installation with its grants, suspension and group settings, a stored
//! version, an app's active rollout (issue 16; every rollout step and
//! rollback invalidates).
//!
//! **Invalidation.** Every write to the tables these come from (tokens,
//! users, members, installations, apps, app versions, groups; not the
//! installation's storage usage) calls [`Store::cache_changed`] or
//! [`WriteTx::invalidate_cache`]; the whole cache is then dropped (such
//! writes are rare: a revoked token, a new member, a grant). Locally that
//! happens when the write commits, before the request that wrote returns.
//! Other hosts learn of it this way:
//! - **PostgreSQL**: the write also sends `NOTIFY qun_cache` in its own
//!   transaction; every host LISTENs and drops its cache when the
//!   notification arrives (after the commit, within the notification's
//!   delivery time: about a millisecond on a healthy link). While a host's
//!   listening connection is down it caches nothing and reads every request
//!   from the database; after it reconnects it starts from an empty cache.
//! - **SQLite** (processes on one machine by construction: WAL needs shared
//!   memory): a small file beside the database (`<db>.qun-cache`) holds a
//!   random stamp that every invalidation rewrites; every cache lookup reads
//!   it (one `pread`, no query) and drops the cache when it changed, so a
//!   second process on the same file honours a change from its next
//!   request on.
//! The commit path never relies on the cache: it re-reads the installation,
//! its grants and the suspension under the installation's lock, so a
//! revoked grant or a suspended app drops the effects of an invocation that
//! started on stale data.
//!
//! A fill that raced with an invalidation is not kept: each entry is put
//! only if no invalidation happened since the read that produced it began
//! (a generation counter).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use super::{ActiveRollout, AppVersion, Installation, Member, StoreError, TokenInfo, User};

/// The PostgreSQL channel invalidations are sent on.
pub(crate) const CHANNEL: &str = "qun_cache";

/// Past this many entries of one kind the kind is emptied (a bound on
/// memory, not an eviction policy: the working set refills it).
const MAX_ENTRIES: usize = 100_000;

#[derive(Default)]
struct Maps {
    /// sha256 of the token → its user and row (only tokens that worked).
    tokens: HashMap<String, (User, TokenInfo)>,
    /// (group, user) → membership.
    members: HashMap<(String, String), Member>,
    /// installation id → installation.
    installations: HashMap<String, Installation>,
    /// (group, app slug) → installation id.
    installed: HashMap<(String, String), String>,
    /// (app slug, version) → version.
    versions: HashMap<(String, String), AppVersion>,
    /// app slug → its active rollout, if any (issue 16).
    rollouts: HashMap<String, Option<ActiveRollout>>,
}

/// The cache; one per [`super::Store`] (shared by its clones).
pub(crate) struct Cache {
    maps: Mutex<Maps>,
    /// Bumped by every invalidation.
    generation: AtomicU64,
    /// Whether entries may be used: always on SQLite; on PostgreSQL only
    /// while this host listens for other hosts' invalidations.
    live: AtomicBool,
    /// Set by [`super::Store::close`]: the listener stops.
    closed: tokio::sync::Notify,
    /// SQLite: the stamp file shared with other processes on the database.
    stamp: Option<StampFile>,
}

/// SQLite: the file beside the database whose 8 bytes change with every
/// invalidation, and the stamp this process saw last.
struct StampFile {
    file: std::fs::File,
    seen: AtomicU64,
}

impl StampFile {
    fn open(path: &std::path::Path) -> std::io::Result<StampFile> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        let stamp = StampFile {
            file,
            seen: AtomicU64::new(0),
        };
        if stamp.read().is_none() {
            stamp.write()?;
        }
        if let Some(now) = stamp.read() {
            stamp.seen.store(now, Ordering::Release);
        }
        Ok(stamp)
    }

    fn read(&self) -> Option<u64> {
        use std::os::unix::fs::FileExt;
        let mut bytes = [0u8; 8];
        self.file.read_exact_at(&mut bytes, 0).ok()?;
        Some(u64::from_le_bytes(bytes))
    }

    /// A new random stamp (only inequality matters).
    fn write(&self) -> std::io::Result<()> {
        use std::os::unix::fs::FileExt;
        let stamp = uuid::Uuid::new_v4().as_u64_pair().0;
        self.file.write_all_at(&stamp.to_le_bytes(), 0)?;
        self.seen.store(stamp, Ordering::Release);
        Ok(())
    }
}

/// A read about to fill the cache: the generation it started at.
#[derive(Clone, Copy)]
pub(crate) struct Ticket(Option<u64>);

impl Cache {
    /// A cache for PostgreSQL: not live until [`listen`] succeeds.
    pub(crate) fn postgres() -> Arc<Cache> {
        Cache::new(false, None)
    }

    /// A cache for the SQLite database at `path` (`None`: in memory, one
    /// process). Without its stamp file nothing is cached.
    pub(crate) fn sqlite(path: Option<&std::path::Path>) -> Arc<Cache> {
        let Some(path) = path else {
            return Cache::new(true, None);
        };
        let mut name = path.as_os_str().to_owned();
        name.push(".qun-cache");
        match StampFile::open(std::path::Path::new(&name)) {
            Ok(stamp) => Cache::new(true, Some(stamp)),
            Err(e) => {
                tracing::warn!("cannot open {name:?} ({e}); caching off");
                Cache::new(false, None)
            }
        }
    }

    fn new(live: bool, stamp: Option<StampFile>) -> Arc<Cache> {
        Arc::new(Cache {
            maps: Mutex::new(Maps::default()),
            generation: AtomicU64::new(0),
            live: AtomicBool::new(live),
            closed: tokio::sync::Notify::new(),
            stamp,
        })
    }

    fn maps(&self) -> std::sync::MutexGuard<'_, Maps> {
        self.maps.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether entries may be used now; on SQLite, first drops the cache
    /// if another process invalidated it.
    fn live(&self) -> bool {
        if !self.live.load(Ordering::Acquire) {
            return false;
        }
        if let Some(stamp) = &self.stamp {
            let Some(now) = stamp.read() else {
                self.drop_all();
                return false;
            };
            // Dropped before the new stamp counts as seen, so no thread
            // uses an entry from before it.
            if now != stamp.seen.load(Ordering::Acquire) {
                self.drop_all();
                stamp.seen.store(now, Ordering::Release);
            }
        }
        true
    }

    fn drop_all(&self) {
        let mut maps = self.maps();
        self.generation.fetch_add(1, Ordering::AcqRel);
        *maps = Maps::default();
    }

    /// Drop everything cached, here and (SQLite) in the other processes on
    /// the same database. PostgreSQL's other hosts learn it by `NOTIFY`.
    pub(crate) fn invalidate(&self) {
        self.drop_all();
        if let Some(stamp) = &self.stamp
            && let Err(e) = stamp.write()
        {
            // Other processes cannot be told: stop caching here too, so the
            // failure is at least visible (and local answers stay exact).
            tracing::error!("cannot write the cache stamp ({e}); caching off");
            self.live.store(false, Ordering::Release);
        }
    }

    fn set_live(&self, live: bool) {
        // Nothing cached before the change counts.
        self.drop_all();
        self.live.store(live, Ordering::Release);
        self.drop_all();
    }

    /// Before reading what is to be cached.
    fn ticket(&self) -> Ticket {
        Ticket(self.live().then(|| self.generation.load(Ordering::Acquire)))
    }

    /// Keep an entry read under `ticket`, unless an invalidation came between.
    fn put(&self, ticket: Ticket, f: impl FnOnce(&mut Maps)) {
        let Some(generation) = ticket.0 else { return };
        if !self.live() {
            return;
        }
        let mut maps = self.maps();
        if self.generation.load(Ordering::Acquire) == generation {
            f(&mut maps);
        }
    }

    fn get<T>(&self, f: impl FnOnce(&Maps) -> Option<T>) -> Option<T> {
        if !self.live() {
            return None;
        }
        f(&self.maps())
    }

    // ---- per kind ----------------------------------------------------------

    pub(crate) fn token(&self, hash: &str) -> Result<(User, TokenInfo), Ticket> {
        self.get(|m| m.tokens.get(hash).cloned())
            .ok_or_else(|| self.ticket())
    }

    pub(crate) fn put_token(&self, ticket: Ticket, hash: String, entry: (User, TokenInfo)) {
        self.put(ticket, |m| {
            bound(&mut m.tokens);
            m.tokens.insert(hash, entry);
        });
    }

    pub(crate) fn member(&self, group: &str, user: &str) -> Result<Member, Ticket> {
        self.get(|m| {
            m.members
                .get(&(group.to_string(), user.to_string()))
                .cloned()
        })
        .ok_or_else(|| self.ticket())
    }

    pub(crate) fn put_member(&self, ticket: Ticket, group: &str, member: Member) {
        self.put(ticket, |m| {
            bound(&mut m.members);
            m.members
                .insert((group.to_string(), member.user_id.clone()), member);
        });
    }

    pub(crate) fn installation(&self, id: &str) -> Result<Installation, Ticket> {
        self.get(|m| m.installations.get(id).cloned())
            .ok_or_else(|| self.ticket())
    }

    pub(crate) fn installed(&self, group: &str, slug: &str) -> Result<Installation, Ticket> {
        self.get(|m| {
            let id = m.installed.get(&(group.to_string(), slug.to_string()))?;
            m.installations.get(id).cloned()
        })
        .ok_or_else(|| self.ticket())
    }

    pub(crate) fn put_installation(&self, ticket: Ticket, inst: Installation) {
        self.put(ticket, |m| {
            bound(&mut m.installations);
            bound(&mut m.installed);
            m.installed.insert(
                (inst.group_id.clone(), inst.app_slug.clone()),
                inst.id.clone(),
            );
            m.installations.insert(inst.id.clone(), inst);
        });
    }

    /// The storage use an invocation's commit left (an installation's
    /// usage is not invalidated by writes; the commit checks the quota on
    /// what is stored, this only feeds the app's early checks).
    pub(crate) fn note_usage(&self, id: &str, bytes: i64, keys: i64) {
        if let Some(inst) = self.maps().installations.get_mut(id) {
            inst.storage_bytes = bytes;
            inst.storage_keys = keys;
        }
    }

    pub(crate) fn version(&self, slug: &str, version: &str) -> Result<AppVersion, Ticket> {
        self.get(|m| {
            m.versions
                .get(&(slug.to_string(), version.to_string()))
                .cloned()
        })
        .ok_or_else(|| self.ticket())
    }

    pub(crate) fn put_version(&self, ticket: Ticket, v: AppVersion) {
        self.put(ticket, |m| {
            bound(&mut m.versions);
            m.versions
                .insert((v.app_slug.clone(), v.version.clone()), v);
        });
    }

    pub(crate) fn rollout(&self, slug: &str) -> Result<Option<ActiveRollout>, Ticket> {
        self.get(|m| m.rollouts.get(slug).cloned())
            .ok_or_else(|| self.ticket())
    }

    pub(crate) fn put_rollout(&self, ticket: Ticket, slug: &str, active: Option<ActiveRollout>) {
        self.put(ticket, |m| {
            bound(&mut m.rollouts);
            m.rollouts.insert(slug.to_string(), active);
        });
    }

    /// Stop the listener (the store is closing).
    pub(crate) fn close(&self) {
        self.live.store(false, Ordering::Release);
        self.closed.notify_waiters();
        self.closed.notify_one();
    }
}

fn bound<K, V>(map: &mut HashMap<K, V>) {
    if map.len() >= MAX_ENTRIES {
        map.clear();
    }
}

/// PostgreSQL: listen for other hosts' invalidations for as long as the
/// cache lives; the cache is live only while listening. Returns once the
/// first `LISTEN` was tried (live if it worked).
pub(crate) async fn listen(url: String, cache: &Arc<Cache>) {
    let weak = Arc::downgrade(cache);
    let first = connect(&url).await;
    let listening = first.is_ok();
    if let Err(e) = &first {
        tracing::warn!("cannot LISTEN for cache invalidations ({e}); caching off until it can");
    }
    cache.set_live(listening);
    tokio::spawn(run(url, weak, first.ok()));
}

async fn connect(url: &str) -> Result<sqlx::postgres::PgListener, StoreError> {
    let mut listener = sqlx::postgres::PgListener::connect(url).await?;
    // A lost connection is reported at once (notifications may have been
    // missed): caching stops until listening again.
    listener.eager_reconnect(false);
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

async fn run(url: String, cache: Weak<Cache>, mut listener: Option<sqlx::postgres::PgListener>) {
    loop {
        let Some(strong) = cache.upgrade() else {
            return;
        };
        let Some(mut l) = listener.take() else {
            match connect(&url).await {
                Ok(l) => {
                    tracing::info!("listening for cache invalidations again");
                    strong.set_live(true);
                    listener = Some(l);
                }
                Err(_) => {
                    drop(strong);
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
            continue;
        };
        let received = tokio::select! {
            r = l.try_recv() => r,
            () = strong.closed.notified() => return,
        };
        match received {
            Ok(Some(_)) => {
                strong.drop_all();
                listener = Some(l);
            }
            Ok(None) | Err(_) => {
                tracing::warn!(
                    "lost the cache invalidation listener; caching off until it is back"
                );
                strong.set_live(false);
                drop(l);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Profile, Role};

    fn member(id: &str) -> Member {
        Member {
            user_id: id.into(),
            name: id.into(),
            display_name: id.into(),
            role: Role::Member,
            joined_at: 0,
            profile: Profile::default(),
        }
    }

    fn temp_db() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("qun-cache-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir.join("qun.db")
    }

    #[test]
    fn a_fill_that_raced_an_invalidation_is_not_kept() {
        let cache = Cache::sqlite(None);
        let Err(ticket) = cache.member("g", "u") else {
            panic!("empty cache")
        };
        cache.invalidate();
        cache.put_member(ticket, "g", member("u"));
        assert!(cache.member("g", "u").is_err());
        let Err(ticket) = cache.member("g", "u") else {
            panic!("still empty")
        };
        cache.put_member(ticket, "g", member("u"));
        assert!(cache.member("g", "u").is_ok());
    }

    #[test]
    fn another_process_on_the_same_sqlite_file_drops_its_cache() {
        let path = temp_db();
        let (a, b) = (Cache::sqlite(Some(&path)), Cache::sqlite(Some(&path)));
        for cache in [&a, &b] {
            let Err(ticket) = cache.member("g", "u") else {
                panic!("empty cache")
            };
            cache.put_member(ticket, "g", member("u"));
            assert!(cache.member("g", "u").is_ok());
        }
        a.invalidate();
        assert!(a.member("g", "u").is_err());
        assert!(b.member("g", "u").is_err(), "b saw a's stamp");
        // A fill b started before a's invalidation is not kept either.
        let Err(ticket) = b.member("g", "u") else {
            panic!("empty cache")
        };
        a.invalidate();
        b.put_member(ticket, "g", member("u"));
        assert!(b.member("g", "u").is_err());
        let _ = std::fs::remove_dir_all(path.parent().expect("dir"));
    }

    #[test]
    fn a_postgres_cache_is_off_until_it_listens() {
        let cache = Cache::postgres();
        let ticket = cache.ticket();
        cache.put_member(ticket, "g", member("u"));
        assert!(cache.member("g", "u").is_err());
        cache.set_live(true);
        let Err(ticket) = cache.member("g", "u") else {
            panic!("empty cache")
        };
        cache.put_member(ticket, "g", member("u"));
        assert!(cache.member("g", "u").is_ok());
        cache.set_live(false);
        assert!(cache.member("g", "u").is_err());
    }
}
