//! Files (issue 17): their metadata, who holds them, who may download them,
//! and the blob reference counts. The bytes are in [`crate::blobs::Blobs`].
//!
//! - A member's upload is a file with `uploaded_by` set; an app's is one
//!   with `created_by` (its installation) set.
//! - `installation_files`: the files an installation holds (it created them,
//!   or a member gave them in an invocation that committed). They count
//!   toward its quota; it may read them and show them in messages.
//! - `file_shares`: the members who may download a file besides its
//!   uploader: those who see a message showing it.
//! - `blobs.refs`: how many files use the bytes of a sha256.

use sqlx::{Any, Executor, Row};

use super::{Store, StoreError, WriteTx, now_ms};

/// A file's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRow {
    /// Its id.
    pub id: String,
    /// The group it belongs to.
    pub group_id: String,
    /// Its name.
    pub name: String,
    /// Its type, read from the bytes.
    pub content_type: String,
    /// Its size in bytes.
    pub size: i64,
    /// The SHA-256 of its bytes.
    pub sha256: String,
    /// The member who uploaded it.
    pub uploaded_by: Option<String>,
    /// The installation that created it.
    pub created_by: Option<String>,
    /// When (ms).
    pub created_at: i64,
}

/// How much of a group's file quota is used, in all and per holder.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileUsage {
    /// Bytes of every file of the group.
    pub bytes: i64,
    /// Files of the group.
    pub files: i64,
    /// Bytes and files of members' uploads no app holds.
    pub members: (i64, i64),
    /// Per installation: (installation id, bytes, files) of what it holds.
    pub installations: Vec<(String, i64, i64)>,
}

const COLUMNS: &str =
    "id, group_id, name, content_type, size, sha256, uploaded_by, created_by, created_at";

fn file_row(row: &sqlx::any::AnyRow) -> Result<FileRow, StoreError> {
    Ok(FileRow {
        id: row.try_get("id")?,
        group_id: row.try_get("group_id")?,
        name: row.try_get("name")?,
        content_type: row.try_get("content_type")?,
        size: row.try_get("size")?,
        sha256: row.try_get("sha256")?,
        uploaded_by: row.try_get("uploaded_by")?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
    })
}

async fn group_bytes_on<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    group_id: &str,
) -> Result<i64, StoreError> {
    let row = sqlx::query(
        "SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) AS bytes FROM files WHERE group_id = $1",
    )
    .bind(group_id)
    .fetch_one(executor)
    .await?;
    Ok(row.try_get("bytes")?)
}

async fn installation_bytes_on<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    installation_id: &str,
) -> Result<i64, StoreError> {
    let row = sqlx::query(
        "SELECT CAST(COALESCE(SUM(f.size), 0) AS BIGINT) AS bytes \
         FROM installation_files i JOIN files f ON f.id = i.file_id \
         WHERE i.installation_id = $1",
    )
    .bind(installation_id)
    .fetch_one(executor)
    .await?;
    Ok(row.try_get("bytes")?)
}

impl Store {
    /// The file `id`, in any group.
    pub async fn file(&self, id: &str) -> Result<Option<FileRow>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM files WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(file_row).transpose()
    }

    /// The files of `group_id` among `ids` (missing ones are left out).
    pub async fn files_in_group(
        &self,
        group_id: &str,
        ids: &[String],
    ) -> Result<Vec<FileRow>, StoreError> {
        let mut out = Vec::new();
        // A message shows at most a few dozen files; one query per 100.
        for chunk in ids.chunks(100) {
            let marks: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
            let sql = format!(
                "SELECT {COLUMNS} FROM files WHERE group_id = $1 AND id IN ({})",
                marks.join(", ")
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(group_id);
            for id in chunk {
                query = query.bind(id);
            }
            for row in query.fetch_all(self.pool()).await? {
                out.push(file_row(&row)?);
            }
        }
        Ok(out)
    }

    /// Whether `user_id` may download `file_id` of `group_id`: they
    /// uploaded it, or they see a live message (or a direct message) that
    /// shows it. The caller has checked that they are a member.
    pub async fn file_visible_to(
        &self,
        group_id: &str,
        file_id: &str,
        user_id: &str,
    ) -> Result<bool, StoreError> {
        let row = sqlx::query(
            "SELECT 1 AS yes FROM files f WHERE f.id = $1 AND f.group_id = $2 AND ( \
               f.uploaded_by = $3 OR EXISTS ( \
                 SELECT 1 FROM file_shares s LEFT JOIN messages m ON m.id = s.message_id \
                 WHERE s.file_id = f.id AND (s.viewer IS NULL OR s.viewer = $3) \
                   AND (s.message_id IS NULL OR (m.deleted_at IS NULL AND m.group_id = $2))))",
        )
        .bind(file_id)
        .bind(group_id)
        .bind(user_id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.is_some())
    }

    /// Whether `installation_id` holds `file_id`.
    pub async fn installation_holds(
        &self,
        installation_id: &str,
        file_id: &str,
    ) -> Result<bool, StoreError> {
        let row = sqlx::query(
            "SELECT 1 AS yes FROM installation_files WHERE installation_id = $1 AND file_id = $2",
        )
        .bind(installation_id)
        .bind(file_id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.is_some())
    }

    /// Bytes of every file of `group_id`.
    pub async fn group_file_bytes(&self, group_id: &str) -> Result<i64, StoreError> {
        group_bytes_on(self.pool(), group_id).await
    }

    /// Bytes of the files `installation_id` holds.
    pub async fn installation_file_bytes(&self, installation_id: &str) -> Result<i64, StoreError> {
        installation_bytes_on(self.pool(), installation_id).await
    }

    /// How `group_id`'s file quota is used.
    pub async fn file_usage(&self, group_id: &str) -> Result<FileUsage, StoreError> {
        let total = sqlx::query(
            "SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) AS bytes, COUNT(*) AS files \
             FROM files WHERE group_id = $1",
        )
        .bind(group_id)
        .fetch_one(self.pool())
        .await?;
        let members = sqlx::query(
            "SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) AS bytes, COUNT(*) AS files \
             FROM files f WHERE f.group_id = $1 AND f.uploaded_by IS NOT NULL \
             AND NOT EXISTS (SELECT 1 FROM installation_files i WHERE i.file_id = f.id)",
        )
        .bind(group_id)
        .fetch_one(self.pool())
        .await?;
        let per = sqlx::query(
            "SELECT i.installation_id AS inst, CAST(COALESCE(SUM(f.size), 0) AS BIGINT) AS bytes, \
             COUNT(*) AS files FROM installation_files i JOIN files f ON f.id = i.file_id \
             WHERE f.group_id = $1 GROUP BY i.installation_id ORDER BY i.installation_id",
        )
        .bind(group_id)
        .fetch_all(self.pool())
        .await?;
        Ok(FileUsage {
            bytes: total.try_get("bytes")?,
            files: total.try_get("files")?,
            members: (members.try_get("bytes")?, members.try_get("files")?),
            installations: per
                .iter()
                .map(|r| Ok((r.try_get("inst")?, r.try_get("bytes")?, r.try_get("files")?)))
                .collect::<Result<_, StoreError>>()?,
        })
    }

    /// Members' uploads older than `before` that nothing uses: no app holds
    /// them and no message shows them (chosen, then never sent).
    pub async fn unused_uploads(&self, before: i64, limit: i64) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT f.id FROM files f WHERE f.uploaded_by IS NOT NULL AND f.created_at < $1 \
             AND NOT EXISTS (SELECT 1 FROM installation_files i WHERE i.file_id = f.id) \
             AND NOT EXISTS (SELECT 1 FROM file_shares s WHERE s.file_id = f.id) LIMIT CAST($2 AS BIGINT)",
        )
        .bind(before)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok(r.try_get("id")?))
            .collect::<Result<_, StoreError>>()
    }

    /// Blobs no file has used since before `before`.
    pub async fn unused_blobs(&self, before: i64, limit: i64) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT sha256 FROM blobs WHERE refs <= 0 AND touched_at < $1 LIMIT CAST($2 AS BIGINT)",
        )
        .bind(before)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok(r.try_get("sha256")?))
            .collect::<Result<_, StoreError>>()
    }

    /// Which of `shas` have a blob row.
    pub async fn known_blobs(&self, shas: &[String]) -> Result<Vec<String>, StoreError> {
        let mut out = Vec::new();
        for sha in shas {
            let row = sqlx::query("SELECT sha256 FROM blobs WHERE sha256 = $1")
                .bind(sha)
                .fetch_optional(self.pool())
                .await?;
            if row.is_some() {
                out.push(sha.clone());
            }
        }
        Ok(out)
    }
}

impl WriteTx {
    /// Count one more file using the bytes of `sha256` (creating the blob
    /// row). Takes the blob row's lock, so no sweep removes the bytes until
    /// this transaction ends.
    pub async fn claim_blob(&mut self, sha256: &str, size: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO blobs (sha256, size, refs, touched_at) VALUES ($1, $2, 1, $3) \
             ON CONFLICT (sha256) DO UPDATE SET refs = blobs.refs + 1, touched_at = $3",
        )
        .bind(sha256)
        .bind(size)
        .bind(now_ms())
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Count one file fewer using the bytes of `sha256`.
    async fn release_blob(&mut self, sha256: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE blobs SET refs = refs - 1, touched_at = $2 WHERE sha256 = $1")
            .bind(sha256)
            .bind(now_ms())
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// Remove the blob row of `sha256` if no file uses it and none has since
    /// `before`; true if it was removed (the caller then removes the bytes
    /// before committing).
    pub async fn drop_unused_blob(
        &mut self,
        sha256: &str,
        before: i64,
    ) -> Result<bool, StoreError> {
        let done =
            sqlx::query("DELETE FROM blobs WHERE sha256 = $1 AND refs <= 0 AND touched_at < $2")
                .bind(sha256)
                .bind(before)
                .execute(&mut *self.tx)
                .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Store a new file's metadata (its blob already claimed).
    pub async fn insert_file(&mut self, file: &FileRow) -> Result<(), StoreError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO files ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        )))
        .bind(&file.id)
        .bind(&file.group_id)
        .bind(&file.name)
        .bind(&file.content_type)
        .bind(file.size)
        .bind(&file.sha256)
        .bind(&file.uploaded_by)
        .bind(&file.created_by)
        .bind(file.created_at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// The file `id` of `group_id`, read in this transaction.
    pub async fn file_in_group(
        &mut self,
        group_id: &str,
        id: &str,
    ) -> Result<Option<FileRow>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM files WHERE id = $1 AND group_id = $2"
        )))
        .bind(id)
        .bind(group_id)
        .fetch_optional(&mut *self.tx)
        .await?;
        row.as_ref().map(file_row).transpose()
    }

    /// `installation_id` holds `file_id` from now on.
    pub async fn hold_file(
        &mut self,
        installation_id: &str,
        file_id: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO installation_files (installation_id, file_id) VALUES ($1, $2) \
             ON CONFLICT (installation_id, file_id) DO NOTHING",
        )
        .bind(installation_id)
        .bind(file_id)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Whether `installation_id` holds `file_id`, in this transaction.
    pub async fn holds_file(
        &mut self,
        installation_id: &str,
        file_id: &str,
    ) -> Result<bool, StoreError> {
        let row = sqlx::query(
            "SELECT 1 AS yes FROM installation_files WHERE installation_id = $1 AND file_id = $2",
        )
        .bind(installation_id)
        .bind(file_id)
        .fetch_optional(&mut *self.tx)
        .await?;
        Ok(row.is_some())
    }

    /// `installation_id` lets go of `file_id`: a file it created is deleted
    /// (messages then show it as deleted); a member's upload stays theirs.
    /// False if it did not hold it.
    pub async fn release_file(
        &mut self,
        installation_id: &str,
        file_id: &str,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "DELETE FROM installation_files WHERE installation_id = $1 AND file_id = $2",
        )
        .bind(installation_id)
        .bind(file_id)
        .execute(&mut *self.tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        let created = sqlx::query("SELECT sha256 FROM files WHERE id = $1 AND created_by = $2")
            .bind(file_id)
            .bind(installation_id)
            .fetch_optional(&mut *self.tx)
            .await?;
        if let Some(row) = created {
            let sha: String = row.try_get("sha256")?;
            self.delete_file(file_id, &sha).await?;
        }
        Ok(true)
    }

    /// Delete a file's metadata, holders and shares; its blob is used once less.
    pub async fn delete_file(&mut self, file_id: &str, sha256: &str) -> Result<(), StoreError> {
        for sql in [
            "DELETE FROM file_shares WHERE file_id = $1",
            "DELETE FROM installation_files WHERE file_id = $1",
            "DELETE FROM files WHERE id = $1",
        ] {
            sqlx::query(sql)
                .bind(file_id)
                .execute(&mut *self.tx)
                .await?;
        }
        self.release_blob(sha256).await
    }

    /// Members who see message `message_id` (a direct message: `None`) may
    /// download `files`: `viewer` alone, or the whole group.
    pub async fn share_files(
        &mut self,
        message_id: Option<i64>,
        viewer: Option<&str>,
        files: &[&str],
    ) -> Result<(), StoreError> {
        for file in files {
            sqlx::query(
                "INSERT INTO file_shares (file_id, message_id, viewer) VALUES ($1, $2, $3)",
            )
            .bind(*file)
            .bind(message_id)
            .bind(viewer)
            .execute(&mut *self.tx)
            .await?;
        }
        Ok(())
    }

    /// The shares of message `message_id` (it was replaced or deleted).
    pub async fn unshare_message(&mut self, message_id: i64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM file_shares WHERE message_id = $1")
            .bind(message_id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// Bytes of every file of `group_id`, in this transaction.
    pub async fn group_file_bytes(&mut self, group_id: &str) -> Result<i64, StoreError> {
        group_bytes_on(&mut *self.tx, group_id).await
    }

    /// Bytes of the files `installation_id` holds, in this transaction.
    pub async fn installation_file_bytes(
        &mut self,
        installation_id: &str,
    ) -> Result<i64, StoreError> {
        installation_bytes_on(&mut *self.tx, installation_id).await
    }
}

/// What one sweep removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Members' uploads never used.
    pub uploads: usize,
    /// Blobs no file uses any more.
    pub blobs: usize,
    /// Staged bytes a crash left behind.
    pub staged: usize,
    /// Stored bytes whose commit never happened (a crash between the two).
    pub orphans: usize,
}

/// How long a member's upload may wait to be attached or given to an app.
pub const UNUSED_UPLOAD_MS: i64 = 24 * 3_600_000;
/// How long unused bytes stay before the sweep removes them (longer than
/// any upload or invocation takes).
pub const UNUSED_BYTES_MS: i64 = 3_600_000;

impl Store {
    /// Remove what nothing uses: members' uploads never sent after
    /// [`UNUSED_UPLOAD_MS`], and after [`UNUSED_BYTES_MS`] blobs no file
    /// uses, staged bytes (a crash mid-upload or mid-invocation) and stored
    /// bytes without a blob row (a crash between placing and committing).
    /// Bytes are removed only while their blob row is locked and gone, so a
    /// file created meanwhile with the same bytes puts them back.
    pub async fn sweep_files(&self, now: i64) -> Result<SweepReport, StoreError> {
        let mut report = SweepReport::default();
        for id in self.unused_uploads(now - UNUSED_UPLOAD_MS, 500).await? {
            let mut tx = self.begin_write().await?;
            if let Some(row) = sqlx::query(
                "SELECT f.sha256 FROM files f WHERE f.id = $1 \
                 AND NOT EXISTS (SELECT 1 FROM installation_files i WHERE i.file_id = f.id) \
                 AND NOT EXISTS (SELECT 1 FROM file_shares s WHERE s.file_id = f.id)",
            )
            .bind(&id)
            .fetch_optional(&mut *tx.tx)
            .await?
            {
                let sha: String = row.try_get("sha256")?;
                tx.delete_file(&id, &sha).await?;
                report.uploads += 1;
            }
            tx.commit().await?;
        }
        let cutoff = now - UNUSED_BYTES_MS;
        for sha in self.unused_blobs(cutoff, 500).await? {
            let mut tx = self.begin_write().await?;
            if tx.drop_unused_blob(&sha, cutoff).await? {
                self.blobs().remove(&sha).await?;
                report.blobs += 1;
            }
            tx.commit().await?;
        }
        for name in self.blobs().older_than("staging", cutoff).await? {
            self.blobs().discard(&format!("staging/{name}")).await;
            report.staged += 1;
        }
        let stored = self.blobs().older_than("blobs", cutoff).await?;
        let known = self.known_blobs(&stored).await?;
        for sha in stored.iter().filter(|s| !known.contains(s)) {
            let mut tx = self.begin_write().await?;
            tx.lock(&format!("blob:{sha}")).await?;
            let still_unknown = sqlx::query("SELECT 1 AS yes FROM blobs WHERE sha256 = $1")
                .bind(sha)
                .fetch_optional(&mut *tx.tx)
                .await?
                .is_none();
            if still_unknown {
                self.blobs().remove(sha).await?;
                report.orphans += 1;
            }
            tx.commit().await?;
        }
        Ok(report)
    }

    /// Sweep every `every` until the process ends.
    pub fn spawn_file_sweeper(&self, every: std::time::Duration) -> tokio::task::JoinHandle<()> {
        let store = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                match store.sweep_files(now_ms()).await {
                    Ok(report) if report != SweepReport::default() => {
                        tracing::info!(?report, "file sweep");
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!("file sweep failed: {e}"),
                }
            }
        })
    }
}
