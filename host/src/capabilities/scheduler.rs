//! Implementation of the `qun:app/scheduler` interface.
//!
//! Timers are buffered and persisted when the invocation commits. A
//! recurring timer keeps its rule; the host arms each next occurrence when
//! it takes the due one (see `store::outbox::fire_due_timers`), so a
//! failing handler never ends the chain.

use super::generated::qun::app::scheduler::{Host, Recurrence};
use super::{Capability, Error, capability_call, internal, types};
use crate::runtime::{InvocationState, recurrence};

impl InvocationState {
    fn check_timer(&self, key: &str, payload: &str) -> Result<(), Error> {
        self.check_size("timer key", key.len(), self.limits.key_bytes)?;
        self.check_size(
            "timer payload",
            payload.len(),
            self.limits.timer_payload_bytes,
        )?;
        self.check_text("timer key", key)?;
        self.check_text("timer payload", payload)?;
        if key.is_empty() {
            return Err(Error::Invalid("a timer key must not be empty".into()));
        }
        Ok(())
    }

    pub(crate) async fn schedule_impl(
        &mut self,
        key: String,
        at: types::Timestamp,
        payload: String,
    ) -> Result<(), Error> {
        self.check_timer(&key, &payload)?;
        if at < 0 {
            return Err(Error::Invalid(
                "a timer must be due at a time after 1970".into(),
            ));
        }
        self.charge_effect(key.len() + payload.len())?;
        self.effects.timers.insert(key, Some((at, payload, None)));
        Ok(())
    }

    async fn schedule_recurring_impl(
        &mut self,
        key: String,
        rule: Recurrence,
        payload: String,
    ) -> Result<types::Timestamp, Error> {
        self.check_timer(&key, &payload)?;
        let rule = recurrence::from_wit(&rule).map_err(Error::Invalid)?;
        let first = recurrence::next(&rule, &self.time_zone, self.now)
            .ok_or_else(|| Error::Invalid("this schedule has no occurrence after now".into()))?;
        let json = recurrence::to_json(&rule);
        self.charge_effect(key.len() + payload.len() + json.len())?;
        self.effects
            .timers
            .insert(key, Some((first, payload, Some(json))));
        Ok(first)
    }

    pub(crate) async fn cancel_impl(&mut self, key: String) -> Result<bool, Error> {
        self.check_size("timer key", key.len(), self.limits.key_bytes)?;
        let existed = match self.effects.timers.get(&key) {
            Some(pending) => pending.is_some(),
            None => self
                .db
                .timer_exists(&self.ident.installation_id, &key)
                .await
                .map_err(internal)?,
        };
        self.charge_effect(key.len())?;
        self.effects.timers.insert(key, None);
        Ok(existed)
    }
}

impl Host for InvocationState {
    async fn schedule(
        &mut self,
        key: String,
        at: types::Timestamp,
        payload: String,
    ) -> Result<(), Error> {
        capability_call!(
            self,
            Capability::Scheduler,
            "scheduler.schedule",
            self.schedule_impl(key, at, payload)
        )
    }

    async fn schedule_recurring(
        &mut self,
        key: String,
        rule: Recurrence,
        payload: String,
    ) -> Result<types::Timestamp, Error> {
        capability_call!(
            self,
            Capability::Scheduler,
            "scheduler.schedule-recurring",
            self.schedule_recurring_impl(key, rule, payload)
        )
    }

    async fn cancel(&mut self, key: String) -> Result<bool, Error> {
        capability_call!(
            self,
            Capability::Scheduler,
            "scheduler.cancel",
            self.cancel_impl(key)
        )
    }
}
