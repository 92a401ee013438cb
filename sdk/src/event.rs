//! Things that happen in the group and reach the app's `on_event`.

use crate::Timestamp;
use crate::payments::Payment;

/// Something that happened in the group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// The app was installed in this group.
    Installed,
    /// The app is being removed from this group.
    Uninstalled,
    /// A member (by id) joined the group.
    MemberJoined(String),
    /// A member (by id) left the group.
    MemberLeft(String),
    /// A member posted a message (needs [`Subscription::MessagePosted`](crate::Subscription)).
    MessagePosted(PostedMessage),
    /// A payment this installation requested was paid.
    PaymentSettled(Payment),
    /// A payment this installation requested was declined or expired.
    PaymentFailed {
        /// The payment as it stands.
        payment: Payment,
        /// Why it failed (`declined`, `expired`, ...).
        reason: String,
    },
    /// A timer this installation scheduled came due.
    TimerFired(Timer),
}

/// A message a member posted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PostedMessage {
    /// The message's id.
    pub id: String,
    /// Who posted it.
    pub author: String,
    /// Its text.
    pub text: String,
    /// The ids of the files the member attached to it: read them with
    /// [`files`](crate::files) in this invocation (they become this
    /// installation's own when it succeeds).
    pub files: Vec<String>,
}

/// A timer that came due (see [`scheduler`](crate::scheduler)).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timer {
    /// The key it was scheduled with.
    pub key: String,
    /// The payload it was scheduled with.
    pub payload: String,
    /// When it was due.
    pub due: Timestamp,
    /// It fires again (a recurring timer).
    pub recurring: bool,
}
