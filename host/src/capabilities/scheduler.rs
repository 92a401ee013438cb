//! Implementation of the `qun:app/scheduler` interface.
//!
//! Timers are buffered and persisted when the invocation commits.

use super::generated::qun::app::scheduler::Host;
use super::{Capability, Error, capability_call, internal, types};
use crate::runtime::InvocationState;

impl InvocationState {
    async fn schedule_impl(
        &mut self,
        key: String,
        at: types::Timestamp,
        payload: String,
    ) -> Result<(), Error> {
        self.check_size("timer key", key.len(), self.limits.key_bytes)?;
        self.check_size(
            "timer payload",
            payload.len(),
            self.limits.timer_payload_bytes,
        )?;
        self.check_text("timer key", &key)?;
        self.check_text("timer payload", &payload)?;
        if key.is_empty() {
            return Err(Error::Invalid("a timer key must not be empty".into()));
        }
        if at < 0 {
            return Err(Error::Invalid(
                "a timer must be due at a time after 1970".into(),
            ));
        }
        self.charge_effect(key.len() + payload.len())?;
        self.effects.timers.insert(key, Some((at, payload)));
        Ok(())
    }

    async fn cancel_impl(&mut self, key: String) -> Result<bool, Error> {
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

    async fn cancel(&mut self, key: String) -> Result<bool, Error> {
        capability_call!(
            self,
            Capability::Scheduler,
            "scheduler.cancel",
            self.cancel_impl(key)
        )
    }
}
