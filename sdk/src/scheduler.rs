//! Capability `scheduler`: run me later.
//!
//! At the due time the app receives [`Event::TimerFired`](crate::Event) with
//! the key and payload (and no actor).

use serde::Serialize;

use crate::{Result, Timestamp, sys};

/// Fires a `timer-fired` event with `key` and `payload` at `at`; scheduling a
/// pending key again replaces that timer.
pub fn schedule(key: &str, at: Timestamp, payload: &str) -> Result<()> {
    sys::scheduler::schedule(key, at, payload)
}

/// [`schedule`] with a payload serialised as JSON.
pub fn schedule_json(key: &str, at: Timestamp, payload: &impl Serialize) -> Result<()> {
    schedule(key, at, &serde_json::to_string(payload)?)
}

/// Cancels the pending timer `key`; true if there was one.
pub fn cancel(key: &str) -> Result<bool> {
    sys::scheduler::cancel(key)
}
