//! Apps and their uploaded versions.

use sqlx::Row;

use super::{AuditRecord, Store, StoreError, now_ms};

/// An app registered by a developer.
#[derive(Debug, Clone, serde::Serialize)]
pub struct App {
    /// Unique short name, used in URLs.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// What it does.
    pub description: String,
    /// Who owns it.
    pub developer_id: String,
    /// When a platform admin suspended it everywhere (ms), if suspended.
    pub suspended_at: Option<i64>,
    /// Why it was suspended.
    pub suspend_reason: Option<String>,
}

const APP_COLUMNS: &str = "slug, name, description, developer_id, suspended_at, suspend_reason";

fn app_from_row(row: &sqlx::any::AnyRow) -> Result<App, StoreError> {
    Ok(App {
        slug: row.try_get("slug")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        developer_id: row.try_get("developer_id")?,
        suspended_at: row.try_get("suspended_at")?,
        suspend_reason: row.try_get("suspend_reason")?,
    })
}

/// Review state of an uploaded version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VersionStatus {
    /// Waiting for review.
    Pending,
    /// May be installed.
    Approved,
    /// Refused by a reviewer.
    Rejected,
}

impl VersionStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            VersionStatus::Pending => "pending",
            VersionStatus::Approved => "approved",
            VersionStatus::Rejected => "rejected",
        }
    }

    fn parse(s: &str) -> Result<VersionStatus, StoreError> {
        match s {
            "pending" => Ok(VersionStatus::Pending),
            "approved" => Ok(VersionStatus::Approved),
            "rejected" => Ok(VersionStatus::Rejected),
            other => Err(StoreError::Corrupt(format!("version status {other:?}"))),
        }
    }
}

/// One uploaded version of an app (without its bytes).
#[derive(Debug, Clone, serde::Serialize)]
pub struct AppVersion {
    /// The app.
    pub app_slug: String,
    /// Semver reported by the component's `describe`.
    pub version: String,
    /// sha256 of the component bytes, hex.
    pub sha256: String,
    /// Capabilities read from the component's imports.
    pub capabilities: Vec<String>,
    /// The component's `describe` answer, as JSON.
    pub manifest: serde_json::Value,
    /// Review state.
    pub status: VersionStatus,
    /// Upload time (ms).
    pub created_at: i64,
    /// The reviewer's reason (always given for a rejection).
    pub review_reason: Option<String>,
    /// Who reviewed it.
    pub reviewed_by: Option<String>,
    /// When (ms).
    pub reviewed_at: Option<i64>,
}

fn version_from_row(row: &sqlx::any::AnyRow) -> Result<AppVersion, StoreError> {
    let caps: String = row.try_get("capabilities")?;
    let manifest: String = row.try_get("manifest")?;
    let status: String = row.try_get("status")?;
    Ok(AppVersion {
        app_slug: row.try_get("app_slug")?,
        version: row.try_get("version")?,
        sha256: row.try_get("sha256")?,
        capabilities: serde_json::from_str(&caps)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        manifest: serde_json::from_str(&manifest)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        status: VersionStatus::parse(&status)?,
        created_at: row.try_get("created_at")?,
        review_reason: row.try_get("review_reason")?,
        reviewed_by: row.try_get("reviewed_by")?,
        reviewed_at: row.try_get("reviewed_at")?,
    })
}

const VERSION_COLUMNS: &str = "app_slug, version, sha256, capabilities, manifest, status, created_at, \
                               review_reason, reviewed_by, reviewed_at";

impl Store {
    /// Register an app.
    pub async fn create_app(
        &self,
        slug: &str,
        name: &str,
        description: &str,
        developer_id: &str,
    ) -> Result<App, StoreError> {
        sqlx::query("INSERT INTO apps (slug, name, description, developer_id, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(slug)
            .bind(name)
            .bind(description)
            .bind(developer_id)
            .bind(now_ms())
            .execute(self.pool())
            .await?;
        Ok(App {
            slug: slug.to_string(),
            name: name.to_string(),
            description: description.to_string(),
            developer_id: developer_id.to_string(),
            suspended_at: None,
            suspend_reason: None,
        })
    }

    /// An app by slug.
    pub async fn app(&self, slug: &str) -> Result<Option<App>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {APP_COLUMNS} FROM apps WHERE slug = $1"
        )))
        .bind(slug)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(app_from_row).transpose()
    }

    /// Every app, or the apps of one developer, by slug.
    pub async fn apps(&self, developer_id: Option<&str>) -> Result<Vec<App>, StoreError> {
        let filter = if developer_id.is_some() {
            "WHERE developer_id = $1"
        } else {
            ""
        };
        let mut query = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {APP_COLUMNS} FROM apps {filter} ORDER BY slug"
        )));
        if let Some(developer_id) = developer_id {
            query = query.bind(developer_id.to_string());
        }
        let rows = query.fetch_all(self.pool()).await?;
        rows.iter().map(app_from_row).collect()
    }

    /// Store an uploaded version with its bytes.
    /// Its commands and subscriptions are stored as rows of their own in the
    /// same transaction (`version_commands`, `version_subscriptions`).
    pub async fn add_version(&self, version: &AppVersion, wasm: &[u8]) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO app_versions (app_slug, version, sha256, wasm, capabilities, manifest, status, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&version.app_slug)
        .bind(&version.version)
        .bind(&version.sha256)
        .bind(wasm.to_vec())
        .bind(serde_json::to_string(&version.capabilities).map_err(|e| StoreError::Corrupt(e.to_string()))?)
        .bind(version.manifest.to_string())
        .bind(version.status.as_str())
        .bind(version.created_at)
        .execute(&mut *tx.tx)
        .await?;
        tx.insert_declarations(&version.app_slug, &version.version, &version.manifest)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// One version of an app.
    pub async fn version(
        &self,
        slug: &str,
        version: &str,
    ) -> Result<Option<AppVersion>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {VERSION_COLUMNS} FROM app_versions WHERE app_slug = $1 AND version = $2"
        )))
        .bind(slug)
        .bind(version)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(version_from_row).transpose()
    }

    /// [`Store::version`] through the cache (see `store::cache`).
    pub async fn version_cached(
        &self,
        slug: &str,
        version: &str,
    ) -> Result<Option<AppVersion>, StoreError> {
        let ticket = match self.cache().version(slug, version) {
            Ok(v) => return Ok(Some(v)),
            Err(ticket) => ticket,
        };
        let v = self.version(slug, version).await?;
        if let Some(v) = &v {
            self.cache().put_version(ticket, v.clone());
        }
        Ok(v)
    }

    /// Every version of an app, newest first.
    pub async fn versions(&self, slug: &str) -> Result<Vec<AppVersion>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {VERSION_COLUMNS} FROM app_versions WHERE app_slug = $1 ORDER BY created_at DESC, version DESC"
        )))
        .bind(slug)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(version_from_row).collect()
    }

    /// The component bytes and their recorded sha256.
    pub async fn version_wasm(
        &self,
        slug: &str,
        version: &str,
    ) -> Result<Option<(Vec<u8>, String)>, StoreError> {
        let row = sqlx::query(
            "SELECT wasm, sha256 FROM app_versions WHERE app_slug = $1 AND version = $2",
        )
        .bind(slug)
        .bind(version)
        .fetch_optional(self.pool())
        .await?;
        row.map(|row| Ok((row.try_get("wasm")?, row.try_get("sha256")?)))
            .transpose()
    }

    /// Record a review decision on a pending version, with its audit row,
    /// in one transaction. Answers `false` when the version is not pending
    /// (already reviewed, or absent).
    pub async fn review_version(
        &self,
        slug: &str,
        version: &str,
        status: VersionStatus,
        reason: Option<&str>,
        reviewer: &str,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE app_versions SET status = $1, review_reason = $2, reviewed_by = $3, reviewed_at = $4 \
             WHERE app_slug = $5 AND version = $6 AND status = 'pending'",
        )
        .bind(status.as_str())
        .bind(reason)
        .bind(reviewer)
        .bind(now_ms())
        .bind(slug)
        .bind(version)
        .execute(&mut *tx.tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        let action = match status {
            VersionStatus::Approved => "review.approve",
            VersionStatus::Rejected => "review.reject",
            VersionStatus::Pending => "review.reopen",
        };
        let mut record = AuditRecord::decision(action, reviewer).app(slug, Some(version));
        record.detail = reason.map(str::to_string);
        tx.insert_audit(&[record]).await?;
        tx.invalidate_cache().await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Versions waiting for review, oldest first.
    pub async fn pending_versions(&self) -> Result<Vec<AppVersion>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {VERSION_COLUMNS} FROM app_versions WHERE status = 'pending' ORDER BY created_at, app_slug, version"
        )))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(version_from_row).collect()
    }

    /// Suspend (`Some(reason)`) or resume (`None`) an app everywhere, with its
    /// audit row. Answers `false` when it was already in that state.
    pub async fn set_suspended(
        &self,
        slug: &str,
        reason: Option<&str>,
        admin: &str,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let done = match reason {
            Some(reason) => {
                sqlx::query(
                    "UPDATE apps SET suspended_at = $1, suspend_reason = $2 WHERE slug = $3 AND suspended_at IS NULL",
                )
                .bind(now_ms())
                .bind(reason)
                .bind(slug)
                .execute(&mut *tx.tx)
                .await?
            }
            None => {
                sqlx::query(
                    "UPDATE apps SET suspended_at = NULL, suspend_reason = NULL WHERE slug = $1 AND suspended_at IS NOT NULL",
                )
                .bind(slug)
                .execute(&mut *tx.tx)
                .await?
            }
        };
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        let action = if reason.is_some() {
            "app.suspend"
        } else {
            "app.resume"
        };
        let mut record = AuditRecord::decision(action, admin).app(slug, None);
        record.detail = reason.map(str::to_string);
        tx.insert_audit(&[record]).await?;
        tx.invalidate_cache().await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Apps that can be installed (at least one approved version, not
    /// suspended), each with its newest approved version.
    pub async fn catalog(&self) -> Result<Vec<(App, AppVersion)>, StoreError> {
        let mut out = Vec::new();
        for app in self.apps(None).await? {
            if app.suspended_at.is_some() {
                continue;
            }
            let newest = self
                .versions(&app.slug)
                .await?
                .into_iter()
                .find(|v| v.status == VersionStatus::Approved);
            if let Some(version) = newest {
                out.push((app, version));
            }
        }
        Ok(out)
    }
}
