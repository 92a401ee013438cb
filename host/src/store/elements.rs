//! The buttons, menus and member pickers of stored messages, each behind an
//! unguessable reference. A client sees only the reference; a click names
//! it, and the host finds the action and the payload the app put there,
//! bound to the group and message it was shown in (so a client cannot
//! forge another message's payload through a button).

use sqlx::Row;

use super::{Store, StoreError, WriteTx};

/// What kind of element a reference stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ElementKind {
    /// A button.
    Button,
    /// A select menu of static options.
    Select,
    /// A picker of group members.
    MemberPicker,
}

impl ElementKind {
    fn as_str(self) -> &'static str {
        match self {
            ElementKind::Button => "button",
            ElementKind::Select => "select",
            ElementKind::MemberPicker => "member_picker",
        }
    }

    fn parse(s: &str) -> Option<ElementKind> {
        match s {
            "button" => Some(ElementKind::Button),
            "select" => Some(ElementKind::Select),
            "member_picker" => Some(ElementKind::MemberPicker),
            _ => None,
        }
    }
}

/// A stored element, found by its reference.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ElementRef {
    /// The reference clients see.
    pub reference: String,
    /// The message it is on.
    pub message_id: i64,
    /// The group of that message.
    pub group_id: String,
    /// The installation that posted it (whose action runs).
    pub installation_id: String,
    /// Its place among the message's elements (0-based, in block order).
    pub position: i64,
    /// The action it runs.
    pub action: String,
    /// The payload handed to the action (JSON).
    pub payload: String,
    /// What it is.
    pub kind: ElementKind,
    /// A select menu's options (the values a click may choose).
    pub options: Vec<qun_blocks::Choice>,
}

/// A fresh reference: 128 random bits, hex.
fn new_reference() -> String {
    let bytes: [u8; 16] = rand::random();
    hex::encode(bytes)
}

fn element_from_row(row: &sqlx::any::AnyRow) -> Result<ElementRef, StoreError> {
    let kind: String = row.try_get("kind")?;
    let options: Option<String> = row.try_get("options")?;
    Ok(ElementRef {
        reference: row.try_get("ref")?,
        message_id: row.try_get("message_id")?,
        group_id: row.try_get("group_id")?,
        installation_id: row.try_get("installation_id")?,
        position: row.try_get("position")?,
        action: row.try_get("action")?,
        payload: row.try_get("payload")?,
        kind: ElementKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("element kind {kind:?}")))?,
        options: match options {
            Some(json) => serde_json::from_str(&json)
                .map_err(|e| StoreError::Corrupt(format!("element options: {e}")))?,
            None => Vec::new(),
        },
    })
}

const COLUMNS: &str =
    "ref, message_id, group_id, installation_id, position, action, payload, kind, options";

/// Element rows per `INSERT` (9 binds each).
pub(super) const ELEMENTS_PER_INSERT: usize = 100;

/// One element row about to be stored: position, element, kind, options.
pub(super) type NewElement<'m> = (i64, &'m qun_blocks::Element, ElementKind, Option<String>);

/// The element rows of `message`, in block order.
pub(super) fn element_rows(
    message: &qun_blocks::Message,
) -> Result<Vec<NewElement<'_>>, StoreError> {
    use qun_blocks::{Block, Element};
    let elements = message.blocks.iter().flat_map(|b| match b {
        Block::Actions { elements } => elements.as_slice(),
        _ => &[],
    });
    let mut rows = Vec::new();
    for (position, element) in elements.enumerate() {
        let (kind, options) = match element {
            Element::Button(_) => (ElementKind::Button, None),
            Element::Select(s) => (
                ElementKind::Select,
                Some(
                    serde_json::to_string(&s.options)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                ),
            ),
            Element::MemberPicker(_) => (ElementKind::MemberPicker, None),
        };
        rows.push((position as i64, element, kind, options));
    }
    Ok(rows)
}

/// Bind `rows` (9 parameters each, in [`COLUMNS`] order; 8 without the
/// message id when `id` is `None`: the statement knows it) to `query`.
pub(super) fn bind_elements<'q>(
    mut query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    rows: &'q [NewElement<'q>],
    id: Option<i64>,
    group_id: &'q str,
    installation_id: &'q str,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    for (position, element, kind, options) in rows {
        query = query.bind(new_reference());
        if let Some(id) = id {
            query = query.bind(id);
        }
        query = query
            .bind(group_id)
            .bind(installation_id)
            .bind(*position)
            .bind(element.action())
            .bind(element.payload())
            .bind(kind.as_str())
            .bind(options.clone());
    }
    query
}

impl WriteTx {
    /// One row per element of `message` (stored as message `id`).
    pub(crate) async fn insert_elements(
        &mut self,
        id: i64,
        group_id: &str,
        installation_id: &str,
        message: &qun_blocks::Message,
    ) -> Result<(), StoreError> {
        let rows = element_rows(message)?;
        // Several rows per statement: one round trip for a message's buttons.
        for batch in rows.chunks(ELEMENTS_PER_INSERT) {
            let sql = format!(
                "INSERT INTO message_elements ({COLUMNS}) VALUES {}",
                super::value_rows(batch.len(), 9, 1)
            );
            let query = sqlx::query(sqlx::AssertSqlSafe(sql)).persistent(batch.len() <= 8);
            bind_elements(query, batch, Some(id), group_id, installation_id)
                .execute(&mut *self.tx)
                .await?;
        }
        Ok(())
    }

    /// On PostgreSQL, [`WriteTx::update_message`] for a message without
    /// files in one statement: the row, its elements replaced (new
    /// references: a click on an old button finds nothing) and its file
    /// shares dropped. `None` when that does not apply here (SQLite, files,
    /// more elements than one statement takes): the caller goes step by step.
    pub(crate) async fn update_message_at_once(
        &mut self,
        group_id: &str,
        installation_id: &str,
        id: i64,
        message: &qun_blocks::Message,
        text: Option<&str>,
        blocks: &str,
        now: i64,
    ) -> Result<Option<bool>, StoreError> {
        if self.backend != super::Backend::Postgres || message.files().next().is_some() {
            return Ok(None);
        }
        let rows = element_rows(message)?;
        if rows.len() > ELEMENTS_PER_INSERT {
            return Ok(None);
        }
        let added = if rows.is_empty() {
            String::new()
        } else {
            format!(
                ", added AS (INSERT INTO message_elements ({COLUMNS}) \
                 SELECT * FROM (VALUES {}) AS v WHERE EXISTS (SELECT 1 FROM updated))",
                super::value_rows(rows.len(), 9, 7)
            )
        };
        let sql = format!(
            "WITH updated AS (UPDATE messages SET text = $1, blocks = $2, card = NULL, updated_at = $3 \
                 WHERE id = $4 AND group_id = $5 AND installation_id = $6 AND deleted_at IS NULL RETURNING id), \
             gone AS (DELETE FROM message_elements WHERE message_id IN (SELECT id FROM updated)), \
             unshared AS (DELETE FROM file_shares WHERE message_id IN (SELECT id FROM updated)){added} \
             SELECT COUNT(*) AS n FROM updated"
        );
        let query = sqlx::query(sqlx::AssertSqlSafe(sql))
            .persistent(rows.len() <= 8)
            .bind(text)
            .bind(blocks)
            .bind(now)
            .bind(id)
            .bind(group_id)
            .bind(installation_id);
        let n: i64 = bind_elements(query, &rows, Some(id), group_id, installation_id)
            .fetch_one(&mut *self.tx)
            .await?
            .try_get("n")?;
        Ok(Some(n > 0))
    }

    /// Drop the references of message `id` (updated or deleted).
    pub(crate) async fn delete_elements(&mut self, id: i64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM message_elements WHERE message_id = $1")
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }
}

impl Store {
    /// The element behind `reference`, if it is on a live message of
    /// `group_id` (a reference of another group answers nothing).
    pub async fn element(
        &self,
        group_id: &str,
        reference: &str,
    ) -> Result<Option<ElementRef>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM message_elements WHERE ref = $1 AND group_id = $2"
        )))
        .bind(reference)
        .bind(group_id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(element_from_row).transpose()
    }

    /// The elements of message `id` in order (what a client renders with
    /// references in place of payloads).
    pub async fn elements_of(&self, id: i64) -> Result<Vec<ElementRef>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM message_elements WHERE message_id = $1 ORDER BY position"
        )))
        .bind(id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(element_from_row).collect()
    }
}
