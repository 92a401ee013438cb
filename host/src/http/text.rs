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
use axum::extract::rejection::RawPathParamsRejection;
use axum::extract::{FromRequestParts, RawPathParams, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::AppState;
use super::error::ApiError;

/// Refuse `text` as the value of `field` when it holds a forbidden character.
pub fn check(field: &str, text: &str) -> Result<(), ApiError> {
    crate::text::check(field, text).map_err(|m| ApiError::bad("invalid_text", m))
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
    // Path parameters, percent-decoded; one that is not UTF-8 once decoded
    // is refused here, for every route alike.
    match RawPathParams::from_request_parts(&mut parts, state).await {
        Ok(params) => {
            for (name, value) in &params {
                check(name, value)?;
            }
        }
        Err(RawPathParamsRejection::InvalidUtf8InPathParam(e)) => {
            return Err(ApiError::bad("bad_path", e.body_text()));
        }
        Err(_) => {}
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
        crate::text::check_json("", &value).map_err(|m| ApiError::bad("invalid_text", m))?;
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_the_named_400() {
        let e = check("text", "a\0b").expect_err("nul");
        assert_eq!(e.code(), "invalid_text");
        assert_eq!(e.status(), axum::http::StatusCode::BAD_REQUEST);
        assert!(e.to_string().contains("`text`"), "{e}");
    }
}
