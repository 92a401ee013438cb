//! Capability `files`: files members give this app, and files it keeps.
//!
//! A member gives the app a file by choosing it in a form's file input
//! ([`Input::file`](crate::Input::file); read the ids with
//! [`Submission::files`](crate::Submission::files)) or by attaching it to a
//! message the app hears about ([`PostedMessage::files`](crate::PostedMessage)).
//! The app may read such a file in that invocation; when the invocation
//! succeeds the file becomes this installation's own, so the app can read it
//! later and show it in messages ([`Message::file`](crate::Message::file),
//! [`Message::image`](crate::Message::image)).
//!
//! Files the app creates ([`create`], [`FileWriter`]) exist only if the
//! invocation succeeds: one that fails leaves no file behind. Every file
//! counts toward this installation's and the group's file quota
//! (`quota-exceeded` names the one reached). The host reads a file's type
//! from its bytes, never from its name.
//!
//! ```
//! # use qun_sdk::prelude::*;
//! # struct Album;
//! # impl App for Album { fn describe() -> Describe { Describe::new("album", "Album") } }
//! # let mut group = qun_sdk::testing::TestGroup::<Album>::new();
//! # group.run(None, |_ctx| {
//! let info = files::create("notes.txt", b"remember the milk")?;
//! assert_eq!(info.content_type, "text/plain");
//! assert_eq!(files::read_all(&info.id)?, b"remember the milk");
//! let card = Message::new("Notes").file(&info.id);
//! # let _ = card;
//! # Ok(()) }).unwrap();
//! ```

use std::io;

use crate::{Error, Result, Timestamp, sys};

/// The most bytes one [`read`] returns and one append sends: 1 MiB.
pub const MAX_CHUNK: u32 = 1 << 20;

/// The largest file [`read_all`] reads into memory: 16 MiB (read larger
/// files piece by piece with [`read`]).
pub const MAX_READ_ALL: u64 = 16 << 20;

/// What the host knows about a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileInfo {
    /// The file's id: pass it to [`read`], or to a `file` or `image` block.
    pub id: String,
    /// Its name, as the member or the app gave it.
    pub name: String,
    /// Its type, read by the host from the bytes ("image/png",
    /// "application/pdf", "text/plain"; "application/octet-stream" when
    /// unknown).
    pub content_type: String,
    /// Its size in bytes.
    pub size: u64,
    /// The SHA-256 of its bytes, lowercase hex.
    pub sha256: String,
    /// The member who uploaded it; `None` for a file an app created.
    pub uploaded_by: Option<String>,
    /// When it was uploaded or created.
    pub created_at: Timestamp,
}

/// The image types an `image` block shows.
pub const IMAGE_TYPES: [&str; 4] = ["image/png", "image/jpeg", "image/gif", "image/webp"];

impl FileInfo {
    /// True for a type an `image` block shows (PNG, JPEG, GIF, WebP); show
    /// any other file with a `file` block.
    pub fn is_image(&self) -> bool {
        IMAGE_TYPES.contains(&self.content_type.as_str())
    }
}

/// The file `id`: one given to the app in this invocation or one of this
/// installation's own; `not-found` for any other.
pub fn stat(id: &str) -> Result<FileInfo> {
    sys::files::stat(id)
}

/// Up to `length` bytes (at most [`MAX_CHUNK`]) of the file from `offset`;
/// fewer at its end, none past it. Same files as [`stat`].
pub fn read(id: &str, offset: u64, length: u32) -> Result<Vec<u8>> {
    sys::files::read(id, offset, length)
}

/// The whole file, read [`MAX_CHUNK`] at a time; `invalid` for a file larger
/// than [`MAX_READ_ALL`].
pub fn read_all(id: &str) -> Result<Vec<u8>> {
    let info = stat(id)?;
    if info.size > MAX_READ_ALL {
        return Err(Error::invalid(format!(
            "file `{id}` is {} bytes; read_all reads at most {MAX_READ_ALL}, read it in pieces with files::read",
            info.size
        )));
    }
    let size = usize::try_from(info.size)
        .map_err(|_| Error::invalid(format!("file `{id}` is too large to read")))?;
    let mut bytes = Vec::with_capacity(size);
    while (bytes.len() as u64) < info.size {
        let left = info.size - bytes.len() as u64;
        let length = u32::try_from(left.min(u64::from(MAX_CHUNK))).unwrap_or(MAX_CHUNK);
        let piece = read(id, bytes.len() as u64, length)?;
        if piece.is_empty() {
            // Shorter than its size said: what there is.
            break;
        }
        // Never more than asked for, whatever comes back.
        let take = piece.len().min(length as usize);
        bytes.extend_from_slice(&piece[..take]);
    }
    Ok(bytes)
}

/// Creates a file called `name` holding `bytes` (sent [`MAX_CHUNK`] at a
/// time): the new file, which exists once the invocation succeeds (its id
/// can already be shown in this invocation's messages).
pub fn create(name: &str, bytes: &[u8]) -> Result<FileInfo> {
    let mut writer = FileWriter::create(name)?;
    writer.write(bytes)?;
    writer.finish()
}

/// Lets go of one of this installation's files; true if it held it. A file
/// the app created is deleted (messages that show it then show it as
/// deleted); a file a member uploaded stays theirs and no longer counts
/// toward the app's quota.
pub fn delete(id: &str) -> Result<bool> {
    sys::files::delete(id)
}

/// A file being written, piece by piece: [`create`](FileWriter::create),
/// [`write`](FileWriter::write) as often as needed, then
/// [`finish`](FileWriter::finish). Writes are gathered and sent to the host
/// [`MAX_CHUNK`] at a time. A writer dropped without `finish` leaves no file.
/// It is also an [`io::Write`] (the SDK's error inside the `io::Error`).
///
/// ```
/// # use qun_sdk::prelude::*;
/// # struct Export;
/// # impl App for Export { fn describe() -> Describe { Describe::new("export", "Export") } }
/// # let mut group = qun_sdk::testing::TestGroup::<Export>::new();
/// # group.run(None, |_ctx| {
/// let mut csv = files::FileWriter::create("scores.csv")?;
/// for (name, score) in [("Ann", 90), ("Bob", 85)] {
///     csv.write(format!("{name},{score}\n").as_bytes())?;
/// }
/// let info = csv.finish()?;
/// assert_eq!(info.size, 14);
/// # Ok(()) }).unwrap();
/// ```
#[derive(Debug)]
pub struct FileWriter {
    upload: u32,
    buffer: Vec<u8>,
    written: u64,
}

impl FileWriter {
    /// Starts writing a new file called `name`.
    pub fn create(name: &str) -> Result<Self> {
        Ok(Self {
            upload: sys::files::create(name)?,
            buffer: Vec::new(),
            written: 0,
        })
    }

    /// Adds `bytes` to the end of the file.
    pub fn write(&mut self, mut bytes: &[u8]) -> Result<()> {
        let chunk = MAX_CHUNK as usize;
        while !bytes.is_empty() {
            let room = chunk - self.buffer.len();
            let (now, rest) = bytes.split_at(room.min(bytes.len()));
            self.buffer.extend_from_slice(now);
            self.written += now.len() as u64;
            bytes = rest;
            if self.buffer.len() >= chunk {
                self.flush_buffer()?;
            }
        }
        Ok(())
    }

    /// How many bytes were written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Ends the file: the new file, which exists once the invocation succeeds.
    pub fn finish(mut self) -> Result<FileInfo> {
        self.flush_buffer()?;
        sys::files::finish(self.upload)
    }

    fn flush_buffer(&mut self) -> Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        sys::files::append(self.upload, &self.buffer)?;
        self.buffer.clear();
        Ok(())
    }
}

impl io::Write for FileWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        FileWriter::write(self, buf).map_err(io::Error::other)?;
        Ok(buf.len())
    }

    /// Sends what is gathered so far to the host.
    fn flush(&mut self) -> io::Result<()> {
        self.flush_buffer().map_err(io::Error::other)
    }
}
