//! The audit trail: one row per capability call an app made.

use sqlx::Row;

use super::{Store, StoreError, WriteTx};

/// One audited action.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AuditRecord {
    /// When (ms).
    pub at: i64,
    /// The installation that acted.
    pub installation_id: Option<String>,
    /// Its app.
    pub app_slug: Option<String>,
    /// Its app version.
    pub app_version: Option<String>,
    /// The group.
    pub group_id: Option<String>,
    /// The member the invocation ran for.
    pub actor: Option<String>,
    /// `interface.function`, e.g. `storage.set`.
    pub action: String,
    /// `ok`, `denied` or `error`.
    pub outcome: String,
    /// A short explanation for denied/error outcomes.
    pub detail: Option<String>,
    /// How long the call took, in microseconds.
    pub duration_us: i64,
}

const INSERT: &str = "INSERT INTO audit (at, installation_id, app_slug, app_version, group_id, actor, action, outcome, detail, duration_us) \
                      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";

impl WriteTx {
    /// Append audit rows.
    pub async fn insert_audit(&mut self, records: &[AuditRecord]) -> Result<(), StoreError> {
        for r in records {
            sqlx::query(INSERT)
                .bind(r.at)
                .bind(&r.installation_id)
                .bind(&r.app_slug)
                .bind(&r.app_version)
                .bind(&r.group_id)
                .bind(&r.actor)
                .bind(&r.action)
                .bind(&r.outcome)
                .bind(&r.detail)
                .bind(r.duration_us)
                .execute(&mut *self.tx)
                .await?;
        }
        Ok(())
    }
}

impl Store {
    /// Append audit rows in their own transaction.
    pub async fn append_audit(&self, records: &[AuditRecord]) -> Result<(), StoreError> {
        if records.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        tx.insert_audit(records).await?;
        tx.commit().await
    }

    /// Audit rows of an installation, oldest first.
    pub async fn audit_of(&self, installation_id: &str) -> Result<Vec<AuditRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT at, installation_id, app_slug, app_version, group_id, actor, action, outcome, detail, duration_us \
             FROM audit WHERE installation_id = $1 ORDER BY id",
        )
        .bind(installation_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(AuditRecord {
                    at: row.try_get("at")?,
                    installation_id: row.try_get("installation_id")?,
                    app_slug: row.try_get("app_slug")?,
                    app_version: row.try_get("app_version")?,
                    group_id: row.try_get("group_id")?,
                    actor: row.try_get("actor")?,
                    action: row.try_get("action")?,
                    outcome: row.try_get("outcome")?,
                    detail: row.try_get("detail")?,
                    duration_us: row.try_get("duration_us")?,
                })
            })
            .collect()
    }
}
