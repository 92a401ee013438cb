//! Implementation of the `qun:app/files` interface (issue 17).
//!
//! An app reads the files a member gave it in this invocation and the files
//! its installation holds. Files it creates are streamed to the blob store's
//! staging area as it appends (never held whole in memory) and exist only
//! once the invocation commits: the commit moves their bytes into place and
//! stores their metadata (`runtime::effects::apply_files`); an attempt that
//! fails, traps or times out leaves nothing (its staging is removed when its
//! state is dropped).

use super::generated::qun::app::files::{FileInfo, Host};
use super::{Capability, Error, capability_call, internal};
use crate::runtime::{InvocationState, NewFile};
use crate::store::FileRow;

/// Unfinished uploads one invocation may have at once (each buffers up to a
/// few MiB outside the sandbox before it streams).
const OPEN_UPLOADS: usize = 2;
/// Longest file name, in bytes.
const NAME_BYTES: usize = 255;

fn info(row: &FileRow) -> FileInfo {
    FileInfo {
        id: row.id.clone(),
        name: row.name.clone(),
        content_type: row.content_type.clone(),
        size: u64::try_from(row.size).unwrap_or_default(),
        sha256: row.sha256.clone(),
        uploaded_by: row.uploaded_by.clone(),
        created_at: row.created_at,
    }
}

/// Where a readable file's bytes are.
enum Bytes {
    /// Stored: the blob of this sha256.
    Blob(String),
    /// Created in this invocation: still staged.
    Staged(String),
}

impl InvocationState {
    fn not_found(id: &str) -> Error {
        Error::NotFound(format!(
            "no file {:?} was given to this app in this invocation or is held by it",
            id.chars().take(80).collect::<String>()
        ))
    }

    /// A file this invocation may read, and where its bytes are.
    async fn readable(&mut self, id: &str) -> Result<(FileRow, Bytes), Error> {
        self.check_size("file id", id.len(), 64)?;
        if self.effects.files_released.contains(id) {
            return Err(Self::not_found(id));
        }
        if let Some(new) = self.effects.files_created.iter().find(|f| f.row.id == id) {
            return Ok((new.row.clone(), Bytes::Staged(new.staged.path.clone())));
        }
        let Some(row) = self.db.file(id).await.map_err(internal)? else {
            return Err(Self::not_found(id));
        };
        if row.group_id != self.ident.group_id {
            return Err(Self::not_found(id));
        }
        let readable = self.given_files.contains(id)
            || self
                .db
                .installation_holds(&self.ident.installation_id, id)
                .await
                .map_err(internal)?;
        if !readable {
            return Err(Self::not_found(id));
        }
        let sha = row.sha256.clone();
        Ok((row, Bytes::Blob(sha)))
    }

    /// Whether `id` may be shown in this invocation's messages: a file it
    /// created, was given (and will hold), or holds. `invalid` otherwise;
    /// images must be of a type browsers show safely.
    pub(crate) async fn check_shown_files(
        &mut self,
        message: &qun_blocks::Message,
    ) -> Result<(), Error> {
        for block in &message.blocks {
            let (id, image) = match block {
                qun_blocks::Block::File { file } => (file, false),
                qun_blocks::Block::Image { file, .. } => (file, true),
                _ => continue,
            };
            if !self.grants.contains(&Capability::Files) {
                return Err(Error::Denied(
                    "a message shows a file, and the group owner has not granted the `files` capability to this app".into(),
                ));
            }
            let (row, _) = self.readable(id).await.map_err(|_| {
                Error::Invalid(format!(
                    "the message shows file {:?}, which is not one of this app's files",
                    id.chars().take(80).collect::<String>()
                ))
            })?;
            if image && !crate::blobs::is_inline_safe(&row.content_type) {
                return Err(Error::Invalid(format!(
                    "file {id:?} is {}; an image block shows PNG, JPEG, GIF or WebP files (use a file block)",
                    row.content_type
                )));
            }
        }
        Ok(())
    }

    async fn file_stat_impl(&mut self, id: String) -> Result<FileInfo, Error> {
        let (row, _) = self.readable(&id).await?;
        Ok(info(&row))
    }

    async fn file_read_impl(
        &mut self,
        id: String,
        offset: u64,
        length: u32,
    ) -> Result<Vec<u8>, Error> {
        let (row, bytes) = self.readable(&id).await?;
        let size = u64::try_from(row.size).unwrap_or_default();
        let length = (length as usize).min(self.limits.file_chunk_bytes) as u64;
        let end = offset.saturating_add(length).min(size);
        if offset >= end {
            return Ok(Vec::new());
        }
        let blobs = self.db.blobs().clone();
        let read = match bytes {
            Bytes::Blob(sha) => blobs.read_range(&sha, offset..end).await,
            Bytes::Staged(path) => blobs.read_staged(&path, offset..end).await,
        };
        match read {
            Ok(b) => Ok(b.to_vec()),
            Err(e) => {
                tracing::error!("reading file {id}: {e}");
                Err(Error::Internal(
                    "the host could not read this file; try again later".into(),
                ))
            }
        }
    }

    async fn file_create_impl(&mut self, name: String) -> Result<u32, Error> {
        let name = name.trim().to_string();
        if name.is_empty() {
            return Err(Error::Invalid("a file needs a name".into()));
        }
        self.check_size("file name", name.len(), NAME_BYTES)?;
        self.check_text("file name", &name)?;
        if name.contains(['/', '\\']) {
            return Err(Error::Invalid("a file name holds no `/` or `\\`".into()));
        }
        let made = self.effects.files_created.len() + self.uploads.len();
        if made >= self.limits.files_per_invocation {
            return Err(Error::QuotaExceeded(format!(
                "one invocation may create {} files",
                self.limits.files_per_invocation
            )));
        }
        if self.uploads.len() >= OPEN_UPLOADS {
            return Err(Error::QuotaExceeded(format!(
                "at most {OPEN_UPLOADS} files may be written at once; finish one first"
            )));
        }
        let staged = self.db.blobs().stage();
        self.staging.paths.push(staged.path());
        let id = self.next_upload;
        self.next_upload = self.next_upload.wrapping_add(1).max(1);
        self.uploads.insert(id, staged.named(name));
        Ok(id)
    }

    async fn file_append_impl(&mut self, upload: u32, bytes: Vec<u8>) -> Result<(), Error> {
        self.check_size("one append", bytes.len(), self.limits.file_chunk_bytes)?;
        let max = self.limits.file_bytes;
        let budget = self.limits.file_bytes_per_invocation;
        if self.file_bytes_written + bytes.len() as u64 > budget {
            return Err(Error::QuotaExceeded(format!(
                "one invocation may write {budget} bytes of files"
            )));
        }
        let Some(staged) = self.uploads.get_mut(&upload) else {
            return Err(Error::NotFound(format!("no unfinished upload {upload}")));
        };
        if staged.size() + bytes.len() as u64 > max {
            return Err(Error::Invalid(format!(
                "file_too_large: a file may have at most {max} bytes"
            )));
        }
        if let Err(e) = staged.write(&bytes).await {
            tracing::error!("writing a staged file: {e}");
            return Err(Error::Internal(
                "the host could not store this file; try again later".into(),
            ));
        }
        self.file_bytes_written += bytes.len() as u64;
        Ok(())
    }

    async fn file_finish_impl(&mut self, upload: u32) -> Result<FileInfo, Error> {
        let Some(staged) = self.uploads.remove(&upload) else {
            return Err(Error::NotFound(format!("no unfinished upload {upload}")));
        };
        let name = staged.name().to_string();
        let blob = match staged.finish().await {
            Ok(blob) => blob,
            Err(e) => {
                tracing::error!("finishing a staged file: {e}");
                return Err(Error::Internal(
                    "the host could not store this file; try again later".into(),
                ));
            }
        };
        let size = i64::try_from(blob.size).unwrap_or(i64::MAX);
        let pending: i64 = self.effects.files_created.iter().map(|f| f.row.size).sum();
        let group = self
            .db
            .group_file_bytes(&self.ident.group_id)
            .await
            .map_err(internal)?;
        if group + pending + size > self.limits.group_file_bytes {
            return Err(Error::QuotaExceeded(format!(
                "group_file_quota: this group may keep {} bytes of files",
                self.limits.group_file_bytes
            )));
        }
        let mine = self
            .db
            .installation_file_bytes(&self.ident.installation_id)
            .await
            .map_err(internal)?;
        if mine + pending + size > self.limits.installation_file_bytes {
            return Err(Error::QuotaExceeded(format!(
                "file_quota: this app may keep {} bytes of files in a group",
                self.limits.installation_file_bytes
            )));
        }
        self.charge_effect(256)?;
        let row = FileRow {
            id: uuid::Uuid::new_v4().to_string(),
            group_id: self.ident.group_id.clone(),
            name,
            content_type: blob.content_type.clone(),
            size,
            sha256: blob.sha256.clone(),
            uploaded_by: None,
            created_by: Some(self.ident.installation_id.clone()),
            created_at: crate::store::now_ms(),
        };
        let out = info(&row);
        self.effects
            .files_created
            .push(NewFile { row, staged: blob });
        Ok(out)
    }

    async fn file_delete_impl(&mut self, id: String) -> Result<bool, Error> {
        self.check_size("file id", id.len(), 64)?;
        if let Some(at) = self
            .effects
            .files_created
            .iter()
            .position(|f| f.row.id == id)
        {
            self.effects.files_created.remove(at);
            return Ok(true);
        }
        if self.effects.files_released.contains(&id) {
            return Ok(false);
        }
        let holds = self.effects.files_held.contains(&id)
            || self
                .db
                .installation_holds(&self.ident.installation_id, &id)
                .await
                .map_err(internal)?;
        if !holds {
            return Ok(false);
        }
        self.charge_effect(64)?;
        self.effects.files_held.remove(&id);
        self.given_files.remove(&id);
        self.effects.files_released.insert(id);
        Ok(true)
    }
}

impl Host for InvocationState {
    async fn stat(&mut self, id: String) -> Result<FileInfo, Error> {
        capability_call!(
            self,
            Capability::Files,
            "files.stat",
            self.file_stat_impl(id)
        )
    }

    async fn read(&mut self, id: String, offset: u64, length: u32) -> Result<Vec<u8>, Error> {
        capability_call!(
            self,
            Capability::Files,
            "files.read",
            self.file_read_impl(id, offset, length)
        )
    }

    async fn create(&mut self, name: String) -> Result<u32, Error> {
        capability_call!(
            self,
            Capability::Files,
            "files.create",
            self.file_create_impl(name)
        )
    }

    async fn append(&mut self, upload: u32, bytes: Vec<u8>) -> Result<(), Error> {
        capability_call!(
            self,
            Capability::Files,
            "files.append",
            self.file_append_impl(upload, bytes)
        )
    }

    async fn finish(&mut self, upload: u32) -> Result<FileInfo, Error> {
        capability_call!(
            self,
            Capability::Files,
            "files.finish",
            self.file_finish_impl(upload)
        )
    }

    async fn delete(&mut self, id: String) -> Result<bool, Error> {
        capability_call!(
            self,
            Capability::Files,
            "files.delete",
            self.file_delete_impl(id)
        )
    }
}
