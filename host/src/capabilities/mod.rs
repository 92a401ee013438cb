//! The host side of the `qun:app` contract: one file per WIT interface.
//!
//! Every function here runs for exactly one invocation of one installation;
//! group, installation and actor come from [`InvocationState`], never from the
//! guest's arguments. Each call checks the grant, is size-checked, and is
//! counted in the invocation's [`call_log::CallLog`] (bounded audit rows, the
//! `capability_calls` cap).

mod blocks;
// Issue 17.
pub(crate) mod call_log;
mod files;
mod log;
mod membership;
pub(crate) mod messaging;
mod payments;
mod scheduler;
mod storage;
pub mod v0_1;

use std::time::Instant;

use crate::runtime::InvocationState;

/// The bindings of `qun:app@0.2.0`, the contract the host implements; the
/// older versions are adapters onto it (see [`v0_1`]).
pub(crate) mod generated {
    wasmtime::component::bindgen!({
        path: "../wit/0.2.0",
        world: "group-app",
        imports: { default: async },
        exports: { default: async },
        // Replay records keep calls and answers as JSON (issue 16).
        additional_derives: [serde::Serialize, serde::Deserialize],
    });
}

pub use blocks::{
    command_spec_from_wit, form_from_wit, message_from_wit, named_value_to_wit, response_from_wit,
    value_to_wit,
};
pub use generated::exports::qun::app::handler;
pub use generated::qun::app::types::{self, Error};
pub use generated::{GroupApp, GroupAppPre};

/// The versions of the `qun:app` contract this host serves, oldest first.
pub const SUPPORTED_VERSIONS: [&str; 2] = ["0.1.0", "0.2.0"];

/// A capability an app can ask for and a group owner can grant. Each is one
/// imported WIT interface.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Capability {
    /// Read the group and its members.
    Membership,
    /// Post to the group, message members.
    Messaging,
    /// Ask members to pay, refund.
    Payments,
    /// Keep data.
    Storage,
    /// Timers.
    Scheduler,
    /// Write log lines (always granted).
    Log,
    /// Files members give it, and its own (issue 17).
    Files,
}

impl Capability {
    /// Every capability.
    pub const ALL: [Capability; 7] = [
        Capability::Membership,
        Capability::Messaging,
        Capability::Payments,
        Capability::Storage,
        Capability::Scheduler,
        Capability::Log,
        Capability::Files,
    ];

    /// The WIT interface name (and the name used in grants).
    pub fn name(self) -> &'static str {
        match self {
            Capability::Membership => "membership",
            Capability::Messaging => "messaging",
            Capability::Payments => "payments",
            Capability::Storage => "storage",
            Capability::Scheduler => "scheduler",
            Capability::Log => "log",
            Capability::Files => "files",
        }
    }

    /// The capability named `name`.
    pub fn parse(name: &str) -> Option<Capability> {
        Capability::ALL.into_iter().find(|c| c.name() == name)
    }

    /// What it lets an app do, in plain words (for the catalog).
    pub fn describe(self) -> &'static str {
        match self {
            Capability::Membership => "see this group's name and its members' names and roles",
            Capability::Messaging => {
                "post messages in this group and send direct messages to its members"
            }
            Capability::Payments => {
                "ask members of this group to pay (each payment needs the member's confirmation) and refund them"
            }
            Capability::Storage => "keep its own data for this group",
            Capability::Scheduler => "schedule itself to run at a later time",
            Capability::Log => "write log lines for its developer",
            Capability::Files => {
                "read the files members give it, keep its own files in this group and show them in messages"
            }
        }
    }
}

impl std::fmt::Display for Capability {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl InvocationState {
    /// `denied` unless the owner granted `cap`.
    fn check_grant(&self, cap: Capability) -> Result<(), Error> {
        if cap == Capability::Log || self.grants.contains(&cap) {
            Ok(())
        } else {
            Err(Error::Denied(format!(
                "the group owner has not granted the `{cap}` capability to this app"
            )))
        }
    }

    /// Record one capability call in the invocation's call log.
    fn audit_call<T>(&mut self, action: &str, started: Instant, result: &Result<T, Error>) {
        self.calls.record(&self.ident, action, started, result);
    }

    /// `invalid` if `value` is longer than `max` bytes.
    fn check_size(&self, what: &str, len: usize, max: usize) -> Result<(), Error> {
        if len > max {
            Err(Error::Invalid(format!(
                "{what} is {len} bytes; the limit is {max}"
            )))
        } else {
            Ok(())
        }
    }

    /// `invalid` if `text` holds NUL or a control character (issue 11 item 4:
    /// the same on both backends, never a database error).
    fn check_text(&self, what: &str, text: &str) -> Result<(), Error> {
        crate::text::check(what, text).map_err(Error::Invalid)
    }
}

/// Run a capability call: check the grant, run `$this.$method(args)`,
/// audit, and take it down in the invocation's replay tape (issue 16). When
/// the invocation is a replay, the recorded answer is given instead and
/// nothing runs.
macro_rules! capability_call {
    ($self:ident, $cap:expr, $action:literal, $this:ident . $method:ident ( $($arg:ident),* )) => {{
        let started = std::time::Instant::now();
        let taped = $self.tape.args(&($(&$arg,)*));
        if $self.tape.is_replaying() {
            // Counted as it was, so the `capability_calls` cap falls where it fell.
            let _ = $self.calls.admit();
            $self.tape.answer($action, taped.as_deref())
        } else {
            let result = match $self.calls.admit().and_then(|()| $self.check_grant($cap)) {
                Ok(()) => $this.$method($($arg),*).await,
                Err(e) => Err(e),
            };
            $self.audit_call($action, started, &result);
            $self.tape.record($action, taped, &result);
            result
        }
    }};
}
pub(crate) use capability_call;

/// The message inside an error variant.
pub fn error_message(e: &Error) -> String {
    match e {
        Error::Denied(m)
        | Error::NotFound(m)
        | Error::Invalid(m)
        | Error::QuotaExceeded(m)
        | Error::Conflict(m)
        | Error::Internal(m) => m.clone(),
    }
}

/// The variant's name, as in the WIT.
pub fn error_code(e: &Error) -> &'static str {
    match e {
        Error::Denied(_) => "denied",
        Error::NotFound(_) => "not-found",
        Error::Invalid(_) => "invalid",
        Error::QuotaExceeded(_) => "quota-exceeded",
        Error::Conflict(_) => "conflict",
        Error::Internal(_) => "internal",
    }
}

/// A store failure as the guest sees it: `internal`, details only in our logs.
pub(crate) fn internal(e: crate::store::StoreError) -> Error {
    tracing::error!("store error during a capability call: {e}");
    Error::Internal("the host could not complete this call; try again later".into())
}

impl types::Host for InvocationState {}

/// At most `max` bytes of a string, cut at a character boundary.
pub(crate) use log::truncate;
