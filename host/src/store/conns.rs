//! The connections of the hot paths (issue 12): reads inside an invocation
//! and every transaction.
//!
//! On a SQLite file they are [`SyncConn`]s: statements run on the calling
//! thread (see [`super::sqlite_sync`]), at most as many at once as the pool
//! would have had. Elsewhere (PostgreSQL, an in-memory SQLite database) they
//! are the pool's connections:
//!
//! sqlx runs each SQLite connection on a thread of its own and, whenever a
//! pooled connection is returned, pings it there (one more hand-off between
//! threads per statement, on a 2-core machine a large part of a read's
//! cost). A SQLite connection cannot break the way a socket can, so
//! connections used here go back to a short stack of idle ones instead, and
//! the next statement takes one from there without asking the pool.
//!
//! A connection still inside a transaction when dropped (a commit that never
//! came: a conflict, an error, a cancelled future, even one cancelled while
//! its `BEGIN` was on the way) has its rollback queued first; the
//! connection's thread runs commands in order, so whoever takes it next
//! starts after the rollback.
//!
//! **PostgreSQL** connections are stacked too. The pool would ping each one
//! when it is returned and again when it is taken (two round trips that are
//! not statements: two of the three round trips of a one-statement read). What
//! the pings are for is covered here instead:
//! - a transaction dropped without a commit is rolled back at once (sqlx's
//!   `start_rollback` queues it; a task sends it and waits for it before
//!   the connection is stacked again, so its locks are not held until the
//!   connection's next use), and a statement whose future was dropped
//!   half-way is finished before the next one (sqlx-postgres waits for the
//!   server's `ReadyForQuery` before every statement);
//! - a connection whose statement failed on the link itself (I/O, protocol,
//!   TLS, or the server ending the session) is closed, never stacked; so is
//!   one whose `BEGIN` never completed (sqlx cannot queue a rollback for it);
//! - a connection idle in the stack for more than [`IDLE_TEST`] is pinged
//!   before it is used (a server restart or a failover while nobody used
//!   it costs nobody an error); the stack is at most [`PG_STASH`] deep, and
//!   at most that many connections are out through it, so the pool keeps
//!   connections for everyone else;
//! - what the pool does with connections it holds is still done to these:
//!   one out of the pool for [`RECYCLE`] goes back to it instead of onto the
//!   stack (the pool closes it when it has lived past the pool's
//!   `max_lifetime`), and one idle on the stack for [`IDLE_RETURN`] goes
//!   back too (the pool closes idle connections after its `idle_timeout`),
//!   so a quiet host does not keep a server process per connection it
//!   once needed, and no session lives forever.

use std::ops::{Deref, DerefMut};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures::future::BoxFuture;
use futures::stream::BoxStream;
use futures::{FutureExt, StreamExt, TryFutureExt, TryStreamExt};
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyPool, Database, Either, Execute, Executor, SqlSafeStr};
use sqlx_core::any::{AnyQueryResult, AnyRow, AnyStatement, AnyTypeInfo};
use sqlx_core::sql_str::SqlStr;
use sqlx_core::transaction::TransactionManager;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::sqlite_sync::SyncConn;

type Manager = <Any as Database>::TransactionManager;

/// sqlx's default wait for a pooled connection.
const ACQUIRE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// A stacked connection idle longer than this is pinged before it is used.
pub(crate) const IDLE_TEST: std::time::Duration = std::time::Duration::from_secs(1);

/// PostgreSQL: at most this many of the pool's connections are out through
/// the stash at once (the pool has more, for everything else).
pub(crate) const PG_STASH: usize = 24;

/// PostgreSQL: a connection out of the pool this long goes back to it.
pub(crate) const RECYCLE: std::time::Duration = std::time::Duration::from_secs(10 * 60);

/// PostgreSQL: a connection idle on the stack this long goes back to the pool.
pub(crate) const IDLE_RETURN: std::time::Duration = std::time::Duration::from_secs(60);

/// One connection of a [`Stash`]: statements go through it as through any
/// sqlx executor (`&mut *conn`).
#[derive(Debug)]
pub(crate) enum Link {
    /// One of the pool's connections (sqlx).
    Pool(Pooled),
    /// A SQLite connection run on the calling thread.
    Sync(SyncConn),
}

/// One of the pool's connections, and whether its link failed.
#[derive(Debug)]
pub(crate) struct Pooled {
    conn: PoolConnection<Any>,
    /// A statement failed on the link itself: close it, never stack it.
    broken: bool,
    /// When it was taken from the pool.
    taken: Instant,
}

/// Idle connections taken from a pool (or opened here) and kept out of it,
/// each with the time it was put back.
pub(crate) struct Stash {
    pool: AnyPool,
    idle: Mutex<Vec<(Link, Instant)>>,
    /// Whether connections are kept here or go back to the pool.
    keep: bool,
    /// PostgreSQL: a connection whose `BEGIN` never completed is closed.
    postgres: bool,
    /// A SQLite file: its connections are opened here, run on the calling
    /// thread, with this `synchronous` setting; `permits` bounds them.
    file: Option<(PathBuf, &'static str)>,
    permits: Arc<Semaphore>,
    /// Pool connections out this long, or idle on the stack this long, go
    /// back to the pool ([`RECYCLE`], [`IDLE_RETURN`]); `None`: never (an
    /// in-memory SQLite database lives only as long as its connections).
    recycle: Option<(std::time::Duration, std::time::Duration)>,
}

/// A connection from [`Stash::acquire`]; back to the stash when dropped.
pub(crate) struct Conn {
    link: Option<Link>,
    home: Arc<Stash>,
    /// A transaction was begun (or its `BEGIN` sent) and not committed: as
    /// in sqlx's own `Transaction`, set before the `BEGIN` is awaited, so a
    /// future dropped while it is on its way still rolls it back.
    open: bool,
    permit: Option<OwnedSemaphorePermit>,
}

impl Stash {
    /// Connections of an in-memory SQLite `pool`, stacked here.
    pub(crate) fn sqlite_memory(pool: AnyPool) -> Arc<Stash> {
        Arc::new(Stash {
            pool,
            idle: Mutex::new(Vec::new()),
            keep: true,
            postgres: false,
            file: None,
            permits: Arc::new(Semaphore::new(Semaphore::MAX_PERMITS)),
            recycle: None,
        })
    }

    /// Up to `max` connections of the PostgreSQL `pool` at once, stacked
    /// here without the pool's pings (see the module's documentation).
    pub(crate) fn postgres(pool: AnyPool, max: usize) -> Arc<Stash> {
        Arc::new(Stash {
            pool,
            idle: Mutex::new(Vec::new()),
            keep: true,
            postgres: true,
            file: None,
            permits: Arc::new(Semaphore::new(max)),
            recycle: Some((RECYCLE, IDLE_RETURN)),
        })
    }

    /// Up to `max` connections to the SQLite file `path`, opened here with
    /// `synchronous` and run on the calling thread; `pool` (the same file)
    /// is only closed with them.
    pub(crate) fn sqlite_file(
        pool: AnyPool,
        path: PathBuf,
        synchronous: &'static str,
        max: usize,
    ) -> Arc<Stash> {
        Arc::new(Stash {
            pool,
            idle: Mutex::new(Vec::new()),
            keep: true,
            postgres: false,
            file: Some((path, synchronous)),
            permits: Arc::new(Semaphore::new(max)),
            recycle: None,
        })
    }

    /// An idle connection, or a new one.
    pub(crate) async fn acquire(self: &Arc<Self>) -> Result<Conn, sqlx::Error> {
        let permit = match self.file.is_some() || self.postgres {
            // As long as the pool would wait for a connection.
            true => Some(
                tokio::time::timeout(ACQUIRE_TIMEOUT, self.permits.clone().acquire_owned())
                    .await
                    .map_err(|_| sqlx::Error::PoolTimedOut)?
                    .map_err(|_| sqlx::Error::PoolClosed)?,
            ),
            false => None,
        };
        let mut link = None;
        while let Some((idle, since)) = self.pop() {
            match idle {
                // The link may have died while nobody used it.
                Link::Pool(mut pooled) if since.elapsed() > IDLE_TEST => {
                    use sqlx::Connection;
                    if pooled.conn.ping().await.is_ok() {
                        link = Some(Link::Pool(pooled));
                        break;
                    }
                    pooled.conn.close_on_drop();
                }
                idle => {
                    link = Some(idle);
                    break;
                }
            }
        }
        let link = match (link, &self.file) {
            (Some(link), _) => link,
            (None, Some((path, synchronous))) => Link::Sync(SyncConn::open(path, synchronous)?),
            (None, None) => Link::Pool(Pooled {
                conn: self.pool.acquire().await?,
                broken: false,
                taken: Instant::now(),
            }),
        };
        Ok(Conn {
            link: Some(link),
            home: self.clone(),
            open: false,
            permit,
        })
    }

    /// An idle connection back on the stack (unless the stash is closing),
    /// or to the pool when it has been out long enough; with it, those idle
    /// on the stack long enough (the oldest are at the bottom).
    fn put_back(&self, link: Link) {
        if self.pool.is_closed() || self.permits.is_closed() {
            return;
        }
        if let (Link::Pool(pooled), Some((recycle, _))) = (&link, self.recycle)
            && pooled.taken.elapsed() >= recycle
        {
            // Dropped: back to the pool.
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, idle_return)) = self.recycle {
            let stale = idle
                .iter()
                .take_while(|(_, since)| since.elapsed() >= idle_return)
                .count();
            idle.drain(..stale);
        }
        idle.push((link, Instant::now()));
    }

    fn pop(&self) -> Option<(Link, Instant)> {
        self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop()
    }

    /// Hand every idle connection back to the pool (before closing it: the
    /// pool waits for all of its connections).
    pub(crate) fn release_all(&self) {
        self.permits.close();
        let idle = std::mem::take(&mut *self.idle.lock().unwrap_or_else(|p| p.into_inner()));
        drop(idle);
    }

    /// The pool behind this stash.
    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }
}

impl Drop for Stash {
    fn drop(&mut self) {
        let idle = std::mem::take(self.idle.get_mut().unwrap_or_else(|p| p.into_inner()));
        // sqlx hands a dropped connection back through a task on the current
        // tokio runtime and panics without one; with no runtime left (a store
        // dropped after its runtime) the process is ending: let them go.
        let runtime = tokio::runtime::Handle::try_current().is_ok();
        for (link, _) in idle {
            match link {
                Link::Pool(pooled) if !runtime => std::mem::forget(pooled.conn),
                other => drop(other),
            }
        }
    }
}

impl Conn {
    /// Start a transaction with `statement` (e.g. `BEGIN IMMEDIATE`), or the
    /// backend's default when `None`.
    /// On PostgreSQL `statement` may go on with more statements (`BEGIN;
    /// SELECT pg_advisory_xact_lock(…)`): one round trip for all of them.
    pub(crate) async fn begin(&mut self, statement: Option<SqlStr>) -> Result<(), sqlx::Error> {
        self.open = true;
        match &mut **self {
            Link::Pool(pooled) => {
                let begun = Manager::begin(&mut pooled.conn, statement).await;
                if let Err(e) = &begun {
                    pooled.broken |= lost(e);
                }
                begun
            }
            Link::Sync(conn) => {
                let statement = statement.unwrap_or_else(|| "BEGIN".into_sql_str());
                conn.begin(statement.as_str()).await
            }
        }
    }

    /// Commit the transaction started with [`Conn::begin`].
    pub(crate) async fn commit(&mut self) -> Result<(), sqlx::Error> {
        match &mut **self {
            Link::Pool(pooled) => {
                if let Err(e) = Manager::commit(&mut pooled.conn).await {
                    pooled.broken |= lost(&e);
                    return Err(e);
                }
            }
            Link::Sync(conn) => conn.commit()?,
        }
        self.open = false;
        Ok(())
    }
}

impl Deref for Conn {
    type Target = Link;

    fn deref(&self) -> &Link {
        self.link
            .as_ref()
            .unwrap_or_else(|| unreachable!("a connection is only taken out when dropped"))
    }
}

impl DerefMut for Conn {
    fn deref_mut(&mut self) -> &mut Link {
        self.link
            .as_mut()
            .unwrap_or_else(|| unreachable!("a connection is only taken out when dropped"))
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        let Some(mut link) = self.link.take() else {
            return;
        };
        let mut keep = self.home.keep;
        let mut flush = false;
        match &mut link {
            Link::Pool(pooled) => {
                let depth = Manager::get_transaction_depth(&pooled.conn);
                if self.home.postgres && self.open && depth == 0 {
                    // A `BEGIN` sent but never completed: sqlx has no
                    // transaction to roll back, the server may have one.
                    pooled.broken = true;
                } else if self.open || depth > 0 {
                    // Queued on the connection's own thread, ahead of whatever
                    // the next user sends; a rollback with no transaction
                    // open there is a no-op. PostgreSQL sends it only with
                    // the next statement: it is sent now (below), or the
                    // transaction's locks would wait for the next user.
                    Manager::start_rollback(&mut pooled.conn);
                    flush = self.home.postgres;
                }
                if pooled.broken {
                    pooled.conn.close_on_drop();
                    keep = false;
                }
            }
            // Here and now: the next user finds no transaction.
            Link::Sync(conn) => conn.rollback(),
        }
        if !keep {
            return;
        }
        if flush {
            let Ok(runtime) = tokio::runtime::Handle::try_current() else {
                // No runtime left: the process is ending; the server rolls
                // back when the connection closes.
                return;
            };
            let home = self.home.clone();
            let permit = self.permit.take();
            runtime.spawn(async move {
                if let Link::Pool(mut pooled) = link {
                    use sqlx::Connection;
                    // Sends the queued rollback and waits for it.
                    match pooled.conn.ping().await {
                        Ok(()) => home.put_back(Link::Pool(pooled)),
                        Err(_) => pooled.conn.close_on_drop(),
                    }
                }
                drop(permit);
            });
            return;
        }
        self.home.put_back(link);
    }
}

impl<'c> Executor<'c> for &'c mut Link {
    type Database = Any;

    fn fetch_many<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxStream<'e, Result<Either<AnyQueryResult, AnyRow>, sqlx::Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Any>,
    {
        match self {
            Link::Pool(Pooled { conn, broken, .. }) => (&mut **conn)
                .fetch_many(query)
                .inspect_err(|e| *broken |= lost(e))
                .boxed(),
            Link::Sync(conn) => conn.fetch_many(query),
        }
    }

    fn fetch_optional<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxFuture<'e, Result<Option<AnyRow>, sqlx::Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Any>,
    {
        match self {
            Link::Pool(Pooled { conn, broken, .. }) => (&mut **conn)
                .fetch_optional(query)
                .inspect_err(|e| *broken |= lost(e))
                .boxed(),
            Link::Sync(conn) => conn.fetch_optional(query),
        }
    }

    fn prepare_with<'e>(
        self,
        sql: SqlStr,
        parameters: &'e [AnyTypeInfo],
    ) -> BoxFuture<'e, Result<AnyStatement, sqlx::Error>>
    where
        'c: 'e,
    {
        match self {
            Link::Pool(pooled) => (&mut *pooled.conn).prepare_with(sql, parameters),
            Link::Sync(conn) => conn.prepare_with(sql, parameters),
        }
    }

    fn describe<'e>(
        self,
        sql: SqlStr,
    ) -> BoxFuture<'e, Result<sqlx_core::describe::Describe<Any>, sqlx::Error>>
    where
        'c: 'e,
    {
        match self {
            Link::Pool(pooled) => (&mut *pooled.conn).describe(sql),
            Link::Sync(conn) => conn.describe(sql),
        }
    }
}

/// Whether `error` says the connection itself failed (not the statement):
/// the link, or PostgreSQL ending the session (SQLSTATE class 08, a
/// connection exception, or 57P, the server shutting down or an
/// administrator terminating it: the message arrives on the next use).
fn lost(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(e) => e
            .code()
            .is_some_and(|code| code.starts_with("08") || code.starts_with("57P")),
        _ => false,
    }
}

/// Where a statement outside a transaction runs ([`super::Store::pool`]):
/// on SQLite the pool (its own threads: the cold paths stay off the HTTP
/// workers), on PostgreSQL a connection of the stash (no pings).
#[derive(Clone, Copy)]
pub(crate) enum Reads<'a> {
    Pool(&'a AnyPool),
    Stash(&'a Arc<Stash>),
}

impl std::fmt::Debug for Reads<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reads::Pool(pool) => pool.fmt(f),
            Reads::Stash(_) => f.write_str("Stash"),
        }
    }
}

impl<'p> Executor<'p> for Reads<'p> {
    type Database = Any;

    fn fetch_many<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxStream<'e, Result<Either<AnyQueryResult, AnyRow>, sqlx::Error>>
    where
        'p: 'e,
        E: 'q + Execute<'q, Any>,
    {
        match self {
            Reads::Pool(pool) => pool.fetch_many(query),
            Reads::Stash(stash) => {
                let stash = stash.clone();
                Box::pin(sqlx_core::try_stream! {
                    let mut conn = stash.acquire().await?;
                    let mut rows = (&mut *conn).fetch_many(query);
                    while let Some(row) = rows.try_next().await? {
                        r#yield!(row);
                    }
                    Ok(())
                })
            }
        }
    }

    fn fetch_optional<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxFuture<'e, Result<Option<AnyRow>, sqlx::Error>>
    where
        'p: 'e,
        E: 'q + Execute<'q, Any>,
    {
        match self {
            Reads::Pool(pool) => pool.fetch_optional(query),
            Reads::Stash(stash) => {
                let stash = stash.clone();
                Box::pin(async move { (&mut *stash.acquire().await?).fetch_optional(query).await })
            }
        }
    }

    fn prepare_with<'e>(
        self,
        sql: SqlStr,
        parameters: &'e [AnyTypeInfo],
    ) -> BoxFuture<'e, Result<AnyStatement, sqlx::Error>>
    where
        'p: 'e,
    {
        match self {
            Reads::Pool(pool) => pool.prepare_with(sql, parameters),
            Reads::Stash(stash) => {
                let stash = stash.clone();
                Box::pin(async move {
                    (&mut *stash.acquire().await?)
                        .prepare_with(sql, parameters)
                        .await
                })
            }
        }
    }

    fn describe<'e>(
        self,
        sql: SqlStr,
    ) -> BoxFuture<'e, Result<sqlx_core::describe::Describe<Any>, sqlx::Error>>
    where
        'p: 'e,
    {
        match self {
            Reads::Pool(pool) => pool.describe(sql),
            Reads::Stash(stash) => {
                let stash = stash.clone();
                Box::pin(async move { (&mut *stash.acquire().await?).describe(sql).await })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// A stash of an in-memory SQLite pool's connections that hands them
    /// back to the pool as a PostgreSQL stash does, after these times.
    async fn stash(recycle: Duration, idle_return: Duration) -> Arc<Stash> {
        sqlx::any::install_default_drivers();
        let pool = sqlx::any::AnyPoolOptions::new()
            .max_connections(4)
            .connect("sqlite::memory:")
            .await
            .expect("pool");
        Arc::new(Stash {
            pool,
            idle: Mutex::new(Vec::new()),
            keep: true,
            postgres: false,
            file: None,
            permits: Arc::new(Semaphore::new(4)),
            recycle: Some((recycle, idle_return)),
        })
    }

    fn stacked(stash: &Stash) -> usize {
        stash.idle.lock().expect("lock").len()
    }

    /// The pool's idle connections, once the returns it runs as tasks ran.
    async fn back_in_pool(stash: &Stash, n: usize) -> bool {
        for _ in 0..200 {
            if stash.pool.num_idle() == n {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        false
    }

    #[tokio::test]
    async fn a_connection_out_of_the_pool_long_enough_goes_back_to_it() {
        let hour = Duration::from_secs(3600);
        let stash = stash(Duration::ZERO, hour).await;
        drop(stash.acquire().await.expect("conn"));
        assert_eq!(stacked(&stash), 0, "not stacked");
        assert!(back_in_pool(&stash, 1).await, "the pool has it back");

        let stash = super::tests::stash(hour, hour).await;
        drop(stash.acquire().await.expect("conn"));
        assert_eq!(stacked(&stash), 1, "a young connection is stacked");
        assert_eq!(stash.pool.num_idle(), 0);
    }

    #[tokio::test]
    async fn connections_idle_on_the_stack_long_enough_go_back_to_the_pool() {
        let hour = Duration::from_secs(3600);
        let stash = stash(hour, Duration::from_millis(50)).await;
        let (a, b) = (
            stash.acquire().await.expect("a"),
            stash.acquire().await.expect("b"),
        );
        drop(a);
        tokio::time::sleep(Duration::from_millis(100)).await;
        drop(b);
        assert_eq!(stacked(&stash), 1, "the one idle too long left the stack");
        assert!(back_in_pool(&stash, 1).await, "the pool has it back");
        // The one just stacked is used next.
        drop(stash.acquire().await.expect("again"));
        assert_eq!(stacked(&stash), 1);
    }
}
