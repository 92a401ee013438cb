//! Installations: one app (at one version) in one group, with its grants.

use sqlx::Row;

use super::{AuditRecord, LogLine, Store, StoreError, flag, new_id, now_ms};

/// An app installed in a group.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Installation {
    /// The installation's id.
    pub id: String,
    /// The group.
    pub group_id: String,
    /// The app.
    pub app_slug: String,
    /// The version that runs.
    pub version: String,
    /// Capabilities the group owner granted.
    pub grants: Vec<String>,
    /// Whether it runs at all.
    pub enabled: bool,
    /// Bytes of storage in use (keys + values).
    pub storage_bytes: i64,
    /// Number of storage keys in use.
    pub storage_keys: i64,
    /// A newer version the owner asked for that waits for their consent to
    /// capabilities not yet granted.
    pub pending_version: Option<String>,
    /// Why it is disabled (when it is).
    pub disabled_reason: Option<String>,
    /// Who disabled it: `health` (automatically) or a user id.
    pub disabled_by: Option<String>,
    /// When a platform admin suspended its app everywhere: the reason.
    pub app_suspended: Option<String>,
    /// Its group's time zone (handed to the app in every context).
    #[serde(skip)]
    pub time_zone: String,
    /// Its group's language.
    #[serde(skip)]
    pub locale: String,
}

/// The installation's columns, and its app's suspension read in the same query
/// (every invocation needs both).
const COLUMNS: &str = "i.id, i.group_id, i.app_slug, i.version, i.grants, i.enabled, i.storage_bytes, \
                       i.storage_keys, i.pending_version, i.disabled_reason, i.disabled_by, \
                       CASE WHEN a.suspended_at IS NULL THEN NULL ELSE COALESCE(a.suspend_reason, '') END \
                       AS app_suspended, COALESCE(g.time_zone, 'UTC') AS time_zone, \
                       COALESCE(g.locale, 'en') AS locale";
/// The tables [`COLUMNS`] reads.
const FROM: &str = "installations i LEFT JOIN apps a ON a.slug = i.app_slug \
                    LEFT JOIN groups g ON g.id = i.group_id";

/// A change of an installation, with who made it (for the audit trail).
#[derive(Debug, Clone)]
pub struct InstallationChange {
    /// The version to run.
    pub version: String,
    /// The capabilities granted.
    pub grants: Vec<String>,
    /// Whether it runs.
    pub enabled: bool,
    /// A version waiting for consent (`None` clears it).
    pub pending_version: Option<String>,
    /// Why it is disabled (`None` when enabled).
    pub disabled_reason: Option<String>,
    /// The audit rows describing the change (written in the same transaction).
    pub audit: Vec<AuditRecord>,
}

fn installation_from_row(row: &sqlx::any::AnyRow) -> Result<Installation, StoreError> {
    let grants: String = row.try_get("grants")?;
    Ok(Installation {
        id: row.try_get("id")?,
        group_id: row.try_get("group_id")?,
        app_slug: row.try_get("app_slug")?,
        version: row.try_get("version")?,
        grants: serde_json::from_str(&grants).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        enabled: row.try_get::<i64, _>("enabled")? != 0,
        storage_bytes: row.try_get("storage_bytes")?,
        storage_keys: row.try_get("storage_keys")?,
        pending_version: row.try_get("pending_version")?,
        disabled_reason: row.try_get("disabled_reason")?,
        disabled_by: row.try_get("disabled_by")?,
        app_suspended: row.try_get("app_suspended")?,
        time_zone: row.try_get("time_zone")?,
        locale: row.try_get("locale")?,
    })
}

impl Store {
    /// Install `app_slug` at `version` in a group with `grants`, on behalf of
    /// the user `by` (audited).
    pub async fn install(
        &self,
        group_id: &str,
        app_slug: &str,
        version: &str,
        grants: &[String],
        by: &str,
    ) -> Result<Installation, StoreError> {
        let id = new_id("i");
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO installations (id, group_id, app_slug, version, grants, enabled, created_at) \
             VALUES ($1, $2, $3, $4, $5, 1, $6)",
        )
        .bind(&id)
        .bind(group_id)
        .bind(app_slug)
        .bind(version)
        .bind(serde_json::to_string(grants).map_err(|e| StoreError::Corrupt(e.to_string()))?)
        .bind(now_ms())
        .execute(&mut *tx.tx)
        .await?;
        // Issue 10 item 5: a command belongs to one app per group.
        if let Err(conflict) = tx.claim_commands(group_id, &id, app_slug, version).await? {
            return Err(StoreError::CommandConflict(conflict));
        }
        tx.enqueue_event(&id, &super::EventBody::Installed).await?;
        let record = AuditRecord::decision("installation.install", by)
            .app(app_slug, Some(version))
            .installation(&id, group_id)
            .detail(format!("grants: {}", grants.join(", ")));
        tx.insert_audit(&[record]).await?;
        tx.invalidate_cache().await?;
        tx.commit().await?;
        Ok(Installation {
            id,
            group_id: group_id.to_string(),
            app_slug: app_slug.to_string(),
            version: version.to_string(),
            grants: grants.to_vec(),
            enabled: true,
            storage_bytes: 0,
            storage_keys: 0,
            pending_version: None,
            disabled_reason: None,
            disabled_by: None,
            app_suspended: None,
            time_zone: "UTC".into(),
            locale: "en".into(),
        })
    }

    /// An installation by id.
    pub async fn installation(&self, id: &str) -> Result<Option<Installation>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM {FROM} WHERE i.id = $1"
        )))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(installation_from_row).transpose()
    }

    /// [`Store::installation`] through the cache (see `store::cache`): for
    /// the invocation path. Its storage use may lag (the commit checks the
    /// quota on what is stored).
    pub async fn installation_cached(&self, id: &str) -> Result<Option<Installation>, StoreError> {
        let ticket = match self.cache().installation(id) {
            Ok(inst) => return Ok(Some(inst)),
            Err(ticket) => ticket,
        };
        let inst = self.installation(id).await?;
        if let Some(inst) = &inst {
            self.cache().put_installation(ticket, inst.clone());
        }
        Ok(inst)
    }

    /// [`Store::installation_of`] through the cache, as
    /// [`Store::installation_cached`].
    pub async fn installation_of_cached(
        &self,
        group_id: &str,
        app_slug: &str,
    ) -> Result<Option<Installation>, StoreError> {
        let ticket = match self.cache().installed(group_id, app_slug) {
            Ok(inst) => return Ok(Some(inst)),
            Err(ticket) => ticket,
        };
        let inst = self.installation_of(group_id, app_slug).await?;
        if let Some(inst) = &inst {
            self.cache().put_installation(ticket, inst.clone());
        }
        Ok(inst)
    }

    /// The installation of `app_slug` in a group.
    pub async fn installation_of(
        &self,
        group_id: &str,
        app_slug: &str,
    ) -> Result<Option<Installation>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM {FROM} WHERE i.group_id = $1 AND i.app_slug = $2"
        )))
        .bind(group_id)
        .bind(app_slug)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(installation_from_row).transpose()
    }

    /// The versions enabled installations of apps not suspended run, the
    /// most installed first, at most `limit`: what a host loads when it
    /// starts (issue 15 item 4).
    pub async fn installed_versions(
        &self,
        limit: i64,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let rows = sqlx::query(
            "SELECT i.app_slug, i.version, COUNT(*) AS n FROM installations i \
             JOIN apps a ON a.slug = i.app_slug \
             WHERE i.enabled = 1 AND a.suspended_at IS NULL \
             GROUP BY i.app_slug, i.version ORDER BY n DESC, i.app_slug, i.version LIMIT CAST($1 AS BIGINT)",
        )
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("app_slug")?, row.try_get("version")?)))
            .collect()
    }

    /// Every installation in a group.
    pub async fn installations_in(&self, group_id: &str) -> Result<Vec<Installation>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM {FROM} WHERE i.group_id = $1 ORDER BY i.app_slug"
        )))
        .bind(group_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(installation_from_row).collect()
    }

    /// Apply `change` to the installation `id` by the user `by`, with its
    /// audit rows, in one transaction. Re-enabling forgets past faults.
    pub async fn change_installation(
        &self,
        id: &str,
        change: &InstallationChange,
        by: &str,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        tx.lock(&format!("installation:{id}")).await?;
        // Issue 10 item 5: a new version takes its own commands, unless
        // another installed app of the group already answers one of them.
        let current =
            sqlx::query("SELECT group_id, app_slug, version FROM installations WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx.tx)
                .await?;
        let Some(current) = current else {
            return Ok(false);
        };
        let current_version: String = current.try_get("version")?;
        if current_version != change.version {
            let group_id: String = current.try_get("group_id")?;
            let app_slug: String = current.try_get("app_slug")?;
            if let Err(conflict) = tx
                .claim_commands(&group_id, id, &app_slug, &change.version)
                .await?
            {
                return Err(StoreError::CommandConflict(conflict));
            }
        }
        let done = sqlx::query(
            "UPDATE installations SET version = $1, grants = $2, enabled = $3, pending_version = $4, \
             disabled_reason = $5, \
             disabled_by = CASE WHEN $3 = 1 THEN NULL WHEN enabled = 0 THEN disabled_by ELSE $6 END \
             WHERE id = $7",
        )
        .bind(&change.version)
        .bind(serde_json::to_string(&change.grants).map_err(|e| StoreError::Corrupt(e.to_string()))?)
        .bind(flag(change.enabled))
        .bind(&change.pending_version)
        .bind(&change.disabled_reason)
        .bind(by)
        .bind(id)
        .execute(&mut *tx.tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        if change.enabled {
            sqlx::query("DELETE FROM invocation_faults WHERE installation_id = $1")
                .bind(id)
                .execute(&mut *tx.tx)
                .await?;
        }
        tx.insert_audit(&change.audit).await?;
        tx.invalidate_cache().await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Enable or disable an installation on behalf of `by` (audited).
    pub async fn set_enabled(
        &self,
        inst: &Installation,
        enabled: bool,
        by: &str,
    ) -> Result<bool, StoreError> {
        let action = if enabled {
            "installation.enable"
        } else {
            "installation.disable"
        };
        let change = InstallationChange {
            version: inst.version.clone(),
            grants: inst.grants.clone(),
            enabled,
            pending_version: inst.pending_version.clone(),
            disabled_reason: (!enabled).then(|| format!("disabled by {by}")),
            audit: vec![
                AuditRecord::decision(action, by)
                    .app(&inst.app_slug, Some(&inst.version))
                    .installation(&inst.id, &inst.group_id),
            ],
        };
        self.change_installation(&inst.id, &change, by).await
    }

    /// Record a sandbox fault of an installation; when `threshold` faults fell
    /// within the last `window_ms`, disable it and answer the reason.
    pub async fn record_fault(
        &self,
        inst: &Installation,
        code: &str,
        message: &str,
        threshold: u32,
        window_ms: i64,
    ) -> Result<Option<String>, StoreError> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        tx.lock(&format!("installation:{}", inst.id)).await?;
        sqlx::query(
            "INSERT INTO invocation_faults (installation_id, at, code, message) VALUES ($1, $2, $3, $4)",
        )
        .bind(&inst.id)
        .bind(now)
        .bind(code)
        .bind(message)
        .execute(&mut *tx.tx)
        .await?;
        let recent: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM invocation_faults WHERE installation_id = $1 AND at > $2",
        )
        .bind(&inst.id)
        .bind(now - window_ms)
        .fetch_one(&mut *tx.tx)
        .await?;
        let mut disabled = None;
        if threshold > 0 && recent >= i64::from(threshold) {
            let last = message.lines().next().unwrap_or_default();
            let reason = format!(
                "disabled automatically: {recent} failed invocations (traps, timeouts, memory) within {} s; the last: {last}",
                window_ms / 1000
            );
            let done = sqlx::query(
                "UPDATE installations SET enabled = 0, disabled_reason = $1, disabled_by = 'health' \
                 WHERE id = $2 AND enabled = 1",
            )
            .bind(&reason)
            .bind(&inst.id)
            .execute(&mut *tx.tx)
            .await?;
            if done.rows_affected() > 0 {
                tx.insert_logs(&[LogLine {
                    at: now,
                    installation_id: Some(inst.id.clone()),
                    app_slug: inst.app_slug.clone(),
                    app_version: inst.version.clone(),
                    level: "error".into(),
                    message: reason.clone(),
                    fields: vec![("code".into(), "auto_disabled".into())],
                }])
                .await?;
                let record = AuditRecord::decision("installation.auto_disable", "health")
                    .app(&inst.app_slug, Some(&inst.version))
                    .installation(&inst.id, &inst.group_id)
                    .detail(reason.clone());
                tx.insert_audit(&[record]).await?;
                disabled = Some(reason);
            }
        }
        tx.invalidate_cache().await?;
        tx.commit().await?;
        Ok(disabled)
    }

    /// Remove an installation and everything it stored, on behalf of `by`.
    pub async fn uninstall(&self, inst: &Installation, by: &str) -> Result<bool, StoreError> {
        let id = inst.id.as_str();
        let mut tx = self.begin_write().await?;
        tx.lock(&format!("installation:{id}")).await?;
        for table in [
            "kv",
            "timers",
            "outbox",
            "invocation_faults",
            "installation_commands",
            // Replay records hold group data (issue 16).
            "replays",
        ] {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DELETE FROM {table} WHERE installation_id = $1"
            )))
            .bind(id)
            .execute(&mut *tx.tx)
            .await?;
        }
        let done = sqlx::query("DELETE FROM installations WHERE id = $1")
            .bind(id)
            .execute(&mut *tx.tx)
            .await?;
        if done.rows_affected() > 0 {
            let record = AuditRecord::decision("installation.uninstall", by)
                .app(&inst.app_slug, Some(&inst.version))
                .installation(id, &inst.group_id);
            tx.insert_audit(&[record]).await?;
        }
        tx.invalidate_cache().await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }
}

/// An installation as its commit sees it (issue 10, item 8).
#[derive(Debug, Clone)]
pub struct InstallationNow {
    /// Whether it runs.
    pub enabled: bool,
    /// Whether a platform admin suspended its app.
    pub suspended: bool,
    /// The capabilities granted now.
    pub grants: Vec<String>,
}

impl super::WriteTx {
    /// The installation `id` as it is now, inside this transaction (`None`: removed).
    pub async fn installation_now(
        &mut self,
        id: &str,
    ) -> Result<Option<InstallationNow>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM {FROM} WHERE i.id = $1"
        )))
        .bind(id)
        .fetch_optional(&mut *self.tx)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let inst = installation_from_row(&row)?;
        Ok(Some(InstallationNow {
            enabled: inst.enabled,
            suspended: inst.app_suspended.is_some(),
            grants: inst.grants,
        }))
    }
}
