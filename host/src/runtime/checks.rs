//! Checking what an app produces (messages, forms, action answers) before
//! the host keeps or shows it: the published rules of `qun_blocks`, plus
//! what the database stores the same way on both backends (no NUL, no
//! control characters) and the host's byte bound on one message.

use qun_blocks::{Block, Form, Message};

/// A message an app posted, updated, sent or answered with: `Err` names
/// what is wrong (the capability answers `invalid`, a response fails the
/// invocation with `invalid_response`).
pub(crate) fn message(
    message: &Message,
    actions: &[String],
    max_bytes: usize,
) -> Result<(), String> {
    rules::check_message(message, actions)?;
    stored(message, "", max_bytes)
}

/// A message of a `qun:app@0.1.0` app (text and a card, as blocks): the
/// rules that held for that contract (declared actions, JSON payloads,
/// storable text, the byte bound), not 0.2's character limits, which a 0.1
/// app never agreed to.
pub(crate) fn message_v0_1(
    message: &Message,
    actions: &[String],
    max_bytes: usize,
) -> Result<(), String> {
    rules::actions_of(&message.blocks, actions)?;
    stored(message, "", max_bytes)
}

/// A form an app opened.
pub(crate) fn form(form: &Form, actions: &[String], max_bytes: usize) -> Result<(), String> {
    rules::check_form(form, actions)?;
    stored(form, "form", max_bytes)
}

/// What the database keeps: plain text (a refusal names the field, e.g.
/// `text` or `blocks[2].text`) and a bounded JSON document.
fn stored<T: serde::Serialize>(value: &T, path: &str, max_bytes: usize) -> Result<(), String> {
    let what = if path.is_empty() { "the message" } else { path };
    let json = serde_json::to_value(value).map_err(|e| format!("{what}: {e}"))?;
    crate::text::check_json(path, &json)?;
    let size = json.to_string().len();
    if size > max_bytes {
        return Err(format!("{what} is {size} bytes; the limit is {max_bytes}"));
    }
    Ok(())
}

/// The published rules (`qun_blocks`), and for 0.1 messages the few that
/// held for that contract.
mod rules {
    use super::*;
    use qun_blocks::{Declared, Element};

    pub(super) fn check_message(message: &Message, actions: &[String]) -> Result<(), String> {
        qun_blocks::check_message(message, &Declared::new(actions.iter().cloned()))
            .map_err(|e| e.to_string())
    }

    pub(super) fn check_form(form: &Form, actions: &[String]) -> Result<(), String> {
        qun_blocks::check_form(form, &Declared::new(actions.iter().cloned()))
            .map_err(|e| e.to_string())
    }

    /// Every element names a declared action and carries a JSON payload.
    pub(super) fn actions_of(blocks: &[Block], actions: &[String]) -> Result<(), String> {
        for (i, block) in blocks.iter().enumerate() {
            if let Block::Actions { elements } = block {
                for element in elements {
                    element_ok(i, element, actions)?;
                }
            }
        }
        Ok(())
    }

    fn element_ok(i: usize, element: &Element, actions: &[String]) -> Result<(), String> {
        if !actions.iter().any(|a| a == element.action()) {
            return Err(format!(
                "block {i} names the action {:?}, which the app does not declare",
                element.action()
            ));
        }
        if serde_json::from_str::<serde_json::Value>(element.payload()).is_err() {
            return Err(format!(
                "block {i}: the payload of action {:?} is not JSON",
                element.action()
            ));
        }
        Ok(())
    }
}
