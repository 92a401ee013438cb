//! An installation's key-value data (the `storage` capability's rows).

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

async fn list_on<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    installation_id: &str,
    query: &ListQuery,
) -> Result<Vec<KvRow>, StoreError> {
    // `key >= prefix` lets the primary key index do the range; `substr` keeps
    // only keys that really start with the prefix (no LIKE escaping needed).
    let lower = match &query.after {
        Some(after) if after.as_str() > query.prefix.as_str() => after.clone(),
        _ => query.prefix.clone(),
    };
    let strict = query
        .after
        .as_deref()
        .is_some_and(|a| a >= query.prefix.as_str());
    let sql = format!(
        "SELECT key, value, version FROM kv WHERE installation_id = $1 AND key {} $2 \
         AND substr(key, 1, CAST($3 AS INTEGER)) = $4 ORDER BY key LIMIT $5",
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
        .fetch_optional(self.pool())
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
        list_on(self.pool(), installation_id, query).await
    }
}

impl WriteTx {
    /// The version of `key` as this transaction sees it.
    pub async fn kv_version(
        &mut self,
        installation_id: &str,
        key: &str,
    ) -> Result<Option<i64>, StoreError> {
        let row = sqlx::query("SELECT version FROM kv WHERE installation_id = $1 AND key = $2")
            .bind(installation_id)
            .bind(key)
            .fetch_optional(&mut *self.tx)
            .await?;
        row.map(|row| row.try_get("version").map_err(StoreError::from))
            .transpose()
    }

    /// Size in bytes (key + value) of `key`, if set.
    pub async fn kv_size(
        &mut self,
        installation_id: &str,
        key: &str,
    ) -> Result<Option<i64>, StoreError> {
        let row = sqlx::query(
            "SELECT length(value) AS n FROM kv WHERE installation_id = $1 AND key = $2",
        )
        .bind(installation_id)
        .bind(key)
        .fetch_optional(&mut *self.tx)
        .await?;
        row.map(|row| Ok(row.try_get::<i64, _>("n")? + key.len() as i64))
            .transpose()
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

    /// Advance the installation's commit clock; returns the new value, or
    /// `None` when the installation no longer exists.
    pub async fn tick_clock(&mut self, installation_id: &str) -> Result<Option<i64>, StoreError> {
        sqlx::query("UPDATE installations SET kv_clock = kv_clock + 1 WHERE id = $1")
            .bind(installation_id)
            .execute(&mut *self.tx)
            .await?;
        let row = sqlx::query("SELECT kv_clock FROM installations WHERE id = $1")
            .bind(installation_id)
            .fetch_optional(&mut *self.tx)
            .await?;
        row.map(|row| row.try_get("kv_clock").map_err(StoreError::from))
            .transpose()
    }

    /// Storage use (bytes, keys) of an installation.
    pub async fn usage(&mut self, installation_id: &str) -> Result<(i64, i64), StoreError> {
        let row =
            sqlx::query("SELECT storage_bytes, storage_keys FROM installations WHERE id = $1")
                .bind(installation_id)
                .fetch_one(&mut *self.tx)
                .await?;
        Ok((row.try_get("storage_bytes")?, row.try_get("storage_keys")?))
    }

    /// Record new storage use.
    pub async fn set_usage(
        &mut self,
        installation_id: &str,
        bytes: i64,
        keys: i64,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE installations SET storage_bytes = $1, storage_keys = $2 WHERE id = $3")
            .bind(bytes)
            .bind(keys)
            .bind(installation_id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }
}
