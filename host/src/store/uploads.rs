//! Uploads being compiled (issue 15): a version is described only once its
//! component is compiled, which for a 20 MB Python or JavaScript app takes
//! longer than a request may; the upload is recorded here first so the
//! developer (on any host sharing the database) can follow it.

use sqlx::Row;

use super::{Store, StoreError, now_ms};

/// An upload still compiling after this long was left by a host that
/// stopped: it is shown as failed (`upload_interrupted`).
pub const STALE_AFTER_MS: i64 = 15 * 60 * 1000;

/// Where an upload is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UploadStatus {
    /// Being compiled and described.
    Compiling,
    /// Stored as version `.0`.
    Done(String),
    /// Refused, with the API error's code and message.
    Failed {
        /// Stable code (`invalid_wasm`, `version_exists`, ...).
        code: String,
        /// Why.
        message: String,
    },
}

/// One upload.
#[derive(Debug, Clone)]
pub struct Upload {
    /// Id (`up_...`).
    pub id: String,
    /// The app it was uploaded to.
    pub app_slug: String,
    /// sha256 of the bytes, hex.
    pub sha256: String,
    /// Bytes uploaded.
    pub size: i64,
    /// Where it is.
    pub status: UploadStatus,
    /// Who uploaded it.
    pub uploaded_by: String,
    /// When (ms since the epoch).
    pub created_at: i64,
    /// When it was done or refused.
    pub finished_at: Option<i64>,
}

impl Store {
    /// Record a new upload as `compiling`.
    pub async fn add_upload(&self, upload: &Upload) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO uploads (id, app_slug, sha256, size, status, uploaded_by, created_at) \
             VALUES ($1, $2, $3, $4, 'compiling', $5, $6)",
        )
        .bind(&upload.id)
        .bind(&upload.app_slug)
        .bind(&upload.sha256)
        .bind(upload.size)
        .bind(&upload.uploaded_by)
        .bind(upload.created_at)
        .execute(&mut *tx.tx)
        .await?;
        tx.commit().await
    }

    /// Record how upload `id` ended.
    pub async fn finish_upload(&self, id: &str, status: &UploadStatus) -> Result<(), StoreError> {
        let (status, version, code, message) = match status {
            UploadStatus::Compiling => return Ok(()),
            UploadStatus::Done(version) => ("done", Some(version.as_str()), None, None),
            UploadStatus::Failed { code, message } => {
                ("failed", None, Some(code.as_str()), Some(message.as_str()))
            }
        };
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE uploads SET status = $1, version = $2, error_code = $3, error_message = $4, \
             finished_at = $5 WHERE id = $6 AND status = 'compiling'",
        )
        .bind(status)
        .bind(version)
        .bind(code)
        .bind(message)
        .bind(now_ms())
        .bind(id)
        .execute(&mut *tx.tx)
        .await?;
        tx.commit().await
    }

    /// Upload `id` of `app_slug`.
    pub async fn upload(&self, app_slug: &str, id: &str) -> Result<Option<Upload>, StoreError> {
        let row = sqlx::query(
            "SELECT id, app_slug, sha256, size, status, version, error_code, error_message, \
             uploaded_by, created_at, finished_at FROM uploads WHERE id = $1 AND app_slug = $2",
        )
        .bind(id)
        .bind(app_slug)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let created_at: i64 = row.try_get("created_at")?;
        let status = match row.try_get::<String, _>("status")?.as_str() {
            "done" => UploadStatus::Done(
                row.try_get::<Option<String>, _>("version")?
                    .unwrap_or_default(),
            ),
            "failed" => UploadStatus::Failed {
                code: row
                    .try_get::<Option<String>, _>("error_code")?
                    .unwrap_or_default(),
                message: row
                    .try_get::<Option<String>, _>("error_message")?
                    .unwrap_or_default(),
            },
            _ if now_ms() - created_at > STALE_AFTER_MS => UploadStatus::Failed {
                code: "upload_interrupted".into(),
                message:
                    "the host compiling this upload stopped before it finished; upload it again"
                        .into(),
            },
            _ => UploadStatus::Compiling,
        };
        Ok(Some(Upload {
            id: row.try_get("id")?,
            app_slug: row.try_get("app_slug")?,
            sha256: row.try_get("sha256")?,
            size: row.try_get("size")?,
            status,
            uploaded_by: row.try_get("uploaded_by")?,
            created_at,
            finished_at: row.try_get("finished_at")?,
        }))
    }
}
