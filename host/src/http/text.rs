//! The one place request text is checked before anything stores it.
//!
//! PostgreSQL cannot store NUL in `TEXT` (nor `\u0000` in JSON), SQLite
//! can; rather than let the two backends differ (a 500 on one, a stored
//! string on the other), every text a client sends is refused the same way
//! when it holds a NUL or another control character: path parameters and
//! query values (after percent-decoding) and every string (and key) of a
//! JSON body. The answer is a 400 `invalid_text` naming the field.
//! Tabs and line breaks are text (multi-line messages); the other C0 and C1
//! controls and DEL are not.

use axum::body::{Body, to_bytes};
use axum::extract::{FromRequestParts, RawPathParams, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::AppState;
use super::error::ApiError;

/// The first character of `text` a field may not hold, with its position
/// (in characters).
pub fn forbidden_char(text: &str) -> Option<(usize, char)> {
    text.chars()
        .enumerate()
        .find(|(_, c)| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
}

/// Refuse `text` as the value of `field` when it holds a forbidden character.
pub fn check(field: &str, text: &str) -> Result<(), ApiError> {
    match forbidden_char(text) {
        None => Ok(()),
        Some((at, c)) => Err(invalid(field, at, c)),
    }
}

fn invalid(field: &str, at: usize, c: char) -> ApiError {
    let name = if c == '\0' { "NUL" } else { "control" };
    ApiError::bad(
        "invalid_text",
        format!(
            "`{field}` holds a {name} character (U+{:04X}) at position {at}; text may not contain NUL or control characters other than tab and line breaks",
            u32::from(c)
        ),
    )
}

/// Every string and key of a JSON value, named by its path (`card.fields[0].label`).
fn check_json(path: &mut String, value: &Value) -> Result<(), ApiError> {
    match value {
        Value::String(s) => check(if path.is_empty() { "body" } else { path.as_str() }, s),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                check_json(path, item)?;
                path.truncate(len);
            }
            Ok(())
        }
        Value::Object(map) => {
            for (key, item) in map {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                // A key is named by the path of its object plus the key as far
                // as it is printable.
                if let Some((at, c)) = forbidden_char(key) {
                    let shown: String = key.chars().take(at).collect();
                    path.push_str(&shown);
                    return Err(invalid(&format!("{path} (a key)"), at, c));
                }
                path.push_str(key);
                check_json(path, item)?;
                path.truncate(len);
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn is_json(request: &Request) -> bool {
    request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| {
            let v = v.trim().to_ascii_lowercase();
            v == "application/json" || v.ends_with("+json")
        })
        .unwrap_or(false)
}

/// Middleware (a route layer, so path parameters are known): refuse text
/// that holds NUL or control characters before any handler sees it.
pub async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match checked(&state, request).await {
        Ok(request) => next.run(request).await,
        Err(e) => e.into_response(),
    }
}

async fn checked(state: &AppState, request: Request) -> Result<Request, ApiError> {
    let (mut parts, body) = request.into_parts();
    // Path parameters, percent-decoded (an undecodable one is the handler's
    // own `bad_path`).
    if let Ok(params) = RawPathParams::from_request_parts(&mut parts, state).await {
        for (name, value) in &params {
            check(name, value)?;
        }
    }
    if let Some(query) = parts.uri.query() {
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            check("a query parameter name", &key)?;
            check(&key, &value)?;
        }
    }
    let request = Request::from_parts(parts, body);
    if !is_json(&request) {
        return Ok(request);
    }
    let (parts, body) = request.into_parts();
    let bytes = to_bytes(body, state.config.max_json_bytes)
        .await
        .map_err(|_| ApiError::TooLarge("the JSON body is larger than allowed".into()))?;
    // Malformed JSON is left to the handler's `bad_json`.
    if let Ok(value) = serde_json::from_slice::<Value>(&bytes) {
        check_json(&mut String::new(), &value)?;
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_and_controls_are_refused_line_breaks_are_not() {
        assert!(check("text", "two\nlines\r\n\tindented").is_ok());
        assert!(check("text", "日本語 and emoji 🎉").is_ok());
        for bad in ["a\0b", "bell\u{7}", "del\u{7f}", "c1\u{85}", "esc\u{1b}[31m"] {
            let e = check("text", bad).expect_err(bad);
            assert_eq!(e.code(), "invalid_text");
            assert!(e.to_string().contains("`text`"), "{e}");
        }
    }

    #[test]
    fn json_fields_are_named_by_their_path() {
        let value = serde_json::json!({"card": {"fields": [{"label": "ok"}, {"label": "x\u{0}"}]}});
        let e = check_json(&mut String::new(), &value).expect_err("nul");
        assert!(e.to_string().contains("`card.fields[1].label`"), "{e}");
        let value = serde_json::json!({"ok\u{0}": 1});
        let e = check_json(&mut String::new(), &value).expect_err("nul key");
        assert!(e.to_string().contains("`ok (a key)`"), "{e}");
    }
}
