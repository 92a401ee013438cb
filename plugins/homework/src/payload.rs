//! Reading action payloads field by field, with messages that say how to fix them.
//!
//! Assignment ids are counters shown as strings (`"1"`); a payload may also
//! give them as a JSON number (`1`).

use qun_sdk::prelude::*;
use qun_sdk::serde_json::Map;

/// The payload as a JSON object; `invalid` otherwise.
pub(crate) fn object<'a>(payload: &'a Json, example: &str) -> Result<&'a Map<String, Json>> {
    payload
        .as_object()
        .ok_or_else(|| Error::invalid(format!("the payload must be a JSON object, e.g. {example}")))
}

/// The `assignment` field: `"7"` or `7`.
pub(crate) fn assignment(fields: &Map<String, Json>, example: &str) -> Result<String> {
    let bad = || {
        Error::invalid(format!(
            "`assignment` must be a homework number such as \"1\", e.g. {example}"
        ))
    };
    match fields.get("assignment") {
        None | Some(Json::Null) => Err(Error::invalid(format!(
            "`assignment` is missing; name the homework, e.g. {example}"
        ))),
        Some(Json::String(id)) => {
            let id = id.trim();
            let n: u64 = id.parse().map_err(|_| bad())?;
            if n == 0 || id.starts_with('0') {
                return Err(bad());
            }
            Ok(n.to_string())
        }
        Some(Json::Number(n)) => match n.as_u64() {
            Some(n) if n > 0 => Ok(n.to_string()),
            _ => Err(bad()),
        },
        Some(_) => Err(bad()),
    }
}

/// A text field, trimmed: `Ok(None)` when absent or null.
pub(crate) fn optional_text(
    fields: &Map<String, Json>,
    name: &str,
    max_chars: usize,
) -> Result<Option<String>> {
    match fields.get(name) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(text)) => {
            let text = text.trim();
            let chars = text.chars().count();
            if chars > max_chars {
                return Err(Error::invalid(format!(
                    "`{name}` is {chars} characters long; the limit is {max_chars}"
                )));
            }
            Ok(Some(text.to_owned()))
        }
        Some(_) => Err(Error::invalid(format!("`{name}` must be a string"))),
    }
}

/// A text field that must be present and not blank.
pub(crate) fn required_text(
    fields: &Map<String, Json>,
    name: &str,
    max_chars: usize,
    example: &str,
) -> Result<String> {
    match optional_text(fields, name, max_chars)? {
        Some(text) if !text.is_empty() => Ok(text),
        Some(_) => Err(Error::invalid(format!(
            "`{name}` is empty; write something, e.g. {example}"
        ))),
        None => Err(Error::invalid(format!(
            "`{name}` is missing, e.g. {example}"
        ))),
    }
}

/// A whole number field within `range`.
pub(crate) fn integer(
    fields: &Map<String, Json>,
    name: &str,
    range: std::ops::RangeInclusive<u64>,
    example: &str,
) -> Result<u64> {
    let bad = || {
        Error::invalid(format!(
            "`{name}` must be a whole number from {} to {}, e.g. {example}",
            range.start(),
            range.end()
        ))
    };
    match fields.get(name) {
        None | Some(Json::Null) => Err(Error::invalid(format!(
            "`{name}` is missing, e.g. {example}"
        ))),
        Some(Json::Number(n)) => match n.as_u64() {
            Some(n) if range.contains(&n) => Ok(n),
            _ => Err(bad()),
        },
        Some(_) => Err(bad()),
    }
}
