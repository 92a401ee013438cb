//! Implementation of the `qun:app/storage` interface.
//!
//! Reads go to the database (or this host's cache of it, `store::kv_cache`)
//! and are remembered (key and version) in the invocation's effects; writes
//! are buffered there. Reads see the buffer.
//! At commit the host checks that nothing it read has changed since, and
//! re-runs the invocation if it has (see `runtime::effects`).

use super::generated::qun::app::storage::{Entry, EntryPage, Host};
use super::{Capability, Error, capability_call, internal};
use crate::runtime::InvocationState;
use crate::store::{KvRow, ListQuery};

impl InvocationState {
    fn check_key(&self, key: &str) -> Result<(), Error> {
        if key.is_empty() {
            return Err(Error::Invalid("a storage key must not be empty".into()));
        }
        self.check_size("storage key", key.len(), self.limits.key_bytes)?;
        self.check_text("storage key", key)
    }

    /// The committed row of `key` as this invocation first saw it.
    async fn committed(&mut self, key: &str) -> Result<Option<KvRow>, Error> {
        if let Some(seen) = self.effects.reads.get(key) {
            return Ok(seen.clone());
        }
        let inst = &self.ident.installation_id;
        let row = match self.db.kv_cache().get(inst, key) {
            // Checked against the database before the answer counts (see
            // `store::kv_cache`).
            Ok(row) => {
                self.effects.cached_reads.insert(key.to_string());
                row
            }
            Err(ticket) => {
                let row = self.db.kv_get(inst, key).await.map_err(internal)?;
                self.db.kv_cache().put(ticket, inst, key, &row);
                row
            }
        };
        self.effects.reads.insert(key.to_string(), row.clone());
        Ok(row)
    }

    /// The value of `key` as this invocation sees it (its own writes first).
    async fn visible(&mut self, key: &str) -> Result<Option<Vec<u8>>, Error> {
        if let Some(written) = self.effects.writes.get(key) {
            return Ok(written.clone());
        }
        Ok(self.committed(key).await?.map(|row| row.value))
    }

    /// Storage use (bytes, keys) if `key` were written with a value of
    /// `new_size` bytes on top of the buffer; keys of unknown old size count
    /// as absent.
    fn projected_usage(&self, key: &str, new_size: Option<i64>) -> (i64, i64) {
        let delta = self.effects.usage_delta_with(key, new_size);
        (self.usage.0 + delta.0, self.usage.1 + delta.1)
    }

    fn over_quota(&self, (bytes, keys): (i64, i64)) -> bool {
        bytes > self.limits.storage_bytes || keys > self.limits.storage_keys
    }

    /// Buffer a write after checking sizes and the quota.
    async fn buffer_write(&mut self, key: String, value: Option<Vec<u8>>) -> Result<(), Error> {
        if let Some(value) = &value {
            self.check_size("storage value", value.len(), self.limits.value_bytes)?;
        }
        if !self.effects.old_sizes.contains_key(&key)
            && let Some(seen) = self.effects.reads.get(&key)
        {
            let old = seen
                .as_ref()
                .map(|row| (row.key.len() + row.value.len()) as i64);
            self.effects.old_sizes.insert(key.clone(), old);
        }
        let new_size = value.as_ref().map(|v| (key.len() + v.len()) as i64);
        // A key whose old size is not known counts as absent: the most the
        // write can add. Only when that would break a quota are the old sizes
        // read (a write that replaces a value needs no round trip first).
        let mut projected = self.projected_usage(&key, new_size);
        if self.over_quota(projected) {
            let unknown: std::collections::BTreeSet<String> = std::iter::once(&key)
                .chain(self.effects.writes.keys())
                .filter(|k| !self.effects.old_sizes.contains_key(*k))
                .cloned()
                .collect();
            for k in unknown {
                let old = self
                    .db
                    .kv_get(&self.ident.installation_id, &k)
                    .await
                    .map_err(internal)?
                    .map(|row| (row.key.len() + row.value.len()) as i64);
                self.effects.old_sizes.insert(k, old);
            }
            projected = self.projected_usage(&key, new_size);
        }
        if projected.0 > self.limits.storage_bytes {
            return Err(Error::QuotaExceeded(format!(
                "this installation may keep {} bytes of data",
                self.limits.storage_bytes
            )));
        }
        if projected.1 > self.limits.storage_keys {
            return Err(Error::QuotaExceeded(format!(
                "this installation may keep {} keys",
                self.limits.storage_keys
            )));
        }
        self.charge_effect(key.len() + value.as_ref().map_or(0, |v| v.len()))?;
        self.effects.writes.insert(key, value);
        Ok(())
    }

    async fn get_impl(&mut self, key: String) -> Result<Option<Vec<u8>>, Error> {
        self.check_key(&key)?;
        self.visible(&key).await
    }

    async fn set_impl(&mut self, key: String, value: Vec<u8>) -> Result<(), Error> {
        self.check_key(&key)?;
        self.buffer_write(key, Some(value)).await
    }

    async fn delete_impl(&mut self, key: String) -> Result<bool, Error> {
        self.check_key(&key)?;
        let existed = self.visible(&key).await?.is_some();
        self.buffer_write(key, None).await?;
        Ok(existed)
    }

    async fn compare_and_swap_impl(
        &mut self,
        key: String,
        expected: Option<Vec<u8>>,
        new: Option<Vec<u8>>,
    ) -> Result<bool, Error> {
        self.check_key(&key)?;
        if self.visible(&key).await? != expected {
            return Ok(false);
        }
        self.buffer_write(key, new).await?;
        Ok(true)
    }

    async fn list_impl(
        &mut self,
        prefix: String,
        cursor: Option<String>,
        limit: u32,
    ) -> Result<EntryPage, Error> {
        self.check_size("storage prefix", prefix.len(), self.limits.key_bytes)?;
        self.check_text("storage prefix", &prefix)?;
        let limit = limit.clamp(1, self.limits.page_size) as usize;
        let after = cursor.filter(|c| !c.is_empty());
        let in_range =
            |key: &str| key.starts_with(&prefix) && after.as_deref().is_none_or(|a| key > a);

        // Fetch enough committed rows that, after dropping the keys this
        // invocation deleted, a full page (plus one, to know there is more) remains.
        let deleted = self
            .effects
            .writes
            .iter()
            .filter(|(k, v)| v.is_none() && in_range(k))
            .count();
        let query = ListQuery {
            prefix: prefix.clone(),
            after: after.clone(),
            limit: (limit + deleted + 1) as u32,
        };
        let rows = self
            .db
            .kv_list(&self.ident.installation_id, &query)
            .await
            .map_err(internal)?;
        let exhausted = rows.len() < query.limit as usize;
        self.effects.lists.push((
            query,
            rows.iter().map(|r| (r.key.clone(), r.version)).collect(),
        ));

        // Committed rows only cover keys up to the last one fetched; buffered
        // keys beyond it belong to a later page.
        let bound = if exhausted {
            None
        } else {
            rows.last().map(|r| r.key.clone())
        };
        let mut merged: std::collections::BTreeMap<String, Vec<u8>> =
            rows.into_iter().map(|r| (r.key, r.value)).collect();
        for (key, value) in &self.effects.writes {
            if !in_range(key) || bound.as_ref().is_some_and(|b| key > b) {
                continue;
            }
            match value {
                Some(v) => merged.insert(key.clone(), v.clone()),
                None => merged.remove(key),
            };
        }
        let more = merged.len() > limit || !exhausted;
        let entries: Vec<Entry> = merged
            .into_iter()
            .take(limit)
            .map(|(key, value)| Entry { key, value })
            .collect();
        let next_cursor = if more {
            entries.last().map(|e| e.key.clone())
        } else {
            None
        };
        Ok(EntryPage {
            entries,
            next_cursor,
        })
    }
}

impl Host for InvocationState {
    async fn get(&mut self, key: String) -> Result<Option<Vec<u8>>, Error> {
        capability_call!(self, Capability::Storage, "storage.get", self.get_impl(key))
    }

    async fn set(&mut self, key: String, value: Vec<u8>) -> Result<(), Error> {
        capability_call!(
            self,
            Capability::Storage,
            "storage.set",
            self.set_impl(key, value)
        )
    }

    async fn delete(&mut self, key: String) -> Result<bool, Error> {
        capability_call!(
            self,
            Capability::Storage,
            "storage.delete",
            self.delete_impl(key)
        )
    }

    async fn list(
        &mut self,
        prefix: String,
        cursor: Option<String>,
        limit: u32,
    ) -> Result<EntryPage, Error> {
        capability_call!(
            self,
            Capability::Storage,
            "storage.list",
            self.list_impl(prefix, cursor, limit)
        )
    }

    async fn compare_and_swap(
        &mut self,
        key: String,
        expected: Option<Vec<u8>>,
        new: Option<Vec<u8>>,
    ) -> Result<bool, Error> {
        capability_call!(
            self,
            Capability::Storage,
            "storage.compare-and-swap",
            self.compare_and_swap_impl(key, expected, new)
        )
    }
}
