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
//! starts after the rollback. On PostgreSQL nothing is stacked: its
//! connections go back to the pool, which tests them.

use std::ops::{Deref, DerefMut};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;
use futures::stream::BoxStream;
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

/// One connection of a [`Stash`]: statements go through it as through any
/// sqlx executor (`&mut *conn`).
#[derive(Debug)]
pub(crate) enum Link {
    /// One of the pool's connections (sqlx).
    Pool(PoolConnection<Any>),
    /// A SQLite connection run on the calling thread.
    Sync(SyncConn),
}

/// Idle connections taken from a pool (or opened here) and kept out of it.
pub(crate) struct Stash {
    pool: AnyPool,
    idle: Mutex<Vec<Link>>,
    /// Whether connections are kept here (SQLite) or go back to the pool.
    keep: bool,
    /// A SQLite file: its connections are opened here, run on the calling
    /// thread, with this `synchronous` setting; `permits` bounds them.
    file: Option<(PathBuf, &'static str)>,
    permits: Arc<Semaphore>,
}

/// A connection from [`Stash::acquire`]; back to the stash when dropped.
pub(crate) struct Conn {
    link: Option<Link>,
    home: Arc<Stash>,
    /// A transaction was begun (or its `BEGIN` sent) and not committed: as
    /// in sqlx's own `Transaction`, set before the `BEGIN` is awaited, so a
    /// future dropped while it is on its way still rolls it back.
    open: bool,
    _permit: Option<OwnedSemaphorePermit>,
}

impl Stash {
    /// Connections of `pool`; `keep`: stack them instead of returning them.
    pub(crate) fn new(pool: AnyPool, keep: bool) -> Arc<Stash> {
        Arc::new(Stash {
            pool,
            idle: Mutex::new(Vec::new()),
            keep,
            file: None,
            permits: Arc::new(Semaphore::new(Semaphore::MAX_PERMITS)),
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
            file: Some((path, synchronous)),
            permits: Arc::new(Semaphore::new(max)),
        })
    }

    /// An idle connection, or a new one.
    pub(crate) async fn acquire(self: &Arc<Self>) -> Result<Conn, sqlx::Error> {
        let permit = match &self.file {
            // As long as the pool would wait for a connection.
            Some(_) => Some(
                tokio::time::timeout(ACQUIRE_TIMEOUT, self.permits.clone().acquire_owned())
                    .await
                    .map_err(|_| sqlx::Error::PoolTimedOut)?
                    .map_err(|_| sqlx::Error::PoolClosed)?,
            ),
            None => None,
        };
        let idle = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let link = match (idle, &self.file) {
            (Some(link), _) => link,
            (None, Some((path, synchronous))) => Link::Sync(SyncConn::open(path, synchronous)?),
            (None, None) => Link::Pool(self.pool.acquire().await?),
        };
        Ok(Conn {
            link: Some(link),
            home: self.clone(),
            open: false,
            _permit: permit,
        })
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
        for link in idle {
            match link {
                Link::Pool(conn) if !runtime => std::mem::forget(conn),
                other => drop(other),
            }
        }
    }
}

impl Conn {
    /// Start a transaction with `statement` (e.g. `BEGIN IMMEDIATE`), or the
    /// backend's default when `None`.
    pub(crate) async fn begin(
        &mut self,
        statement: Option<&'static str>,
    ) -> Result<(), sqlx::Error> {
        self.open = true;
        match &mut **self {
            Link::Pool(conn) => Manager::begin(conn, statement.map(SqlSafeStr::into_sql_str)).await,
            Link::Sync(conn) => conn.begin(statement.unwrap_or("BEGIN")).await,
        }
    }

    /// Commit the transaction started with [`Conn::begin`].
    pub(crate) async fn commit(&mut self) -> Result<(), sqlx::Error> {
        match &mut **self {
            Link::Pool(conn) => Manager::commit(conn).await?,
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
        match &mut link {
            Link::Pool(conn) => {
                if self.open || Manager::get_transaction_depth(conn) > 0 {
                    // Queued on the connection's own thread, ahead of whatever
                    // the next user sends (PostgreSQL: sent with the pool's
                    // test); a rollback with no transaction open there is a
                    // no-op.
                    Manager::start_rollback(conn);
                }
            }
            // Here and now: the next user finds no transaction.
            Link::Sync(conn) => conn.rollback(),
        }
        if self.home.keep && !self.home.pool.is_closed() && !self.home.permits.is_closed() {
            self.home
                .idle
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(link);
        }
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
            Link::Pool(conn) => (&mut **conn).fetch_many(query),
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
            Link::Pool(conn) => (&mut **conn).fetch_optional(query),
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
            Link::Pool(conn) => (&mut **conn).prepare_with(sql, parameters),
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
            Link::Pool(conn) => (&mut **conn).describe(sql),
            Link::Sync(conn) => conn.describe(sql),
        }
    }
}
