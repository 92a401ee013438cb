//! The delivery loop: due timers move into the outbox, and the head event of
//! each installation is delivered as an `on-event` invocation — in order per
//! installation, at least once, retried with exponential backoff and parked
//! after `max_attempts` failed attempts (with an `error` line in the app's log).
//!
//! A successful delivery is marked in the transaction that commits the
//! invocation's effects, so a crash never applies one event's effects twice;
//! a crash before that commit leaves the event pending and it is delivered
//! again once its lease runs out. The app sees the event's stable id
//! (`event:<id>`) as its context's `invocation-id`.

use std::time::Duration;

use super::{Call, Invocation, InvokeError, Runtime};
use crate::capabilities::{handler, types};
use crate::store::{EventBody, Failure, OutboxEvent, PaymentView, StoreError, new_id, now_ms};

/// Knobs of event delivery.
#[derive(Debug, Clone)]
pub struct DeliveryConfig {
    /// How often the loop looks for due timers and deliverable events.
    pub poll: Duration,
    /// Failed attempts after which an event is parked.
    pub max_attempts: i64,
    /// Wait before the first retry; doubles with each failed attempt.
    pub backoff_base: Duration,
    /// Longest wait between retries.
    pub backoff_max: Duration,
    /// How long a host's claim on an installation's head event lasts; the
    /// host renews it every third of that while the delivery runs, so it can
    /// be short: another host (or this one after a restart) takes over an
    /// event of a dead host within about this time, and says so (the
    /// takeover counts as an attempt and is logged).
    pub lease: Duration,
    /// Events delivered at once (each from a different installation).
    pub batch: u32,
    /// How soon an event of a disabled or suspended app is looked at again.
    pub not_now_retry: Duration,
    /// How long delivered events are kept (parked ones are kept).
    pub retention: Duration,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        DeliveryConfig {
            poll: Duration::from_millis(200),
            max_attempts: 8,
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(300),
            lease: Duration::from_secs(10),
            batch: 32,
            not_now_retry: Duration::from_secs(1),
            retention: Duration::from_secs(7 * 86_400),
        }
    }
}

impl DeliveryConfig {
    /// Wait before retrying after `attempts` failed attempts (ms).
    pub fn backoff_ms(&self, attempts: i64) -> i64 {
        let base = self.backoff_base.as_millis() as i64;
        let max = self.backoff_max.as_millis() as i64;
        let shift = (attempts - 1).clamp(0, 30) as u32;
        base.saturating_mul(1_i64 << shift).min(max).max(1)
    }
}

/// What one pass of the loop did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    /// Timers that came due and were queued.
    pub timers: usize,
    /// Events delivered.
    pub delivered: usize,
    /// Events whose attempt failed and will be retried.
    pub retried: usize,
    /// Events parked.
    pub parked: usize,
    /// Events left for later (app disabled or suspended).
    pub deferred: usize,
}

/// The running delivery loop.
pub struct DeliveryLoop {
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl DeliveryLoop {
    /// Stop after the pass under way (its invocations finish and commit, so
    /// no claim is left to run out), waiting at most `grace`; then abort.
    pub async fn stop(self, grace: Duration) {
        let _ = self.stop.send(true);
        let mut task = self.task;
        if tokio::time::timeout(grace, &mut task).await.is_err() {
            task.abort();
        }
    }
}

enum Delivered {
    Ok,
    Retry,
    Parked,
    Deferred,
    Other,
}

impl Runtime {
    /// One pass: queue the timers due at `now`, then deliver every event
    /// deliverable at `now` (head events, repeatedly, until none is left),
    /// claiming them as `holder`.
    pub async fn deliver_due(
        &self,
        config: &DeliveryConfig,
        holder: &str,
        now: i64,
    ) -> Result<DeliveryReport, StoreError> {
        let mut report = DeliveryReport {
            timers: self
                .store()
                .fire_due_timers(now, 1_000, super::recurrence::next_stored)
                .await?,
            ..DeliveryReport::default()
        };
        let lease = config.lease.as_millis() as i64;
        // Events queued just now (the timers above) are deliverable in this
        // pass; events deferred or failed in it are not (their next attempt
        // is always later than this), so a pass ends.
        let now = now.max(now_ms());
        loop {
            let events = self
                .store()
                .claim_events(holder, now, lease, config.batch.max(1))
                .await?;
            if events.is_empty() {
                break;
            }
            let mut tasks = tokio::task::JoinSet::new();
            for event in events {
                let runtime = self.clone();
                let config = config.clone();
                let holder = holder.to_string();
                tasks.spawn(async move { runtime.deliver(&config, &holder, event, now).await });
            }
            while let Some(done) = tasks.join_next().await {
                match done {
                    Ok(Ok(Delivered::Ok)) => report.delivered += 1,
                    Ok(Ok(Delivered::Retry)) => report.retried += 1,
                    Ok(Ok(Delivered::Parked)) => report.parked += 1,
                    Ok(Ok(Delivered::Deferred)) => report.deferred += 1,
                    Ok(Ok(Delivered::Other)) => {}
                    Ok(Err(e)) => tracing::error!("event delivery failed: {e}"),
                    Err(e) => tracing::error!("event delivery task failed: {e}"),
                }
            }
        }
        Ok(report)
    }

    /// Deliver one claimed event and record the outcome.
    async fn deliver(
        &self,
        config: &DeliveryConfig,
        holder: &str,
        event: OutboxEvent,
        now: i64,
    ) -> Result<Delivered, StoreError> {
        let invocation = Invocation {
            installation_id: event.installation_id.clone(),
            actor: None,
            call: Call::Event(to_wit(&event.body)),
            invocation_id: Some(event.stable_id()),
        };
        let db = self.store();
        let result = self
            .renewing(
                config,
                holder,
                event.id,
                self.invoke_delivering(invocation, Some(event.id)),
            )
            .await;
        match result {
            Ok(_) => Ok(Delivered::Ok),
            // "Not now": keep it pending without counting an attempt.
            // (A crowded installation or a full host is "not now" too.)
            Err(e) if matches!(e.code(), "disabled" | "suspended" | "busy" | "host_busy") => {
                // After this pass's `now`, so the same pass never takes it again.
                let retry_at = now.max(now_ms()) + (config.not_now_retry.as_millis() as i64).max(1);
                db.release_event(event.id, holder, retry_at).await?;
                Ok(Delivered::Deferred)
            }
            Err(InvokeError::NoInstallation(_)) => {
                db.drop_event(event.id).await?;
                Ok(Delivered::Other)
            }
            Err(e) => {
                let outcome = db
                    .fail_event(
                        event.id,
                        holder,
                        &format!("{} ({})", e, e.code()),
                        config.max_attempts,
                        |attempts| config.backoff_ms(attempts),
                    )
                    .await?;
                Ok(match outcome {
                    Failure::Retry(_) => Delivered::Retry,
                    Failure::Parked(attempts) => {
                        tracing::warn!(event = event.id, installation = %event.installation_id,
                            "event parked after {attempts} attempts: {e}");
                        Delivered::Parked
                    }
                    Failure::Lost => Delivered::Other,
                })
            }
        }
    }

    /// Run `work` while renewing `holder`'s claim on event `id` every third
    /// of the lease, so a short lease never runs out under a live host.
    async fn renewing<T>(
        &self,
        config: &DeliveryConfig,
        holder: &str,
        id: i64,
        work: impl std::future::Future<Output = T>,
    ) -> T {
        let lease = config.lease.max(Duration::from_millis(30));
        let mut renew = tokio::time::interval(lease / 3);
        renew.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        renew.tick().await;
        tokio::pin!(work);
        loop {
            tokio::select! {
                // The work first: a finished delivery is never mistaken for a lost claim.
                biased;
                done = &mut work => return done,
                _ = renew.tick() => {
                    let until = now_ms() + lease.as_millis() as i64;
                    match self.store().renew_claim(id, holder, until).await {
                        Ok(true) => {}
                        Ok(false) => tracing::warn!(event = id, "the claim on this event was lost while delivering it"),
                        Err(e) => tracing::error!(event = id, "could not renew the claim on an event: {e}"),
                    }
                }
            }
        }
    }

    /// Run the delivery loop until [`DeliveryLoop::stop`] (or the runtime is dropped).
    pub fn spawn_delivery_loop(&self, config: DeliveryConfig) -> DeliveryLoop {
        let weak = std::sync::Arc::downgrade(&self.inner);
        let holder = new_id("host");
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(async move {
            let mut purged_at = 0_i64;
            loop {
                if *stopped.borrow() {
                    break;
                }
                let Some(inner) = weak.upgrade() else { break };
                let runtime = Runtime { inner };
                if let Err(e) = runtime.deliver_due(&config, &holder, now_ms()).await {
                    tracing::error!("event delivery pass failed: {e}");
                }
                // Once a minute, forget delivered events past the retention.
                let now = now_ms();
                if now - purged_at >= 60_000 {
                    purged_at = now;
                    let before = now - config.retention.as_millis() as i64;
                    if let Err(e) = runtime.store().purge_delivered(before).await {
                        tracing::error!("purging delivered events failed: {e}");
                    }
                    // Replay records past their retention (issue 16).
                    let kept = runtime.limits().replay_retention.as_millis() as i64;
                    if let Err(e) = runtime.store().purge_replays(now - kept).await {
                        tracing::error!("purging replay records failed: {e}");
                    }
                }
                drop(runtime);
                tokio::select! {
                    _ = tokio::time::sleep(config.poll) => {}
                    _ = stopped.changed() => {}
                }
            }
        });
        DeliveryLoop { stop, task }
    }

    /// Tell an app it is being uninstalled, before its installation is
    /// removed (an uninstalled app has nowhere to receive an event later).
    /// A failure is left in the app's log; the removal goes ahead.
    pub async fn notify_uninstalled(&self, installation_id: &str) {
        let invocation = Invocation {
            installation_id: installation_id.to_string(),
            actor: None,
            call: Call::Event(handler::Event::Uninstalled),
            invocation_id: Some(format!("uninstall:{installation_id}")),
        };
        if let Err(e) = self.invoke(invocation).await {
            tracing::info!(installation = %installation_id, "uninstalled event not handled: {e}");
        }
    }
}

/// The WIT event for an outbox body.
pub fn to_wit(body: &EventBody) -> handler::Event {
    match body {
        EventBody::Installed => handler::Event::Installed,
        EventBody::Uninstalled => handler::Event::Uninstalled,
        EventBody::MemberJoined { member } => handler::Event::MemberJoined(member.clone()),
        EventBody::MemberLeft { member } => handler::Event::MemberLeft(member.clone()),
        EventBody::MessagePosted {
            id,
            author,
            text,
            files,
        } => handler::Event::MessagePosted(handler::PostedMessage {
            id: id.clone(),
            author: author.clone(),
            text: text.clone(),
            files: files.clone(),
        }),
        EventBody::PaymentSettled { payment } => {
            handler::Event::PaymentSettled(payment_wit(payment))
        }
        EventBody::PaymentFailed { payment, reason } => {
            handler::Event::PaymentFailed(handler::PaymentFailure {
                payment: payment_wit(payment),
                reason: reason.clone(),
            })
        }
        EventBody::TimerFired {
            key,
            payload,
            due,
            recurring,
        } => handler::Event::TimerFired(handler::Timer {
            key: key.clone(),
            payload: payload.clone(),
            due: *due,
            recurring: *recurring,
        }),
    }
}

fn payment_wit(p: &PaymentView) -> types::Payment {
    types::Payment {
        id: p.id.clone(),
        payer: p.payer.clone(),
        amount: p.amount,
        currency: p.currency.clone(),
        memo: p.memo.clone(),
        status: match p.status.as_str() {
            "settled" => types::PaymentStatus::Settled,
            "declined" => types::PaymentStatus::Declined,
            "expired" => types::PaymentStatus::Expired,
            _ => types::PaymentStatus::Pending,
        },
        refunded: p.refunded,
        created_at: p.created_at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payment_events_carry_the_payment() {
        let payment = PaymentView {
            id: "p_1".into(),
            payer: "u_1".into(),
            amount: 1250,
            currency: "EUR".into(),
            memo: "tickets".into(),
            status: "declined".into(),
            refunded: 0,
            created_at: 7,
        };
        let event = to_wit(&EventBody::PaymentFailed {
            payment: payment.clone(),
            reason: "declined".into(),
        });
        let handler::Event::PaymentFailed(failure) = event else {
            panic!("not a payment-failed event");
        };
        assert_eq!(failure.reason, "declined");
        assert_eq!(
            (
                failure.payment.id.as_str(),
                failure.payment.amount,
                failure.payment.created_at
            ),
            ("p_1", 1250, 7)
        );
        assert!(matches!(
            failure.payment.status,
            types::PaymentStatus::Declined
        ));
        let settled = to_wit(&EventBody::PaymentSettled {
            payment: PaymentView {
                status: "settled".into(),
                ..payment
            },
        });
        assert!(matches!(
            settled,
            handler::Event::PaymentSettled(types::Payment {
                status: types::PaymentStatus::Settled,
                ..
            })
        ));
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let config = DeliveryConfig {
            backoff_base: Duration::from_millis(500),
            backoff_max: Duration::from_secs(3),
            ..DeliveryConfig::default()
        };
        let waits: Vec<i64> = (1..=6).map(|a| config.backoff_ms(a)).collect();
        assert_eq!(waits, [500, 1_000, 2_000, 3_000, 3_000, 3_000]);
    }
}
