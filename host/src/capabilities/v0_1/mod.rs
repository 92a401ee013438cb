//! `qun:app@0.1.0`, served as a thin adapter onto the 0.2.0 implementation:
//! each file here implements one 0.1 interface by converting its types to
//! and from the 0.2 ones and calling the 0.2 host function (which checks
//! the grant, audits and buffers exactly as for a 0.2 app). A 0.1 card
//! becomes blocks: a header with its title, a text block with its body,
//! its fields, and one actions row of default buttons.

mod handler;
mod log;
mod membership;
mod messaging;
mod payments;
mod scheduler;
mod storage;
mod types;

pub use handler::{app_info, event_to_v0_1, legacy_message};
pub(crate) use types::context;

/// The bindings of `qun:app@0.1.0`.
pub(crate) mod generated {
    wasmtime::component::bindgen!({
        path: "../wit/0.1.0",
        world: "group-app",
        imports: { default: async },
        exports: { default: async },
        // Replay records keep calls and answers as JSON (issue 16).
        additional_derives: [serde::Serialize, serde::Deserialize],
    });
}

pub use generated::exports::qun::app::handler as wit_handler;
pub use generated::qun::app::types as wit_types;
pub use generated::{GroupApp, GroupAppPre};

use super::Error;

/// A 0.2 error as a 0.1 app sees it (the same variants).
pub(crate) fn error(e: Error) -> wit_types::Error {
    match e {
        Error::Denied(m) => wit_types::Error::Denied(m),
        Error::NotFound(m) => wit_types::Error::NotFound(m),
        Error::Invalid(m) => wit_types::Error::Invalid(m),
        Error::QuotaExceeded(m) => wit_types::Error::QuotaExceeded(m),
        Error::Conflict(m) => wit_types::Error::Conflict(m),
        Error::Internal(m) => wit_types::Error::Internal(m),
    }
}

/// A 0.1 app's error as the host reports it.
pub(crate) fn error_from(e: wit_types::Error) -> Error {
    match e {
        wit_types::Error::Denied(m) => Error::Denied(m),
        wit_types::Error::NotFound(m) => Error::NotFound(m),
        wit_types::Error::Invalid(m) => Error::Invalid(m),
        wit_types::Error::QuotaExceeded(m) => Error::QuotaExceeded(m),
        wit_types::Error::Conflict(m) => Error::Conflict(m),
        wit_types::Error::Internal(m) => Error::Internal(m),
    }
}
