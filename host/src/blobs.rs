//! Where file bytes live (issue 17): one [`ObjectStore`] — a local directory
//! (the embedded default, beside the SQLite file) or an S3-compatible bucket
//! (for hosts sharing PostgreSQL) — behind one small API.
//!
//! Bytes are content-addressed: a file's bytes are stored once under
//! `blobs/<sha256>`, however many files have them. New bytes are first
//! written to `staging/<uuid>` while their hash is computed; the commit that
//! creates the file moves them into place (see `store::files`). Which blobs
//! are still used is the database's to say (`blobs.refs`); [`Blobs::sweep`]
//! removes what nothing uses, and staging left behind by a crash.

use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use object_store::buffered::BufWriter;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

/// A failure of the blob store. Its message is for logs, never for clients.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// The object store failed.
    #[error("blob store: {0}")]
    Store(#[from] object_store::Error),
    /// Writing a staged upload failed.
    #[error("blob store write: {0}")]
    Io(#[from] std::io::Error),
    /// The configured location cannot be used.
    #[error("blob store configuration: {0}")]
    Config(String),
}

/// The blob store; cheap to clone.
#[derive(Clone, Debug)]
pub struct Blobs {
    store: Arc<dyn ObjectStore>,
    /// Shown in logs and `qun serve`'s start line.
    location: String,
    /// Bytes a staged upload buffers before it streams (S3 parts are at
    /// least 5 MiB; a directory needs little).
    write_buffer: usize,
}

/// Bytes being written to the staging area, hashed on the way.
pub struct Staged {
    writer: Option<BufWriter>,
    path: Path,
    hasher: Sha256,
    size: u64,
    /// The first bytes, to read the file's type from.
    head: Vec<u8>,
    /// The file's name (kept here for the caller).
    name: String,
}

/// Staged bytes, complete.
#[derive(Debug, Clone)]
pub struct StagedBlob {
    /// Where they are (`staging/<uuid>`).
    pub path: String,
    /// Their SHA-256, lowercase hex.
    pub sha256: String,
    /// How many.
    pub size: u64,
    /// Their type, read from the bytes.
    pub content_type: String,
}

/// How many leading bytes are kept to read a type from.
const HEAD_BYTES: usize = 8 * 1024;
/// Bytes buffered before a staged upload streams: S3's smallest part.
const S3_WRITE_BUFFER: usize = 5 * 1024 * 1024;
/// The same for a local directory.
const LOCAL_WRITE_BUFFER: usize = 256 * 1024;

impl Blobs {
    /// Bytes in the directory `dir` (created if missing).
    pub fn local(dir: &std::path::Path) -> Result<Blobs, BlobError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| BlobError::Config(format!("{}: {e}", dir.display())))?;
        let store = object_store::local::LocalFileSystem::new_with_prefix(dir)?;
        Ok(Blobs {
            store: Arc::new(store),
            location: dir.display().to_string(),
            write_buffer: LOCAL_WRITE_BUFFER,
        })
    }

    /// Bytes at `url`: `s3://bucket[/prefix]` (credentials, region and
    /// endpoint from the usual `AWS_*` environment variables, e.g.
    /// `AWS_ENDPOINT=http://127.0.0.1:9000` and `AWS_ALLOW_HTTP=true` for a
    /// local S3-compatible server), `file:///dir`, or a plain directory path.
    pub fn from_url(url: &str) -> Result<Blobs, BlobError> {
        if let Some(rest) = url.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            let s3 = object_store::aws::AmazonS3Builder::from_env()
                .with_bucket_name(bucket)
                .build()?;
            let store: Arc<dyn ObjectStore> = if prefix.trim_matches('/').is_empty() {
                Arc::new(s3)
            } else {
                Arc::new(object_store::prefix::PrefixStore::new(
                    s3,
                    prefix.trim_matches('/'),
                ))
            };
            return Ok(Blobs {
                store,
                location: url.to_string(),
                write_buffer: S3_WRITE_BUFFER,
            });
        }
        let dir = url.strip_prefix("file://").unwrap_or(url);
        if dir.is_empty() || dir.contains("://") {
            return Err(BlobError::Config(format!(
                "{url:?} is not a directory, file:///dir or s3://bucket URL"
            )));
        }
        Blobs::local(std::path::Path::new(dir))
    }

    /// Where the bytes are, for logs.
    pub fn location(&self) -> &str {
        &self.location
    }

    fn blob_path(sha256: &str) -> Path {
        Path::from(format!("blobs/{sha256}"))
    }

    /// Start writing new bytes to the staging area.
    pub fn stage(&self) -> Staged {
        let path = Path::from(format!("staging/{}", uuid::Uuid::new_v4()));
        Staged {
            writer: Some(BufWriter::with_capacity(
                self.store.clone(),
                path.clone(),
                self.write_buffer,
            )),
            path,
            hasher: Sha256::new(),
            size: 0,
            head: Vec::new(),
            name: String::new(),
        }
    }

    /// Make `blobs/<sha256>` hold the staged bytes, unless it already does.
    /// Called by the commit that creates a file, after it has counted the
    /// blob as used (so no sweep can remove it meanwhile).
    pub async fn place(&self, staged: &StagedBlob) -> Result<(), BlobError> {
        let target = Blobs::blob_path(&staged.sha256);
        match self.store.head(&target).await {
            Ok(meta) if meta.size == staged.size => return Ok(()),
            Ok(_) | Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        self.store
            .copy(&Path::from(staged.path.as_str()), &target)
            .await?;
        Ok(())
    }

    /// Remove staged bytes (after their commit, or instead of it).
    pub async fn discard(&self, path: &str) {
        match self.store.delete(&Path::from(path)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => tracing::warn!("could not remove staged bytes {path}: {e}"),
        }
    }

    /// Remove the bytes of `sha256` (the caller has made sure no file uses them).
    pub async fn remove(&self, sha256: &str) -> Result<(), BlobError> {
        match self.store.delete(&Blobs::blob_path(sha256)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// `range` of the bytes of `sha256` (all of them with `None`), as a stream.
    pub async fn read(
        &self,
        sha256: &str,
        range: Option<Range<u64>>,
    ) -> Result<BoxStream<'static, Result<Bytes, BlobError>>, BlobError> {
        let options = object_store::GetOptions::new().with_range(range);
        let result = self
            .store
            .get_opts(&Blobs::blob_path(sha256), options)
            .await?;
        Ok(result
            .into_stream()
            .map(|chunk| chunk.map_err(BlobError::from))
            .boxed())
    }

    /// `range` of staged bytes (a file created in the running invocation).
    pub async fn read_staged(&self, path: &str, range: Range<u64>) -> Result<Bytes, BlobError> {
        if range.start >= range.end {
            return Ok(Bytes::new());
        }
        Ok(self.store.get_range(&Path::from(path), range).await?)
    }

    /// `range` of the bytes of `sha256`, in memory (the caller bounds it).
    pub async fn read_range(&self, sha256: &str, range: Range<u64>) -> Result<Bytes, BlobError> {
        if range.start >= range.end {
            return Ok(Bytes::new());
        }
        Ok(self
            .store
            .get_range(&Blobs::blob_path(sha256), range)
            .await?)
    }

    /// Objects under `prefix` ("staging" or "blobs") last written before
    /// `before` (ms since the epoch): their names after the prefix.
    pub async fn older_than(&self, prefix: &str, before: i64) -> Result<Vec<String>, BlobError> {
        let mut out = Vec::new();
        let mut listing = self.store.list(Some(&Path::from(prefix)));
        while let Some(meta) = listing.next().await {
            let meta = meta?;
            if meta.last_modified.timestamp_millis() < before
                && let Some(name) = meta.location.filename()
            {
                out.push(name.to_string());
            }
        }
        Ok(out)
    }
}

impl Staged {
    /// Append `bytes`.
    pub async fn write(&mut self, bytes: &[u8]) -> Result<(), BlobError> {
        let writer = self
            .writer
            .as_mut()
            .ok_or_else(|| BlobError::Config("write after finish".into()))?;
        writer.write_all(bytes).await?;
        self.hasher.update(bytes);
        self.size += bytes.len() as u64;
        if self.head.len() < HEAD_BYTES {
            let room = HEAD_BYTES - self.head.len();
            self.head.extend_from_slice(&bytes[..bytes.len().min(room)]);
        }
        Ok(())
    }

    /// The same, named `name`.
    pub fn named(mut self, name: String) -> Staged {
        self.name = name;
        self
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Bytes written so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Where the bytes are staged.
    pub fn path(&self) -> String {
        self.path.to_string()
    }

    /// Finish writing: the staged bytes, their hash and type.
    pub async fn finish(mut self) -> Result<StagedBlob, BlobError> {
        if let Some(mut writer) = self.writer.take() {
            writer.shutdown().await?;
        }
        Ok(StagedBlob {
            path: self.path.to_string(),
            sha256: hex::encode(std::mem::take(&mut self.hasher).finalize()),
            size: self.size,
            content_type: content_type(&self.head),
        })
    }

    /// Give up: nothing of it stays.
    pub async fn abort(mut self, blobs: &Blobs) {
        if let Some(mut writer) = self.writer.take()
            && let Err(e) = writer.abort().await
        {
            tracing::warn!("could not abort a staged upload: {e}");
        }
        blobs.discard(self.path.as_ref()).await;
    }
}

/// A file's type, read from its first bytes: what `infer` recognises, else
/// `text/plain` for UTF-8 text without control characters, else
/// `application/octet-stream`. Never the uploader's word.
pub fn content_type(head: &[u8]) -> String {
    if let Some(kind) = infer::get(head) {
        return kind.mime_type().to_string();
    }
    if head.is_empty() {
        return "application/octet-stream".into();
    }
    // The head may end inside a character: judge the valid prefix.
    let text = match std::str::from_utf8(head) {
        Ok(t) => t,
        Err(e) if e.error_len().is_none() => {
            std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => return "application/octet-stream".into(),
    };
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t' | '\u{c}'));
    if plain {
        "text/plain".into()
    } else {
        "application/octet-stream".into()
    }
}

/// Types a browser may show inline (images that cannot carry script).
/// Everything else, SVG and HTML included, is served as an attachment.
pub fn is_inline_safe(content_type: &str) -> bool {
    matches!(
        content_type,
        "image/png" | "image/jpeg" | "image/gif" | "image/webp"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_come_from_the_bytes() {
        assert_eq!(content_type(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), "image/png");
        assert_eq!(content_type(b"%PDF-1.7\n"), "application/pdf");
        assert_eq!(content_type("plain words, 中文\n".as_bytes()), "text/plain");
        assert_eq!(
            content_type(b"\0\x01\x02binary"),
            "application/octet-stream"
        );
        // HTML is text to us: never rendered, always an attachment.
        assert!(!is_inline_safe(&content_type(
            b"<html><script>alert(1)</script>"
        )));
        assert!(!is_inline_safe("image/svg+xml"));
    }

    #[tokio::test]
    async fn equal_bytes_are_stored_once_and_staging_goes_away() {
        let dir = std::env::temp_dir().join(format!("qun-blobs-{}", uuid::Uuid::new_v4()));
        let blobs = Blobs::local(&dir).expect("blob dir");
        let mut staged = Vec::new();
        for _ in 0..2 {
            let mut s = blobs.stage();
            s.write(b"same bytes").await.expect("write");
            staged.push(s.finish().await.expect("finish"));
        }
        assert_eq!(staged[0].sha256, staged[1].sha256);
        for s in &staged {
            blobs.place(s).await.expect("place");
            blobs.discard(&s.path).await;
        }
        let stored: Vec<_> = std::fs::read_dir(dir.join("blobs"))
            .expect("blobs")
            .collect();
        assert_eq!(stored.len(), 1);
        let left: Vec<_> = std::fs::read_dir(dir.join("staging"))
            .map(|d| d.collect())
            .unwrap_or_default();
        assert!(left.is_empty());
        let bytes = blobs
            .read_range(&staged[0].sha256, 5..10)
            .await
            .expect("range");
        assert_eq!(&bytes[..], b"bytes");
        let _ = std::fs::remove_dir_all(dir);
    }
}
