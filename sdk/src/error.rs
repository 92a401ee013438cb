//! The error every handler and capability call returns: the WIT `error` variant.

use std::fmt;

/// `Result` with the SDK's [`Error`] as the default error type, so `?` works on
/// capability calls, JSON (de)serialisation and the SDK's own parsers alike.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why something failed. Mirrors the WIT `error` variant: the variant is what
/// callers match on, the message is for people.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// The capability is not granted, or the acting member may not do this.
    Denied(String),
    /// The thing asked for does not exist in this group.
    NotFound(String),
    /// An argument was malformed or too large.
    Invalid(String),
    /// A limit of this installation was reached.
    QuotaExceeded(String),
    /// The state changed under the call (a lost compare-and-swap, a reused
    /// idempotency key).
    Conflict(String),
    /// Something failed inside the host or the app; may be retried later.
    Internal(String),
}

impl Error {
    /// The acting member may not do this.
    pub fn denied(message: impl Into<String>) -> Self {
        Self::Denied(message.into())
    }
    /// The thing asked for does not exist.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::NotFound(message.into())
    }
    /// The input was malformed; the message should say how to fix it.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::Invalid(message.into())
    }
    /// A limit was reached.
    pub fn quota_exceeded(message: impl Into<String>) -> Self {
        Self::QuotaExceeded(message.into())
    }
    /// The state changed under the call.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::Conflict(message.into())
    }
    /// Something went wrong that the caller cannot fix.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::Internal(message.into())
    }

    /// The variant's name as the WIT spells it (`"not-found"`, ...).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Denied(_) => "denied",
            Self::NotFound(_) => "not-found",
            Self::Invalid(_) => "invalid",
            Self::QuotaExceeded(_) => "quota-exceeded",
            Self::Conflict(_) => "conflict",
            Self::Internal(_) => "internal",
        }
    }

    /// The human-readable message.
    pub fn message(&self) -> &str {
        match self {
            Self::Denied(m)
            | Self::NotFound(m)
            | Self::Invalid(m)
            | Self::QuotaExceeded(m)
            | Self::Conflict(m)
            | Self::Internal(m) => m,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code(), self.message())
    }
}

impl std::error::Error for Error {}

/// Malformed JSON from outside (a payload) is the caller's fault: `invalid`.
/// An I/O failure while (de)serialising is ours: `internal`.
impl From<serde_json::Error> for Error {
    fn from(err: serde_json::Error) -> Self {
        match err.classify() {
            serde_json::error::Category::Io => Self::internal(err.to_string()),
            _ => Self::invalid(err.to_string()),
        }
    }
}

impl From<std::str::Utf8Error> for Error {
    fn from(err: std::str::Utf8Error) -> Self {
        Self::invalid(err.to_string())
    }
}

impl From<std::string::FromUtf8Error> for Error {
    fn from(err: std::string::FromUtf8Error) -> Self {
        Self::invalid(err.to_string())
    }
}

impl From<std::num::ParseIntError> for Error {
    fn from(err: std::num::ParseIntError) -> Self {
        Self::invalid(err.to_string())
    }
}

impl From<std::fmt::Error> for Error {
    fn from(err: std::fmt::Error) -> Self {
        Self::internal(err.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_syntax_errors_are_invalid() {
        let err: Error = serde_json::from_str::<u32>("{")
            .map_err(Error::from)
            .expect_err("not JSON");
        assert_eq!(err.code(), "invalid");
        assert!(err.to_string().starts_with("invalid: "));
    }
}
