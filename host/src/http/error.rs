//! The API's error type: every failure becomes `{"error":{"code","message"}}`
//! with a fitting status. Internal errors are logged and never leaked.

use axum::Json;
use axum::extract::rejection::{BytesRejection, JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::capabilities::{Error as AppError, error_code, error_message};
use crate::runtime::{InvokeError, LoadError};
use crate::store::StoreError;

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Malformed or invalid input (400).
    #[error("{message}")]
    BadRequest {
        /// Stable machine-readable code.
        code: &'static str,
        /// What was wrong.
        message: String,
    },
    /// No token or an unknown one (401).
    #[error("{0}")]
    Unauthorized(String),
    /// A token that no longer works (401): `token_revoked`,
    /// `token_expired`, `user_disabled`.
    #[error("{message}")]
    TokenRefused {
        /// Stable code.
        code: &'static str,
        /// Why.
        message: String,
    },
    /// Known caller, not allowed (403).
    #[error("{message}")]
    Forbidden {
        /// Stable code.
        code: &'static str,
        /// Why not.
        message: String,
    },
    /// Unknown id, or a group the caller is not in (404).
    #[error("{message}")]
    NotFound {
        /// Stable code.
        code: &'static str,
        /// What was not found.
        message: String,
    },
    /// The request conflicts with the current state (409).
    #[error("{message}")]
    Conflict {
        /// Stable code.
        code: &'static str,
        /// What conflicts.
        message: String,
    },
    /// The body is larger than allowed (413).
    #[error("{0}")]
    TooLarge(String),
    /// The uploaded bytes are not a valid Qun app (422).
    #[error("{0}")]
    InvalidWasm(String),
    /// A rate limit or quota was hit (429).
    #[error("{message}")]
    TooMany {
        /// Stable code.
        code: &'static str,
        /// Which limit.
        message: String,
    },
    /// The app crashed or answered nonsense (502).
    #[error("{message}")]
    AppFailed {
        /// Stable code.
        code: &'static str,
        /// What happened.
        message: String,
    },
    /// The app ran out of time (504).
    #[error("{0}")]
    AppTimeout(String),
    /// The server could not answer in time (503).
    #[error("{0}")]
    Unavailable(String),
    /// Something on our side failed (500); the detail goes to the log only.
    #[error("internal error: {0}")]
    Internal(String),
    // Edge limits (issue 11 items 1-2, issue 10 item 10).
    /// A rate limit or a cap on live streams was hit (429 with `Retry-After`).
    #[error("{message}")]
    RateLimited {
        /// Stable code, e.g. `rate_limited`, `too_many_streams`.
        code: &'static str,
        /// Which limit, and by how much.
        message: String,
        /// Seconds after which a retry may succeed.
        retry_after: u64,
    },
    /// The server is at its cap of requests in flight (503 `overloaded`).
    #[error("{0}")]
    Overloaded(String),
    // Issue 10 item 4: named 422s (e.g. `manifest_limit`).
    /// Well-formed, but refused by a named rule (422).
    #[error("{message}")]
    Unprocessable {
        /// Stable code.
        code: &'static str,
        /// Which rule, and by how much.
        message: String,
    },
    // --- issue 10, items 1, 6, 7 and 8 (runtime) ---
    /// A bound of the host with its own status and code: `busy` (429) and
    /// `host_busy` (503) carry a `Retry-After`; `component_too_big` (422).
    #[error("{message}")]
    Limited {
        /// The HTTP status.
        status: StatusCode,
        /// Stable code.
        code: &'static str,
        /// Which bound, and by how much.
        message: String,
        /// Seconds to wait before trying again.
        retry_after: Option<u64>,
    },
}

/// The JSON body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// Code and human-readable message.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `not_found`.
    pub code: String,
    /// What went wrong, for people.
    pub message: String,
}

impl ApiError {
    /// 400 with a code.
    pub fn bad(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::BadRequest {
            code,
            message: message.into(),
        }
    }

    /// 403.
    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::Forbidden {
            code: "forbidden",
            message: message.into(),
        }
    }

    /// 404 with a code.
    pub fn not_found(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::NotFound {
            code,
            message: message.into(),
        }
    }

    /// 404 for a group that does not exist or that the caller is not in.
    pub fn no_group(gid: &str) -> ApiError {
        ApiError::not_found(
            "group_not_found",
            format!("no group {gid} among your groups"),
        )
    }

    /// 409 with a code.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::Conflict {
            code,
            message: message.into(),
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) | ApiError::TokenRefused { .. } => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden { .. } => StatusCode::FORBIDDEN,
            ApiError::NotFound { .. } => StatusCode::NOT_FOUND,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::InvalidWasm(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooMany { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::AppFailed { .. } => StatusCode::BAD_GATEWAY,
            ApiError::AppTimeout(_) => StatusCode::GATEWAY_TIMEOUT,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            // Edge limits (issue 11 items 1-2).
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Overloaded(_) => StatusCode::SERVICE_UNAVAILABLE,
            // Issue 10 item 4.
            ApiError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Limited { status, .. } => *status,
        }
    }

    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest { code, .. }
            | ApiError::Forbidden { code, .. }
            | ApiError::NotFound { code, .. }
            | ApiError::Conflict { code, .. }
            | ApiError::TooMany { code, .. }
            | ApiError::TokenRefused { code, .. }
            | ApiError::AppFailed { code, .. } => code,
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::TooLarge(_) => "too_large",
            ApiError::InvalidWasm(_) => "invalid_wasm",
            ApiError::AppTimeout(_) => "app_timeout",
            ApiError::Unavailable(_) => "request_timeout",
            ApiError::Internal(_) => "internal",
            // Edge limits (issue 11 items 1-2).
            ApiError::RateLimited { code, .. } => code,
            ApiError::Overloaded(_) => "overloaded",
            // Issue 10 item 4.
            ApiError::Unprocessable { code, .. } => code,
            ApiError::Limited { code, .. } => code,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let message = match &self {
            ApiError::Internal(detail) => {
                tracing::error!("internal error: {detail}");
                "something went wrong on the server; it has been logged".to_string()
            }
            other => other.to_string(),
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code().to_string(),
                message,
            },
        };
        let mut response = (self.status(), Json(body)).into_response();
        if matches!(
            self,
            ApiError::Unauthorized(_) | ApiError::TokenRefused { .. }
        ) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        // Edge limits (issue 11 items 1-2): say when to come back.
        let retry_after = match &self {
            ApiError::RateLimited { retry_after, .. } => Some((*retry_after).max(1)),
            ApiError::Overloaded(_) => Some(1),
            ApiError::Limited { retry_after, .. } => *retry_after,
            _ => None,
        };
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        ApiError::Internal(e.to_string())
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> ApiError {
        match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => {
                ApiError::TooLarge("the JSON body is larger than allowed".into())
            }
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::bad(
                "bad_json",
                "send the body as JSON with `Content-Type: application/json`",
            ),
            _ => ApiError::bad("bad_json", rejection.body_text()),
        }
    }
}

impl From<BytesRejection> for ApiError {
    fn from(rejection: BytesRejection) -> ApiError {
        match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => {
                ApiError::TooLarge("the body is larger than allowed".into())
            }
            _ => ApiError::bad("bad_body", rejection.body_text()),
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> ApiError {
        ApiError::bad("bad_path", rejection.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> ApiError {
        ApiError::bad("bad_query", rejection.body_text())
    }
}

impl From<LoadError> for ApiError {
    fn from(e: LoadError) -> ApiError {
        match e {
            // Issue 10 item 4.
            LoadError::ManifestLimit(_) => ApiError::Unprocessable {
                code: "manifest_limit",
                message: e.to_string(),
            },
            LoadError::TooBig { .. } => ApiError::Limited {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                code: "component_too_big",
                message: e.to_string(),
                retry_after: None,
            },
            LoadError::HostBusy => host_busy(e.to_string()),
            e => ApiError::InvalidWasm(e.to_string()),
        }
    }
}

/// 503 `host_busy`: the host's own capacity, never the app's fault.
fn host_busy(message: String) -> ApiError {
    ApiError::Limited {
        status: StatusCode::SERVICE_UNAVAILABLE,
        code: "host_busy",
        message,
        retry_after: Some(1),
    }
}

impl From<InvokeError> for ApiError {
    fn from(e: InvokeError) -> ApiError {
        match e {
            InvokeError::App(app) => from_app(&app),
            // Membership is checked before invoking; this is a race with a removal.
            InvokeError::NotMember(_) => {
                ApiError::not_found("group_not_found", "no such group among your groups")
            }
            InvokeError::NoInstallation(_) => {
                ApiError::not_found("not_installed", "this app is not installed in this group")
            }
            InvokeError::Disabled => ApiError::conflict("disabled", e.to_string()),
            InvokeError::Suspended(_) => ApiError::conflict("suspended", e.to_string()),
            InvokeError::BadInput(m) => ApiError::bad("invalid", m),
            InvokeError::Quota(m) => ApiError::TooMany {
                code: "quota_exceeded",
                message: m,
            },
            InvokeError::Conflict(_) => ApiError::conflict("conflict", e.to_string()),
            InvokeError::Timeout(_) => ApiError::AppTimeout(e.to_string()),
            InvokeError::Trap(_)
            | InvokeError::MemoryLimit(_)
            | InvokeError::StackOverflow
            | InvokeError::BadAnswer(_)
            | InvokeError::Load(_) => ApiError::AppFailed {
                code: e.code(),
                message: e.to_string(),
            },
            InvokeError::Tampered(_) => ApiError::AppFailed {
                code: "tampered",
                message: e.to_string(),
            },
            InvokeError::Store(_) | InvokeError::Internal(_) => ApiError::Internal(e.to_string()),
            // Issue 10 item 2 (audit helper): the app broke its call cap (502).
            InvokeError::CapabilityCalls(_) => ApiError::AppFailed {
                code: e.code(),
                message: e.to_string(),
            },
            InvokeError::Busy(m) => ApiError::Limited {
                status: StatusCode::TOO_MANY_REQUESTS,
                code: "busy",
                message: m,
                retry_after: Some(1),
            },
            InvokeError::HostBusy => host_busy(e.to_string()),
            InvokeError::EffectsLimit(m) => ApiError::TooMany {
                code: "effects_limit",
                message: m,
            },
            InvokeError::DmQuota(m) => ApiError::TooMany {
                code: "dm_quota",
                message: m,
            },
            InvokeError::EffectsDropped(_) => ApiError::conflict("effects_dropped", e.to_string()),
            InvokeError::InvalidResponse(m) => ApiError::Unprocessable {
                code: "invalid_response",
                message: m,
            },
            InvokeError::Unsupported(m) => ApiError::bad("unsupported", m),
        }
    }
}

/// An error the app itself returned: its message goes to the user as is.
fn from_app(e: &AppError) -> ApiError {
    let message = error_message(e);
    match error_code(e) {
        "denied" => ApiError::Forbidden {
            code: "app_denied",
            message,
        },
        "not-found" => ApiError::NotFound {
            code: "app_not_found",
            message,
        },
        "invalid" => ApiError::BadRequest {
            code: "app_invalid",
            message,
        },
        "quota-exceeded" => ApiError::TooMany {
            code: "app_quota_exceeded",
            message,
        },
        "conflict" => ApiError::Conflict {
            code: "app_conflict",
            message,
        },
        _ => ApiError::AppFailed {
            code: "app_internal",
            message,
        },
    }
}

/// Middleware (outermost): an error answered without the API's JSON shape —
/// an extractor's plain-text rejection, the router's empty 405 — gets it,
/// with a code named after its status and the original text as the message.
/// Headers (`Allow`, `Retry-After`, ...) are kept.
pub async fn json_errors(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 4096)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let (code, fallback) = match status {
        StatusCode::BAD_REQUEST => ("bad_request", "the request could not be read"),
        StatusCode::NOT_FOUND => ("no_route", "no such route; see /openapi.json"),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            "this route does not answer this method; see /openapi.json",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => ("too_large", "the body is larger than allowed"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "unsupported_media_type",
            "this content type is not accepted here",
        ),
        StatusCode::UNPROCESSABLE_ENTITY => ("unprocessable", "the request could not be processed"),
        s if s.is_server_error() => ("internal", "something went wrong on the server"),
        _ => ("error", "the request failed"),
    };
    let message = if text.is_empty() || status.is_server_error() {
        fallback.to_string()
    } else {
        text
    };
    let body = serde_json::to_vec(&ErrorBody {
        error: ErrorDetail {
            code: code.to_string(),
            message,
        },
    })
    .unwrap_or_default();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Response::from_parts(parts, axum::body::Body::from(body))
}

/// Whether a store error is a unique-constraint violation (a duplicate).
pub fn is_duplicate(e: &StoreError) -> bool {
    match e {
        StoreError::Database(sqlx::Error::Database(db)) => {
            db.is_unique_violation()
                || db.message().contains("UNIQUE")
                || db.message().contains("duplicate key")
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status_of(e: InvokeError) -> (StatusCode, &'static str, String) {
        let api = ApiError::from(e);
        (api.status(), api.code(), api.to_string())
    }

    #[test]
    fn app_errors_keep_their_message_and_get_a_fitting_status() {
        let cases = [
            (
                AppError::Denied("not yours".into()),
                StatusCode::FORBIDDEN,
                "app_denied",
            ),
            (
                AppError::NotFound("no such poll".into()),
                StatusCode::NOT_FOUND,
                "app_not_found",
            ),
            (
                AppError::Invalid("poll is closed".into()),
                StatusCode::BAD_REQUEST,
                "app_invalid",
            ),
            (
                AppError::QuotaExceeded("too many".into()),
                StatusCode::TOO_MANY_REQUESTS,
                "app_quota_exceeded",
            ),
            (
                AppError::Conflict("busy".into()),
                StatusCode::CONFLICT,
                "app_conflict",
            ),
            (
                AppError::Internal("oops".into()),
                StatusCode::BAD_GATEWAY,
                "app_internal",
            ),
        ];
        for (app, status, code) in cases {
            let message = error_message(&app);
            assert_eq!(status_of(InvokeError::App(app)), (status, code, message));
        }
    }

    #[test]
    fn sandbox_failures_map_to_gateway_statuses() {
        assert_eq!(
            status_of(InvokeError::Timeout(250)).0,
            StatusCode::GATEWAY_TIMEOUT
        );
        assert_eq!(
            status_of(InvokeError::Trap("unreachable".into())).0,
            StatusCode::BAD_GATEWAY
        );
        assert_eq!(
            status_of(InvokeError::MemoryLimit(1 << 20)).0,
            StatusCode::BAD_GATEWAY
        );
        assert_eq!(
            status_of(InvokeError::StackOverflow).0,
            StatusCode::BAD_GATEWAY
        );
        assert_eq!(
            status_of(InvokeError::NotMember("u".into())).0,
            StatusCode::NOT_FOUND
        );
        assert_eq!(status_of(InvokeError::Disabled).0, StatusCode::CONFLICT);
        assert_eq!(
            status_of(InvokeError::BadInput("bad".into())).0,
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            status_of(InvokeError::Quota("full".into())).0,
            StatusCode::TOO_MANY_REQUESTS
        );
    }

    #[test]
    fn host_limits_have_their_own_codes_and_retry_after() {
        let busy = ApiError::from(InvokeError::Busy("wait".into()));
        assert_eq!(
            (busy.status(), busy.code()),
            (StatusCode::TOO_MANY_REQUESTS, "busy")
        );
        let response = busy.into_response();
        assert_eq!(
            response.headers().get(header::RETRY_AFTER),
            Some(&HeaderValue::from(1u64))
        );
        let host = ApiError::from(InvokeError::HostBusy);
        assert_eq!(
            (host.status(), host.code()),
            (StatusCode::SERVICE_UNAVAILABLE, "host_busy")
        );
        let dropped = ApiError::from(InvokeError::EffectsDropped("revoked".into()));
        assert_eq!(
            (dropped.status(), dropped.code()),
            (StatusCode::CONFLICT, "effects_dropped")
        );
        assert_eq!(
            ApiError::from(InvokeError::DmQuota("x".into())).code(),
            "dm_quota"
        );
        assert_eq!(
            ApiError::from(InvokeError::EffectsLimit("x".into())).code(),
            "effects_limit"
        );
    }

    #[tokio::test]
    async fn internal_errors_are_not_leaked() {
        use http_body_util::BodyExt;
        let response =
            ApiError::from(InvokeError::Internal("secret path /etc/x".into())).into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let bytes = response
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
        assert_eq!(body["error"]["code"], "internal");
        assert!(!body.to_string().contains("/etc/x"), "{body}");
    }
}
