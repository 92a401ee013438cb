//! The durable event outbox. An event is written in the same transaction as
//! the change that caused it and delivered later by the delivery loop
//! (`runtime::delivery`): in id order per installation, at least once,
//! retried with backoff and parked after too many failed attempts.
//!
//! Only the head (lowest id) pending event of an installation is ever
//! claimed, and a claim is a lease held by one host, so two hosts sharing a
//! database never deliver one installation's events concurrently or out of
//! order. A successful delivery is marked in the same transaction that
//! commits the invocation's effects ([`WriteTx::mark_delivered`]).

use sqlx::Row;

use super::timers::DueTimer;
use super::{Store, StoreError, Timer, WriteTx, now_ms};

/// A payment as events carry it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PaymentView {
    /// The payment's id.
    pub id: String,
    /// Who pays.
    pub payer: String,
    /// Amount in minor units.
    pub amount: u64,
    /// ISO 4217 currency.
    pub currency: String,
    /// The memo.
    pub memo: String,
    /// pending|settled|declined|expired
    pub status: String,
    /// Refunded so far, minor units.
    pub refunded: u64,
    /// When it was requested (ms).
    pub created_at: i64,
}

/// What happened, as queued for one installation.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum EventBody {
    /// The app was installed.
    Installed,
    /// The app is being removed.
    Uninstalled,
    /// A member joined.
    MemberJoined {
        /// The member.
        member: String,
    },
    /// A member left.
    MemberLeft {
        /// The member.
        member: String,
    },
    /// A message was posted (subscribers only, never to its poster).
    MessagePosted {
        /// Message id.
        id: String,
        /// The member who posted it, or the installation id of the app that did.
        author: String,
        /// Its text ("" for a card without text).
        text: String,
        /// The files a member attached to it.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        files: Vec<String>,
    },
    /// A payment settled.
    PaymentSettled {
        /// The payment.
        payment: PaymentView,
    },
    /// A payment failed.
    PaymentFailed {
        /// The payment.
        payment: PaymentView,
        /// Why.
        reason: String,
    },
    /// A timer came due.
    TimerFired {
        /// Its key.
        key: String,
        /// Its payload.
        payload: String,
        /// When it was due (ms).
        due: i64,
        /// It fires again (a recurring timer).
        #[serde(default)]
        recurring: bool,
    },
}

impl EventBody {
    /// The event's kind as the WIT names it, e.g. `member-joined`.
    pub fn kind(&self) -> &'static str {
        match self {
            EventBody::Installed => "installed",
            EventBody::Uninstalled => "uninstalled",
            EventBody::MemberJoined { .. } => "member-joined",
            EventBody::MemberLeft { .. } => "member-left",
            EventBody::MessagePosted { .. } => "message-posted",
            EventBody::PaymentSettled { .. } => "payment-settled",
            EventBody::PaymentFailed { .. } => "payment-failed",
            EventBody::TimerFired { .. } => "timer-fired",
        }
    }
}

/// One row of the outbox.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct OutboxEvent {
    /// Monotonic id; the app sees `event:<id>` as its invocation id.
    pub id: i64,
    /// Who receives it.
    pub installation_id: String,
    /// The group where it happened.
    pub group_id: String,
    /// What happened.
    pub body: EventBody,
    /// When it was queued (ms).
    pub created_at: i64,
    /// Failed delivery attempts so far.
    pub attempts: i64,
    /// Not delivered before this time (ms).
    pub next_attempt_at: i64,
    /// pending, delivered or parked.
    pub status: String,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When it was delivered (ms).
    pub delivered_at: Option<i64>,
}

impl OutboxEvent {
    /// The stable id the app sees (`event:<id>`).
    pub fn stable_id(&self) -> String {
        event_id(self.id)
    }
}

/// The stable id of outbox row `id`, as the app sees it.
pub fn event_id(id: i64) -> String {
    format!("event:{id}")
}

const COLUMNS: &str = "id, installation_id, group_id, body, created_at, attempts, next_attempt_at, status, last_error, delivered_at";

fn event_from_row(row: &sqlx::any::AnyRow) -> Result<OutboxEvent, StoreError> {
    let body: String = row.try_get("body")?;
    Ok(OutboxEvent {
        id: row.try_get("id")?,
        installation_id: row.try_get("installation_id")?,
        group_id: row.try_get("group_id")?,
        body: serde_json::from_str(&body)
            .map_err(|e| StoreError::Corrupt(format!("outbox body: {e}")))?,
        created_at: row.try_get("created_at")?,
        attempts: row.try_get("attempts")?,
        next_attempt_at: row.try_get("next_attempt_at")?,
        status: row.try_get("status")?,
        last_error: row.try_get("last_error")?,
        delivered_at: row.try_get("delivered_at")?,
    })
}

/// The installations (`i`) whose version subscribes to `message-posted`:
/// the rows a message's fan-out selects from (add the group and the poster).
pub(super) const MESSAGE_SUBSCRIBERS: &str = "installations i \
     JOIN version_subscriptions s ON s.app_slug = i.app_slug AND s.version = i.version \
     AND s.subscription = 'message-posted'";

pub(super) fn encode(body: &EventBody) -> Result<String, StoreError> {
    serde_json::to_string(body).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// What happened to a failed delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// It will be tried again at this time (ms).
    Retry(i64),
    /// It was parked after this many attempts.
    Parked(i64),
    /// The claim was lost (another host took over, or it was delivered).
    Lost,
}

impl WriteTx {
    /// Queue `body` for `installation_id` inside this transaction (durable with the change
    /// that caused it); returns the event's stable id.
    pub async fn enqueue_event(
        &mut self,
        installation_id: &str,
        body: &EventBody,
    ) -> Result<String, StoreError> {
        let now = now_ms();
        let row = sqlx::query(
            "INSERT INTO outbox (installation_id, group_id, body, created_at, attempts, next_attempt_at, status) \
             SELECT id, group_id, $2, $3, 0, $3, 'pending' FROM installations WHERE id = $1 RETURNING id",
        )
        .bind(installation_id)
        .bind(encode(body)?)
        .bind(now)
        .fetch_optional(&mut *self.tx)
        .await?;
        match row {
            Some(row) => Ok(event_id(row.try_get("id")?)),
            None => Err(StoreError::Corrupt(format!(
                "cannot queue an event for installation {installation_id}: it does not exist"
            ))),
        }
    }

    /// Queue `body` for every installation of a group (enabled or not: a
    /// disabled one gets it once it is enabled again).
    pub async fn enqueue_group_event(
        &mut self,
        group_id: &str,
        body: &EventBody,
    ) -> Result<(), StoreError> {
        let now = now_ms();
        sqlx::query(
            "INSERT INTO outbox (installation_id, group_id, body, created_at, attempts, next_attempt_at, status) \
             SELECT id, group_id, $2, $3, 0, $3, 'pending' FROM installations WHERE group_id = $1 ORDER BY id",
        )
        .bind(group_id)
        .bind(encode(body)?)
        .bind(now)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Queue `message-posted` for the installations of the group whose
    /// version subscribes to it, except `poster` (the installation that
    /// posted it, if an app did): one indexed `INSERT ... SELECT` over the
    /// typed subscriptions, never a manifest parsed inside the transaction.
    pub async fn enqueue_message_posted(
        &mut self,
        group_id: &str,
        poster: Option<&str>,
        body: &EventBody,
    ) -> Result<(), StoreError> {
        let now = now_ms();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO outbox (installation_id, group_id, body, created_at, attempts, next_attempt_at, status) \
             SELECT i.id, i.group_id, $2, $3, 0, $3, 'pending' FROM {MESSAGE_SUBSCRIBERS} \
             WHERE i.group_id = $1 AND i.id <> $4 ORDER BY i.id"
        )))
        .bind(group_id)
        .bind(encode(body)?)
        .bind(now)
        .bind(poster.unwrap_or(""))
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Mark a claimed event delivered, in the transaction that commits the
    /// invocation's effects. False when it is no longer pending (delivered
    /// or parked meanwhile): the caller must then not commit.
    pub async fn mark_delivered(&mut self, id: i64) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE outbox SET status = 'delivered', delivered_at = $2, claimed_by = NULL, claimed_until = NULL \
             WHERE id = $1 AND status = 'pending'",
        )
        .bind(id)
        .bind(now_ms())
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Drop every event queued for an installation (it is being removed).
    pub async fn delete_events_of(&mut self, installation_id: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM outbox WHERE installation_id = $1")
            .bind(installation_id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }
}

impl Store {
    /// Claim up to `limit` deliverable head events for host `holder` until
    /// `now + lease_ms`: the oldest pending event of each installation whose
    /// retry time has come and that no live lease holds.
    pub async fn claim_events(
        &self,
        holder: &str,
        now: i64,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Vec<OutboxEvent>, StoreError> {
        // Most polls find nothing: answer those with a read, without taking
        // the writer (SQLite) or the claim lock (PostgreSQL).
        let any = sqlx::query(
            "SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= $1 \
             AND (claimed_until IS NULL OR claimed_until < $1) LIMIT 1",
        )
        .bind(now)
        .fetch_optional(self.pool())
        .await?;
        if any.is_none() {
            return Ok(Vec::new());
        }
        let mut tx = self.begin_write().await?;
        tx.lock("outbox:claim").await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS}, o.claimed_by AS previous_holder FROM outbox o WHERE o.status = 'pending' \
             AND o.id = (SELECT MIN(p.id) FROM outbox p WHERE p.status = 'pending' AND p.installation_id = o.installation_id) \
             AND o.next_attempt_at <= $1 AND (o.claimed_until IS NULL OR o.claimed_until < $1) \
             ORDER BY o.id LIMIT CAST($2 AS BIGINT)"
        )))
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&mut *tx.tx)
        .await?;
        let mut events = Vec::with_capacity(rows.len());
        for row in &rows {
            let mut event = event_from_row(row)?;
            // A claim still set but run out: its host died (or stopped
            // renewing) mid-delivery. That attempt counts, and says so.
            let previous: Option<String> = row.try_get("previous_holder")?;
            let takeover = previous.map(|dead| {
                event.attempts += 1;
                let why = format!(
                    "host {dead} claimed this event and stopped renewing its claim (it died?); taken over by {holder}"
                );
                tracing::warn!(event = event.id, installation = %event.installation_id,
                    attempts = event.attempts, "event taken over: {why}");
                why
            });
            sqlx::query(
                "UPDATE outbox SET claimed_by = $1, claimed_until = $2, \
                 attempts = attempts + $4, last_error = COALESCE($5, last_error) WHERE id = $3",
            )
            .bind(holder)
            .bind(now + lease_ms)
            .bind(event.id)
            .bind(i64::from(takeover.is_some()))
            .bind(&takeover)
            .execute(&mut *tx.tx)
            .await?;
            if takeover.is_some() {
                event.last_error = takeover;
            }
            events.push(event);
        }
        tx.commit().await?;
        Ok(events)
    }

    /// Extend `holder`'s claim on event `id` to `until` (ms), while its
    /// delivery is under way. False when the claim was lost.
    pub async fn renew_claim(&self, id: i64, holder: &str, until: i64) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let renewed = sqlx::query(
            "UPDATE outbox SET claimed_until = $3 WHERE id = $1 AND claimed_by = $2 AND status = 'pending'",
        )
        .bind(id)
        .bind(holder)
        .bind(until)
        .execute(&mut *tx.tx)
        .await?;
        tx.commit().await?;
        Ok(renewed.rows_affected() > 0)
    }

    /// Give a claimed event back without counting an attempt (the app is
    /// disabled or suspended: "not now"); it is looked at again at `retry_at`.
    pub async fn release_event(
        &self,
        id: i64,
        holder: &str,
        retry_at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE outbox SET claimed_by = NULL, claimed_until = NULL, next_attempt_at = $3 \
             WHERE id = $1 AND claimed_by = $2 AND status = 'pending'",
        )
        .bind(id)
        .bind(holder)
        .bind(retry_at)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Count a failed attempt of a claimed event: retry it at
    /// `now + backoff(attempts)`, or park it once `max_attempts` were made.
    /// A parked event gets an `error` line in its app's log, written in the
    /// same transaction.
    pub async fn fail_event(
        &self,
        id: i64,
        holder: &str,
        error: &str,
        max_attempts: i64,
        backoff: impl Fn(i64) -> i64,
    ) -> Result<Failure, StoreError> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "SELECT o.attempts, o.installation_id, o.body, i.app_slug, i.version FROM outbox o \
             LEFT JOIN installations i ON i.id = o.installation_id \
             WHERE o.id = $1 AND o.claimed_by = $2 AND o.status = 'pending'",
        )
        .bind(id)
        .bind(holder)
        .fetch_optional(&mut *tx.tx)
        .await?;
        let Some(row) = row else {
            return Ok(Failure::Lost);
        };
        let attempts = row.try_get::<i64, _>("attempts")? + 1;
        let mut message = error.to_string();
        message.truncate(2_000);
        let now = now_ms();
        let outcome = if attempts >= max_attempts.max(1) {
            sqlx::query(
                "UPDATE outbox SET attempts = $2, status = 'parked', last_error = $3, claimed_by = NULL, claimed_until = NULL \
                 WHERE id = $1",
            )
            .bind(id)
            .bind(attempts)
            .bind(&message)
            .execute(&mut *tx.tx)
            .await?;
            let body: String = row.try_get("body")?;
            let kind = serde_json::from_str::<EventBody>(&body)
                .map(|b| b.kind())
                .unwrap_or("unknown");
            let slug: Option<String> = row.try_get("app_slug")?;
            let version: Option<String> = row.try_get("version")?;
            if let (Some(slug), Some(version)) = (slug, version) {
                tx.insert_logs(&[super::LogLine {
                    at: now,
                    installation_id: Some(row.try_get("installation_id")?),
                    app_slug: slug,
                    app_version: version,
                    level: "error".into(),
                    message: format!(
                        "event {} ({kind}) parked after {attempts} failed attempts: {message}",
                        event_id(id)
                    ),
                    fields: vec![
                        ("event".into(), event_id(id)),
                        ("kind".into(), kind.into()),
                        ("attempts".into(), attempts.to_string()),
                    ],
                }])
                .await?;
            }
            Failure::Parked(attempts)
        } else {
            let at = now + backoff(attempts);
            sqlx::query(
                "UPDATE outbox SET attempts = $2, next_attempt_at = $3, last_error = $4, claimed_by = NULL, claimed_until = NULL \
                 WHERE id = $1",
            )
            .bind(id)
            .bind(attempts)
            .bind(at)
            .bind(&message)
            .execute(&mut *tx.tx)
            .await?;
            Failure::Retry(at)
        };
        tx.commit().await?;
        Ok(outcome)
    }

    /// Drop a claimed event whose installation no longer exists.
    pub async fn drop_event(&self, id: i64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM outbox WHERE id = $1 AND status = 'pending' AND NOT EXISTS (SELECT 1 FROM installations i WHERE i.id = outbox.installation_id)")
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Move due timers of enabled installations into the outbox: each timer
    /// row is deleted and its `timer-fired` event queued in one transaction.
    /// Returns how many moved.
    ///
    /// A recurring timer is re-armed in the same transaction at the
    /// occurrence `next(rule, group time zone, due)` gives (`None`: the rule
    /// has no later occurrence, and the timer ends), so it keeps firing
    /// whatever its handler then does.
    pub async fn fire_due_timers(
        &self,
        now: i64,
        limit: u32,
        next: impl Fn(&str, &str, i64) -> Option<i64>,
    ) -> Result<usize, StoreError> {
        let due = self.due_timers(now, limit).await?;
        if due.is_empty() {
            return Ok(0);
        }
        let mut tx = self.begin_write().await?;
        let mut moved = 0;
        for DueTimer { timer, time_zone } in &due {
            // Never re-armed at or before `now`: a rule stuck in the past
            // would fire on every pass.
            let rearm = timer.rule.as_deref().map(|rule| {
                next(rule, time_zone, timer.due_at.max(now)).filter(|at| *at > timer.due_at)
            });
            let taken = match rearm {
                Some(Some(at)) => tx.rearm_timer(timer, at).await?,
                _ => tx.take_timer(timer).await?,
            };
            if taken {
                tx.enqueue_event(
                    &timer.installation_id,
                    &EventBody::TimerFired {
                        key: timer.key.clone(),
                        payload: timer.payload.clone(),
                        due: timer.due_at,
                        recurring: timer.rule.is_some(),
                    },
                )
                .await?;
                moved += 1;
            }
        }
        tx.commit().await?;
        Ok(moved)
    }

    /// Delete delivered events older than `before` (ms); returns how many.
    /// Parked and pending events are kept.
    pub async fn purge_delivered(&self, before: i64) -> Result<u64, StoreError> {
        let done =
            sqlx::query("DELETE FROM outbox WHERE status = 'delivered' AND delivered_at < $1")
                .bind(before)
                .execute(self.pool())
                .await?;
        Ok(done.rows_affected())
    }

    /// Outbox rows of an installation, oldest first.
    pub async fn events_of_installation(
        &self,
        installation_id: &str,
    ) -> Result<Vec<OutboxEvent>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM outbox WHERE installation_id = $1 ORDER BY id"
        )))
        .bind(installation_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(event_from_row).collect()
    }

    /// Outbox rows of every installation of an app, newest first, optionally
    /// only those with `status`.
    pub async fn events_of_app(
        &self,
        app_slug: &str,
        status: Option<&str>,
        limit: u32,
    ) -> Result<Vec<OutboxEvent>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM outbox WHERE installation_id IN \
             (SELECT id FROM installations WHERE app_slug = $1) AND ($2 = '' OR status = $2) \
             ORDER BY id DESC LIMIT CAST($3 AS BIGINT)"
        )))
        .bind(app_slug)
        .bind(status.unwrap_or(""))
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(event_from_row).collect()
    }
}

impl WriteTx {
    /// Move a due recurring timer to its next occurrence `at` if it is still
    /// the one that came due; true if it was.
    pub async fn rearm_timer(&mut self, timer: &Timer, at: i64) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE timers SET due_at = $1 WHERE installation_id = $2 AND key = $3 AND due_at = $4 AND payload = $5",
        )
        .bind(at)
        .bind(&timer.installation_id)
        .bind(&timer.key)
        .bind(timer.due_at)
        .bind(&timer.payload)
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Delete a due timer if it is still the one that came due (same due time
    /// and payload); true if it was.
    pub async fn take_timer(&mut self, timer: &Timer) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "DELETE FROM timers WHERE installation_id = $1 AND key = $2 AND due_at = $3 AND payload = $4",
        )
        .bind(&timer.installation_id)
        .bind(&timer.key)
        .bind(timer.due_at)
        .bind(&timer.payload)
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() > 0)
    }
}

impl Store {
    /// Add `user_id` to a group with `role` (or change a member's role); a
    /// new member's `member-joined` is queued for the group's installations
    /// in the same transaction. True if they joined.
    pub async fn join_member(
        &self,
        group_id: &str,
        user_id: &str,
        role: super::Role,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        tx.lock(&format!("members:{group_id}")).await?;
        let existing =
            sqlx::query("SELECT COUNT(*) AS n FROM members WHERE group_id = $1 AND user_id = $2")
                .bind(group_id)
                .bind(user_id)
                .fetch_one(&mut *tx.tx)
                .await?
                .try_get::<i64, _>("n")?;
        sqlx::query(
            "INSERT INTO members (group_id, user_id, role, joined_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (group_id, user_id) DO UPDATE SET role = excluded.role",
        )
        .bind(group_id)
        .bind(user_id)
        .bind(role.as_str())
        .bind(now_ms())
        .execute(&mut *tx.tx)
        .await?;
        tx.invalidate_cache().await?;
        let joined = existing == 0;
        if joined {
            tx.enqueue_group_event(
                group_id,
                &EventBody::MemberJoined {
                    member: user_id.to_string(),
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(joined)
    }

    /// Remove a member (never the owner), queueing `member-left` for the
    /// group's installations in the same transaction; true if they were one.
    pub async fn leave_member(&self, group_id: &str, user_id: &str) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        tx.lock(&format!("members:{group_id}")).await?;
        let done = sqlx::query(
            "DELETE FROM members WHERE group_id = $1 AND user_id = $2 AND role <> 'owner'",
        )
        .bind(group_id)
        .bind(user_id)
        .execute(&mut *tx.tx)
        .await?;
        let left = done.rows_affected() > 0;
        if left {
            tx.invalidate_cache().await?;
            tx.enqueue_group_event(
                group_id,
                &EventBody::MemberLeft {
                    member: user_id.to_string(),
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(left)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_round_trip_as_tagged_json() {
        let body = EventBody::MemberJoined {
            member: "u_1".into(),
        };
        let json = serde_json::to_string(&body).expect("encode");
        assert_eq!(json, r#"{"kind":"member-joined","member":"u_1"}"#);
        assert_eq!(
            serde_json::from_str::<EventBody>(&json).expect("decode"),
            body
        );
        assert_eq!(
            serde_json::to_string(&EventBody::Installed).expect("encode"),
            r#"{"kind":"installed"}"#
        );
    }
}
