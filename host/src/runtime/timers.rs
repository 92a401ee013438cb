//! Firing due timers: a timer becomes a `timer-fired` event for its
//! installation. (Durable delivery with retries and parking is the events
//! issue's; here a timer fires once and a failure is left in the app's log.)

use std::time::Duration;

use super::{Call, Invocation, Runtime};
use crate::capabilities::handler;
use crate::store::{StoreError, now_ms};

impl Runtime {
    /// Fire every timer due at `now`; returns how many fired.
    pub async fn fire_due_timers(&self, now: i64) -> Result<usize, StoreError> {
        let due = self.store().due_timers(now, 100).await?;
        let count = due.len();
        for timer in due {
            let invocation = Invocation {
                installation_id: timer.installation_id.clone(),
                actor: None,
                call: Call::Event(handler::Event::TimerFired(handler::Timer {
                    key: timer.key.clone(),
                    payload: timer.payload.clone(),
                    due: timer.due_at,
                })),
                invocation_id: Some(format!(
                    "timer:{}:{}:{}",
                    timer.installation_id, timer.key, timer.due_at
                )),
            };
            if let Err(e) = self.invoke(invocation).await {
                if matches!(e.code(), "disabled" | "suspended") {
                    // Not now: it fires once the app runs again.
                    continue;
                }
                tracing::warn!(installation = %timer.installation_id, key = %timer.key, "timer handler failed: {e}");
            }
            self.store().delete_fired_timer(&timer).await?;
        }
        Ok(count)
    }

    /// Check for due timers every `every` until the runtime is dropped.
    pub fn spawn_timer_loop(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        let weak = std::sync::Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let Some(inner) = weak.upgrade() else { break };
                let runtime = Runtime { inner };
                if let Err(e) = runtime.fire_due_timers(now_ms()).await {
                    tracing::error!("firing timers failed: {e}");
                }
            }
        })
    }
}
