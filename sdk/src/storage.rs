//! Capability `storage`: this installation's own key-value data.
//!
//! Keys are strings, values bytes; the `_json` helpers store any serde type.
//! Writes take effect when the invocation succeeds and vanish when it fails;
//! reads see the invocation's own earlier writes. Concurrent invocations that
//! write what another one read are re-run by the host, so a read-modify-write
//! is safe; still, give independent writers independent keys (one key per
//! member, say) so they never have to be re-run.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{Error, Result, sys};

/// A key and its value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The key.
    pub key: String,
    /// The value.
    pub value: Vec<u8>,
}

/// One page of entries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page {
    /// Entries ordered by key.
    pub entries: Vec<Entry>,
    /// Pass to [`list`] for the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// The most entries [`list`] returns at once.
pub const MAX_PAGE: u32 = 1000;

/// The value of `key`, or `None`.
pub fn get(key: &str) -> Result<Option<Vec<u8>>> {
    sys::storage::get(key)
}

/// Sets `key` to `value`.
pub fn set(key: &str, value: &[u8]) -> Result<()> {
    sys::storage::set(key, value)
}

/// Deletes `key`; true if it existed.
pub fn delete(key: &str) -> Result<bool> {
    sys::storage::delete(key)
}

/// Entries whose key starts with `prefix`, `limit` (at most [`MAX_PAGE`]) at a
/// time, after `cursor` (`None` for the first page).
pub fn list(prefix: &str, cursor: Option<&str>, limit: u32) -> Result<Page> {
    sys::storage::list(prefix, cursor, limit)
}

/// Sets `key` to `new` (`None` deletes it) only if its value is `expected`
/// (`None`: the key must not exist). True if it was swapped.
pub fn compare_and_swap(key: &str, expected: Option<&[u8]>, new: Option<&[u8]>) -> Result<bool> {
    sys::storage::compare_and_swap(key, expected, new)
}

/// Every entry whose key starts with `prefix`, following the pages.
pub fn list_all(prefix: &str) -> Result<Vec<Entry>> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = list(prefix, cursor.as_deref(), MAX_PAGE)?;
        all.extend(page.entries);
        match page.next_cursor {
            Some(next) if Some(&next) != cursor.as_ref() => cursor = Some(next),
            _ => return Ok(all),
        }
    }
}

/// The value of `key` read as JSON into `T`, or `None`.
pub fn get_json<T: DeserializeOwned>(key: &str) -> Result<Option<T>> {
    get(key)?.map(|bytes| decode(key, &bytes)).transpose()
}

/// Sets `key` to `value` serialised as JSON.
pub fn set_json<T: Serialize + ?Sized>(key: &str, value: &T) -> Result<()> {
    set(key, &encode(value)?)
}

/// Every entry under `prefix` read as JSON into `T`, with its key.
pub fn list_json<T: DeserializeOwned>(prefix: &str) -> Result<Vec<(String, T)>> {
    list_all(prefix)?
        .into_iter()
        .map(|entry| {
            let value = decode(&entry.key, &entry.value)?;
            Ok((entry.key, value))
        })
        .collect()
}

/// Reads `key` as JSON, lets `f` change it (starting from `T::default()` when
/// absent), writes it back and returns the new value.
pub fn update_json<T, F>(key: &str, f: F) -> Result<T>
where
    T: Serialize + DeserializeOwned + Default,
    F: FnOnce(&mut T) -> Result<()>,
{
    let mut value = get_json(key)?.unwrap_or_default();
    f(&mut value)?;
    set_json(key, &value)?;
    Ok(value)
}

/// Takes the next number ("1", "2", ...) of the counter kept at `key`.
/// The host re-runs an invocation whose reads changed under it, so two
/// concurrent invocations never get the same number.
pub fn next_id(key: &str) -> Result<String> {
    let next = update_json(key, |n: &mut u64| {
        *n += 1;
        Ok(())
    })?;
    Ok(next.to_string())
}

fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(value)
        .map_err(|err| Error::internal(format!("cannot serialise a value to JSON: {err}")))
}

// A stored value the app cannot read back is the app's bug, not the caller's.
fn decode<T: DeserializeOwned>(key: &str, bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|err| {
        Error::internal(format!(
            "stored value `{key}` does not read as expected: {err}"
        ))
    })
}
