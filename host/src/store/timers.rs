//! Timers scheduled by apps (the `scheduler` capability's rows).

use sqlx::Row;

use super::{Store, StoreError, WriteTx, now_ms};

/// A pending timer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Timer {
    /// The installation that scheduled it.
    pub installation_id: String,
    /// Its key (unique per installation).
    pub key: String,
    /// When it is due (ms).
    pub due_at: i64,
    /// Handed back to the app when it fires.
    pub payload: String,
    /// A recurring timer's rule (`qun_blocks::Recurrence` JSON); `None`:
    /// it fires once.
    pub rule: Option<String>,
}

/// A due timer with what re-arming it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueTimer {
    /// The timer.
    pub timer: Timer,
    /// Its group's time zone (recurrences follow the group's clock).
    pub time_zone: String,
}

fn timer_from_row(row: &sqlx::any::AnyRow) -> Result<Timer, StoreError> {
    Ok(Timer {
        installation_id: row.try_get("installation_id")?,
        key: row.try_get("key")?,
        due_at: row.try_get("due_at")?,
        payload: row.try_get("payload")?,
        rule: row.try_get("rule")?,
    })
}

impl Store {
    /// Pending timers of an installation, by key.
    pub async fn timers(&self, installation_id: &str) -> Result<Vec<Timer>, StoreError> {
        let rows = sqlx::query("SELECT installation_id, key, due_at, payload, rule FROM timers WHERE installation_id = $1 ORDER BY key")
            .bind(installation_id)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(timer_from_row).collect()
    }

    /// Timers due at or before `now` of enabled installations of apps that are
    /// not suspended, oldest first (the others wait, and fire once resumed).
    pub async fn due_timers(&self, now: i64, limit: u32) -> Result<Vec<DueTimer>, StoreError> {
        let rows = sqlx::query(
            "SELECT t.installation_id, t.key, t.due_at, t.payload, t.rule, g.time_zone FROM timers t \
             JOIN installations i ON i.id = t.installation_id \
             JOIN groups g ON g.id = i.group_id \
             JOIN apps a ON a.slug = i.app_slug \
             WHERE t.due_at <= $1 AND i.enabled = 1 AND a.suspended_at IS NULL ORDER BY t.due_at, t.key LIMIT CAST($2 AS BIGINT)",
        )
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(DueTimer {
                    timer: timer_from_row(row)?,
                    time_zone: row.try_get("time_zone")?,
                })
            })
            .collect()
    }
}

impl WriteTx {
    /// Schedule (or replace) a timer unless the installation already has
    /// `max` pending timers and this key is not one of them, in one
    /// statement. False: refused (nothing changed).
    pub async fn put_timer_within(&mut self, timer: &Timer, max: i64) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO timers (installation_id, key, due_at, payload, rule, created_at) \
             SELECT $1, $2, $3, $4, $5, $6 \
             WHERE EXISTS (SELECT 1 FROM timers WHERE installation_id = $1 AND key = $2) \
             OR (SELECT COUNT(*) FROM timers WHERE installation_id = $1) < $7 \
             ON CONFLICT (installation_id, key) DO UPDATE SET due_at = excluded.due_at, payload = excluded.payload, rule = excluded.rule",
        )
        .bind(&timer.installation_id)
        .bind(&timer.key)
        .bind(timer.due_at)
        .bind(&timer.payload)
        .bind(&timer.rule)
        .bind(now_ms())
        .bind(max)
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Cancel a timer.
    pub async fn delete_timer(
        &mut self,
        installation_id: &str,
        key: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM timers WHERE installation_id = $1 AND key = $2")
            .bind(installation_id)
            .bind(key)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// Whether a timer is pending.
    pub async fn timer_exists(
        &mut self,
        installation_id: &str,
        key: &str,
    ) -> Result<bool, StoreError> {
        let row =
            sqlx::query("SELECT COUNT(*) AS n FROM timers WHERE installation_id = $1 AND key = $2")
                .bind(installation_id)
                .bind(key)
                .fetch_one(&mut *self.tx)
                .await?;
        Ok(row.try_get::<i64, _>("n")? > 0)
    }
}

impl Store {
    /// Whether a timer is pending (outside a transaction).
    pub async fn timer_exists(&self, installation_id: &str, key: &str) -> Result<bool, StoreError> {
        let row =
            sqlx::query("SELECT COUNT(*) AS n FROM timers WHERE installation_id = $1 AND key = $2")
                .bind(installation_id)
                .bind(key)
                .fetch_one(self.pool())
                .await?;
        Ok(row.try_get::<i64, _>("n")? > 0)
    }
}
