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
    /// Something on our side failed (500); the detail goes to the log only.
    #[error("internal error: {0}")]
    Internal(String),
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
        ApiError::BadRequest { code, message: message.into() }
    }

    /// 403.
    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::Forbidden { code: "forbidden", message: message.into() }
    }

    /// 404 with a code.
    pub fn not_found(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::NotFound { code, message: message.into() }
    }

    /// 404 for a group that does not exist or that the caller is not in.
    pub fn no_group(gid: &str) -> ApiError {
        ApiError::not_found("group_not_found", format!("no group {gid} among your groups"))
    }

    /// 409 with a code.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::Conflict { code, message: message.into() }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden { .. } => StatusCode::FORBIDDEN,
            ApiError::NotFound { .. } => StatusCode::NOT_FOUND,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::InvalidWasm(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooMany { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::AppFailed { .. } => StatusCode::BAD_GATEWAY,
            ApiError::AppTimeout(_) => StatusCode::GATEWAY_TIMEOUT,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
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
            | ApiError::AppFailed { code, .. } => code,
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::TooLarge(_) => "too_large",
            ApiError::InvalidWasm(_) => "invalid_wasm",
            ApiError::AppTimeout(_) => "app_timeout",
            ApiError::Internal(_) => "internal",
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
        let body = ErrorBody { error: ErrorDetail { code: self.code().to_string(), message } };
        let mut response = (self.status(), Json(body)).into_response();
        if matches!(self, ApiError::Unauthorized(_)) {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
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
            StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge("the JSON body is larger than allowed".into()),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                ApiError::bad("bad_json", "send the body as JSON with `Content-Type: application/json`")
            }
            _ => ApiError::bad("bad_json", rejection.body_text()),
        }
    }
}

impl From<BytesRejection> for ApiError {
    fn from(rejection: BytesRejection) -> ApiError {
        match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge("the body is larger than allowed".into()),
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
        ApiError::InvalidWasm(e.to_string())
    }
}

impl From<InvokeError> for ApiError {
    fn from(e: InvokeError) -> ApiError {
        match e {
            InvokeError::App(app) => from_app(&app),
            InvokeError::NotMember(_) | InvokeError::NoInstallation(_) => {
                ApiError::not_found("not_installed", "this app is not installed in this group")
            }
            InvokeError::Disabled => ApiError::conflict("disabled", e.to_string()),
            InvokeError::BadInput(m) => ApiError::bad("invalid", m),
            InvokeError::Quota(m) => ApiError::TooMany { code: "quota_exceeded", message: m },
            InvokeError::Conflict(_) => ApiError::conflict("conflict", e.to_string()),
            InvokeError::Timeout(_) => ApiError::AppTimeout(e.to_string()),
            InvokeError::Trap(_)
            | InvokeError::MemoryLimit(_)
            | InvokeError::StackOverflow
            | InvokeError::BadAnswer(_)
            | InvokeError::Load(_) => ApiError::AppFailed { code: e.code(), message: e.to_string() },
            InvokeError::Tampered(_) | InvokeError::Store(_) | InvokeError::Internal(_) => {
                ApiError::Internal(e.to_string())
            }
        }
    }
}

/// An error the app itself returned: its message goes to the user as is.
fn from_app(e: &AppError) -> ApiError {
    let message = error_message(e);
    match error_code(e) {
        "denied" => ApiError::Forbidden { code: "app_denied", message },
        "not-found" => ApiError::NotFound { code: "app_not_found", message },
        "invalid" => ApiError::BadRequest { code: "app_invalid", message },
        "quota-exceeded" => ApiError::TooMany { code: "app_quota_exceeded", message },
        "conflict" => ApiError::Conflict { code: "app_conflict", message },
        _ => ApiError::AppFailed { code: "app_internal", message },
    }
}

/// Whether a store error is a unique-constraint violation (a duplicate).
pub fn is_duplicate(e: &StoreError) -> bool {
    match e {
        StoreError::Database(sqlx::Error::Database(db)) => {
            db.is_unique_violation() || db.message().contains("UNIQUE") || db.message().contains("duplicate key")
        }
        _ => false,
    }
}
