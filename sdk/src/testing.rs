//! A native test harness: run an app's logic with plain `cargo test`.
//!
//! In native builds (anything but wasm32) every capability call goes to an
//! in-memory host instead of the component's imports. A [`TestGroup`] is one
//! group with the app installed: add members, type commands, click buttons on
//! the messages the app posted, fill in and submit the forms it opens, raise
//! events, move the clock and fire timers, then look at what each member
//! sees, and what the app stored and scheduled.
//!
//! It checks what the host checks, with the same code (the crate
//! `qun-blocks`): messages and forms against the published limits and the
//! app's declared actions, submitted forms value by value (a harness test
//! sees the same field errors as a member), typed command options, and the
//! host's quotas ([`Limits`]). Like the real host, an invocation is atomic:
//! when the handler returns an error, its storage writes, files, messages,
//! timers and payment requests are rolled back (log lines stay).
//!
//! Members upload files with [`TestGroup::upload`] and give them to the app
//! through a form's file input ([`TestGroup::submit`]) or a message they
//! post ([`TestGroup::post_as`]); [`TestGroup::download`] is what a member
//! gets for a file a message shows.
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
//! group.command("ann", "/echo hello").unwrap();
//! assert_eq!(group.last_posted().map(|m| m.text.as_str()), Some("Ann said hello"));
//! assert_eq!(group.stored_json::<String>("last").as_deref(), Some("hello"));
//! ```

mod checks;
mod forms;
mod host;
mod messages;

use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::time::Duration;

use serde::de::DeserializeOwned;

use crate::log::Level;
use crate::membership::{Member, Profile, Role};
use crate::payments::{Payment, PaymentStatus};
use crate::scheduler::Recurrence;
use crate::{App, Context, Describe, Error, Event, Message, Result, Timestamp};

pub use forms::OpenForm;
pub use messages::{Author, Posted};

pub(crate) use host::HostState;

/// The capability calls of native builds.
pub(crate) mod sys {
    pub(crate) use super::host::{files, log, membership, messaging, payments, scheduler, storage};
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
    /// `files`
    Files,
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
            Self::Files => "files",
        }
    }
}

/// The bounds the host puts on an installation, with the host's defaults
/// (`host/src/limits.rs`). Over one, a capability call answers `invalid`
/// (sizes) or `quota-exceeded` (totals and rates), as on the host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest storage key or timer key, in bytes.
    pub key_bytes: usize,
    /// Largest storage value, in bytes.
    pub value_bytes: usize,
    /// Bytes of keys plus values one installation may keep.
    pub storage_bytes: usize,
    /// Keys one installation may keep.
    pub storage_keys: usize,
    /// Group messages (posts and private replies) per minute.
    pub messages_per_minute: usize,
    /// Direct messages per minute, and to one member per minute.
    pub dms_per_minute: usize,
    /// Direct messages to one member per minute.
    pub dms_per_recipient: usize,
    /// Pending timers.
    pub pending_timers: usize,
    /// Largest timer payload, in bytes.
    pub timer_payload_bytes: usize,
    /// Largest action payload or answer (JSON), in bytes.
    pub answer_bytes: usize,
    /// Largest file, in bytes (a member's upload or a file the app creates).
    pub file_bytes: u64,
    /// Bytes of files one installation may keep.
    pub installation_file_bytes: u64,
    /// Bytes of files one group may keep (members' uploads included).
    pub group_file_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            key_bytes: 512,
            value_bytes: 64 << 10,
            storage_bytes: 16 << 20,
            storage_keys: 100_000,
            messages_per_minute: 60,
            dms_per_minute: 500,
            dms_per_recipient: 20,
            pending_timers: 1_000,
            timer_payload_bytes: 8 << 10,
            answer_bytes: 64 << 10,
            file_bytes: 25 << 20,
            installation_file_bytes: 256 << 20,
            group_file_bytes: 1 << 30,
        }
    }
}

/// A pending timer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScheduledTimer {
    /// Its key.
    pub key: String,
    /// When it is due next.
    pub at: Timestamp,
    /// Its payload.
    pub payload: String,
    /// Its rule, for a recurring timer.
    pub rule: Option<Recurrence>,
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
    forms: forms::Forms,
    app: PhantomData<A>,
}

impl<A: App> Default for TestGroup<A> {
    fn default() -> Self {
        Self::new()
    }
}

impl<A: App> TestGroup<A> {
    /// A group called "Test group" in UTC, with no members and every
    /// capability granted.
    ///
    /// Panics when the app's commands break the host's rules (the host
    /// refuses such an app at upload): names, options, their kinds and limits.
    pub fn new() -> Self {
        if let Err(err) = qun_blocks::check_app_commands(&A::describe().commands) {
            panic!("the host would refuse this app at upload: commands: {err}");
        }
        let state = HostState {
            group_id: "group-1".into(),
            group_name: "Test group".into(),
            installation_id: "installation-1".into(),
            now: Timestamp::from_millis(1_767_225_600_000),
            time_zone: "UTC".into(),
            locale: "en".into(),
            declared: checks::declared(&A::describe()),
            ..HostState::default()
        };
        Self {
            state,
            forms: forms::Forms::default(),
            app: PhantomData,
        }
    }

    /// Sets the group's time zone (IANA) and language (builder style).
    pub fn zone(mut self, time_zone: &str, locale: &str) -> Self {
        self.state.time_zone = time_zone.into();
        self.state.locale = locale.into();
        self
    }

    /// Sets the host's bounds (builder style).
    pub fn limits(mut self, limits: Limits) -> Self {
        self.state.limits = limits;
        self
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
            profile: Profile::default(),
        };
        self.state.members.insert(id.into(), member);
        self
    }

    /// Sets what a member's profile card shows.
    pub fn set_profile(&mut self, id: &str, profile: Profile) -> &mut Self {
        if let Some(member) = self.state.members.get_mut(id) {
            member.profile = profile;
        }
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

    /// Raises `event` with no acting member (as the host does for timers,
    /// payments and installs). The files of an [`Event::MessagePosted`] are
    /// given to the app (see [`post_as`](Self::post_as)).
    pub fn event(&mut self, event: Event) -> Result<()> {
        let given = attached(&event);
        self.invoke_given(None, &given, |ctx| A::on_event(ctx, &event))
    }

    /// Raises `event` with `actor` as the acting member.
    pub fn event_as(&mut self, actor: &str, event: Event) -> Result<()> {
        let given = attached(&event);
        self.invoke_given(Some(actor), &given, |ctx| A::on_event(ctx, &event))
    }

    /// `member` posts a message with `text` and the files `files` (uploaded by
    /// them, see [`upload`](Self::upload)) attached: the app hears
    /// [`Event::MessagePosted`] and may read the files in that invocation.
    pub fn post_as(&mut self, member: &str, text: &str, files: &[&str]) -> Result<()> {
        if !self.state.members.contains_key(member) {
            return Err(Error::not_found(format!(
                "`{member}` is not a member of this group"
            )));
        }
        for id in files {
            let theirs = self
                .state
                .files
                .get(*id)
                .is_some_and(|f| f.info.uploaded_by.as_deref() == Some(member));
            if !theirs {
                return Err(Error::invalid(format!(
                    "`{id}` is not a file {member} uploaded"
                )));
            }
        }
        let id = self.state.next_id("member-message");
        self.event_as(
            member,
            Event::MessagePosted(crate::event::PostedMessage {
                id,
                author: member.to_owned(),
                text: text.to_owned(),
                files: files.iter().map(|f| (*f).to_owned()).collect(),
            }),
        )
    }

    /// `member` uploads a file (to give it to the app in a form or a message):
    /// its id. As on the host, its type is read from the bytes (PNG, JPEG,
    /// GIF, WebP, PDF, ZIP, HTML and UTF-8 text are recognised); a file over
    /// [`Limits::file_bytes`] is `invalid` and one past the group's quota
    /// `quota-exceeded`.
    pub fn upload(&mut self, member: &str, name: &str, bytes: &[u8]) -> Result<String> {
        if !self.state.members.contains_key(member) {
            return Err(Error::not_found(format!(
                "`{member}` is not a member of this group"
            )));
        }
        self.state.check_file_room(bytes.len() as u64, false)?;
        let info = self
            .state
            .new_file(name, bytes.to_vec(), Some(member.to_owned()), false);
        Ok(info.id)
    }

    /// The file `id` in the group (an upload or one of the app's), if it exists.
    pub fn file(&self, id: &str) -> Option<crate::FileInfo> {
        self.state.files.get(id).map(|f| f.info.clone())
    }

    /// The bytes of the file `id`, if it exists.
    pub fn file_bytes(&self, id: &str) -> Option<Vec<u8>> {
        self.state.files.get(id).map(|f| f.bytes.to_vec())
    }

    /// The installation's own files: those it created and those given to it
    /// in invocations that succeeded.
    pub fn app_files(&self) -> Vec<crate::FileInfo> {
        self.state
            .files
            .values()
            .filter(|f| f.owned)
            .map(|f| f.info.clone())
            .collect()
    }

    /// What `member` downloads for the file `id`: allowed for a file a
    /// message they can see shows (timeline, private replies, their direct
    /// messages) and for one they uploaded; `not-found` otherwise, and for a
    /// deleted file, as the API answers 404.
    pub fn download(&self, member: &str, id: &str) -> Result<Vec<u8>> {
        let not_found = || Error::not_found(format!("no file `{id}` that {member} can download"));
        let file = self.state.files.get(id).ok_or_else(not_found)?;
        let shown = |m: &Message| m.files().contains(&id);
        let allowed = file.info.uploaded_by.as_deref() == Some(member)
            || self
                .state
                .messages
                .iter()
                .any(|p| p.visible_for(member) && shown(&p.message))
            || self
                .state
                .direct
                .iter()
                .any(|(to, m)| to == member && shown(m));
        if !allowed {
            return Err(not_found());
        }
        Ok(file.bytes.to_vec())
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

    /// [`run`](Self::run) with the files `files` given to the invocation (as
    /// a form's file input or a message's attachments give them): the code
    /// may read them, and they become the installation's own if it succeeds.
    pub fn run_given<R>(
        &mut self,
        actor: Option<&str>,
        files: &[&str],
        f: impl FnOnce(&Context) -> Result<R>,
    ) -> Result<R> {
        let given: Vec<String> = files.iter().map(|id| (*id).to_owned()).collect();
        self.invoke_given(actor, &given, f)
    }

    pub(crate) fn context(&mut self, actor: Option<&str>) -> Context {
        let invocation_id = self.state.next_id("invocation");
        Context {
            group_id: self.state.group_id.clone(),
            installation_id: self.state.installation_id.clone(),
            actor: actor.map(str::to_owned),
            now: self.state.now,
            invocation_id,
            time_zone: self.state.time_zone.clone(),
            locale: self.state.locale.clone(),
        }
    }

    /// One invocation: `f` runs with the in-memory host installed; on error
    /// everything but the log is rolled back, and so it is when committing
    /// fails (too many pending timers, as on the host).
    pub(crate) fn invoke<R>(
        &mut self,
        actor: Option<&str>,
        f: impl FnOnce(&Context) -> Result<R>,
    ) -> Result<R> {
        self.invoke_given(actor, &[], f)
    }

    /// One invocation to which the files `given` are given: it may read
    /// them, and they become the installation's own if it succeeds. Files
    /// being written when it ends are dropped.
    pub(crate) fn invoke_given<R>(
        &mut self,
        actor: Option<&str>,
        given: &[String],
        f: impl FnOnce(&Context) -> Result<R>,
    ) -> Result<R> {
        let ctx = self.context(actor);
        let before = self.state.clone();
        self.state.given = given
            .iter()
            .filter(|id| self.state.files.contains_key(*id))
            .cloned()
            .collect();
        let (mut after, result) = host::install(std::mem::take(&mut self.state), || f(&ctx));
        let result = result.and_then(|r| after.check_commit().map(|()| r));
        if result.is_err() {
            // Roll back everything but the log, which the host keeps.
            let logs = std::mem::take(&mut after.logs);
            after = before;
            after.logs = logs;
        } else {
            for id in std::mem::take(&mut after.given) {
                if let Some(file) = after.files.get_mut(&id) {
                    file.owned = true;
                }
            }
        }
        after.given.clear();
        after.uploads.clear();
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
    /// each with the clock at its due time. A recurring timer is armed again
    /// for its next occurrence before it fires, so a failing handler does not
    /// end it (as on the host). Returns how many fired; stops at the first
    /// handler error (a one-off timer is then gone, as on a host that gives up).
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
        if let Some(rule) = &timer.rule {
            let zone = self.state.time_zone.clone();
            if let Some(next) = checks::next_occurrence(rule, &zone, timer.at) {
                let mut again = timer.clone();
                again.at = next;
                self.state.timers.insert(again.key.clone(), again);
            }
        }
        let event = Event::TimerFired(crate::event::Timer {
            key: timer.key,
            payload: timer.payload,
            due: timer.at,
            recurring: timer.rule.is_some(),
        });
        self.event(event)
    }

    /// Direct messages, with their recipient.
    pub fn direct_messages(&self) -> &[(String, Message)] {
        &self.state.direct
    }

    /// Direct messages `member` received.
    pub fn direct_messages_to(&self, member: &str) -> Vec<&Message> {
        self.state
            .direct
            .iter()
            .filter(|(to, _)| to == member)
            .map(|(_, m)| m)
            .collect()
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

/// The files a member attached to a posted message.
fn attached(event: &Event) -> Vec<String> {
    match event {
        Event::MessagePosted(m) => m.files.clone(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests;
