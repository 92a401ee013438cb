//! An invocation's commit in one round trip on PostgreSQL (issue 12 item 2):
//! one call of the function `qun_commit` (migration 0018) checks what the
//! invocation read, ticks the installation's commit clock, checks again
//! that it may write (enabled, not suspended, its grants, its quotas),
//! writes its keys and timers and links its audit rows into their chain
//! (hashing them in SQL as [`AuditRecord::chained_hash`] does), all under
//! the installation's lock, autocommitted. A transaction would hold that
//! lock over six round trips; this holds it for the call.
//!
//! It takes the common shape only (keys read and written, timers, audit
//! rows of one chain); the caller commits anything else through a
//! [`super::WriteTx`], which takes the same lock. An invocation of that
//! shape that also posts messages calls `qun_commit_posting` (migration
//! 0019: the same, then the messages-per-minute limit) as the first
//! statement of a transaction ([`WriteTx::commit_at_once`]), inserts the
//! messages and commits.

use serde_json::json;
use sqlx::Row;

use super::{AuditRecord, Backend, Store, StoreError, WriteTx, conns, lock_key, now_ms};

/// What one invocation commits through [`Store::commit_at_once`].
pub struct AtOnce<'a> {
    /// The installation.
    pub installation_id: &'a str,
    /// The lock its commits take (see [`Store::begin_write_locked`]).
    pub lock: &'a str,
    /// Keys read and the version each had (`None`: absent).
    pub reads: Vec<(&'a str, Option<i64>)>,
    /// Keys written.
    pub puts: Vec<(&'a str, &'a [u8])>,
    /// Keys deleted.
    pub deletes: Vec<&'a str>,
    /// The grants the effects need.
    pub needs: Vec<&'a str>,
    /// Storage quotas: bytes, keys.
    pub storage_max: (i64, i64),
    /// Timers cancelled.
    pub cancels: Vec<&'a str>,
    /// Timers set: key, due (ms), payload, recurrence rule.
    pub timers: Vec<(&'a str, i64, &'a str, Option<&'a str>)>,
    /// At most this many pending timers.
    pub timers_max: i64,
    /// Audit rows.
    pub audit: &'a [AuditRecord],
    /// Messages the transaction goes on to post ([`WriteTx::commit_at_once`]).
    pub posting: Option<Posting>,
}

/// The messages-per-minute limit for a commit that posts messages.
pub struct Posting {
    /// How many messages it posts.
    pub messages: i64,
    /// At most this many an installation's messages in a minute...
    pub max: i64,
    /// ... counted from this time (ms).
    pub since: i64,
}

/// Why [`Store::commit_at_once`] wrote nothing.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// A key read has changed since.
    Conflict,
    /// The installation no longer exists.
    Gone,
    /// The installation was disabled.
    Disabled,
    /// Its app was suspended.
    Suspended,
    /// This grant is no longer held.
    Revoked(String),
    /// Over the storage bytes quota.
    Bytes,
    /// Over the storage keys quota.
    Keys,
    /// Over the pending timers limit.
    Timers,
    /// Over the messages-per-minute limit.
    Messages,
}

/// The installation after [`Store::commit_at_once`]: its commit clock and
/// storage use (bytes, keys).
#[derive(Debug)]
pub struct AtOnceDone {
    /// The commit clock (the version of the keys written).
    pub clock: i64,
    /// Storage use: bytes.
    pub bytes: i64,
    /// Storage use: keys.
    pub keys: i64,
}

impl Store {
    /// Commit `c` in one statement (see the module). `None` when that does
    /// not apply (SQLite, audit rows of several chains, messages to post):
    /// commit through a transaction instead; nothing was written.
    pub async fn commit_at_once(
        &self,
        c: &AtOnce<'_>,
    ) -> Result<Option<Result<AtOnceDone, Refusal>>, StoreError> {
        if self.backend != Backend::Postgres || c.posting.is_some() {
            return Ok(None);
        }
        let mut conn = self.conn().await?;
        Ok(match call(&mut conn, c).await? {
            Some(Ok((done, moved))) => {
                if let Some((chain, seq, head)) = moved {
                    self.heads.note(chain, seq, head);
                }
                Some(Ok(done))
            }
            Some(Err(refusal)) => Some(Err(refusal)),
            None => None,
        })
    }
}

impl WriteTx {
    /// [`Store::commit_at_once`] as this transaction's first statement
    /// (PostgreSQL): with [`AtOnce::posting`], the messages-per-minute limit
    /// is checked too, and the installation's lock is held until the
    /// transaction ends, so the caller inserts its messages and commits. On
    /// a refusal the transaction is aborted: drop it.
    pub async fn commit_at_once(
        &mut self,
        c: &AtOnce<'_>,
    ) -> Result<Option<Result<AtOnceDone, Refusal>>, StoreError> {
        if self.backend != Backend::Postgres {
            return Ok(None);
        }
        Ok(match call(&mut self.tx, c).await? {
            Some(Ok((done, moved))) => {
                self.moved_heads.extend(moved);
                self.locks.push(c.lock.to_string());
                Some(Ok(done))
            }
            Some(Err(refusal)) => Some(Err(refusal)),
            None => None,
        })
    }
}

/// One call of `qun_commit` (or `qun_commit_posting`) on `conn`: what it
/// did, with the audit chain's new head (chain, seq, head); `None` when `c`
/// does not fit it (audit rows of several chains).
#[allow(clippy::type_complexity)]
async fn call(
    conn: &mut conns::Conn,
    c: &AtOnce<'_>,
) -> Result<Option<Result<(AtOnceDone, Option<(String, i64, String)>), Refusal>>, StoreError> {
    let audit = match c.audit {
        [] => None,
        records => match super::audit::unlinked(records) {
            Some(rows) => Some(rows),
            None => return Ok(None),
        },
    };
    let put_bytes: usize = c.puts.iter().map(|(k, v)| k.len() + v.len()).sum();
    let mut body = json!({
        "lock": lock_key(c.lock),
        "installation": c.installation_id,
        "now": now_ms(),
        "reads": c.reads,
        "puts": c.puts.iter().map(|(k, v)| (k, hex::encode(v))).collect::<Vec<_>>(),
        "put_bytes": put_bytes,
        "deletes": c.deletes,
        "needs": c.needs,
        "bytes_max": c.storage_max.0,
        "keys_max": c.storage_max.1,
        "cancels": c.cancels,
        "timers": c.timers,
        "timers_max": c.timers_max,
    });
    if let Some(fields) = body.as_object_mut() {
        if let Some(audit) = audit {
            fields.insert("audit".into(), audit);
        }
        if let Some(posting) = &c.posting {
            fields.insert("messages".into(), posting.messages.into());
            fields.insert("messages_max".into(), posting.max.into());
            fields.insert("since".into(), posting.since.into());
        }
    }
    let sql = match c.posting {
        None => {
            "SELECT clock, bytes, keys, audit_seq, audit_head FROM qun_commit(CAST($1 AS jsonb))"
        }
        Some(_) => {
            "SELECT clock, bytes, keys, audit_seq, audit_head FROM qun_commit_posting(CAST($1 AS jsonb))"
        }
    };
    let answer = sqlx::query(sql)
        .bind(body.to_string())
        .fetch_one(&mut **conn)
        .await;
    let row = match answer {
        Ok(row) => row,
        Err(sqlx::Error::Database(e)) => {
            let refusal = match e.code().as_deref() {
                Some("QU001") => Refusal::Conflict,
                Some("QU002") => Refusal::Gone,
                Some("QU003") => Refusal::Disabled,
                Some("QU004") => Refusal::Suspended,
                Some("QU005") => Refusal::Revoked(e.message().to_string()),
                Some("QU006") => Refusal::Bytes,
                Some("QU007") => Refusal::Keys,
                Some("QU008") => Refusal::Timers,
                Some("QU009") => Refusal::Messages,
                _ => return Err(sqlx::Error::Database(e).into()),
            };
            return Ok(Some(Err(refusal)));
        }
        Err(e) => return Err(e.into()),
    };
    // The head the audit rows moved the chain to, for the next append
    // through a transaction.
    let moved = match (c.audit.first(), row.try_get("audit_seq")?) {
        (Some(record), Some(seq)) => Some((record.chain(), seq, row.try_get("audit_head")?)),
        _ => None,
    };
    Ok(Some(Ok((
        AtOnceDone {
            clock: row.try_get("clock")?,
            bytes: row.try_get("bytes")?,
            keys: row.try_get("keys")?,
        },
        moved,
    ))))
}
