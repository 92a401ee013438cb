//! Capability `log`: structured lines the developer and admins can read.
//!
//! Always granted; lines are kept even when the invocation fails. Only apps
//! that call these functions import `log`.
//!
//! ```no_run
//! # use qun_sdk::prelude::*;
//! log::info("poll closed", &[("poll", "7"), ("ballots", "12")]);
//! ```

use crate::sys;

/// How important a line is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Very detailed.
    Trace,
    /// Detailed.
    Debug,
    /// Normal operation.
    Info,
    /// Something looks wrong.
    Warn,
    /// Something failed.
    Error,
}

/// Writes one line: a message and key/value fields.
pub fn write(level: Level, message: &str, fields: &[(&str, &str)]) {
    sys::log::write(level, message, fields);
}

/// Writes a `trace` line.
pub fn trace(message: &str, fields: &[(&str, &str)]) {
    write(Level::Trace, message, fields);
}

/// Writes a `debug` line.
pub fn debug(message: &str, fields: &[(&str, &str)]) {
    write(Level::Debug, message, fields);
}

/// Writes an `info` line.
pub fn info(message: &str, fields: &[(&str, &str)]) {
    write(Level::Info, message, fields);
}

/// Writes a `warn` line.
pub fn warn(message: &str, fields: &[(&str, &str)]) {
    write(Level::Warn, message, fields);
}

/// Writes an `error` line.
pub fn error(message: &str, fields: &[(&str, &str)]) {
    write(Level::Error, message, fields);
}
