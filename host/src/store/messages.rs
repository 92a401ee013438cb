//! Group messages and direct messages.

use sqlx::{Any, Executor, Row};

use super::{Store, StoreError, WriteTx, now_ms};

/// A message about to be written.
#[derive(Debug, Clone, Default)]
pub struct NewMessage {
    /// The group it is posted to.
    pub group_id: String,
    /// Posted by this member, or
    pub user_id: Option<String>,
    /// by this installation (an app).
    pub installation_id: Option<String>,
    /// Text.
    pub text: Option<String>,
    /// A card, as JSON.
    pub card: Option<serde_json::Value>,
}

/// A message as stored.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StoredMessage {
    /// Position in the group's timeline.
    pub id: i64,
    /// The group.
    pub group_id: String,
    /// The member who posted it.
    pub user_id: Option<String>,
    /// The installation that posted it.
    pub installation_id: Option<String>,
    /// Text.
    pub text: Option<String>,
    /// Card.
    pub card: Option<serde_json::Value>,
    /// When (ms).
    pub created_at: i64,
}

/// A direct message from an app to a member.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DirectMessage {
    /// Its id.
    pub id: i64,
    /// The group the app runs in.
    pub group_id: String,
    /// Who receives it.
    pub recipient_id: String,
    /// The sending installation.
    pub installation_id: String,
    /// Text.
    pub text: Option<String>,
    /// Card.
    pub card: Option<serde_json::Value>,
    /// When (ms).
    pub created_at: i64,
}

fn card_from(row: &sqlx::any::AnyRow) -> Result<Option<serde_json::Value>, StoreError> {
    let card: Option<String> = row.try_get("card")?;
    card.map(|c| serde_json::from_str(&c).map_err(|e| StoreError::Corrupt(e.to_string())))
        .transpose()
}

fn message_from_row(row: &sqlx::any::AnyRow) -> Result<StoredMessage, StoreError> {
    Ok(StoredMessage {
        id: row.try_get("id")?,
        group_id: row.try_get("group_id")?,
        user_id: row.try_get("user_id")?,
        installation_id: row.try_get("installation_id")?,
        text: row.try_get("text")?,
        card: card_from(row)?,
        created_at: row.try_get("created_at")?,
    })
}

async fn count_since<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    installation_id: &str,
    since: i64,
) -> Result<i64, StoreError> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM messages WHERE installation_id = $1 AND created_at >= $2",
    )
    .bind(installation_id)
    .bind(since)
    .fetch_one(executor)
    .await?;
    Ok(row.try_get("n")?)
}

impl Store {
    /// Post one message in its own transaction.
    pub async fn post_message(&self, message: &NewMessage) -> Result<StoredMessage, StoreError> {
        let mut tx = self.begin_write().await?;
        let stored = tx.insert_message(message).await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// Messages of a group with id greater than `after`, oldest first.
    pub async fn messages(
        &self,
        group_id: &str,
        after: i64,
        limit: u32,
    ) -> Result<Vec<StoredMessage>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, group_id, user_id, installation_id, text, card, created_at FROM messages \
             WHERE group_id = $1 AND id > $2 ORDER BY id LIMIT $3",
        )
        .bind(group_id)
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(message_from_row).collect()
    }

    /// The messages of a group with these ids, oldest first (what one
    /// commit stored, read back by id rather than by scanning the timeline).
    pub async fn messages_by_ids(
        &self,
        group_id: &str,
        ids: &[i64],
    ) -> Result<Vec<StoredMessage>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        // Ids are integers from our own commit: safe to inline, and one
        // statement on both backends.
        let list = ids
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT id, group_id, user_id, installation_id, text, card, created_at FROM messages \
             WHERE group_id = $1 AND id IN ({list}) ORDER BY id"
        )))
        .bind(group_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(message_from_row).collect()
    }

    /// The id of a group's newest message (0 when it has none).
    pub async fn latest_message_id(&self, group_id: &str) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT MAX(id) AS id FROM messages WHERE group_id = $1")
            .bind(group_id)
            .fetch_one(self.pool())
            .await?;
        Ok(row.try_get::<Option<i64>, _>("id")?.unwrap_or(0))
    }

    /// Direct messages a member received, oldest first.
    pub async fn direct_messages(
        &self,
        recipient_id: &str,
    ) -> Result<Vec<DirectMessage>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, group_id, recipient_id, installation_id, text, card, created_at FROM direct_messages \
             WHERE recipient_id = $1 ORDER BY id",
        )
        .bind(recipient_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(direct_from).collect()
    }

    /// Messages an installation posted since `since` (ms), for rate limits.
    pub async fn messages_posted_since(
        &self,
        installation_id: &str,
        since: i64,
    ) -> Result<i64, StoreError> {
        count_since(self.pool(), installation_id, since).await
    }
}

impl WriteTx {
    /// Insert a group message. Inserts into one group are serialised so ids
    /// become visible in increasing order (a stream reader never skips one).
    pub async fn insert_message(
        &mut self,
        message: &NewMessage,
    ) -> Result<StoredMessage, StoreError> {
        self.lock(&format!("messages:{}", message.group_id)).await?;
        let now = now_ms();
        let card = message.card.as_ref().map(|c| c.to_string());
        let row = sqlx::query(
            "INSERT INTO messages (group_id, user_id, installation_id, text, card, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(&message.group_id)
        .bind(&message.user_id)
        .bind(&message.installation_id)
        .bind(&message.text)
        .bind(&card)
        .bind(now)
        .fetch_one(&mut *self.tx)
        .await?;
        let id: i64 = row.try_get("id")?;
        let author = message
            .user_id
            .clone()
            .or_else(|| message.installation_id.clone())
            .unwrap_or_default();
        let event = super::EventBody::MessagePosted {
            id: id.to_string(),
            author,
            text: message.text.clone().unwrap_or_default(),
        };
        self.enqueue_message_posted(
            &message.group_id,
            message.installation_id.as_deref(),
            &event,
        )
        .await?;
        Ok(StoredMessage {
            id,
            group_id: message.group_id.clone(),
            user_id: message.user_id.clone(),
            installation_id: message.installation_id.clone(),
            text: message.text.clone(),
            card: message.card.clone(),
            created_at: now,
        })
    }

    /// Insert a direct message.
    pub async fn insert_direct(
        &mut self,
        group_id: &str,
        recipient_id: &str,
        installation_id: &str,
        text: Option<&str>,
        card: Option<&serde_json::Value>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO direct_messages (group_id, recipient_id, installation_id, text, card, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(group_id)
        .bind(recipient_id)
        .bind(installation_id)
        .bind(text)
        .bind(card.map(|c| c.to_string()))
        .bind(now_ms())
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Messages an installation posted since `since` (ms), inside this transaction.
    pub async fn messages_posted_since(
        &mut self,
        installation_id: &str,
        since: i64,
    ) -> Result<i64, StoreError> {
        count_since(&mut *self.tx, installation_id, since).await
    }
}

// --- issue 10, item 6 (runtime): bounded direct messages ---

/// Direct messages an installation sent since `since` (ms), per recipient.
async fn directs_since<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    installation_id: &str,
    since: i64,
) -> Result<Vec<(String, i64)>, StoreError> {
    let rows = sqlx::query(
        "SELECT recipient_id, COUNT(*) AS n FROM direct_messages \
         WHERE installation_id = $1 AND created_at >= $2 GROUP BY recipient_id",
    )
    .bind(installation_id)
    .bind(since)
    .fetch_all(executor)
    .await?;
    rows.iter()
        .map(|row| Ok((row.try_get("recipient_id")?, row.try_get("n")?)))
        .collect()
}

impl Store {
    /// Direct messages an installation sent since `since` (ms), per recipient.
    pub async fn directs_sent_since(
        &self,
        installation_id: &str,
        since: i64,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        directs_since(self.pool(), installation_id, since).await
    }

    /// A page of the direct messages a member received: id greater than
    /// `after`, oldest first, at most `limit`.
    pub async fn direct_messages_page(
        &self,
        recipient_id: &str,
        after: i64,
        limit: u32,
    ) -> Result<Vec<DirectMessage>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, group_id, recipient_id, installation_id, text, card, created_at FROM direct_messages \
             WHERE recipient_id = $1 AND id > $2 ORDER BY id LIMIT $3",
        )
        .bind(recipient_id)
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(direct_from).collect()
    }
}

impl WriteTx {
    /// Direct messages an installation sent since `since` (ms), per
    /// recipient, inside this transaction.
    pub async fn directs_sent_since(
        &mut self,
        installation_id: &str,
        since: i64,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        directs_since(&mut *self.tx, installation_id, since).await
    }
}

/// A `direct_messages` row.
fn direct_from(row: &sqlx::any::AnyRow) -> Result<DirectMessage, StoreError> {
    Ok(DirectMessage {
        id: row.try_get("id")?,
        group_id: row.try_get("group_id")?,
        recipient_id: row.try_get("recipient_id")?,
        installation_id: row.try_get("installation_id")?,
        text: row.try_get("text")?,
        card: card_from(row)?,
        created_at: row.try_get("created_at")?,
    })
}
