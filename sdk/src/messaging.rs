//! Capability `messaging`: post to the current group and keep those messages
//! up to date, answer one member privately, message members directly.
//!
//! Everything takes effect when the invocation succeeds; a failing
//! invocation posts, changes and deletes nothing. Ids are given out at once,
//! so an invocation can post a card and keep its id to update it later. A
//! command's reply needs no `messaging`: return it instead.

use serde::{Deserialize, Serialize};

use crate::{Message, Result, sys};

/// A message's id (the decimal id the HTTP API shows).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MessageId(pub String);

impl MessageId {
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for MessageId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<String> for MessageId {
    fn from(id: String) -> Self {
        Self(id)
    }
}

impl From<&str> for MessageId {
    fn from(id: &str) -> Self {
        Self(id.to_owned())
    }
}

/// Posts a message to the current group; its id.
pub fn post(message: &Message) -> Result<MessageId> {
    sys::messaging::post(message)
}

/// Replaces a message this installation posted in this group (no time
/// limit); `not-found` for any other message.
pub fn update(id: &MessageId, message: &Message) -> Result<()> {
    sys::messaging::update(id, message)
}

/// Deletes a message this installation posted in this group; `not-found`
/// for any other message.
pub fn delete(id: &MessageId) -> Result<()> {
    sys::messaging::delete(id)
}

/// Posts a message in the group that only `to` sees (a private reply);
/// `not-found` if `to` is not a member of this group.
pub fn post_private(to: &str, message: &Message) -> Result<MessageId> {
    sys::messaging::post_private(to, message)
}

/// Sends a direct message to one member; `not-found` if `to` is not a member
/// of this group.
pub fn send_direct(to: &str, message: &Message) -> Result<()> {
    sys::messaging::send_direct(to, message)
}
