//! Installations: one app (at one version) in one group, with its grants.

use sqlx::Row;

use super::{Store, StoreError, flag, new_id, now_ms};

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
}

const COLUMNS: &str =
    "id, group_id, app_slug, version, grants, enabled, storage_bytes, storage_keys";

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
    })
}

impl Store {
    /// Install `app_slug` at `version` in a group with `grants`.
    pub async fn install(
        &self,
        group_id: &str,
        app_slug: &str,
        version: &str,
        grants: &[String],
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
        tx.enqueue_event(&id, &super::EventBody::Installed).await?;
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
        })
    }

    /// An installation by id.
    pub async fn installation(&self, id: &str) -> Result<Option<Installation>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM installations WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(installation_from_row).transpose()
    }

    /// The installation of `app_slug` in a group.
    pub async fn installation_of(
        &self,
        group_id: &str,
        app_slug: &str,
    ) -> Result<Option<Installation>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM installations WHERE group_id = $1 AND app_slug = $2"
        )))
        .bind(group_id)
        .bind(app_slug)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(installation_from_row).transpose()
    }

    /// Every installation in a group.
    pub async fn installations_in(&self, group_id: &str) -> Result<Vec<Installation>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM installations WHERE group_id = $1 ORDER BY app_slug"
        )))
        .bind(group_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(installation_from_row).collect()
    }

    /// Change grants, version or enabled of an installation.
    pub async fn update_installation(
        &self,
        id: &str,
        version: &str,
        grants: &[String],
        enabled: bool,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE installations SET version = $1, grants = $2, enabled = $3 WHERE id = $4",
        )
        .bind(version)
        .bind(serde_json::to_string(grants).map_err(|e| StoreError::Corrupt(e.to_string()))?)
        .bind(flag(enabled))
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Remove an installation and everything it stored.
    pub async fn uninstall(&self, id: &str) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        for table in ["kv", "timers", "outbox"] {
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
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }
}
