//! Replay records of failed invocations (issue 16; see `runtime::replay`):
//! written in the failure's own transaction, the newest `keep` per
//! installation, purged after the retention, removed with the installation.

use sqlx::Row;

use super::{Store, StoreError, WriteTx};
use crate::runtime::replay::ReplaySummary;

impl WriteTx {
    /// Add a record and drop the installation's older ones past `keep.0`
    /// and the app's (over all its installations) past `keep.1`.
    pub async fn insert_replay(
        &mut self,
        summary: &ReplaySummary,
        body: &str,
        keep: (u32, u32),
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO replays (id, app_slug, app_version, installation_id, group_id, incident, \
             code, message, calls, size, created_at, body) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(&summary.id)
        .bind(&summary.app_slug)
        .bind(&summary.app_version)
        .bind(&summary.installation_id)
        .bind(&summary.group_id)
        .bind(&summary.incident)
        .bind(&summary.code)
        .bind(crate::text::scrub(&summary.message).as_ref())
        .bind(summary.calls)
        .bind(summary.size)
        .bind(summary.created_at)
        .bind(body)
        .execute(&mut *self.tx)
        .await?;
        // The newest `keep.0` of the installation, `keep.1` of the app.
        for (column, value, keep) in [
            ("installation_id", &summary.installation_id, keep.0),
            ("app_slug", &summary.app_slug, keep.1),
        ] {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DELETE FROM replays WHERE {column} = $1 AND id NOT IN \
                 (SELECT id FROM replays WHERE {column} = $1 \
                  ORDER BY created_at DESC, id DESC LIMIT CAST($2 AS BIGINT))"
            )))
            .bind(value)
            .bind(i64::from(keep))
            .execute(&mut *self.tx)
            .await?;
        }
        Ok(())
    }
}

fn summary(row: &sqlx::any::AnyRow) -> Result<ReplaySummary, StoreError> {
    Ok(ReplaySummary {
        id: row.try_get("id")?,
        created_at: row.try_get("created_at")?,
        app_slug: row.try_get("app_slug")?,
        app_version: row.try_get("app_version")?,
        installation_id: row.try_get("installation_id")?,
        group_id: row.try_get("group_id")?,
        incident: row.try_get("incident")?,
        code: row.try_get("code")?,
        message: row.try_get("message")?,
        calls: row.try_get("calls")?,
        size: row.try_get("size")?,
    })
}

impl Store {
    /// The records of `app_slug`, newest first: at most `limit`, older than
    /// `before` (ms) when given, of one installation when given.
    pub async fn replays(
        &self,
        app_slug: &str,
        installation_id: Option<&str>,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<ReplaySummary>, StoreError> {
        const COLUMNS: &str = "SELECT id, created_at, app_slug, app_version, installation_id, \
             group_id, incident, code, message, calls, size FROM replays";
        let before = before.unwrap_or(i64::MAX);
        let rows =
            match installation_id {
                Some(inst) => sqlx::query(sqlx::AssertSqlSafe(format!(
                    "{COLUMNS} WHERE app_slug = $1 AND installation_id = $2 AND created_at < $3 \
                     ORDER BY created_at DESC, id DESC LIMIT CAST($4 AS BIGINT)"
                )))
                .bind(app_slug)
                .bind(inst)
                .bind(before)
                .bind(i64::from(limit))
                .fetch_all(self.pool())
                .await?,
                None => {
                    sqlx::query(sqlx::AssertSqlSafe(format!(
                        "{COLUMNS} WHERE app_slug = $1 AND created_at < $2 \
                     ORDER BY created_at DESC, id DESC LIMIT CAST($3 AS BIGINT)"
                    )))
                    .bind(app_slug)
                    .bind(before)
                    .bind(i64::from(limit))
                    .fetch_all(self.pool())
                    .await?
                }
            };
        rows.iter().map(summary).collect()
    }

    /// The body (JSON) of record `id` of `app_slug`.
    pub async fn replay_body(
        &self,
        app_slug: &str,
        id: &str,
    ) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT body FROM replays WHERE id = $1 AND app_slug = $2")
            .bind(id)
            .bind(app_slug)
            .fetch_optional(self.pool())
            .await?;
        row.map(|r| r.try_get("body"))
            .transpose()
            .map_err(Into::into)
    }

    /// Remove records made before `before` (ms); how many went.
    pub async fn purge_replays(&self, before: i64) -> Result<u64, StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("DELETE FROM replays WHERE created_at < $1")
            .bind(before)
            .execute(&mut *tx.tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }
}
