//! Capability `messaging`: post to the current group, message one member.
//!
//! Messages are delivered when the invocation succeeds; a failing invocation
//! posts nothing. A command's reply needs no `messaging`: return it instead.

use crate::{Message, Result, sys};

/// Posts a message to the current group.
pub fn post(message: &Message) -> Result<()> {
    sys::messaging::post(message)
}

/// Sends a direct message to one member; `not-found` if `to` is not a member
/// of this group.
pub fn send_direct(to: &str, message: &Message) -> Result<()> {
    sys::messaging::send_direct(to, message)
}
