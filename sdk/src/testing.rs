//! A native test harness: run an app's logic with plain `cargo test`.
//!
//! In native builds (anything but wasm32) every capability call goes to an
//! in-memory host instead of the component's imports. A [`TestGroup`] is one
//! group with the app installed: add members, run commands, click buttons,
//! raise events, move the clock and fire timers, then look at what the app
//! posted, stored and scheduled.
//!
//! Like the real host, an invocation is atomic: when the handler returns an
//! error, its storage writes, messages, timers and payment requests are rolled
//! back (log lines stay).
//!
//! ```
//! use qun_sdk::prelude::*;
//! use qun_sdk::testing::TestGroup;
//!
//! struct Echo;
//! impl App for Echo {
//!     fn describe() -> Describe {
//!         Describe::new("echo", "Echo").command("echo", "Say it back")
//!     }
//!     fn on_command(ctx: &Context, cmd: &Command) -> Result<Reply> {
//!         storage::set_json("last", &cmd.args)?;
//!         Ok(Reply::text(format!("{} said {}", ctx.actor_name()?, cmd.args)))
//!     }
//! }
//!
//! let mut group = TestGroup::<Echo>::new().member("ann", "Ann", Role::Owner);
//! let reply = group.command("ann", "/echo hello").unwrap();
//! assert_eq!(reply.and_then(|m| m.text).as_deref(), Some("Ann said hello"));
//! assert_eq!(group.stored_json::<String>("last").as_deref(), Some("hello"));
//! ```

mod host;

use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::time::Duration;

use serde::de::DeserializeOwned;

use crate::log::Level;
use crate::membership::{Member, Role};
use crate::payments::{Payment, PaymentStatus};
use crate::{
    App, Button, Command, Context, Describe, Error, Event, Json, Message, Result, Timestamp,
};

pub(crate) use host::HostState;

/// The capability calls of native builds.
pub(crate) mod sys {
    pub(crate) use super::host::{log, membership, messaging, payments, scheduler, storage};
}

/// A capability a group owner can withhold (`log` is always granted).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Capability {
    /// `membership`
    Membership,
    /// `messaging`
    Messaging,
    /// `payments`
    Payments,
    /// `storage`
    Storage,
    /// `scheduler`
    Scheduler,
}

impl Capability {
    /// The interface name, e.g. `storage`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Membership => "membership",
            Self::Messaging => "messaging",
            Self::Payments => "payments",
            Self::Storage => "storage",
            Self::Scheduler => "scheduler",
        }
    }
}

/// A pending timer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScheduledTimer {
    /// Its key.
    pub key: String,
    /// When it is due.
    pub at: Timestamp,
    /// Its payload.
    pub payload: String,
}

/// One line the app logged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogLine {
    /// Its level.
    pub level: Level,
    /// Its message.
    pub message: String,
    /// Its key/value fields.
    pub fields: Vec<(String, String)>,
}

/// One group with app `A` installed, backed by an in-memory host.
///
/// The clock starts at 2026-01-01T00:00:00Z and only moves when told to.
pub struct TestGroup<A: App> {
    state: HostState,
    app: PhantomData<A>,
}

impl<A: App> Default for TestGroup<A> {
    fn default() -> Self {
        Self::new()
    }
}

impl<A: App> TestGroup<A> {
    /// A group called "Test group" with no members and every capability granted.
    pub fn new() -> Self {
        let state = HostState {
            group_id: "group-1".into(),
            group_name: "Test group".into(),
            installation_id: "installation-1".into(),
            now: Timestamp::from_millis(1_767_225_600_000),
            ..HostState::default()
        };
        Self {
            state,
            app: PhantomData,
        }
    }

    /// Adds a member (builder style).
    pub fn member(mut self, id: &str, display_name: &str, role: Role) -> Self {
        self.add_member(id, display_name, role);
        self
    }

    /// Adds (or replaces) a member without telling the app.
    pub fn add_member(&mut self, id: &str, display_name: &str, role: Role) -> &mut Self {
        let member = Member {
            id: id.into(),
            display_name: display_name.into(),
            role,
            joined_at: self.state.now,
        };
        self.state.members.insert(id.into(), member);
        self
    }

    /// Removes a member without telling the app.
    pub fn remove_member(&mut self, id: &str) -> &mut Self {
        self.state.members.remove(id);
        self
    }

    /// Adds a member and raises [`Event::MemberJoined`].
    pub fn join(&mut self, id: &str, display_name: &str) -> Result<()> {
        self.add_member(id, display_name, Role::Member);
        self.invoke(None, |ctx| {
            A::on_event(ctx, &Event::MemberJoined(id.into()))
        })
    }

    /// Removes a member and raises [`Event::MemberLeft`].
    pub fn leave(&mut self, id: &str) -> Result<()> {
        self.remove_member(id);
        self.invoke(None, |ctx| A::on_event(ctx, &Event::MemberLeft(id.into())))
    }

    /// Withholds a capability: its calls answer `denied`.
    pub fn deny(&mut self, capability: Capability) -> &mut Self {
        self.state.denied.insert(capability);
        self
    }

    /// Withholds a capability (builder style).
    pub fn without(mut self, capability: Capability) -> Self {
        self.deny(capability);
        self
    }

    /// Grants a withheld capability again.
    pub fn grant(&mut self, capability: Capability) -> &mut Self {
        self.state.denied.remove(&capability);
        self
    }

    /// What the app says about itself.
    pub fn describe(&self) -> Describe {
        A::describe()
    }

    /// Raises [`Event::Installed`].
    pub fn install(&mut self) -> Result<()> {
        self.event(Event::Installed)
    }

    /// `actor` types `line` (e.g. `/poll a | b`). A returned reply is also
    /// appended to [`posted`](Self::posted), as the host posts it.
    /// The command must be declared in `describe`.
    pub fn command(&mut self, actor: &str, line: &str) -> Result<Option<Message>> {
        let command = Command::from_line(line).ok_or_else(|| {
            Error::invalid(format!(
                "`{line}` is not a command; commands look like /name args"
            ))
        })?;
        if !A::describe()
            .commands
            .iter()
            .any(|c| c.name == command.name)
        {
            return Err(Error::invalid(format!(
                "the app does not declare the command /{}",
                command.name
            )));
        }
        let reply = self
            .invoke(Some(actor), |ctx| A::on_command(ctx, &command))?
            .into_message();
        if let Some(message) = &reply {
            self.state.posted.push(message.clone());
        }
        Ok(reply)
    }

    /// `actor` runs `action` with `payload`, which goes through a JSON string
    /// round trip as it does on the host. The action must be declared in `describe`.
    pub fn action(&mut self, actor: &str, action: &str, payload: Json) -> Result<Json> {
        self.action_raw(actor, action, &payload.to_string())
    }

    /// `actor` runs `action` with a raw payload string (`null` when empty).
    pub fn action_raw(&mut self, actor: &str, action: &str, payload: &str) -> Result<Json> {
        if !A::describe().actions.iter().any(|a| a.name == action) {
            return Err(Error::invalid(format!(
                "the app does not declare the action `{action}`"
            )));
        }
        let payload: Json = if payload.trim().is_empty() {
            Json::Null
        } else {
            serde_json::from_str(payload).map_err(|err| {
                Error::invalid(format!("the payload of `{action}` is not JSON: {err}"))
            })?
        };
        let answer = self.invoke(Some(actor), |ctx| A::on_action(ctx, action, &payload))?;
        // What the host sends back is the JSON text of the answer.
        Ok(serde_json::from_str(&answer.to_string())?)
    }

    /// `actor` clicks `button`.
    pub fn click(&mut self, actor: &str, button: &Button) -> Result<Json> {
        self.action_raw(actor, &button.action, &button.payload)
    }

    /// Raises `event` with no acting member (as the host does for timers,
    /// payments and installs).
    pub fn event(&mut self, event: Event) -> Result<()> {
        self.invoke(None, |ctx| A::on_event(ctx, &event))
    }

    /// Raises `event` with `actor` as the acting member.
    pub fn event_as(&mut self, actor: &str, event: Event) -> Result<()> {
        self.invoke(Some(actor), |ctx| A::on_event(ctx, &event))
    }

    /// Runs any code as one invocation (atomic like the others), e.g. to seed
    /// storage through the app's own functions or to call capabilities directly.
    pub fn run<R>(
        &mut self,
        actor: Option<&str>,
        f: impl FnOnce(&Context) -> Result<R>,
    ) -> Result<R> {
        self.invoke(actor, f)
    }

    fn invoke<R>(
        &mut self,
        actor: Option<&str>,
        f: impl FnOnce(&Context) -> Result<R>,
    ) -> Result<R> {
        let invocation_id = self.state.next_id("invocation");
        let ctx = Context {
            group_id: self.state.group_id.clone(),
            installation_id: self.state.installation_id.clone(),
            actor: actor.map(str::to_owned),
            now: self.state.now,
            invocation_id,
        };
        let before = self.state.clone();
        let (mut after, result) = host::install(std::mem::take(&mut self.state), || f(&ctx));
        if result.is_err() {
            // Roll back everything but the log, which the host keeps.
            let logs = std::mem::take(&mut after.logs);
            after = before;
            after.logs = logs;
        }
        self.state = after;
        result
    }

    /// The clock.
    pub fn now(&self) -> Timestamp {
        self.state.now
    }

    /// Sets the clock without firing timers.
    pub fn set_now(&mut self, now: Timestamp) -> &mut Self {
        self.state.now = now;
        self
    }

    /// Moves the clock forward by `duration`, firing timers that come due on
    /// the way; see [`advance_to`](Self::advance_to).
    pub fn advance(&mut self, duration: Duration) -> Result<usize> {
        self.advance_to(self.state.now + duration)
    }

    /// Moves the clock to `until`, firing every timer due by then in due order,
    /// each with the clock at its due time. Returns how many fired; stops at
    /// the first handler error (that timer is gone, as on a host that gives up).
    pub fn advance_to(&mut self, until: Timestamp) -> Result<usize> {
        let mut fired = 0;
        while let Some(timer) = self.next_due(until) {
            self.state.now = self.state.now.max(timer.at);
            self.fire(timer)?;
            fired += 1;
        }
        self.state.now = self.state.now.max(until);
        Ok(fired)
    }

    /// Fires every timer due at the current clock.
    pub fn fire_due_timers(&mut self) -> Result<usize> {
        self.advance_to(self.state.now)
    }

    fn next_due(&self, until: Timestamp) -> Option<ScheduledTimer> {
        self.state
            .timers
            .values()
            .filter(|t| t.at <= until)
            .min_by_key(|t| (t.at, t.key.clone()))
            .cloned()
    }

    fn fire(&mut self, timer: ScheduledTimer) -> Result<()> {
        self.state.timers.remove(&timer.key);
        let event = Event::TimerFired(crate::event::Timer {
            key: timer.key,
            payload: timer.payload,
            due: timer.at,
        });
        self.event(event)
    }

    /// Every message that appeared in the group: command replies and posts.
    pub fn posted(&self) -> &[Message] {
        &self.state.posted
    }

    /// The last message that appeared in the group.
    pub fn last_posted(&self) -> Option<&Message> {
        self.state.posted.last()
    }

    /// Direct messages, with their recipient.
    pub fn direct_messages(&self) -> &[(String, Message)] {
        &self.state.direct
    }

    /// The installation's storage.
    pub fn storage(&self) -> &BTreeMap<String, Vec<u8>> {
        &self.state.storage
    }

    /// A stored value read as JSON; `None` if absent or not a `T`.
    pub fn stored_json<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        self.state
            .storage
            .get(key)
            .and_then(|v| serde_json::from_slice(v).ok())
    }

    /// Sets a stored value directly (outside any invocation).
    pub fn set_stored(&mut self, key: &str, value: &[u8]) -> &mut Self {
        self.state.storage.insert(key.into(), value.to_vec());
        self
    }

    /// Pending timers, by key.
    pub fn timers(&self) -> Vec<ScheduledTimer> {
        self.state.timers.values().cloned().collect()
    }

    /// Lines the app logged, including those of failed invocations.
    pub fn logs(&self) -> &[LogLine] {
        &self.state.logs
    }

    /// Payments the app requested.
    pub fn payments(&self) -> Vec<Payment> {
        self.state.payments.values().cloned().collect()
    }

    /// The payer pays `id`: it settles and the app hears [`Event::PaymentSettled`].
    pub fn settle_payment(&mut self, id: &str) -> Result<()> {
        let payment = self.set_payment_status(id, PaymentStatus::Settled)?;
        self.event(Event::PaymentSettled(payment))
    }

    /// The payer declines `id` (or it expires, with `reason` "expired"): the app
    /// hears [`Event::PaymentFailed`].
    pub fn fail_payment(&mut self, id: &str, reason: &str) -> Result<()> {
        let status = if reason == "expired" {
            PaymentStatus::Expired
        } else {
            PaymentStatus::Declined
        };
        let payment = self.set_payment_status(id, status)?;
        self.event(Event::PaymentFailed {
            payment,
            reason: reason.into(),
        })
    }

    fn set_payment_status(&mut self, id: &str, status: PaymentStatus) -> Result<Payment> {
        let payment = self
            .state
            .payments
            .get_mut(id)
            .ok_or_else(|| Error::not_found(format!("no payment `{id}`")))?;
        if payment.status != PaymentStatus::Pending {
            return Err(Error::invalid(format!(
                "payment `{id}` is no longer pending"
            )));
        }
        payment.status = status;
        Ok(payment.clone())
    }
}

#[cfg(test)]
mod tests;
