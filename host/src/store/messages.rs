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
    /// A `qun:app@0.1.0` card, as JSON.
    pub card: Option<serde_json::Value>,
    /// The message's blocks (element payloads included).
    pub blocks: Option<qun_blocks::Message>,
    /// The id given out earlier ([`Store::allocate_message_id`]); `None`:
    /// take one now.
    pub id: Option<i64>,
    /// The one member who sees it (a private reply); `None`: the group.
    pub visible_to: Option<String>,
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
    /// Card (`qun:app@0.1.0` apps).
    pub card: Option<serde_json::Value>,
    /// Its blocks, element payloads included (a card of a row stored
    /// before blocks existed is read as blocks); `None` when deleted or
    /// when it is plain text from a member.
    pub blocks: Option<qun_blocks::Message>,
    /// The one member who sees it (a private reply); `None`: everyone.
    pub visible_to: Option<String>,
    /// When (ms).
    pub created_at: i64,
    /// When its app last replaced it (ms).
    pub updated_at: Option<i64>,
    /// When its app deleted it (ms); its content is gone.
    pub deleted_at: Option<i64>,
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
    /// Card (`qun:app@0.1.0` apps).
    pub card: Option<serde_json::Value>,
    /// Its blocks (a card is read as blocks).
    pub blocks: Option<qun_blocks::Message>,
    /// When (ms).
    pub created_at: i64,
}

/// The columns [`message_from_row`] reads.
pub(crate) const MESSAGE_COLUMNS: &str = "id, group_id, user_id, installation_id, text, card, blocks, \
     visible_to, created_at, updated_at, deleted_at";

/// A `qun:app@0.1.0` card (`{"title","body","fields","buttons"}`) as blocks:
/// a header with the title, a text block with the body, its fields, and
/// one actions row of default buttons.
pub fn card_to_blocks(card: &serde_json::Value) -> Vec<qun_blocks::Block> {
    use qun_blocks::{Block, Button, ButtonStyle, Element, Field};
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
    let mut blocks = vec![Block::Header {
        text: text(&card["title"]),
    }];
    if let Some(body) = card["body"].as_str() {
        blocks.push(Block::Text {
            text: body.to_string(),
        });
    }
    if let Some(fields) = card["fields"].as_array().filter(|f| !f.is_empty()) {
        blocks.push(Block::Fields {
            fields: fields
                .iter()
                .map(|f| Field {
                    name: text(&f["name"]),
                    value: text(&f["value"]),
                })
                .collect(),
        });
    }
    if let Some(buttons) = card["buttons"].as_array().filter(|b| !b.is_empty()) {
        blocks.push(Block::Actions {
            elements: buttons
                .iter()
                .map(|b| {
                    Element::Button(Button {
                        label: text(&b["label"]),
                        action: text(&b["action"]),
                        payload: b["payload"].to_string(),
                        style: ButtonStyle::Default,
                        confirm: None,
                    })
                })
                .collect(),
        });
    }
    blocks
}

/// The blocks of a row: its `blocks` column, else its card read as blocks.
fn blocks_from(
    row: &sqlx::any::AnyRow,
    text: &Option<String>,
    card: &Option<serde_json::Value>,
) -> Result<Option<qun_blocks::Message>, StoreError> {
    let blocks: Option<String> = row.try_get("blocks")?;
    if let Some(blocks) = blocks {
        return serde_json::from_str(&blocks)
            .map(Some)
            .map_err(|e| StoreError::Corrupt(format!("message blocks: {e}")));
    }
    Ok(card.as_ref().map(|card| qun_blocks::Message {
        text: text.clone().unwrap_or_default(),
        blocks: card_to_blocks(card),
    }))
}

fn card_from(row: &sqlx::any::AnyRow) -> Result<Option<serde_json::Value>, StoreError> {
    let card: Option<String> = row.try_get("card")?;
    card.map(|c| serde_json::from_str(&c).map_err(|e| StoreError::Corrupt(e.to_string())))
        .transpose()
}

pub(crate) fn message_from_row(row: &sqlx::any::AnyRow) -> Result<StoredMessage, StoreError> {
    let text: Option<String> = row.try_get("text")?;
    let card = card_from(row)?;
    Ok(StoredMessage {
        id: row.try_get("id")?,
        group_id: row.try_get("group_id")?,
        user_id: row.try_get("user_id")?,
        installation_id: row.try_get("installation_id")?,
        blocks: blocks_from(row, &text, &card)?,
        text,
        card,
        visible_to: row.try_get("visible_to")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        deleted_at: row.try_get("deleted_at")?,
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

/// A message's card and blocks as stored (JSON text).
fn encoded(message: &NewMessage) -> Result<(Option<String>, Option<String>), StoreError> {
    let card = message.card.as_ref().map(|c| c.to_string());
    let blocks = message
        .blocks
        .as_ref()
        .map(serde_json::to_string)
        .transpose()
        .map_err(|e| StoreError::Corrupt(format!("message blocks: {e}")))?;
    Ok((card, blocks))
}

/// Who posted it: the member, or the installation of the app that did.
fn poster(message: &NewMessage) -> String {
    message
        .user_id
        .clone()
        .or_else(|| message.installation_id.clone())
        .unwrap_or_default()
}

/// The event subscribed apps receive for a group message.
fn posted_event(message: &NewMessage, id: &str, files: Vec<String>) -> super::EventBody {
    super::EventBody::MessagePosted {
        id: id.to_string(),
        author: poster(message),
        text: message.text.clone().unwrap_or_default(),
        files,
    }
}

/// The message as stored under `id` at `now`.
fn stored(message: &NewMessage, id: i64, now: i64) -> StoredMessage {
    StoredMessage {
        id,
        group_id: message.group_id.clone(),
        user_id: message.user_id.clone(),
        installation_id: message.installation_id.clone(),
        text: message.text.clone(),
        card: message.card.clone(),
        blocks: message.blocks.clone(),
        visible_to: message.visible_to.clone(),
        created_at: now,
        updated_at: None,
        deleted_at: None,
    }
}

/// On PostgreSQL, a message without files in **one statement**: the group's
/// message order lock, a new id (drawn after the lock: the insert selects
/// from the lock's row, so ids become visible in increasing order), the row,
/// its elements, and its event queued for the group's other subscribed apps
/// (private replies are nobody else's business). The new id, or `None` when
/// the message does not fit one statement (the caller goes step by step).
pub(super) async fn insert_at_once<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    message: &NewMessage,
    now: i64,
) -> Result<Option<i64>, StoreError> {
    let inst = message.installation_id.as_deref();
    let rows = match (&message.blocks, inst) {
        (Some(blocks), Some(_)) => super::elements::element_rows(blocks)?,
        _ => Vec::new(),
    };
    if rows.len() > super::elements::ELEMENTS_PER_INSERT {
        return Ok(None);
    }
    // The event's JSON around its id, which only the insert knows (an app's
    // files are its own: none are named).
    let body = super::outbox::encode(&posted_event(message, "", Vec::new()))?;
    let Some(at) = body.find(r#""id":""#) else {
        return Ok(None);
    };
    let (head, tail) = body.split_at(at + r#""id":""#.len());
    let (card, blocks) = encoded(message)?;
    let mut sql = format!(
        "WITH turn AS (SELECT pg_advisory_xact_lock($10)), \
         posted AS (INSERT INTO messages (id, group_id, user_id, installation_id, text, card, blocks, visible_to, created_at) \
             SELECT COALESCE($1, nextval(pg_get_serial_sequence('messages', 'id'))), $2, $3, $4, $5, $6, $7, $8, $9 FROM turn \
             RETURNING id), \
         fanout AS (INSERT INTO outbox (installation_id, group_id, body, created_at, attempts, next_attempt_at, status) \
             SELECT i.id, i.group_id, $11 || posted.id || $12, $9, 0, $9, 'pending' \
             FROM posted, {} \
             WHERE $8::text IS NULL AND i.group_id = $2 AND i.id <> $13 ORDER BY i.id)",
        super::outbox::MESSAGE_SUBSCRIBERS
    );
    if !rows.is_empty() {
        sql.push_str(&format!(
            ", added AS (INSERT INTO message_elements (ref, message_id, group_id, installation_id, position, action, payload, kind, options) \
             SELECT v.ref, posted.id, v.group_id, v.installation_id, v.position, v.action, v.payload, v.kind, v.options \
             FROM posted, (VALUES {}) AS v(ref, group_id, installation_id, position, action, payload, kind, options))",
            super::value_rows(rows.len(), 8, 14)
        ));
    }
    sql.push_str(" SELECT id FROM posted");
    let query = sqlx::query(sqlx::AssertSqlSafe(sql))
        .persistent(rows.len() <= 8)
        .bind(message.id)
        .bind(&message.group_id)
        .bind(&message.user_id)
        .bind(&message.installation_id)
        .bind(&message.text)
        .bind(card)
        .bind(blocks)
        .bind(&message.visible_to)
        .bind(now)
        .bind(super::lock_key(&message_lock(&message.group_id)))
        .bind(head)
        .bind(tail)
        .bind(inst.unwrap_or(""));
    let id: i64 =
        super::elements::bind_elements(query, &rows, None, &message.group_id, inst.unwrap_or(""))
            .fetch_one(executor)
            .await?
            .try_get("id")?;
    Ok(Some(id))
}

/// The lock that orders a group's messages ([`WriteTx::insert_message`]).
fn message_lock(group_id: &str) -> String {
    format!("messages:{group_id}")
}

impl Store {
    /// Post one message in its own transaction.
    pub async fn post_message(&self, message: &NewMessage) -> Result<StoredMessage, StoreError> {
        if self.backend() == super::Backend::Postgres
            && let Some(stored) = self.post_plain_postgres(message).await?
        {
            return Ok(stored);
        }
        let mut tx = self
            .begin_write_locked(&message_lock(&message.group_id))
            .await?;
        let stored = tx.insert_message(message).await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// [`Store::post_message`] on PostgreSQL for a message without files
    /// (every member's plain post): [`insert_at_once`] committed on its own,
    /// so the group's message order lock is held for one round trip instead
    /// of four, or with the posts that queued behind it (see [`post_batch`]).
    ///
    /// [`post_batch`]: super::post_batch `None`: not such a message (the caller takes the transaction
    /// path).
    async fn post_plain_postgres(
        &self,
        message: &NewMessage,
    ) -> Result<Option<StoredMessage>, StoreError> {
        if message.blocks.iter().any(|b| b.files().next().is_some()) {
            return Ok(None);
        }
        let now = now_ms();
        let id = self.post_batched(message, now).await?;
        Ok(id.map(|id| stored(message, id, now)))
    }

    /// Every message of a group with id greater than `after`, oldest first:
    /// private replies included (check `visible_to` before showing one, or
    /// read [`Store::messages_visible`]), deleted ones flagged, without content.
    pub async fn messages(
        &self,
        group_id: &str,
        after: i64,
        limit: u32,
    ) -> Result<Vec<StoredMessage>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages \
             WHERE group_id = $1 AND id > $2 ORDER BY id LIMIT CAST($3 AS BIGINT)"
        )))
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
        // Bound, so the statement's text (and its prepared statement) depends
        // on how many ids there are, not on which.
        let mut query = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages \
             WHERE group_id = $1 AND id IN ({}) ORDER BY id",
            super::params(2, ids.len())
        )))
        .bind(group_id);
        for id in ids {
            query = query.bind(*id);
        }
        let rows = query.fetch_all(self.pool()).await?;
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
            "SELECT id, group_id, recipient_id, installation_id, text, card, blocks, created_at FROM direct_messages \
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
        let now = now_ms();
        let lock = message_lock(&message.group_id);
        let files: Vec<&str> = message.blocks.iter().flat_map(|b| b.files()).collect();
        if self.backend == super::Backend::Postgres && files.is_empty() {
            // The lock is taken again in the statement (advisory locks are
            // re-entrant), so held or not it costs no round trip of its own.
            if let Some(id) = insert_at_once(&mut *self.tx, message, now).await? {
                if !self.locks.contains(&lock) {
                    self.locks.push(lock);
                }
                return Ok(stored(message, id, now));
            }
        }
        self.lock(&lock).await?;
        let (card, blocks) = encoded(message)?;
        // PostgreSQL draws a new id in the insert itself (one round trip);
        // SQLite's come from their own table first.
        let id = match (message.id, self.backend) {
            (Some(id), _) => Some(id),
            (None, super::Backend::Sqlite) => Some(self.next_message_id().await?),
            (None, super::Backend::Postgres) => None,
        };
        let sql = match self.backend {
            super::Backend::Sqlite => {
                "INSERT INTO messages (id, group_id, user_id, installation_id, text, card, blocks, visible_to, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id"
            }
            super::Backend::Postgres => {
                "INSERT INTO messages (id, group_id, user_id, installation_id, text, card, blocks, visible_to, created_at) \
                 VALUES (COALESCE($1, nextval(pg_get_serial_sequence('messages', 'id'))), $2, $3, $4, $5, $6, $7, $8, $9) \
                 RETURNING id"
            }
        };
        let id: i64 = sqlx::query(sql)
            .bind(id)
            .bind(&message.group_id)
            .bind(&message.user_id)
            .bind(&message.installation_id)
            .bind(&message.text)
            .bind(&card)
            .bind(&blocks)
            .bind(&message.visible_to)
            .bind(now)
            .fetch_one(&mut *self.tx)
            .await?
            .try_get("id")?;
        if let (Some(blocks), Some(inst)) = (&message.blocks, &message.installation_id) {
            self.insert_elements(id, &message.group_id, inst, blocks)
                .await?;
        }
        if !files.is_empty() {
            self.share_files(Some(id), message.visible_to.as_deref(), &files)
                .await?;
        }
        // Private replies are nobody else's business, not even other apps'.
        if message.visible_to.is_none() {
            // Only a member's attachments are handed to other apps (an app's
            // files are its own).
            let files = match &message.user_id {
                Some(_) => files.iter().map(|f| f.to_string()).collect(),
                None => Vec::new(),
            };
            let event = posted_event(message, &id.to_string(), files);
            self.enqueue_message_posted(
                &message.group_id,
                message.installation_id.as_deref(),
                &event,
            )
            .await?;
        }
        Ok(stored(message, id, now))
    }

    /// A new message id inside this transaction.
    async fn next_message_id(&mut self) -> Result<i64, StoreError> {
        let row = match self.backend {
            super::Backend::Sqlite => {
                let row = sqlx::query("INSERT INTO message_ids DEFAULT VALUES RETURNING id")
                    .fetch_one(&mut *self.tx)
                    .await?;
                let id: i64 = row.try_get("id")?;
                // The table only hands out ids (AUTOINCREMENT never reuses
                // one); emptying it now and then keeps it small at a
                // fraction of a statement per message.
                if id % 256 == 0 {
                    sqlx::query("DELETE FROM message_ids WHERE id < $1")
                        .bind(id)
                        .execute(&mut *self.tx)
                        .await?;
                }
                return Ok(id);
            }
            super::Backend::Postgres => {
                sqlx::query("SELECT nextval(pg_get_serial_sequence('messages', 'id')) AS id")
                    .fetch_one(&mut *self.tx)
                    .await?
            }
        };
        Ok(row.try_get("id")?)
    }

    /// Replace the blocks (and text) of a live message `installation_id`
    /// posted in `group_id`; its element references are replaced too.
    /// False when there is no such message (any more).
    pub async fn update_message(
        &mut self,
        group_id: &str,
        installation_id: &str,
        id: i64,
        message: &qun_blocks::Message,
    ) -> Result<bool, StoreError> {
        let blocks = serde_json::to_string(message)
            .map_err(|e| StoreError::Corrupt(format!("message blocks: {e}")))?;
        let text = Some(message.text.clone()).filter(|t| !t.is_empty());
        let now = now_ms();
        if let Some(done) = self
            .update_message_at_once(
                group_id,
                installation_id,
                id,
                message,
                text.as_deref(),
                &blocks,
                now,
            )
            .await?
        {
            return Ok(done);
        }
        let done = sqlx::query(
            "UPDATE messages SET text = $1, blocks = $2, card = NULL, updated_at = $3 \
             WHERE id = $4 AND group_id = $5 AND installation_id = $6 AND deleted_at IS NULL",
        )
        .bind(&text)
        .bind(&blocks)
        .bind(now)
        .bind(id)
        .bind(group_id)
        .bind(installation_id)
        .execute(&mut *self.tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        self.delete_elements(id).await?;
        self.insert_elements(id, group_id, installation_id, message)
            .await?;
        self.unshare_message(id).await?;
        let files: Vec<&str> = message.files().collect();
        if !files.is_empty() {
            let row = sqlx::query("SELECT visible_to FROM messages WHERE id = $1")
                .bind(id)
                .fetch_one(&mut *self.tx)
                .await?;
            let viewer: Option<String> = row.try_get("visible_to")?;
            self.share_files(Some(id), viewer.as_deref(), &files)
                .await?;
        }
        Ok(true)
    }

    /// Delete a live message `installation_id` posted in `group_id`: its
    /// content and element references go, the row stays (the stream shows
    /// it as deleted). False when there is no such message (any more).
    pub async fn delete_message(
        &mut self,
        group_id: &str,
        installation_id: &str,
        id: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE messages SET text = NULL, blocks = NULL, card = NULL, deleted_at = $1 \
             WHERE id = $2 AND group_id = $3 AND installation_id = $4 AND deleted_at IS NULL",
        )
        .bind(now_ms())
        .bind(id)
        .bind(group_id)
        .bind(installation_id)
        .execute(&mut *self.tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        self.delete_elements(id).await?;
        self.unshare_message(id).await?;
        Ok(true)
    }

    /// Insert a direct message.
    pub async fn insert_direct(
        &mut self,
        group_id: &str,
        recipient_id: &str,
        installation_id: &str,
        text: Option<&str>,
        card: Option<&serde_json::Value>,
        blocks: Option<&qun_blocks::Message>,
    ) -> Result<(), StoreError> {
        let blocks_in = blocks;
        let blocks = blocks
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| StoreError::Corrupt(format!("message blocks: {e}")))?;
        sqlx::query(
            "INSERT INTO direct_messages (group_id, recipient_id, installation_id, text, card, blocks, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(group_id)
        .bind(recipient_id)
        .bind(installation_id)
        .bind(text)
        .bind(card.map(|c| c.to_string()))
        .bind(blocks)
        .bind(now_ms())
        .execute(&mut *self.tx)
        .await?;
        if let Some(message) = blocks_in {
            let files: Vec<&str> = message.files().collect();
            self.share_files(None, Some(recipient_id), &files).await?;
        }
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

// --- issue 13 (qun:app@0.2.0): message handles and private replies ---

impl Store {
    /// A new message id, given out at once (an app's `messaging.post`
    /// returns it while the invocation runs; the row is inserted with it at
    /// commit). An invocation that fails leaves a gap, never a duplicate.
    pub async fn allocate_message_id(&self) -> Result<i64, StoreError> {
        // SQLite: one short write of its own (the writer lock keeps it from
        // waiting on SQLite's busy handler); PostgreSQL: nextval, which
        // needs no transaction (one round trip).
        if self.backend() == super::Backend::Postgres {
            let row = sqlx::query("SELECT nextval(pg_get_serial_sequence('messages', 'id')) AS id")
                .fetch_one(self.pool())
                .await?;
            return Ok(row.try_get("id")?);
        }
        let mut tx = self.begin_write().await?;
        let id = tx.next_message_id().await?;
        tx.commit().await?;
        Ok(id)
    }

    /// [`Store::messages_posted_since`], and on PostgreSQL a new message id
    /// drawn in the same round trip (an app's `messaging.post` needs both;
    /// when the count turns out past a limit the id is a gap, as for any
    /// failed invocation). `None` for the id: draw it with
    /// [`Store::allocate_message_id`] once the count allows (SQLite's id is
    /// a write of its own).
    pub async fn posted_since_and_new_id(
        &self,
        installation_id: &str,
        since: i64,
    ) -> Result<(i64, Option<i64>), StoreError> {
        if self.backend() != super::Backend::Postgres {
            let posted = self.messages_posted_since(installation_id, since).await?;
            return Ok((posted, None));
        }
        let row = sqlx::query(
            "SELECT nextval(pg_get_serial_sequence('messages', 'id')) AS id, \
             (SELECT COUNT(*) FROM messages WHERE installation_id = $1 AND created_at >= $2) AS n",
        )
        .bind(installation_id)
        .bind(since)
        .fetch_one(self.pool())
        .await?;
        Ok((row.try_get("n")?, Some(row.try_get("id")?)))
    }

    /// One message of a group (deleted ones too, with `deleted_at` set).
    pub async fn message(
        &self,
        group_id: &str,
        id: i64,
    ) -> Result<Option<StoredMessage>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE group_id = $1 AND id = $2"
        )))
        .bind(group_id)
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(message_from_row).transpose()
    }

    /// A message one member may see: in the group, and public or private
    /// to them. Deleted ones are returned with `deleted_at` set.
    pub async fn message_for(
        &self,
        group_id: &str,
        member_id: &str,
        id: i64,
    ) -> Result<Option<StoredMessage>, StoreError> {
        Ok(self
            .message(group_id, id)
            .await?
            .filter(|m| m.visible_to.as_deref().is_none_or(|to| to == member_id)))
    }

    /// A live (not deleted) message `installation_id` posted in `group_id`.
    pub async fn own_message(
        &self,
        group_id: &str,
        installation_id: &str,
        id: i64,
    ) -> Result<Option<StoredMessage>, StoreError> {
        Ok(self.message(group_id, id).await?.filter(|m| {
            m.installation_id.as_deref() == Some(installation_id) && m.deleted_at.is_none()
        }))
    }

    /// Messages of a group `member_id` may see (public ones and private
    /// replies to them) with id greater than `after`, oldest first; deleted
    /// ones are included (flagged with `deleted_at`, without content) so a
    /// timeline can show them gone.
    pub async fn messages_visible(
        &self,
        group_id: &str,
        member_id: &str,
        after: i64,
        limit: u32,
    ) -> Result<Vec<StoredMessage>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages \
             WHERE group_id = $1 AND id > $2 AND (visible_to IS NULL OR visible_to = $3) \
             ORDER BY id LIMIT CAST($4 AS BIGINT)"
        )))
        .bind(group_id)
        .bind(after)
        .bind(member_id)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(message_from_row).collect()
    }

    /// The newest `limit` messages of a group with `after < id < before`
    /// that `member_id` may see, deleted ones left out (so a short page means
    /// the start was reached), oldest first (a timeline paged backwards).
    pub async fn messages_visible_before(
        &self,
        group_id: &str,
        member_id: &str,
        after: i64,
        before: i64,
        limit: u32,
    ) -> Result<Vec<StoredMessage>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages \
             WHERE group_id = $1 AND id > $2 AND id < $3 AND (visible_to IS NULL OR visible_to = $4) AND deleted_at IS NULL \
             ORDER BY id DESC LIMIT CAST($5 AS BIGINT)"
        )))
        .bind(group_id)
        .bind(after)
        .bind(before)
        .bind(member_id)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        let mut messages = rows
            .iter()
            .map(message_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        messages.reverse();
        Ok(messages)
    }

    /// Messages of a group changed (updated or deleted) at or after `since`
    /// (ms) that `member_id` may see, by id (for a stream catching up).
    pub async fn messages_changed_since(
        &self,
        group_id: &str,
        member_id: &str,
        since: i64,
        limit: u32,
    ) -> Result<Vec<StoredMessage>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages \
             WHERE group_id = $1 AND (updated_at >= $2 OR deleted_at >= $2) \
             AND (visible_to IS NULL OR visible_to = $3) ORDER BY id LIMIT CAST($4 AS BIGINT)"
        )))
        .bind(group_id)
        .bind(since)
        .bind(member_id)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(message_from_row).collect()
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
            "SELECT id, group_id, recipient_id, installation_id, text, card, blocks, created_at FROM direct_messages \
             WHERE recipient_id = $1 AND id > $2 ORDER BY id LIMIT CAST($3 AS BIGINT)",
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
pub(crate) fn direct_from(row: &sqlx::any::AnyRow) -> Result<DirectMessage, StoreError> {
    let text: Option<String> = row.try_get("text")?;
    let card = card_from(row)?;
    Ok(DirectMessage {
        id: row.try_get("id")?,
        group_id: row.try_get("group_id")?,
        recipient_id: row.try_get("recipient_id")?,
        installation_id: row.try_get("installation_id")?,
        blocks: blocks_from(row, &text, &card)?,
        text,
        card,
        created_at: row.try_get("created_at")?,
    })
}
