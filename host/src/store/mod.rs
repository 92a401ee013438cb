//! The persistent store: sqlx over SQLite (the embedded default) or PostgreSQL.
//!
//! Both backends are reached through sqlx's `Any` driver with one set of SQL
//! statements (`$1` placeholders work on both); where the dialects differ the
//! code branches on [`Backend`]. Migrations are kept per backend.

mod apps;
mod audit;
mod audit_verify;
mod audit_window;
mod cache;
mod commands;
mod commit;
mod conns;
// Issue 16: developer mode.
mod dev;
mod elements;
// Issue 17: files.
mod files;
mod forms;
mod groups;
mod installations;
pub mod iso4217;
mod kv;
pub mod kv_cache;
pub mod ledger;
mod logs;
mod messages;
mod outbox;
pub mod payments;
mod post_batch;
// Issue 16: rollouts.
pub mod rollouts;
mod sqlite_sync;
// Issue 13 (contract 0.2, HTTP side).
mod timeline;
mod timers;
mod tokens;
// Issue 15: uploads compile outside the request.
mod replays;
mod uploads;
mod users;

pub use apps::{App, AppVersion, VersionStatus};
pub use audit::{AuditQuery, AuditRecord, AuditRow, AuditVerification, BrokenLink};
pub use audit_window::{AuditFlusher, AuditWindow, CallSummary, SUMMARY_ACTION};
pub use commands::{CommandClash, CommandConflict, CommandRoute, GroupCommand};
pub use commit::{AtOnce, AtOnceDone, Posting, Refusal};
pub use elements::{ElementKind, ElementRef};
pub use files::{FileRow, FileUsage, SweepReport};
pub use forms::{NewForm, StoredForm};
pub use groups::{Group, Member, Profile, Role};
pub use installations::{Installation, InstallationChange, InstallationNow};
pub use kv::{KvRow, KvSnapshot, ListQuery, PageSeen, Ticked, kv_snapshot_is_one_statement};
pub use ledger::{Balance, LedgerReport};
pub use logs::{LogLine, LogRow, incident_id};
pub use messages::{DirectMessage, NewMessage, StoredMessage, card_to_blocks};
pub use outbox::{EventBody, Failure, OutboxEvent, PaymentView, event_id};
pub use payments::{Decided, Decision, PaymentError, PaymentRecord, PaymentState};
pub use rollouts::{
    ActiveRollout, NewRollout, Rollout, RolloutCounts, RolloutInstallation, RolloutOutcome,
    RolloutRefusal, RolloutStatus,
};
pub use timers::{DueTimer, Timer};
pub use tokens::{Authenticated, TokenInfo, TokenScope};
pub use uploads::{Upload, UploadStatus};
pub use users::User;
// Settings a group's managers and members change (issue 13 items 7-8).
pub use groups::GroupSettings;
pub use users::ProfileChange;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor, SqlSafeStr};
use tokio::sync::{Mutex, OwnedMutexGuard};

/// Which database a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// One SQLite file (WAL).
    Sqlite,
    /// A PostgreSQL server, possibly shared by several hosts.
    Postgres,
}

/// A store failure. Callers map these to their own errors; the message is for
/// logs, never for clients.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database reported an error.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A migration failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The URL names a database kind Qun does not support.
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://...")]
    UnsupportedUrl(String),
    /// A row holds data this version of Qun cannot read.
    #[error("corrupt row: {0}")]
    Corrupt(String),
    // Issue 10 item 5.
    /// An install or upgrade would take a command another installed app of
    /// the group answers; nothing was changed.
    #[error("command conflict: {} {} declares commands other apps answer", .0.app, .0.version)]
    CommandConflict(CommandConflict),
    /// A rollout step was refused (issue 16); nothing was changed.
    #[error(transparent)]
    Rollout(RolloutRefusal),
    /// The blob store (file bytes) failed (issue 17).
    #[error(transparent)]
    Blobs(#[from] crate::blobs::BlobError),
}

/// Handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    /// The pool's connections for reads and transactions on the hot paths
    /// (see [`conns`]).
    conns: Arc<conns::Stash>,
    backend: Backend,
    /// SQLite has one writer at a time; queueing writers here (instead of in
    /// SQLite's busy handler) keeps write transactions short and fair.
    writer: Arc<Mutex<()>>,
    /// SQLite only: connections with `synchronous = FULL`, for transactions
    /// that move money (see [`Store::begin_durable`]).
    durable: Option<Arc<conns::Stash>>,
    /// Summaries of read-only invocations not yet written (issue 12 item 1).
    window: Arc<AuditWindow>,
    /// Tokens, members, installations, versions (issue 12 item 2; see
    /// [`cache`] for how it stays correct across hosts).
    cache: Arc<cache::Cache>,
    /// Apps' stored values as this host last saw them (see [`kv_cache`]).
    kv_cache: Arc<kv_cache::KvCache>,
    /// Members' plain posts waiting for their group's batch (PostgreSQL,
    /// see [`post_batch`]).
    posts: Arc<post_batch::PostBatch>,
    /// Where file bytes live (issue 17).
    blobs: crate::blobs::Blobs,
    /// The audit chains' heads as this host last appended to them.
    heads: Arc<audit::ChainHeads>,
}

/// A write transaction; commits only through [`WriteTx::commit`].
pub struct WriteTx {
    pub(crate) tx: conns::Conn,
    backend: Backend,
    _writer: Option<OwnedMutexGuard<()>>,
    /// Set when this transaction changes what the cache holds.
    cache: Option<Arc<cache::Cache>>,
    invalidates: bool,
    /// The audit chains' heads this host knows (see [`audit::ChainHeads`]).
    heads: Option<Arc<audit::ChainHeads>>,
    /// Chains this transaction appended to: (chain, seq, head), noted in
    /// `heads` once it commits.
    moved_heads: Vec<(String, i64, String)>,
    /// The locks ([`WriteTx::lock`]) this transaction holds.
    locks: Vec<String>,
}

impl WriteTx {
    /// Commit everything written through this transaction.
    pub async fn commit(mut self) -> Result<(), StoreError> {
        self.tx.commit().await?;
        if self.invalidates
            && let Some(cache) = &self.cache
        {
            cache.invalidate();
        }
        if let Some(heads) = &self.heads {
            for (chain, seq, head) in self.moved_heads {
                heads.note(chain, seq, head);
            }
        }
        Ok(())
    }

    /// This transaction changes a token, a user, a membership, an
    /// installation, an app or a group: every host's cache is dropped when
    /// it commits (on PostgreSQL by a `NOTIFY` sent in the transaction).
    pub async fn invalidate_cache(&mut self) -> Result<(), StoreError> {
        if self.invalidates {
            return Ok(());
        }
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_notify($1, '')")
                .bind(cache::CHANNEL)
                .execute(&mut *self.tx)
                .await?;
        }
        self.invalidates = true;
        Ok(())
    }

    /// Serialise this transaction against every other one that takes the same
    /// `name` (per installation, per group). On SQLite writers are already
    /// serialised; on PostgreSQL this is a transaction-scoped advisory lock.
    pub async fn lock(&mut self, name: &str) -> Result<(), StoreError> {
        if self.locks.iter().any(|held| held == name) {
            return Ok(());
        }
        self.locks.push(name.to_string());
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(lock_key(name))
                .execute(&mut *self.tx)
                .await?;
        }
        Ok(())
    }
}

/// `$first, $first+1, …`: `n` numbered parameters.
pub(crate) fn params(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `($first, …), (…)`: `rows` tuples of `columns` numbered parameters each,
/// from `$first` on (a multi-row `VALUES` list).
pub(crate) fn value_rows(rows: usize, columns: usize, first: usize) -> String {
    (0..rows)
        .map(|row| {
            let marks: Vec<String> = (0..columns)
                .map(|c| format!("${}", first + row * columns + c))
                .collect();
            format!("({})", marks.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A stable 64-bit key for an advisory lock name (FNV-1a).
fn lock_key(name: &str) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in name.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash as i64
}

impl Store {
    /// Connect to `url` (`sqlite://path` or `postgres://...`) and run migrations.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_string()));
        };
        let options = AnyConnectOptions::from_str(url)?;
        let sqlite_file = match backend {
            Backend::Sqlite => sqlx::sqlite::SqliteConnectOptions::from_str(url)
                .ok()
                .filter(|o| o.get_filename() != std::path::Path::new(":memory:"))
                .map(|o| o.get_filename().to_path_buf()),
            Backend::Postgres => None,
        };
        // On a SQLite file the hot paths' connections run their statements
        // on the calling thread (`sqlite_sync`); the pools serve the rest.
        let stash =
            |pool: &AnyPool, synchronous: &'static str, max: usize| match (&sqlite_file, backend) {
                (Some(path), _) => {
                    conns::Stash::sqlite_file(pool.clone(), path.clone(), synchronous, max)
                }
                (None, Backend::Sqlite) => conns::Stash::sqlite_memory(pool.clone()),
                (None, Backend::Postgres) => conns::Stash::postgres(pool.clone(), conns::PG_STASH),
            };
        let (pool, durable) = match backend {
            Backend::Sqlite => {
                let pool = sqlite_pool(16, "PRAGMA synchronous = NORMAL")
                    .connect_with(options.clone())
                    .await?;
                let durable = sqlite_pool(2, "PRAGMA synchronous = FULL")
                    .connect_with(options)
                    .await?;
                let durable = stash(&durable, "FULL", 2);
                (pool, Some(durable))
            }
            Backend::Postgres => {
                // The stash takes at most `PG_STASH` of these; the rest
                // serve whatever takes the pool itself.
                let pool = AnyPoolOptions::new()
                    .max_connections(conns::PG_STASH as u32 + 8)
                    .acquire_timeout(Duration::from_secs(10))
                    // (sqlx's test before each use stays on here: a server
                    // restart or a failover kills connections the pool still
                    // holds, and the test replaces them before anyone meets
                    // the error; SQLite connections cannot be killed so.)
                    .connect_with(options)
                    .await?;
                (pool, None)
            }
        };
        let cache = match backend {
            Backend::Sqlite => cache::Cache::sqlite(sqlite_file.as_deref()),
            Backend::Postgres => cache::Cache::postgres(),
        };
        let blobs = default_blobs(url, sqlite_file.as_deref())?;
        let store = Store {
            conns: stash(&pool, "NORMAL", 16),
            pool,
            backend,
            writer: Arc::new(Mutex::new(())),
            durable,
            window: Arc::new(AuditWindow::default()),
            cache,
            kv_cache: Arc::default(),
            posts: Arc::default(),
            blobs,
            heads: Arc::new(audit::ChainHeads::default()),
        };
        store.migrate().await?;
        if backend == Backend::Postgres {
            cache::listen(url.to_string(), &store.cache).await;
        }
        Ok(store)
    }

    /// Open (creating if needed) the SQLite file at `path`.
    pub async fn open_sqlite(path: &std::path::Path) -> Result<Store, StoreError> {
        Store::connect(&format!("sqlite://{}?mode=rwc", path.display())).await
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        match self.backend {
            Backend::Sqlite => {
                sqlx::migrate!("./migrations/sqlite")
                    .run(&self.pool)
                    .await?
            }
            Backend::Postgres => {
                sqlx::migrate!("./migrations/postgres")
                    .run(&self.pool)
                    .await?
            }
        }
        Ok(())
    }

    /// Where file bytes live.
    pub fn blobs(&self) -> &crate::blobs::Blobs {
        &self.blobs
    }

    /// Keep file bytes in `blobs` (`--files-url`) instead of the default:
    /// beside the SQLite file, or in a directory under the system's
    /// temporary directory named after the PostgreSQL database.
    pub fn with_blobs(mut self, blobs: crate::blobs::Blobs) -> Store {
        self.blobs = blobs;
        self
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Where a statement outside a transaction runs: on SQLite the pool,
    /// on PostgreSQL the stash's connections (see [`conns::Reads`]).
    pub(crate) fn pool(&self) -> conns::Reads<'_> {
        match self.backend {
            Backend::Sqlite => conns::Reads::Pool(&self.pool),
            Backend::Postgres => conns::Reads::Stash(&self.conns),
        }
    }

    /// A connection for a statement on a hot path (a read inside an
    /// invocation): on SQLite taken from, and given back to, the stash
    /// without sqlx's ping (see [`conns`]).
    pub(crate) async fn conn(&self) -> Result<conns::Conn, StoreError> {
        Ok(self.conns.acquire().await?)
    }

    /// Start a write transaction. On SQLite it takes the write lock up front
    /// (`BEGIN IMMEDIATE`), so it can never fail later on a busy snapshot.
    pub async fn begin_write(&self) -> Result<WriteTx, StoreError> {
        self.begin(false, None).await
    }

    /// [`Store::begin_write`], serialised against every other transaction
    /// that takes the lock `name` (see [`WriteTx::lock`]); on PostgreSQL the
    /// lock is taken in the `BEGIN`'s own round trip.
    pub async fn begin_write_locked(&self, name: &str) -> Result<WriteTx, StoreError> {
        self.begin(false, Some(name)).await
    }

    /// Start a write transaction whose commit survives power loss: settled
    /// payments, refunds and ledger entries. On SQLite (WAL) ordinary
    /// transactions run with `synchronous = NORMAL`, which may lose the last
    /// commits (never corrupt the file) on power loss; this one runs on a
    /// connection with `synchronous = FULL` (the WAL is synced at commit).
    /// On PostgreSQL it insists on `synchronous_commit = on` for this
    /// transaction, whatever the server's default.
    pub async fn begin_durable(&self) -> Result<WriteTx, StoreError> {
        self.begin(true, None).await
    }

    /// [`Store::begin_durable`] with the lock `name`, as
    /// [`Store::begin_write_locked`].
    pub async fn begin_durable_locked(&self, name: &str) -> Result<WriteTx, StoreError> {
        self.begin(true, Some(name)).await
    }

    async fn begin(&self, durable: bool, lock: Option<&str>) -> Result<WriteTx, StoreError> {
        let (stash, writer, statement) = match self.backend {
            Backend::Sqlite => {
                let stash = match (&self.durable, durable) {
                    (Some(stash), true) => stash,
                    _ => &self.conns,
                };
                let guard = self.writer.clone().lock_owned().await;
                (stash, Some(guard), "BEGIN IMMEDIATE".into_sql_str())
            }
            Backend::Postgres => {
                // Everything the transaction starts with, in one round trip.
                let mut statement = String::from("BEGIN");
                if durable {
                    statement.push_str("; SET LOCAL synchronous_commit = on");
                }
                if let Some(name) = lock {
                    // (A number: nothing from outside reaches the SQL.)
                    statement.push_str(&format!(
                        "; SELECT pg_advisory_xact_lock({})",
                        lock_key(name)
                    ));
                }
                (
                    &self.conns,
                    None,
                    sqlx::AssertSqlSafe(statement).into_sql_str(),
                )
            }
        };
        let mut tx = stash.acquire().await?;
        tx.begin(Some(statement)).await?;
        Ok(WriteTx {
            tx,
            backend: self.backend,
            _writer: writer,
            cache: Some(self.cache.clone()),
            invalidates: false,
            heads: Some(self.heads.clone()),
            moved_heads: Vec::new(),
            locks: lock.map(str::to_string).into_iter().collect(),
        })
    }

    /// A read-only transaction over one consistent snapshot (for checking
    /// what a read-only invocation read without taking the writer). Never
    /// commit writes through it; dropping it rolls back.
    pub async fn begin_snapshot(&self) -> Result<WriteTx, StoreError> {
        let mut tx = self.conns.acquire().await?;
        tx.begin(match self.backend {
            Backend::Sqlite => None,
            Backend::Postgres => {
                Some("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY".into_sql_str())
            }
        })
        .await?;
        Ok(WriteTx {
            tx,
            backend: self.backend,
            _writer: None,
            cache: None,
            invalidates: false,
            heads: None,
            moved_heads: Vec::new(),
            locks: Vec::new(),
        })
    }

    /// The cache of what every request reads.
    pub(crate) fn cache(&self) -> &cache::Cache {
        &self.cache
    }

    /// Apps' stored values as this host last saw them.
    pub fn kv_cache(&self) -> &kv_cache::KvCache {
        &self.kv_cache
    }

    /// A token, a user, a membership, an installation, an app or a group was
    /// just changed outside a [`WriteTx`]: drop every host's cache.
    pub(crate) async fn cache_changed(&self) -> Result<(), StoreError> {
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_notify($1, '')")
                .bind(cache::CHANNEL)
                .execute(&self.pool)
                .await?;
        }
        self.cache.invalidate();
        Ok(())
    }

    /// Check that the database answers (for health checks).
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(self.pool()).await?;
        Ok(())
    }

    /// Close the pool (waits for connections to be returned).
    pub async fn close(&self) {
        self.cache.close();
        self.conns.release_all();
        self.pool.close().await;
        if let Some(durable) = &self.durable {
            durable.release_all();
            durable.pool().close().await;
        }
    }
}

/// SQLite connections (WAL) with the given `synchronous` pragma.
fn sqlite_pool(max_connections: u32, synchronous: &'static str) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(max_connections)
        // No ping (a hop to the connection's thread) before every statement;
        // sqlx still pings a connection when it is returned (issue 12).
        .test_before_acquire(false)
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                conn.execute("PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;")
                    .await?;
                conn.execute(synchronous).await?;
                Ok(())
            })
        })
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A new random id with a readable prefix, e.g. `g_3f9c1a2b7d4e`.
pub fn new_id(prefix: &str) -> String {
    let bytes: [u8; 8] = rand::random();
    format!("{prefix}_{}", hex::encode(bytes))
}

fn flag(value: bool) -> i64 {
    i64::from(value)
}

/// The default home of file bytes: `<file>.files/` beside a SQLite file;
/// for an in-memory database or PostgreSQL, a directory named after the
/// URL's database under the temporary directory (configure `--files-url`
/// for real use, e.g. a bucket every host shares).
fn default_blobs(
    url: &str,
    sqlite_file: Option<&std::path::Path>,
) -> Result<crate::blobs::Blobs, StoreError> {
    let dir = match sqlite_file {
        Some(file) => {
            let mut name = file.as_os_str().to_owned();
            name.push(".files");
            std::path::PathBuf::from(name)
        }
        None => {
            let db = url
                .rsplit('/')
                .next()
                .unwrap_or("memory")
                .split('?')
                .next()
                .unwrap_or("memory");
            let safe: String = db
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '_' {
                        c
                    } else {
                        '-'
                    }
                })
                .collect();
            let unique = if url.contains(":memory:") || safe.is_empty() {
                format!("memory-{}", uuid::Uuid::new_v4())
            } else {
                safe
            };
            std::env::temp_dir().join("qun-files").join(unique)
        }
    };
    Ok(crate::blobs::Blobs::local(&dir)?)
}
