//! Blocks as clients see them (issue 13 items 2, 6 and 9): every element of
//! a message carries the opaque `ref` the host stored for it instead of its
//! action's payload, which never leaves the server. Forms are rendered the
//! same way (their inputs hold no payloads; their `state` is never shown).

use std::collections::HashMap;

use qun_blocks::{Block, Choice, Confirm, Element, Field, Form, Input};
use serde::Serialize;
use utoipa::ToSchema;

use super::views::MessageView;
use crate::store::{Store, StoreError, StoredMessage};

/// Stored messages as clients see them, their element references read in
/// one query.
pub async fn views(
    store: &Store,
    messages: Vec<StoredMessage>,
) -> Result<Vec<MessageView>, StoreError> {
    let ids: Vec<i64> = messages
        .iter()
        .filter(|m| m.blocks.is_some() || m.card.is_some())
        .map(|m| m.id)
        .collect();
    let mut refs = store.element_refs(&ids).await?;
    let mut files = FileIndex::new();
    for m in &messages {
        if let Some(blocks) = &m.blocks {
            let wanted: Vec<String> = blocks
                .files()
                .filter(|id| !files.contains_key(*id))
                .map(String::from)
                .collect();
            if !wanted.is_empty() {
                for row in store.files_in_group(&m.group_id, &wanted).await? {
                    files.insert(row.id.clone(), row);
                }
            }
        }
    }
    Ok(messages
        .into_iter()
        .map(|m| {
            let mine = refs.remove(&m.id).unwrap_or_default();
            MessageView::render(m, &mine, &files)
        })
        .collect())
}

/// The files messages show, by id (issue 17).
pub type FileIndex = HashMap<String, crate::store::FileRow>;

/// A file a message shows, as clients see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FileRef {
    /// The file's id.
    pub id: String,
    /// Its name ("" when deleted).
    pub name: String,
    /// Its type, read from its bytes.
    pub content_type: String,
    /// Its size in bytes.
    pub size: i64,
    /// Where its bytes are (`GET`, with your token).
    pub url: String,
    /// The file was deleted: show that, with no link.
    pub deleted: bool,
}

fn file_ref(id: &str, group_id: &str, files: &FileIndex) -> FileRef {
    match files.get(id) {
        Some(row) => FileRef {
            id: row.id.clone(),
            name: row.name.clone(),
            content_type: row.content_type.clone(),
            size: row.size,
            url: super::files::content_url(&row.group_id, &row.id),
            deleted: false,
        },
        None => FileRef {
            id: id.to_string(),
            name: String::new(),
            content_type: String::new(),
            size: 0,
            url: super::files::content_url(group_id, id),
            deleted: true,
        },
    }
}

/// One stored message as clients see it.
pub async fn view(store: &Store, message: StoredMessage) -> Result<MessageView, StoreError> {
    let mut out = views(store, vec![message]).await?;
    out.pop()
        .ok_or_else(|| StoreError::Corrupt("a rendered message went missing".into()))
}

/// A block of a message or form, as served to clients. Tagged with `type`:
/// `text`, `header`, `fields`, `divider`, `context`, `actions`, `input`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BlockView {
    /// A paragraph with light markup (`*bold*`, `_italic_`, `` `code` ``,
    /// `<https://...|label>`); never HTML.
    Text {
        /// The text.
        text: String,
    },
    /// A heading line.
    Header {
        /// The text.
        text: String,
    },
    /// Labelled values.
    Fields {
        /// `{"name", "value"}` pairs, in order.
        #[schema(value_type = Vec<Object>)]
        fields: Vec<Field>,
    },
    /// A horizontal rule.
    Divider,
    /// A small grey line.
    Context {
        /// The text.
        text: String,
    },
    /// Buttons, select menus and member pickers; act on one with
    /// `POST /v1/groups/{gid}/messages/{mid}/elements/{ref}`.
    Actions {
        /// The elements, in order.
        elements: Vec<ElementView>,
    },
    /// An input of a form: `{"id", "label", "hint", "required", "kind":
    /// {"type": "text"|"number"|"date"|"date_time"|"choice"|"member"|"checkbox", ...}}`.
    Input {
        /// The input.
        #[schema(value_type = Object)]
        input: Input,
    },
    /// A file to download (`GET file.url` with your token).
    File {
        /// The file.
        file: FileRef,
    },
    /// An image to show (`GET file.url` with your token).
    Image {
        /// The file.
        file: FileRef,
        /// What the image shows.
        alt: String,
    },
}

/// Something a member can act on. `ref` is opaque and bound to this
/// message and group; the payload the app attached stays on the server.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ElementView {
    /// A button.
    Button {
        /// The text on it.
        label: String,
        /// `default`, `primary` or `danger`.
        style: String,
        /// Ask "are you sure?" with these words before clicking:
        /// `{"title", "text", "confirm_label", "deny_label"}`.
        #[serde(skip_serializing_if = "Option::is_none")]
        #[schema(value_type = Option<Object>)]
        confirm: Option<Confirm>,
        /// The reference to click.
        #[serde(rename = "ref")]
        reference: String,
    },
    /// A menu of static options; send the chosen option's `value`.
    Select {
        /// Shown before anything is chosen.
        placeholder: String,
        /// `{"value", "label"}` options, in order.
        #[schema(value_type = Vec<Object>)]
        options: Vec<Choice>,
        /// The reference to choose with.
        #[serde(rename = "ref")]
        reference: String,
    },
    /// A picker of members of the group; send the picked member's id.
    MemberPicker {
        /// Shown before anyone is picked.
        placeholder: String,
        /// The reference to pick with.
        #[serde(rename = "ref")]
        reference: String,
    },
}

/// A form opened for the caller (never its `state` or `callback`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FormView {
    /// The form's id: `GET`/`POST /v1/groups/{gid}/forms/{id}`.
    pub id: String,
    /// The title.
    pub title: String,
    /// Text, fields, context lines and inputs, in order.
    pub blocks: Vec<BlockView>,
    /// The label of the submit button.
    pub submit_label: String,
    /// 1 for the first form of a chain, one more for each next form.
    pub step: i64,
    /// After this (ms since the epoch) the form can no longer be submitted.
    pub expires_at: i64,
}

/// The blocks of a message with each element's reference in place of its
/// payload. `refs` maps an element's position (its index among the
/// message's elements, in order) to its reference; an element with no
/// stored reference cannot be acted on, so it is left out.
pub fn message_blocks(
    blocks: &[Block],
    refs: &HashMap<i64, String>,
    group_id: &str,
    files: &FileIndex,
) -> Vec<BlockView> {
    let mut position: i64 = 0;
    let mut out = Vec::with_capacity(blocks.len());
    for block in blocks {
        let view = match block {
            Block::Actions { elements } => {
                let mut views = Vec::with_capacity(elements.len());
                for element in elements {
                    if let Some(reference) = refs.get(&position) {
                        views.push(element_view(element, reference.clone()));
                    }
                    position += 1;
                }
                if views.is_empty() {
                    continue;
                }
                BlockView::Actions { elements: views }
            }
            // A message never shows inputs (the host refuses them there).
            Block::Input { .. } => continue,
            Block::File { file } => BlockView::File {
                file: file_ref(file, group_id, files),
            },
            Block::Image { file, alt } => BlockView::Image {
                file: file_ref(file, group_id, files),
                alt: alt.clone(),
            },
            other => plain(other),
        };
        out.push(view);
    }
    out
}

/// The blocks of a form: inputs and text, never elements (a form has none).
pub fn form_blocks(form: &Form) -> Vec<BlockView> {
    form.blocks
        .iter()
        .filter(|b| !matches!(b, Block::Actions { .. }))
        .map(plain)
        .collect()
}

/// A block without elements.
fn plain(block: &Block) -> BlockView {
    match block {
        Block::Text { text } => BlockView::Text { text: text.clone() },
        Block::Header { text } => BlockView::Header { text: text.clone() },
        Block::Fields { fields } => BlockView::Fields {
            fields: fields.clone(),
        },
        Block::Divider => BlockView::Divider,
        Block::Context { text } => BlockView::Context { text: text.clone() },
        Block::Input { input } => BlockView::Input {
            input: input.clone(),
        },
        Block::Actions { .. } => BlockView::Actions {
            elements: Vec::new(),
        },
        // Forms show no files; messages render them with their metadata.
        Block::File { file } | Block::Image { file, .. } => BlockView::Context {
            text: format!("[file {file}]"),
        },
    }
}

fn element_view(element: &Element, reference: String) -> ElementView {
    match element {
        Element::Button(b) => ElementView::Button {
            label: b.label.clone(),
            style: serde_json::to_value(b.style)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_else(|| "default".into()),
            confirm: b.confirm.clone(),
            reference,
        },
        Element::Select(s) => ElementView::Select {
            placeholder: s.placeholder.clone(),
            options: s.options.clone(),
            reference,
        },
        Element::MemberPicker(p) => ElementView::MemberPicker {
            placeholder: p.placeholder.clone(),
            reference,
        },
    }
}

/// A 0.1 card (`{"title","body","fields","buttons":[{"label","action","payload"}]}`)
/// as clients see it: each button's payload replaced by its reference (the
/// card's buttons are its elements, in order); a button without one is
/// left out.
pub fn legacy_card(card: &serde_json::Value, refs: &HashMap<i64, String>) -> serde_json::Value {
    let mut card = card.clone();
    if let Some(buttons) = card.get_mut("buttons").and_then(|b| b.as_array_mut()) {
        let kept: Vec<serde_json::Value> = buttons
            .iter()
            .enumerate()
            .filter_map(|(i, button)| {
                let reference = refs.get(&(i as i64))?;
                Some(serde_json::json!({
                    "label": button.get("label").cloned().unwrap_or_default(),
                    "action": button.get("action").cloned().unwrap_or_default(),
                    "ref": reference,
                }))
            })
            .collect();
        *buttons = kept;
    }
    card
}

#[cfg(test)]
mod tests {
    use super::*;
    use qun_blocks::{Button, ButtonStyle, MemberPicker, SelectMenu};

    fn button(label: &str, payload: &str) -> Element {
        Element::Button(Button {
            label: label.into(),
            action: "vote".into(),
            payload: payload.into(),
            style: ButtonStyle::Primary,
            confirm: None,
        })
    }

    #[test]
    fn payloads_never_reach_the_client_and_refs_take_their_place() {
        let blocks = vec![
            Block::Header {
                text: "Lunch?".into(),
            },
            Block::Actions {
                elements: vec![button("noodles", r#"{"secret":1}"#), button("rice", "{}")],
            },
            Block::Actions {
                elements: vec![
                    Element::Select(SelectMenu {
                        action: "pick".into(),
                        payload: r#"{"secret":2}"#.into(),
                        placeholder: "pick".into(),
                        options: vec![],
                    }),
                    Element::MemberPicker(MemberPicker {
                        action: "who".into(),
                        payload: r#"{"secret":3}"#.into(),
                        placeholder: "who".into(),
                    }),
                ],
            },
        ];
        let refs: HashMap<i64, String> = [(0, "r0"), (2, "r2"), (3, "r3")]
            .into_iter()
            .map(|(p, r)| (p, r.to_string()))
            .collect();
        let json = serde_json::to_value(message_blocks(&blocks, &refs, "g", &FileIndex::new()))
            .expect("json");
        let text = json.to_string();
        assert!(!text.contains("secret"), "{text}");
        assert_eq!(json[1]["elements"][0]["ref"], "r0");
        assert_eq!(json[1]["elements"][0]["style"], "primary");
        // Position 1 has no reference: it cannot be clicked, so it is not shown.
        assert_eq!(json[1]["elements"].as_array().map(Vec::len), Some(1));
        assert_eq!(json[2]["elements"][0]["type"], "select");
        assert_eq!(json[2]["elements"][1]["ref"], "r3");
    }

    #[test]
    fn legacy_cards_keep_labels_and_lose_payloads() {
        let card = serde_json::json!({"title": "t", "buttons": [
            {"label": "a", "action": "vote", "payload": {"poll": "p1"}},
            {"label": "b", "action": "vote", "payload": {"poll": "p1"}}]});
        let refs: HashMap<i64, String> = [(0, "x".to_string()), (1, "y".to_string())].into();
        let out = legacy_card(&card, &refs);
        assert_eq!(out["buttons"][1]["ref"], "y");
        assert!(!out.to_string().contains("p1"), "{out}");
    }
}
