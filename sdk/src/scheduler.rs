//! Capability `scheduler`: run me later, once or on a schedule.
//!
//! At the due time the app receives [`Event::TimerFired`](crate::Event) with
//! the key and payload (and no actor).

use serde::Serialize;

use crate::{Result, Timestamp, sys};

pub use qun_blocks::{Recurrence, TimeOfDay, Weekday};

/// Every day at `hour:minute` on the group's clock.
pub fn daily(hour: u8, minute: u8) -> Recurrence {
    Recurrence::Daily(TimeOfDay { hour, minute })
}

/// On `days` at `hour:minute` on the group's clock.
pub fn weekly(days: impl IntoIterator<Item = Weekday>, hour: u8, minute: u8) -> Recurrence {
    Recurrence::Weekly(days.into_iter().collect(), TimeOfDay { hour, minute })
}

/// Fires a `timer-fired` event with `key` and `payload` at `at`; scheduling a
/// pending key again replaces that timer.
pub fn schedule(key: &str, at: Timestamp, payload: &str) -> Result<()> {
    sys::scheduler::schedule(key, at, payload)
}

/// [`schedule`] with a payload serialised as JSON.
pub fn schedule_json(key: &str, at: Timestamp, payload: &impl Serialize) -> Result<()> {
    schedule(key, at, &serde_json::to_string(payload)?)
}

/// Fires `timer-fired` with `key` and `payload` on every occurrence of
/// `rule` until cancelled; the host arms the next occurrence itself, even
/// when a handler fails. Replaces a pending timer with the same key.
/// Returns the first occurrence.
pub fn schedule_recurring(key: &str, rule: &Recurrence, payload: &str) -> Result<Timestamp> {
    sys::scheduler::schedule_recurring(key, rule, payload)
}

/// Cancels the pending timer `key` (one-off or recurring); true if there was one.
pub fn cancel(key: &str) -> Result<bool> {
    sys::scheduler::cancel(key)
}
