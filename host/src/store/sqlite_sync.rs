//! SQLite statements run on the calling thread (issue 12).
//!
//! sqlx runs every SQLite connection on a thread of its own: each statement
//! is sent there and its answer sent back, two context switches. A write
//! transaction holds SQLite's one writer lock for all of its statements, so
//! on a busy 2-core machine every commit waited for the scheduler about
//! twenty times while every other commit waited for it (`perf`: ~40% of a
//! message post's samples were `finish_task_switch` and wake-ups; SQLite
//! itself ~2%).
//!
//! A [`SyncConn`] is a SQLite connection (rusqlite, on the same
//! `libsqlite3-sys` as sqlx) that runs each statement where it is awaited.
//! It implements sqlx's [`Executor`] for the `Any` driver, so the store's
//! statements, binds and row decoding are the same on both paths: the SQL is
//! not written twice. Binding and rows follow sqlx-sqlite exactly
//! (`$N`/`?N` parameters by number, values typed by their storage class).
//! The `Any` types' fields used here are public but outside sqlx's semver
//! promise: `Cargo.lock` pins sqlx 0.9.0, and the tests below (and every
//! store test on SQLite) fail if an upgrade moves them.
//!
//! A statement never waits for a lock while it holds the thread: on a file
//! only this process writes, the store's writer mutex already queues
//! writers; when another process holds the write lock, `BEGIN IMMEDIATE`
//! fails at once here and is retried after an asynchronous sleep, up to the
//! busy timeout (see [`SyncConn::begin`]). Reads in WAL mode do not wait for
//! writers. What may still take a few milliseconds on the calling thread is
//! a WAL checkpoint at commit (SQLite's automatic one, every 1,000 pages).

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use fallible_iterator::FallibleIterator;
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use futures::{FutureExt, StreamExt};
use rusqlite::types::ValueRef;
use sqlx::error::{DatabaseError, ErrorKind};
use sqlx::{Any, Either, Execute, Executor};
use sqlx_core::any::{
    AnyArguments, AnyColumn, AnyQueryResult, AnyRow, AnyStatement, AnyTypeInfo, AnyTypeInfoKind,
    AnyValue, AnyValueKind,
};
use sqlx_core::ext::ustr::UStr;
use sqlx_core::sql_str::SqlStr;

/// How long `BEGIN IMMEDIATE` keeps trying while another process writes
/// (the same as the pools' `busy_timeout`).
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// A SQLite connection whose statements run on the calling thread.
pub(crate) struct SyncConn {
    conn: rusqlite::Connection,
}

impl fmt::Debug for SyncConn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SyncConn").finish_non_exhaustive()
    }
}

impl SyncConn {
    /// Open `path` with the pools' settings (WAL, foreign keys) and
    /// `synchronous` (`NORMAL`, or `FULL` for money).
    pub(crate) fn open(path: &std::path::Path, synchronous: &str) -> Result<SyncConn, sqlx::Error> {
        let conn = rusqlite::Connection::open(path).map_err(error)?;
        conn.execute_batch(&format!(
            "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA synchronous = {synchronous};"
        ))
        .map_err(error)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(error)?;
        conn.set_prepared_statement_cache_capacity(128);
        Ok(SyncConn { conn })
    }

    /// Start a transaction with `statement` (`BEGIN` or `BEGIN IMMEDIATE`).
    /// While another process holds the write lock, the attempt fails at once
    /// (no busy handler for it) and is made again after a short sleep that
    /// does not hold the thread.
    pub(crate) async fn begin(&mut self, statement: &str) -> Result<(), sqlx::Error> {
        let started = Instant::now();
        let mut pause = Duration::from_micros(200);
        loop {
            self.conn.busy_timeout(Duration::ZERO).map_err(error)?;
            let tried = self.conn.execute_batch(statement);
            self.conn.busy_timeout(BUSY_TIMEOUT).map_err(error)?;
            match tried {
                Err(rusqlite::Error::SqliteFailure(e, _))
                    if e.code == rusqlite::ErrorCode::DatabaseBusy
                        && started.elapsed() < BUSY_TIMEOUT =>
                {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_millis(20));
                }
                other => return other.map_err(error),
            }
        }
    }

    /// Commit the open transaction.
    pub(crate) fn commit(&mut self) -> Result<(), sqlx::Error> {
        self.conn.execute_batch("COMMIT").map_err(error)
    }

    /// Roll back whatever transaction is open (none: nothing happens).
    pub(crate) fn rollback(&mut self) {
        if !self.conn.is_autocommit() {
            // A failed rollback leaves SQLite to roll back when the
            // connection is next used or closed; nothing else can be done.
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }

    /// Run an sqlx query (its SQL and arguments) as [`SyncConn::run`] does.
    fn run_query<'q, E: Execute<'q, Any>>(
        &mut self,
        mut query: E,
        limit: Option<usize>,
    ) -> Result<Vec<Either<AnyQueryResult, AnyRow>>, sqlx::Error> {
        let args = query.take_arguments().map_err(sqlx::Error::Encode)?;
        let sql: SqlStr = query.sql();
        self.run(sql.as_str(), args, limit)
    }

    /// Run `query` to the end: its rows, then what it changed.
    fn run(
        &mut self,
        sql: &str,
        args: Option<AnyArguments>,
        limit: Option<usize>,
    ) -> Result<Vec<Either<AnyQueryResult, AnyRow>>, sqlx::Error> {
        let values = args.map(|a| a.values.0).unwrap_or_default();
        let mut out = Vec::new();
        // Several statements in one string (sqlx allows it): one by one, each
        // prepared after the one before has run, all given the arguments
        // (the store numbers its parameters: `$N` means the same value in
        // each). A `;` inside a literal only costs the statement cache.
        if sql.trim_end().trim_end_matches(';').contains(';') {
            let mut batch = rusqlite::Batch::new(&self.conn, sql);
            while let Some(mut statement) = batch.next().map_err(error)? {
                run_statement(&self.conn, &mut statement, &values, limit, &mut out)?;
            }
        } else {
            let mut statement = self.conn.prepare_cached(sql).map_err(error)?;
            run_statement(&self.conn, &mut statement, &values, limit, &mut out)?;
        }
        Ok(out)
    }
}

/// Bind `values` (as sqlx-sqlite does: `$N` and `?N` by number, bare `?` in
/// order), step through the rows into `out`, then what the statement changed.
fn run_statement(
    conn: &rusqlite::Connection,
    statement: &mut rusqlite::Statement<'_>,
    values: &[AnyValueKind],
    limit: Option<usize>,
    out: &mut Vec<Either<AnyQueryResult, AnyRow>>,
) -> Result<(), sqlx::Error> {
    let mut positional = 0;
    for param in 1..=statement.parameter_count() {
        let n = match statement.parameter_name(param) {
            Some(name) => name
                .strip_prefix('$')
                .or_else(|| name.strip_prefix('?'))
                .and_then(|n| n.parse::<usize>().ok())
                .ok_or_else(|| {
                    sqlx::Error::Protocol(format!("unsupported SQL parameter format: {name}"))
                })?,
            None => {
                positional += 1;
                positional
            }
        };
        // As sqlx: parameters past the arguments stay NULL.
        let Some(value) = n.checked_sub(1).and_then(|i| values.get(i)) else {
            break;
        };
        bind(statement, param, value)?;
    }
    let columns: Vec<AnyColumn> = statement
        .column_names()
        .into_iter()
        .enumerate()
        .map(|(ordinal, name)| AnyColumn {
            ordinal,
            name: UStr::new(name),
            type_info: AnyTypeInfo {
                kind: AnyTypeInfoKind::Null,
            },
        })
        .collect();
    let names: Arc<sqlx_core::HashMap<UStr, usize>> = Arc::new(
        columns
            .iter()
            .map(|c| (c.name.clone(), c.ordinal))
            .collect(),
    );
    let mut taken = 0;
    let mut rows = statement.raw_query();
    while limit.is_none_or(|limit| taken < limit) {
        let Some(row) = rows.next().map_err(error)? else {
            break;
        };
        let mut values = Vec::with_capacity(columns.len());
        for i in 0..columns.len() {
            values.push(AnyValue {
                kind: value_of(row.get_ref(i).map_err(error)?)?,
            });
        }
        out.push(Either::Right(AnyRow {
            column_names: names.clone(),
            columns: columns.clone(),
            values,
        }));
        taken += 1;
    }
    // Dropping the rows resets the statement, so one stopped early (a
    // limit) holds no read snapshot.
    drop(rows);
    out.push(Either::Left(AnyQueryResult {
        rows_affected: if statement.readonly() {
            0
        } else {
            conn.changes()
        },
        last_insert_id: None,
    }));
    Ok(())
}

/// An `Any` value as sqlx-sqlite maps it: by the value's storage class.
fn value_of(value: ValueRef<'_>) -> Result<AnyValueKind, sqlx::Error> {
    Ok(match value {
        ValueRef::Null => AnyValueKind::Null(AnyTypeInfoKind::Null),
        ValueRef::Integer(i) => AnyValueKind::BigInt(i),
        ValueRef::Real(f) => AnyValueKind::Double(f),
        ValueRef::Text(t) => AnyValueKind::Text(Arc::new(
            String::from_utf8(t.to_vec()).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
        )),
        ValueRef::Blob(b) => AnyValueKind::Blob(Arc::new(b.to_vec())),
    })
}

fn bind(
    statement: &mut rusqlite::Statement<'_>,
    i: usize,
    value: &AnyValueKind,
) -> Result<(), sqlx::Error> {
    use rusqlite::types::Value;
    let value = match value {
        AnyValueKind::Null(_) => Value::Null,
        AnyValueKind::Bool(b) => Value::Integer(i64::from(*b)),
        AnyValueKind::SmallInt(i) => Value::Integer(i64::from(*i)),
        AnyValueKind::Integer(i) => Value::Integer(i64::from(*i)),
        AnyValueKind::BigInt(i) => Value::Integer(*i),
        AnyValueKind::Real(r) => Value::Real(f64::from(*r)),
        AnyValueKind::Double(d) => Value::Real(*d),
        AnyValueKind::Text(t) => Value::Text(t.to_string()),
        AnyValueKind::TextSlice(t) => Value::Text(t.to_string()),
        AnyValueKind::Blob(b) => Value::Blob(b.to_vec()),
        other => {
            return Err(sqlx::Error::Protocol(format!(
                "a value SQLite cannot take: {other:?}"
            )));
        }
    };
    statement.raw_bind_parameter(i, value).map_err(error)
}

/// A rusqlite error as sqlx reports SQLite's: a database error with
/// SQLite's extended code and message.
fn error(e: rusqlite::Error) -> sqlx::Error {
    match e {
        rusqlite::Error::SqliteFailure(code, message) => {
            let message = message.unwrap_or_else(|| code.to_string());
            sqlx::Error::Database(Box::new(SqliteFailure { code, message }))
        }
        other => sqlx::Error::Protocol(other.to_string()),
    }
}

/// SQLite's error, as a sqlx database error.
#[derive(Debug)]
struct SqliteFailure {
    code: rusqlite::ffi::Error,
    message: String,
}

impl fmt::Display for SqliteFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SqliteFailure {}

impl DatabaseError for SqliteFailure {
    fn message(&self) -> &str {
        &self.message
    }

    fn code(&self) -> Option<Cow<'_, str>> {
        Some(Cow::Owned(self.code.extended_code.to_string()))
    }

    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }

    fn kind(&self) -> ErrorKind {
        use rusqlite::ffi;
        match self.code.extended_code {
            ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                ErrorKind::UniqueViolation
            }
            ffi::SQLITE_CONSTRAINT_FOREIGNKEY => ErrorKind::ForeignKeyViolation,
            ffi::SQLITE_CONSTRAINT_NOTNULL => ErrorKind::NotNullViolation,
            ffi::SQLITE_CONSTRAINT_CHECK => ErrorKind::CheckViolation,
            _ => ErrorKind::Other,
        }
    }
}

impl<'c> Executor<'c> for &'c mut SyncConn {
    type Database = Any;

    fn fetch_many<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxStream<'e, Result<Either<AnyQueryResult, AnyRow>, sqlx::Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Any>,
    {
        match self.run_query(query, None) {
            Ok(items) => futures::stream::iter(items.into_iter().map(Ok)).boxed(),
            Err(e) => futures::stream::once(async move { Err(e) }).boxed(),
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
        let result = self.run_query(query, Some(1)).map(|items| {
            items.into_iter().find_map(|item| match item {
                Either::Right(row) => Some(row),
                Either::Left(_) => None,
            })
        });
        futures::future::ready(result).boxed()
    }

    fn prepare_with<'e>(
        self,
        _sql: SqlStr,
        _parameters: &'e [AnyTypeInfo],
    ) -> BoxFuture<'e, Result<AnyStatement, sqlx::Error>>
    where
        'c: 'e,
    {
        futures::future::ready(Err(sqlx::Error::Protocol(
            "statements are not prepared apart on a SQLite connection of the store".into(),
        )))
        .boxed()
    }

    fn describe<'e>(
        self,
        _sql: SqlStr,
    ) -> BoxFuture<'e, Result<sqlx_core::describe::Describe<Any>, sqlx::Error>>
    where
        'c: 'e,
    {
        futures::future::ready(Err(sqlx::Error::Protocol(
            "statements are not described on a SQLite connection of the store".into(),
        )))
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::Row;

    /// A directory removed when dropped.
    struct Dir(std::path::PathBuf);

    impl Dir {
        fn path(&self) -> &std::path::Path {
            &self.0
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn open() -> (Dir, SyncConn) {
        let dir = Dir(std::env::temp_dir().join(format!("qun-sync-{}", uuid::Uuid::new_v4())));
        std::fs::create_dir_all(dir.path()).expect("temp dir");
        let conn = SyncConn::open(&dir.path().join("t.db"), "NORMAL").expect("open");
        (dir, conn)
    }

    #[tokio::test]
    async fn parameters_are_bound_by_number_and_rows_come_back_typed() {
        let (_dir, mut conn) = open();
        sqlx::query("CREATE TABLE t (k TEXT PRIMARY KEY, n INTEGER NOT NULL, b BLOB, f REAL)")
            .execute(&mut conn)
            .await
            .expect("create");
        // `$2` before `$1`: bound by number, not by place.
        let done = sqlx::query(
            "INSERT INTO t (n, k, b, f) VALUES ($2, $1, $3, $4), ($2 + 1, $1 || 'x', NULL, NULL)",
        )
        .bind("key")
        .bind(41_i64)
        .bind(vec![1_u8, 2, 3])
        .bind(0.5_f64)
        .execute(&mut conn)
        .await
        .expect("insert");
        assert_eq!(done.rows_affected(), 2);
        let rows = sqlx::query("SELECT k, n, b, f FROM t ORDER BY k")
            .fetch_all(&mut conn)
            .await
            .expect("select");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].try_get::<String, _>("k").expect("k"), "key");
        assert_eq!(rows[0].try_get::<i64, _>("n").expect("n"), 41);
        assert_eq!(
            rows[0].try_get::<Vec<u8>, _>("b").expect("b"),
            vec![1, 2, 3]
        );
        assert_eq!(rows[0].try_get::<f64, _>(3).expect("f"), 0.5);
        assert_eq!(rows[1].try_get::<Option<Vec<u8>>, _>("b").expect("b"), None);
        // RETURNING, and fetch_optional taking the first row only.
        let row = sqlx::query("UPDATE t SET n = n * 2 RETURNING k, n")
            .fetch_optional(&mut conn)
            .await
            .expect("update")
            .expect("a row");
        assert!(row.try_get::<i64, _>("n").expect("n") >= 82);
        let none = sqlx::query("SELECT k FROM t WHERE k = $1")
            .bind("absent")
            .fetch_optional(&mut conn)
            .await
            .expect("select");
        assert!(none.is_none());
    }

    #[tokio::test]
    async fn a_duplicate_is_reported_as_sqlx_reports_one() {
        let (_dir, mut conn) = open();
        sqlx::query("CREATE TABLE t (k TEXT PRIMARY KEY); INSERT INTO t VALUES ('a')")
            .execute(&mut conn)
            .await
            .expect("two statements in one string");
        let err = sqlx::query("INSERT INTO t VALUES ($1)")
            .bind("a")
            .execute(&mut conn)
            .await
            .expect_err("duplicate");
        let db = err.as_database_error().expect("a database error");
        assert!(db.is_unique_violation(), "{db}");
        assert!(db.message().contains("UNIQUE"), "{db}");
        let Err(err) = sqlx::query("SELECT * FROM missing")
            .fetch_all(&mut conn)
            .await
        else {
            panic!("a table that does not exist answered");
        };
        assert!(err.to_string().contains("no such table"), "{err}");
    }

    #[tokio::test]
    async fn a_dropped_transaction_is_rolled_back_before_the_next_use() {
        let (_dir, mut conn) = open();
        sqlx::query("CREATE TABLE t (k TEXT)")
            .execute(&mut conn)
            .await
            .expect("create");
        conn.begin("BEGIN IMMEDIATE").await.expect("begin");
        sqlx::query("INSERT INTO t VALUES ('gone')")
            .execute(&mut conn)
            .await
            .expect("insert");
        conn.rollback();
        conn.begin("BEGIN IMMEDIATE")
            .await
            .expect("a new transaction");
        sqlx::query("INSERT INTO t VALUES ('kept')")
            .execute(&mut conn)
            .await
            .expect("insert");
        conn.commit().expect("commit");
        let rows = sqlx::query("SELECT k FROM t")
            .fetch_all(&mut conn)
            .await
            .expect("select");
        let keys: Vec<String> = rows.iter().map(|r| r.get("k")).collect();
        assert_eq!(keys, ["kept"]);
    }

    /// While another process holds the write lock, `BEGIN IMMEDIATE` waits
    /// without holding the thread: other work on a one-thread runtime goes
    /// on, and the transaction starts once the lock is let go.
    #[tokio::test(flavor = "current_thread")]
    async fn waiting_for_another_writer_does_not_hold_the_thread() {
        let (dir, mut conn) = open();
        sqlx::query("CREATE TABLE t (k TEXT)")
            .execute(&mut conn)
            .await
            .expect("create");
        let other = rusqlite::Connection::open(dir.path().join("t.db")).expect("other");
        other
            .execute_batch("BEGIN IMMEDIATE")
            .expect("other writer");
        let waiting =
            tokio::spawn(async move { conn.begin("BEGIN IMMEDIATE").await.map(|()| conn) });
        // The spawned task is waiting; this one still runs.
        let mut ticks = 0;
        for _ in 0..20 {
            tokio::time::sleep(Duration::from_millis(2)).await;
            ticks += 1;
        }
        assert_eq!(ticks, 20);
        assert!(
            !waiting.is_finished(),
            "began while another writer held the lock"
        );
        other.execute_batch("COMMIT").expect("other commits");
        let mut conn = waiting
            .await
            .expect("task")
            .expect("began after the other writer");
        sqlx::query("INSERT INTO t VALUES ('mine')")
            .execute(&mut conn)
            .await
            .expect("insert");
        conn.commit().expect("commit");
    }
}
