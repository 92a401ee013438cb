//! What the host tells an app about the invocation it is running.

use crate::membership::{self, Member};
use crate::{Error, Result, Timestamp};

/// The invocation's context. The host fills every field in; an app never names
/// a group or an installation itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Context {
    pub(crate) group_id: String,
    pub(crate) installation_id: String,
    pub(crate) actor: Option<String>,
    pub(crate) now: Timestamp,
    pub(crate) invocation_id: String,
    pub(crate) time_zone: String,
    pub(crate) locale: String,
}

impl Context {
    /// A context with these fields: for tests and tools; apps receive theirs.
    pub fn new(
        group_id: impl Into<String>,
        installation_id: impl Into<String>,
        actor: Option<String>,
        now: Timestamp,
        invocation_id: impl Into<String>,
    ) -> Self {
        Self {
            group_id: group_id.into(),
            installation_id: installation_id.into(),
            actor,
            now,
            invocation_id: invocation_id.into(),
            time_zone: "UTC".into(),
            locale: "en".into(),
        }
    }

    /// The same context in another time zone and language: for tests and tools.
    pub fn with_zone(mut self, time_zone: impl Into<String>, locale: impl Into<String>) -> Self {
        self.time_zone = time_zone.into();
        self.locale = locale.into();
        self
    }

    /// The group's IANA time zone, such as "Asia/Shanghai" ("UTC" unless the
    /// owner set one). Dates members type and pick are read in it.
    pub fn time_zone(&self) -> &str {
        &self.time_zone
    }

    /// The group's language, a BCP 47 tag such as "zh-CN".
    pub fn locale(&self) -> &str {
        &self.locale
    }

    /// `at` on the group's clock, for its members: `2030-06-01 09:00
    /// (Asia/Shanghai)` (12-hour where the locale reads it so). A zone the
    /// SDK does not know shows the time in UTC.
    ///
    /// ```
    /// # use qun_sdk::prelude::*;
    /// let ctx = Context::new("g", "i", None, Timestamp::from_millis(0), "inv")
    ///     .with_zone("Asia/Shanghai", "zh-CN");
    /// let at = Timestamp::parse_rfc3339("2030-06-01T01:00:00Z").unwrap();
    /// assert_eq!(ctx.format_time(at), "2030-06-01 09:00 (Asia/Shanghai)");
    /// ```
    pub fn format_time(&self, at: Timestamp) -> String {
        let zone =
            qun_blocks::Zone::parse(&self.time_zone).unwrap_or_else(|_| qun_blocks::Zone::utc());
        qun_blocks::format_timestamp(at.millis(), &zone, &self.locale)
    }

    /// The group this installation belongs to.
    pub fn group_id(&self) -> &str {
        &self.group_id
    }

    /// This app's installation in that group.
    pub fn installation_id(&self) -> &str {
        &self.installation_id
    }

    /// The member who caused this invocation; `invalid` when there is none
    /// (events the host raises on its own, such as timers).
    pub fn actor(&self) -> Result<&str> {
        self.actor
            .as_deref()
            .ok_or_else(|| Error::invalid("this needs a member to act, and no member did"))
    }

    /// The acting member, if any.
    pub fn actor_opt(&self) -> Option<&str> {
        self.actor.as_deref()
    }

    /// The acting member's record (id, name, role) through the `membership`
    /// capability.
    pub fn actor_member(&self) -> Result<Member> {
        membership::member(self.actor()?)
    }

    /// The acting member's display name through the `membership` capability.
    pub fn actor_name(&self) -> Result<String> {
        Ok(self.actor_member()?.display_name)
    }

    /// The host's clock when the invocation started.
    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// A unique id of this invocation, stable when the host retries the same
    /// event: use it to de-duplicate.
    pub fn invocation_id(&self) -> &str {
        &self.invocation_id
    }

    /// The stable id of the event being delivered (`event:<n>`), when this
    /// invocation delivers an event from the host's outbox. Events are
    /// delivered at least once: the same event arrives again with the same id
    /// if the host crashed before the first delivery committed, so an app
    /// whose handler has effects outside its storage can de-duplicate on it.
    pub fn event_id(&self) -> Option<&str> {
        self.invocation_id
            .starts_with("event:")
            .then_some(self.invocation_id.as_str())
    }
}
