//! SQLite connections handed back without a round trip (issue 12).
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
use std::sync::{Arc, Mutex};

use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool, Database, SqlSafeStr};
use sqlx_core::transaction::TransactionManager;

type Manager = <Any as Database>::TransactionManager;

/// Idle connections taken from a pool and kept out of it.
pub(crate) struct Stash {
    pool: AnyPool,
    idle: Mutex<Vec<PoolConnection<Any>>>,
    /// Whether connections are kept here (SQLite) or go back to the pool.
    keep: bool,
}

/// A connection from [`Stash::acquire`]; back to the stash when dropped.
pub(crate) struct Conn {
    conn: Option<PoolConnection<Any>>,
    home: Arc<Stash>,
    /// A transaction was begun (or its `BEGIN` sent) and not committed: as
    /// in sqlx's own `Transaction`, set before the `BEGIN` is awaited, so a
    /// future dropped while it is on its way still rolls it back.
    open: bool,
}

impl Stash {
    /// Connections of `pool`; `keep`: stack them instead of returning them.
    pub(crate) fn new(pool: AnyPool, keep: bool) -> Arc<Stash> {
        Arc::new(Stash {
            pool,
            idle: Mutex::new(Vec::new()),
            keep,
        })
    }

    /// An idle connection, or a new one from the pool.
    pub(crate) async fn acquire(self: &Arc<Self>) -> Result<Conn, sqlx::Error> {
        let idle = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let conn = match idle {
            Some(conn) => conn,
            None => self.pool.acquire().await?,
        };
        Ok(Conn {
            conn: Some(conn),
            home: self.clone(),
            open: false,
        })
    }

    /// Hand every idle connection back to the pool (before closing it: the
    /// pool waits for all of its connections).
    pub(crate) fn release_all(&self) {
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
        if tokio::runtime::Handle::try_current().is_ok() {
            drop(idle);
        } else {
            std::mem::forget(idle);
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
        Manager::begin(self, statement.map(SqlSafeStr::into_sql_str)).await
    }

    /// Commit the transaction started with [`Conn::begin`].
    pub(crate) async fn commit(&mut self) -> Result<(), sqlx::Error> {
        Manager::commit(self).await?;
        self.open = false;
        Ok(())
    }
}

impl Deref for Conn {
    type Target = AnyConnection;

    fn deref(&self) -> &AnyConnection {
        self.conn
            .as_deref()
            .unwrap_or_else(|| unreachable!("a connection is only taken out when dropped"))
    }
}

impl DerefMut for Conn {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        self.conn
            .as_deref_mut()
            .unwrap_or_else(|| unreachable!("a connection is only taken out when dropped"))
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        let Some(mut conn) = self.conn.take() else {
            return;
        };
        if self.open || Manager::get_transaction_depth(&conn) > 0 {
            // Queued on the connection's own thread, ahead of whatever the
            // next user sends (PostgreSQL: sent with the pool's test); a
            // rollback with no transaction open there is a no-op.
            Manager::start_rollback(&mut conn);
        }
        if self.home.keep && !self.home.pool.is_closed() {
            self.home
                .idle
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(conn);
        }
    }
}
