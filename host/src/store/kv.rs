//! An installation's key-value data (the `storage` capability's rows).

use std::collections::HashMap;

use sqlx::{Any, Executor, Row};

use super::{Store, StoreError, WriteTx};

/// One stored key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KvRow {
    /// The key.
    pub key: String,
    /// The value.
    pub value: Vec<u8>,
    /// The installation's commit clock when the key was last written.
    pub version: i64,
}

/// A page of keys under a prefix, after a cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    /// Keys start with this.
    pub prefix: String,
    /// Keys sort after this.
    pub after: Option<String>,
    /// At most this many rows.
    pub limit: u32,
}

/// The lower bound of a listed range and whether it is strict (`>`).
fn list_bound(query: &ListQuery) -> (String, bool) {
    let lower = match &query.after {
        Some(after) if after.as_str() > query.prefix.as_str() => after.clone(),
        _ => query.prefix.clone(),
    };
    let strict = query
        .after
        .as_deref()
        .is_some_and(|a| a >= query.prefix.as_str());
    (lower, strict)
}

async fn list_on<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    installation_id: &str,
    query: &ListQuery,
) -> Result<Vec<KvRow>, StoreError> {
    // `key >= prefix` lets the primary key index do the range; `substr` keeps
    // only keys that really start with the prefix (no LIKE escaping needed).
    // `LIMIT CAST($5 …)`: SQLite (3.51) re-prepares a statement whose
    // `LIMIT` is a bare parameter every time that parameter is bound again
    // (its plan may depend on the value); behind a cast it does not.
    let (lower, strict) = list_bound(query);
    let sql = format!(
        "SELECT key, value, version FROM kv WHERE installation_id = $1 AND key {} $2 \
         AND substr(key, 1, CAST($3 AS INTEGER)) = $4 ORDER BY key LIMIT CAST($5 AS INTEGER)",
        if strict { ">" } else { ">=" }
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(installation_id)
        .bind(lower)
        .bind(query.prefix.chars().count() as i64)
        .bind(&query.prefix)
        .bind(i64::from(query.limit))
        .fetch_all(executor)
        .await?;
    rows.iter()
        .map(|row| {
            Ok(KvRow {
                key: row.try_get("key")?,
                value: row.try_get("value")?,
                version: row.try_get("version")?,
            })
        })
        .collect()
}

/// What a commit (or a read-only invocation's check) needs to know of the
/// keys an invocation read or wrote and the ranges it listed, read together
/// (issue 12: one statement instead of one per key and one per range).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct KvSnapshot {
    /// (version, size of key + value) of each asked key that is set.
    pub keys: HashMap<String, (i64, i64)>,
    /// Each listed range, in the order asked, summarised.
    pub lists: Vec<PageSeen>,
}

/// A listed page as a commit compares it: how many rows it has, the newest
/// version among them and its last key. Every write of a key stores the
/// installation's commit clock, which only grows, as the key's version; so
/// a page that gained or changed a row has a newer version, one that lost a
/// row has fewer rows or (when full) another last key, and an unchanged
/// page matches: as exact as comparing every row, in one row per page.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PageSeen {
    /// Rows in the page.
    pub rows: i64,
    /// The newest version among them.
    pub newest: Option<i64>,
    /// The last key (pages are in key order).
    pub last: Option<String>,
}

impl PageSeen {
    /// The summary of a page read as (key, version) pairs, in key order.
    pub fn of(page: &[(String, i64)]) -> PageSeen {
        PageSeen {
            rows: page.len() as i64,
            newest: page.iter().map(|(_, version)| *version).max(),
            last: page.last().map(|(key, _)| key.clone()),
        }
    }
}

/// What [`WriteTx::tick_installation`] read back.
#[derive(Debug, Clone)]
pub struct Ticked {
    /// The new commit clock (the version of the keys written).
    pub clock: i64,
    /// Storage use after the commit (bytes, keys).
    pub bytes: i64,
    /// See `bytes`.
    pub keys: i64,
    /// The installation as it is now.
    pub now: super::installations::InstallationNow,
}

/// Binds per statement of a [`KvSnapshot`] read: a few keys and ranges (the
/// usual invocation) are one statement; thousands are split.
const SNAPSHOT_BINDS: usize = 900;

/// One statement of a [`KvSnapshot`] read: the rows of `keys` (tagged 0)
/// and of each range (tagged with its position from `first_list + 1`).
fn snapshot_statement<'q>(
    installation_id: &'q str,
    keys: &'q [&'q str],
    lists: &'q [&'q ListQuery],
    first_list: usize,
) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments> {
    let mut parts: Vec<String> = Vec::new();
    let mut n = 1;
    if !keys.is_empty() {
        let marks: Vec<String> = (0..keys.len()).map(|i| format!("${}", i + 2)).collect();
        n += keys.len();
        parts.push(format!(
            "SELECT CAST(0 AS BIGINT) AS q, key, version, CAST(length(value) AS BIGINT) AS n \
             FROM kv WHERE installation_id = $1 AND key IN ({})",
            marks.join(", ")
        ));
    }
    let mut bounds = Vec::with_capacity(lists.len());
    for (i, query) in lists.iter().enumerate() {
        let (lower, strict) = list_bound(query);
        // One row per page (see [`PageSeen`]), whatever its length.
        parts.push(format!(
            "SELECT CAST({} AS BIGINT) AS q, MAX(key) AS key, MAX(version) AS version, \
             CAST(COUNT(*) AS BIGINT) AS n FROM (SELECT key, version \
             FROM kv WHERE installation_id = $1 AND key {} ${} \
             AND substr(key, 1, CAST(${} AS INTEGER)) = ${} ORDER BY key LIMIT CAST(${} AS INTEGER)) l{i}",
            first_list + i + 1,
            if strict { ">" } else { ">=" },
            n + 1,
            n + 2,
            n + 3,
            n + 4
        ));
        n += 4;
        bounds.push(lower);
    }
    let sql = format!(
        "SELECT q, key, version, n FROM ({}) s ORDER BY q, key",
        parts.join(" UNION ALL ")
    );
    // Small statements are the common shapes: keep them prepared.
    let persistent = keys.len() + lists.len() <= 8;
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
        .persistent(persistent)
        .bind(installation_id);
    for key in keys {
        query = query.bind(*key);
    }
    for (list, lower) in lists.iter().zip(bounds) {
        query = query
            .bind(lower)
            .bind(list.prefix.chars().count() as i64)
            .bind(list.prefix.as_str())
            .bind(i64::from(list.limit));
    }
    query
}

/// The statements of a [`KvSnapshot`] read, as (keys, lists, first list index).
fn snapshot_chunks<'a>(
    keys: &'a [&'a str],
    lists: &'a [&'a ListQuery],
) -> Vec<(&'a [&'a str], &'a [&'a ListQuery], usize)> {
    let mut chunks = Vec::new();
    let per = SNAPSHOT_BINDS;
    let mut rest = keys;
    while !rest.is_empty() {
        let (head, tail) = rest.split_at(rest.len().min(per));
        chunks.push((head, &lists[..0], 0));
        rest = tail;
    }
    let per_lists = SNAPSHOT_BINDS / 4;
    let mut first = 0;
    while first < lists.len() {
        let end = lists.len().min(first + per_lists);
        chunks.push((&keys[..0], &lists[first..end], first));
        first = end;
    }
    // The usual case: a few keys and ranges in one statement.
    if chunks.len() == 2 && keys.len() + 4 * lists.len() <= per {
        return vec![(keys, lists, 0)];
    }
    chunks
}

fn snapshot_add(snapshot: &mut KvSnapshot, rows: &[sqlx::any::AnyRow]) -> Result<(), StoreError> {
    for row in rows {
        let q: i64 = row.try_get("q")?;
        let n: i64 = row.try_get("n")?;
        if q == 0 {
            let key: String = row.try_get("key")?;
            let version: i64 = row.try_get("version")?;
            let size = n + key.len() as i64;
            snapshot.keys.insert(key, (version, size));
        } else {
            let at = usize::try_from(q - 1)
                .map_err(|_| StoreError::Corrupt(format!("snapshot row tagged {q}")))?;
            match snapshot.lists.get_mut(at) {
                Some(page) => {
                    *page = PageSeen {
                        rows: n,
                        newest: row.try_get("version")?,
                        last: row.try_get("key")?,
                    }
                }
                None => return Err(StoreError::Corrupt(format!("snapshot row tagged {q}"))),
            }
        }
    }
    Ok(())
}

/// Whether a [`KvSnapshot`] of these keys and ranges takes one statement
/// (which is consistent by itself, on both backends).
pub fn kv_snapshot_is_one_statement(keys: usize, lists: usize) -> bool {
    keys + 4 * lists <= SNAPSHOT_BINDS
}

impl Store {
    /// The row of `key`, if set.
    pub async fn kv_get(
        &self,
        installation_id: &str,
        key: &str,
    ) -> Result<Option<KvRow>, StoreError> {
        let row = sqlx::query(
            "SELECT key, value, version FROM kv WHERE installation_id = $1 AND key = $2",
        )
        .bind(installation_id)
        .bind(key)
        .fetch_optional(&mut *self.conn().await?)
        .await?;
        row.map(|row| {
            Ok(KvRow {
                key: row.try_get("key")?,
                value: row.try_get("value")?,
                version: row.try_get("version")?,
            })
        })
        .transpose()
    }

    /// Rows under a prefix.
    pub async fn kv_list(
        &self,
        installation_id: &str,
        query: &ListQuery,
    ) -> Result<Vec<KvRow>, StoreError> {
        list_on(&mut *self.conn().await?, installation_id, query).await
    }

    /// A [`KvSnapshot`] read outside a transaction; consistent only when
    /// [`kv_snapshot_is_one_statement`] (otherwise read it in
    /// [`Store::begin_snapshot`]).
    pub async fn kv_snapshot(
        &self,
        installation_id: &str,
        keys: &[&str],
        lists: &[&ListQuery],
    ) -> Result<KvSnapshot, StoreError> {
        let mut snapshot = KvSnapshot {
            keys: HashMap::new(),
            lists: vec![PageSeen::default(); lists.len()],
        };
        for (keys, lists, first) in snapshot_chunks(keys, lists) {
            let rows = snapshot_statement(installation_id, keys, lists, first)
                .fetch_all(&mut *self.conn().await?)
                .await?;
            snapshot_add(&mut snapshot, &rows)?;
        }
        Ok(snapshot)
    }
}

impl WriteTx {
    /// A [`KvSnapshot`] as this transaction sees it.
    pub async fn kv_snapshot(
        &mut self,
        installation_id: &str,
        keys: &[&str],
        lists: &[&ListQuery],
    ) -> Result<KvSnapshot, StoreError> {
        let mut snapshot = KvSnapshot {
            keys: HashMap::new(),
            lists: vec![PageSeen::default(); lists.len()],
        };
        for (keys, lists, first) in snapshot_chunks(keys, lists) {
            let rows = snapshot_statement(installation_id, keys, lists, first)
                .fetch_all(&mut *self.tx)
                .await?;
            snapshot_add(&mut snapshot, &rows)?;
        }
        Ok(snapshot)
    }

    /// Rows under a prefix, inside this transaction.
    pub async fn kv_list(
        &mut self,
        installation_id: &str,
        query: &ListQuery,
    ) -> Result<Vec<KvRow>, StoreError> {
        list_on(&mut *self.tx, installation_id, query).await
    }

    /// Set `key` to `value` at `version`.
    pub async fn kv_put(
        &mut self,
        installation_id: &str,
        key: &str,
        value: &[u8],
        version: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO kv (installation_id, key, value, version) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (installation_id, key) DO UPDATE SET value = excluded.value, version = excluded.version",
        )
        .bind(installation_id)
        .bind(key)
        .bind(value.to_vec())
        .bind(version)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Delete `key`.
    pub async fn kv_delete(&mut self, installation_id: &str, key: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM kv WHERE installation_id = $1 AND key = $2")
            .bind(installation_id)
            .bind(key)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// The commit of an invocation that writes storage, in one statement:
    /// advance the installation's commit clock, add `bytes` and `keys` to
    /// its storage use, and read back the new clock and use with what the
    /// commit checks again (enabled, grants, suspension). `None` when the
    /// installation no longer exists.
    pub async fn tick_installation(
        &mut self,
        installation_id: &str,
        bytes: i64,
        keys: i64,
    ) -> Result<Option<Ticked>, StoreError> {
        let row = sqlx::query(
            "UPDATE installations SET kv_clock = kv_clock + 1, storage_bytes = storage_bytes + $2, \
             storage_keys = storage_keys + $3 WHERE id = $1 \
             RETURNING kv_clock, storage_bytes, storage_keys, enabled, grants, \
             (SELECT a.suspended_at FROM apps a WHERE a.slug = installations.app_slug) AS suspended_at",
        )
        .bind(installation_id)
        .bind(bytes)
        .bind(keys)
        .fetch_optional(&mut *self.tx)
        .await?;
        row.as_ref().map(ticked_from).transpose()
    }

    /// On PostgreSQL, [`WriteTx::tick_installation`] and the writes of the
    /// same commit in **one statement**: `puts` stored at the new clock,
    /// `deletes` removed. What it reads back is the tick's; when the caller
    /// then refuses the commit (a quota, a grant gone) it drops the
    /// transaction and nothing stays. `None` when that does not apply here
    /// (SQLite, or more keys than one statement takes): tick, then write key
    /// by key.
    pub async fn tick_and_write(
        &mut self,
        installation_id: &str,
        bytes: i64,
        keys: i64,
        puts: &[(&str, &[u8])],
        deletes: &[&str],
    ) -> Result<Option<Option<Ticked>>, StoreError> {
        if self.backend != super::Backend::Postgres
            || 3 + 2 * puts.len() + deletes.len() > SNAPSHOT_BINDS
        {
            return Ok(None);
        }
        let mut sql = String::from(
            "WITH ticked AS (UPDATE installations SET kv_clock = kv_clock + 1, storage_bytes = storage_bytes + $2, \
             storage_keys = storage_keys + $3 WHERE id = $1 \
             RETURNING kv_clock, storage_bytes, storage_keys, enabled, grants, \
             (SELECT a.suspended_at FROM apps a WHERE a.slug = installations.app_slug) AS suspended_at)",
        );
        if !puts.is_empty() {
            sql.push_str(&format!(
                ", put AS (INSERT INTO kv (installation_id, key, value, version) \
                 SELECT $1, v.key, v.value, ticked.kv_clock FROM ticked, (VALUES {}) AS v(key, value) \
                 ON CONFLICT (installation_id, key) DO UPDATE SET value = excluded.value, version = excluded.version)",
                super::value_rows(puts.len(), 2, 4)
            ));
        }
        if !deletes.is_empty() {
            let first = 4 + 2 * puts.len();
            let marks: Vec<String> = (first..first + deletes.len())
                .map(|n| format!("${n}"))
                .collect();
            sql.push_str(&format!(
                ", dropped AS (DELETE FROM kv WHERE installation_id = $1 AND key IN ({}) \
                 AND EXISTS (SELECT 1 FROM ticked))",
                marks.join(", ")
            ));
        }
        sql.push_str(" SELECT * FROM ticked");
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
            .persistent(puts.len() + deletes.len() <= 4)
            .bind(installation_id)
            .bind(bytes)
            .bind(keys);
        for (key, value) in puts {
            query = query.bind(*key).bind(value.to_vec());
        }
        for key in deletes {
            query = query.bind(*key);
        }
        let row = query.fetch_optional(&mut *self.tx).await?;
        Ok(Some(row.as_ref().map(ticked_from).transpose()?))
    }
}

/// What the tick of an installation read back.
fn ticked_from(row: &sqlx::any::AnyRow) -> Result<Ticked, StoreError> {
    let grants: String = row.try_get("grants")?;
    Ok(Ticked {
        clock: row.try_get("kv_clock")?,
        bytes: row.try_get("storage_bytes")?,
        keys: row.try_get("storage_keys")?,
        now: super::installations::InstallationNow {
            enabled: row.try_get::<i64, _>("enabled")? != 0,
            suspended: row.try_get::<Option<i64>, _>("suspended_at")?.is_some(),
            grants: serde_json::from_str(&grants)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        },
    })
}
