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
const ELEMENTS_PER_INSERT: usize = 100;

impl WriteTx {
    /// One row per element of `message` (stored as message `id`).
    pub(crate) async fn insert_elements(
        &mut self,
        id: i64,
        group_id: &str,
        installation_id: &str,
        message: &qun_blocks::Message,
    ) -> Result<(), StoreError> {
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
        // Several rows per statement: one round trip for a message's buttons.
        for batch in rows.chunks(ELEMENTS_PER_INSERT) {
            let sql = format!(
                "INSERT INTO message_elements (ref, message_id, group_id, installation_id, position, action, payload, kind, options) \
                 VALUES {}",
                super::value_rows(batch.len(), 9, 1)
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).persistent(batch.len() <= 8);
            for (position, element, kind, options) in batch {
                query = query
                    .bind(new_reference())
                    .bind(id)
                    .bind(group_id)
                    .bind(installation_id)
                    .bind(*position)
                    .bind(element.action())
                    .bind(element.payload())
                    .bind(kind.as_str())
                    .bind(options.clone());
            }
            query.execute(&mut *self.tx).await?;
        }
        Ok(())
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
