//! What the HTTP API reads for live streams and message views (issue 13):
//! the element references of many messages at once, everything a group's
//! stream poller reads for all its streams (private replies, changes, direct
//! messages), and reopening a form whose submission was refused.

use std::collections::HashMap;

use sqlx::Row;

use super::messages::{MESSAGE_COLUMNS, message_from_row};
use super::{DirectMessage, Store, StoreError, StoredMessage};

impl Store {
    /// The element references of these messages: message id -> position -> ref.
    pub async fn element_refs(
        &self,
        ids: &[i64],
    ) -> Result<HashMap<i64, HashMap<i64, String>>, StoreError> {
        let mut out: HashMap<i64, HashMap<i64, String>> = HashMap::new();
        if ids.is_empty() {
            return Ok(out);
        }
        // Bound, so the statement's text (and its prepared statement) depends
        // on how many ids there are, not on which; at most a page at a time.
        let mut rows = Vec::new();
        for chunk in ids.chunks(500) {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT message_id, position, ref FROM message_elements WHERE message_id IN ({})",
                super::params(1, chunk.len())
            )));
            for id in chunk {
                query = query.bind(*id);
            }
            rows.extend(query.fetch_all(self.pool()).await?);
        }
        for row in rows {
            let message: i64 = row.try_get("message_id")?;
            let position: i64 = row.try_get("position")?;
            out.entry(message)
                .or_default()
                .insert(position, row.try_get("ref")?);
        }
        Ok(out)
    }

    /// Messages of a group updated or deleted at or after `since` (ms),
    /// private ones included (a stream poller reads them once for all the
    /// group's streams and hands each to the members who may see it).
    pub async fn group_changes_since(
        &self,
        group_id: &str,
        since: i64,
        limit: u32,
    ) -> Result<Vec<StoredMessage>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE group_id = $1 \
             AND (updated_at >= $2 OR deleted_at >= $2) \
             ORDER BY COALESCE(deleted_at, updated_at), id LIMIT CAST($3 AS BIGINT)"
        )))
        .bind(group_id)
        .bind(since)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(message_from_row).collect()
    }

    /// Direct messages the apps of a group sent with an id greater than
    /// `after`, oldest first (streamed to their recipients).
    pub async fn group_directs(
        &self,
        group_id: &str,
        after: i64,
        limit: u32,
    ) -> Result<Vec<DirectMessage>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, group_id, recipient_id, installation_id, text, card, blocks, created_at \
             FROM direct_messages WHERE group_id = $1 AND id > $2 ORDER BY id LIMIT CAST($3 AS BIGINT)",
        )
        .bind(group_id)
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(super::messages::direct_from).collect()
    }

    /// The id of the newest direct message the apps of a group sent (0: none).
    pub async fn latest_group_direct_id(&self, group_id: &str) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT MAX(id) AS id FROM direct_messages WHERE group_id = $1")
            .bind(group_id)
            .fetch_one(self.pool())
            .await?;
        Ok(row.try_get::<Option<i64>, _>("id")?.unwrap_or(0))
    }

    /// Open a claimed form again: its submission was refused (field errors)
    /// or failed, so the member can correct it and send it again.
    pub async fn reopen_form(&self, id: &str) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE forms SET closed_at = NULL WHERE id = $1")
            .bind(id)
            .execute(&mut *tx.tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
