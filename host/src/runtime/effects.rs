//! What one invocation wants to change, buffered until it returns `ok`, and
//! the commit that applies it atomically.
//!
//! Concurrency control is optimistic: the invocation remembers the version
//! of every key (and every listed range) it read; the commit, serialised per
//! installation, checks that none changed and otherwise reports a conflict so
//! the invocation is re-run. No database transaction is open while guest code
//! runs.

use std::collections::{BTreeMap, HashMap};

use crate::limits::Limits;
use crate::store::{
    AtOnce, AuditRecord, Backend, KvRow, KvSnapshot, ListQuery, LogLine, NewMessage, PageSeen,
    PaymentError, PaymentRecord, Posting, Refusal, Store, StoreError, Ticked, Timer, WriteTx,
    kv_snapshot_is_one_statement, now_ms,
};

/// A group message (or a private reply) to store on commit.
#[derive(Debug, Clone, PartialEq)]
pub struct OutMessage {
    /// The id given out while the invocation ran (`None`: taken at commit,
    /// for a command's reply).
    pub id: Option<i64>,
    /// What it shows.
    pub message: qun_blocks::Message,
    /// A `qun:app@0.1.0` card as that contract's clients read it (kept
    /// beside the blocks it was turned into).
    pub card: Option<serde_json::Value>,
    /// The one member who sees it (a private reply); `None`: the group.
    pub visible_to: Option<String>,
}

/// A direct message to send on commit.
#[derive(Debug, Clone)]
pub struct OutDirect {
    /// Recipient (checked to be a member when buffered).
    pub to: String,
    /// What it shows.
    pub message: qun_blocks::Message,
    /// A `qun:app@0.1.0` card, as in [`OutMessage::card`].
    pub card: Option<serde_json::Value>,
}

/// Buffered effects of one invocation attempt.
#[derive(Debug, Default)]
pub struct Effects {
    /// Committed rows read, by key (`None`: the key was absent).
    pub reads: HashMap<String, Option<KvRow>>,
    /// The keys of `reads` that came from this host's cache: they are
    /// checked against the database even when nothing is written.
    pub cached_reads: std::collections::BTreeSet<String>,
    /// Ranges listed and the (key, version) pairs they returned.
    pub lists: Vec<(ListQuery, Vec<(String, i64)>)>,
    /// Size (key + value) each written key had before this invocation.
    pub old_sizes: HashMap<String, Option<i64>>,
    /// Storage writes (`None` deletes).
    pub writes: BTreeMap<String, Option<Vec<u8>>>,
    /// Group messages to post.
    pub messages: Vec<OutMessage>,
    /// Direct messages to send.
    pub directs: Vec<OutDirect>,
    /// Stored messages of this installation to replace, by id.
    pub updates: BTreeMap<i64, qun_blocks::Message>,
    /// Stored messages of this installation to delete.
    pub deletes: std::collections::BTreeSet<i64>,
    /// Timers to schedule (`Some((due, payload, recurrence rule JSON))`)
    /// or cancel (`None`).
    pub timers: BTreeMap<String, Option<(i64, String, Option<String>)>>,
    /// Payment requests to store (pending).
    pub payments: Vec<PaymentRecord>,
    /// Refunds to make: (payment id, amount, idempotency key).
    pub refunds: Vec<(String, i64, String)>,
    /// The outbox event this invocation delivers: marked delivered in the
    /// same transaction, so its effects are applied at most once.
    pub delivers: Option<i64>,
    /// The grants these effects need, checked again inside the commit
    /// (issue 10, item 8).
    pub needs: Vec<crate::capabilities::Capability>,
    // Issue 17.
    /// Files the app created (their bytes staged), stored on commit.
    pub files_created: Vec<NewFile>,
    /// Files the installation lets go of.
    pub files_released: std::collections::BTreeSet<String>,
    /// Files given in this invocation that the installation holds from now on.
    pub files_held: std::collections::BTreeSet<String>,
}

/// A file an app created in this invocation.
#[derive(Debug, Clone)]
pub struct NewFile {
    /// Its metadata (`created_by` set).
    pub row: crate::store::FileRow,
    /// Its staged bytes.
    pub staged: crate::blobs::StagedBlob,
}

/// The capabilities the buffered effects need (a command's reply needs none,
/// so call this before adding it).
pub fn needed_grants(effects: &Effects) -> Vec<crate::capabilities::Capability> {
    use crate::capabilities::Capability;
    let mut needs = Vec::new();
    if !effects.writes.is_empty() {
        needs.push(Capability::Storage);
    }
    if !effects.messages.is_empty()
        || !effects.directs.is_empty()
        || !effects.updates.is_empty()
        || !effects.deletes.is_empty()
    {
        needs.push(Capability::Messaging);
    }
    if !effects.timers.is_empty() {
        needs.push(Capability::Scheduler);
    }
    if !effects.payments.is_empty() || !effects.refunds.is_empty() {
        needs.push(Capability::Payments);
    }
    if !effects.files_created.is_empty()
        || !effects.files_released.is_empty()
        || !effects.files_held.is_empty()
    {
        needs.push(Capability::Files);
    }
    needs
}

impl Effects {
    /// Change in (bytes, keys) of storage use if `key` were written with a
    /// value of `new_size` bytes (`None`: deleted) on top of the buffer.
    pub fn usage_delta_with(&self, key: &str, new_size: Option<i64>) -> (i64, i64) {
        let mut delta = (0, 0);
        let mut add = |old: Option<i64>, new: Option<i64>| {
            delta.0 += new.unwrap_or(0) - old.unwrap_or(0);
            delta.1 += i64::from(new.is_some()) - i64::from(old.is_some());
        };
        for (k, v) in &self.writes {
            if k != key {
                let old = self.old_sizes.get(k).copied().flatten();
                add(old, v.as_ref().map(|v| (k.len() + v.len()) as i64));
            }
        }
        add(self.old_sizes.get(key).copied().flatten(), new_size);
        delta
    }

    /// Whether committing would change anything besides audit and log rows.
    pub fn is_empty(&self) -> bool {
        self.writes.is_empty()
            && self.messages.is_empty()
            && self.directs.is_empty()
            && self.updates.is_empty()
            && self.deletes.is_empty()
            && self.timers.is_empty()
            && self.payments.is_empty()
            && self.refunds.is_empty()
            && self.files_created.is_empty()
            && self.files_released.is_empty()
            && self.files_held.is_empty()
    }
}

/// Who an invocation runs for; filled from the store, never from the guest.
#[derive(Debug, Clone)]
pub struct Identity {
    /// The group.
    pub group_id: String,
    /// The installation.
    pub installation_id: String,
    /// Its app.
    pub app_slug: String,
    /// The app version running.
    pub app_version: String,
    /// The member the invocation runs for.
    pub actor: Option<String>,
}

impl Identity {
    /// No group, no installation, no actor: for `describe` and dry runs.
    pub fn nobody(app_slug: &str, app_version: &str) -> Identity {
        Identity {
            group_id: String::new(),
            installation_id: String::new(),
            app_slug: app_slug.to_string(),
            app_version: app_version.to_string(),
            actor: None,
        }
    }
}

/// Why a commit did not happen.
#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    /// Something this invocation read changed; re-run it.
    #[error("storage read by this invocation changed before it could commit")]
    Conflict,
    /// A quota would be exceeded.
    #[error("{0}")]
    Quota(String),
    /// The installation was removed while the invocation ran.
    #[error("the installation was removed")]
    Gone,
    /// The event this invocation delivers was delivered (or parked) meanwhile.
    #[error("the event was already delivered")]
    Delivered,
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// What the invocation started from changed: its effects are dropped.
    #[error("{0}")]
    Dropped(String),
    /// Direct messages past the installation's per-minute bounds.
    #[error("{0}")]
    DmQuota(String),
}

/// What a commit stored, for the caller to announce.
#[derive(Debug, Clone, Default)]
pub struct Committed {
    /// Ids of the group messages posted.
    pub posted: Vec<i64>,
    /// Ids of messages updated or deleted.
    pub changed: Vec<i64>,
    /// Private replies: (message id, the member who sees it).
    pub private: Vec<(i64, String)>,
    /// The installation's commit clock after it, when it wrote storage:
    /// the version of every key it wrote.
    pub clock: Option<i64>,
}

/// Apply `effects` atomically, with the invocation's audit and log rows.
pub async fn commit(
    db: &Store,
    ident: &Identity,
    limits: &Limits,
    effects: &Effects,
    audit: &[AuditRecord],
    logs: &[LogLine],
) -> Result<Committed, CommitError> {
    let inst = ident.installation_id.as_str();
    if effects.is_empty()
        && effects.delivers.is_none()
        && effects.reads.is_empty()
        && effects.lists.is_empty()
        && audit.is_empty()
        && logs.is_empty()
    {
        // Nothing read, nothing to write: no transaction at all.
        return Ok(Committed::default());
    }
    let lock = format!("installation:{inst}");
    if let Some(done) = commit_at_once(db, ident, &lock, limits, effects, audit, logs).await? {
        return done;
    }
    // Refunds move money: their commit must survive power loss.
    let mut tx = if effects.refunds.is_empty() {
        db.begin_write_locked(&lock).await?
    } else {
        db.begin_durable_locked(&lock).await?
    };

    if let Some(event) = effects.delivers
        && !tx.mark_delivered(event).await?
    {
        return Err(CommitError::Delivered);
    }
    // What it read, and the sizes of the keys it writes, in one statement.
    let seen = read_back(&mut tx, inst, effects).await?;
    validate(&seen, effects)?;
    let mut done = Committed::default();
    let mut usage = None;
    if !effects.is_empty() {
        // With storage writes, the recheck comes back with the clock tick.
        if effects.writes.is_empty() {
            let now = tx.installation_now(inst).await?;
            recheck(now, effects, limits)?;
        }
        usage = apply_storage(&mut tx, inst, limits, effects, &seen).await?;
        check_directs(&mut tx, inst, limits, effects).await?;
        apply_timers(&mut tx, inst, limits, effects).await?;
        apply_payments(&mut tx, inst, effects).await?;
        apply_files(db, &mut tx, ident, limits, effects).await?;
        if !effects.messages.is_empty() {
            let since = now_ms() - 60_000;
            let sent = tx.messages_posted_since(inst, since).await?;
            if sent + effects.messages.len() as i64 > limits.messages_per_minute {
                return Err(refused(Refusal::Messages, limits));
            }
        }
        for dm in &effects.directs {
            tx.insert_direct(
                &ident.group_id,
                &dm.to,
                inst,
                Some(dm.message.text.as_str()).filter(|t| !t.is_empty()),
                dm.card.as_ref(),
                Some(&dm.message),
            )
            .await?;
        }
        // A message deleted meanwhile (by another invocation) stays deleted.
        for (id, message) in &effects.updates {
            if tx
                .update_message(&ident.group_id, inst, *id, message)
                .await?
            {
                done.changed.push(*id);
            }
        }
        for id in &effects.deletes {
            if tx.delete_message(&ident.group_id, inst, *id).await? {
                done.changed.push(*id);
            }
        }
    }
    tx.insert_audit(audit).await?;
    tx.insert_logs(logs).await?;
    post_messages(&mut tx, ident, effects, &mut done).await?;
    tx.commit().await?;
    if let Some((bytes, keys, clock)) = usage {
        db.cache().note_usage(inst, bytes, keys);
        done.clock = Some(clock);
    }
    Ok(done)
}

/// Group messages, last in their transaction: each takes its group's
/// message order lock (PostgreSQL), held until the commit right after
/// (issue 12 item 3).
async fn post_messages(
    tx: &mut WriteTx,
    ident: &Identity,
    effects: &Effects,
    done: &mut Committed,
) -> Result<(), CommitError> {
    for message in &effects.messages {
        let stored = tx
            .insert_message(&NewMessage {
                group_id: ident.group_id.clone(),
                user_id: None,
                installation_id: Some(ident.installation_id.clone()),
                text: Some(message.message.text.clone()).filter(|t| !t.is_empty()),
                card: message.card.clone(),
                blocks: Some(message.message.clone()),
                id: message.id,
                visible_to: message.visible_to.clone(),
            })
            .await?;
        match &message.visible_to {
            None => done.posted.push(stored.id),
            Some(member) => done.private.push((stored.id, member.clone())),
        }
    }
    Ok(())
}

/// The common shape of a commit (keys read and written, timers, audit) in
/// one round trip where the store can ([`Store::commit_at_once`]); with
/// messages without files, that call, the messages and the commit in one
/// transaction ([`WriteTx::commit_at_once`]). `None` when it cannot, and
/// nothing was written.
async fn commit_at_once(
    db: &Store,
    ident: &Identity,
    lock: &str,
    limits: &Limits,
    effects: &Effects,
    audit: &[AuditRecord],
    logs: &[LogLine],
) -> Result<Option<Result<Committed, CommitError>>, CommitError> {
    let common = db.backend() == Backend::Postgres
        && !effects.writes.is_empty()
        && effects.lists.is_empty()
        && effects.delivers.is_none()
        && (effects.messages.iter()).all(|m| m.message.files().next().is_none())
        && effects.directs.is_empty()
        && effects.updates.is_empty()
        && effects.deletes.is_empty()
        && effects.payments.is_empty()
        && effects.refunds.is_empty()
        && effects.files_created.is_empty()
        && effects.files_released.is_empty()
        && effects.files_held.is_empty()
        && logs.is_empty();
    if !common {
        return Ok(None);
    }
    let inst = ident.installation_id.as_str();
    let at_once = AtOnce {
        installation_id: inst,
        lock,
        reads: (effects.reads.iter())
            .map(|(key, row)| (key.as_str(), row.as_ref().map(|r| r.version)))
            .collect(),
        puts: (effects.writes.iter())
            .filter_map(|(key, value)| Some((key.as_str(), value.as_deref()?)))
            .collect(),
        deletes: (effects.writes.iter())
            .filter(|(_, value)| value.is_none())
            .map(|(key, _)| key.as_str())
            .collect(),
        needs: effects.needs.iter().map(|cap| cap.name()).collect(),
        storage_max: (limits.storage_bytes, limits.storage_keys),
        cancels: (effects.timers.iter())
            .filter(|(_, timer)| timer.is_none())
            .map(|(key, _)| key.as_str())
            .collect(),
        timers: (effects.timers.iter())
            .filter_map(|(key, timer)| {
                let (due, payload, rule) = timer.as_ref()?;
                Some((key.as_str(), *due, payload.as_str(), rule.as_deref()))
            })
            .collect(),
        timers_max: limits.pending_timers,
        audit,
        posting: (!effects.messages.is_empty()).then(|| Posting {
            messages: effects.messages.len() as i64,
            max: limits.messages_per_minute,
            since: now_ms() - 60_000,
        }),
    };
    if at_once.posting.is_some() {
        let mut tx = db.begin_write().await?;
        return Ok(match tx.commit_at_once(&at_once).await? {
            // Dropping the transaction rolls it back.
            None => None,
            Some(Err(why)) => Some(Err(refused(why, limits))),
            Some(Ok(usage)) => {
                let mut done = Committed {
                    clock: Some(usage.clock),
                    ..Committed::default()
                };
                post_messages(&mut tx, ident, effects, &mut done).await?;
                tx.commit().await?;
                db.cache().note_usage(inst, usage.bytes, usage.keys);
                Some(Ok(done))
            }
        });
    }
    Ok(match db.commit_at_once(&at_once).await? {
        None => None,
        Some(Ok(done)) => {
            db.cache().note_usage(inst, done.bytes, done.keys);
            Some(Ok(Committed {
                clock: Some(done.clock),
                ..Committed::default()
            }))
        }
        Some(Err(why)) => Some(Err(refused(why, limits))),
    })
}

/// Under the installation's lock: it still exists, is enabled, its app is
/// not suspended, and it still holds every grant its effects need.
/// Otherwise nothing is written.
fn recheck(
    now: Option<crate::store::InstallationNow>,
    effects: &Effects,
    limits: &Limits,
) -> Result<(), CommitError> {
    let Some(now) = now else {
        return Err(refused(Refusal::Gone, limits));
    };
    if !now.enabled {
        return Err(refused(Refusal::Disabled, limits));
    }
    if now.suspended {
        return Err(refused(Refusal::Suspended, limits));
    }
    for cap in &effects.needs {
        if !now.grants.iter().any(|g| g == cap.name()) {
            return Err(refused(Refusal::Revoked(cap.name().into()), limits));
        }
    }
    Ok(())
}

/// The error a commit refused for `why` answers with.
fn refused(why: Refusal, limits: &Limits) -> CommitError {
    match why {
        Refusal::Conflict => CommitError::Conflict,
        Refusal::Gone => CommitError::Dropped("the app was uninstalled while it ran".into()),
        Refusal::Disabled => {
            CommitError::Dropped("the app was disabled in this group while it ran".into())
        }
        Refusal::Suspended => {
            CommitError::Dropped("the app was suspended by the platform while it ran".into())
        }
        Refusal::Revoked(cap) => CommitError::Dropped(format!(
            "the group owner revoked the `{cap}` capability while the app ran"
        )),
        Refusal::Bytes => CommitError::Quota(format!(
            "this installation may keep {} bytes of data",
            limits.storage_bytes
        )),
        Refusal::Keys => CommitError::Quota(format!(
            "this installation may keep {} keys",
            limits.storage_keys
        )),
        Refusal::Timers => CommitError::Quota(format!(
            "this installation may have {} pending timers",
            limits.pending_timers
        )),
        Refusal::Messages => CommitError::Quota(format!(
            "this app may post {} messages per minute in a group",
            limits.messages_per_minute
        )),
    }
}

/// The direct-message bounds, counted again inside the commit (other
/// invocations of the installation may have sent some meanwhile).
async fn check_directs(
    tx: &mut WriteTx,
    inst: &str,
    limits: &Limits,
    effects: &Effects,
) -> Result<(), CommitError> {
    if effects.directs.is_empty() {
        return Ok(());
    }
    let recent = tx.directs_sent_since(inst, now_ms() - 60_000).await?;
    let mut per: HashMap<&str, i64> = recent.iter().map(|(to, n)| (to.as_str(), *n)).collect();
    let mut all: i64 = recent.iter().map(|(_, n)| n).sum();
    for dm in &effects.directs {
        all += 1;
        let to = per.entry(dm.to.as_str()).or_default();
        *to += 1;
        if all > limits.dms_per_minute {
            return Err(CommitError::DmQuota(format!(
                "dm_quota: this app may send {} direct messages per minute in a group",
                limits.dms_per_minute
            )));
        }
        if *to > limits.dms_per_recipient {
            return Err(CommitError::DmQuota(format!(
                "dm_quota: this app may send {} direct messages per minute to one member",
                limits.dms_per_recipient
            )));
        }
    }
    Ok(())
}

/// The keys the invocation read or writes and the ranges it listed, as
/// they are now (one statement unless there are thousands).
async fn read_back(
    tx: &mut WriteTx,
    inst: &str,
    effects: &Effects,
) -> Result<KvSnapshot, CommitError> {
    let mut keys: Vec<&str> = effects.reads.keys().map(String::as_str).collect();
    keys.extend(
        effects
            .writes
            .keys()
            .map(String::as_str)
            .filter(|k| !effects.reads.contains_key(*k)),
    );
    let lists: Vec<&ListQuery> = effects.lists.iter().map(|(q, _)| q).collect();
    if keys.is_empty() && lists.is_empty() {
        return Ok(KvSnapshot::default());
    }
    Ok(tx.kv_snapshot(inst, &keys, &lists).await?)
}

/// Check that every key and range the invocation read is unchanged.
fn validate(seen: &KvSnapshot, effects: &Effects) -> Result<(), CommitError> {
    for (key, read) in &effects.reads {
        let now = seen.keys.get(key).map(|(version, _)| *version);
        if now != read.as_ref().map(|row| row.version) {
            return Err(CommitError::Conflict);
        }
    }
    for ((_, read), now) in effects.lists.iter().zip(&seen.lists) {
        if *now != PageSeen::of(read) {
            return Err(CommitError::Conflict);
        }
    }
    Ok(())
}

/// Write the invocation's storage: one statement ticks the clock, moves the
/// storage use and reads back what [`recheck`] needs; then the keys.
async fn apply_storage(
    tx: &mut WriteTx,
    inst: &str,
    limits: &Limits,
    effects: &Effects,
    seen: &KvSnapshot,
) -> Result<Option<(i64, i64, i64)>, CommitError> {
    if effects.writes.is_empty() {
        return Ok(None);
    }
    let (mut delta_bytes, mut delta_keys) = (0i64, 0i64);
    for (key, value) in &effects.writes {
        if let Some((_, old)) = seen.keys.get(key) {
            delta_bytes -= old;
            delta_keys -= 1;
        }
        if let Some(value) = value {
            delta_bytes += (key.len() + value.len()) as i64;
            delta_keys += 1;
        }
    }
    // On PostgreSQL the tick and the writes are one statement; the checks
    // below then refuse (drop) the whole transaction if they must.
    let puts: Vec<(&str, &[u8])> = effects
        .writes
        .iter()
        .filter_map(|(key, value)| Some((key.as_str(), value.as_deref()?)))
        .collect();
    let deletes: Vec<&str> = effects
        .writes
        .iter()
        .filter(|(key, value)| value.is_none() && seen.keys.contains_key(*key))
        .map(|(key, _)| key.as_str())
        .collect();
    let (ticked, written) = match tx
        .tick_and_write(inst, delta_bytes, delta_keys, &puts, &deletes)
        .await?
    {
        Some(ticked) => (ticked, true),
        None => (
            tx.tick_installation(inst, delta_bytes, delta_keys).await?,
            false,
        ),
    };
    let Some(Ticked {
        clock,
        bytes,
        keys,
        now,
    }) = ticked
    else {
        return Err(refused(Refusal::Gone, limits));
    };
    recheck(Some(now), effects, limits)?;
    // Over a quota only when this commit grows the use past it.
    if bytes > limits.storage_bytes && delta_bytes > 0 {
        return Err(refused(Refusal::Bytes, limits));
    }
    if keys > limits.storage_keys && delta_keys > 0 {
        return Err(refused(Refusal::Keys, limits));
    }
    if written {
        return Ok(Some((bytes, keys, clock)));
    }
    for (key, value) in &effects.writes {
        match value {
            Some(value) => tx.kv_put(inst, key, value, clock).await?,
            None => {
                if seen.keys.contains_key(key) {
                    tx.kv_delete(inst, key).await?;
                }
            }
        }
    }
    Ok(Some((bytes, keys, clock)))
}

async fn apply_timers(
    tx: &mut WriteTx,
    inst: &str,
    limits: &Limits,
    effects: &Effects,
) -> Result<(), CommitError> {
    if effects.timers.is_empty() {
        return Ok(());
    }
    // Cancellations first: the bound holds for what is pending at the end.
    for (key, timer) in &effects.timers {
        if timer.is_none() {
            tx.delete_timer(inst, key).await?;
        }
    }
    for (key, timer) in &effects.timers {
        if let Some((due_at, payload, rule)) = timer {
            let timer = Timer {
                installation_id: inst.to_string(),
                key: key.clone(),
                due_at: *due_at,
                payload: payload.clone(),
                rule: rule.clone(),
            };
            if !tx.put_timer_within(&timer, limits.pending_timers).await? {
                return Err(refused(Refusal::Timers, limits));
            }
        }
    }
    Ok(())
}

/// Store the invocation's payment requests and make its refunds, checking
/// again what the capability checked when the app asked: a payer who left,
/// a key another invocation took, a refund that no longer fits all re-run
/// the invocation, which then sees the current state.
async fn apply_payments(
    tx: &mut WriteTx,
    inst: &str,
    effects: &Effects,
) -> Result<(), CommitError> {
    if effects.payments.is_empty() && effects.refunds.is_empty() {
        return Ok(());
    }
    // Every payment lock before any money moves, in one order.
    let mut ids: Vec<&str> = effects.refunds.iter().map(|r| r.0.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    for id in ids {
        tx.lock_payment(id).await?;
    }
    for payment in &effects.payments {
        if !tx.is_member(&payment.group_id, &payment.payer).await?
            || tx
                .payment_by_key(inst, &payment.idempotency_key)
                .await?
                .is_some()
        {
            return Err(CommitError::Conflict);
        }
        tx.insert_payment(payment).await?;
    }
    let by = format!("app:{inst}");
    for (id, amount, key) in &effects.refunds {
        match tx.refund_payment(id, *amount, key, &by).await {
            Ok(_) => {}
            Err(PaymentError::Store(e)) => return Err(CommitError::Store(e)),
            Err(_) => return Err(CommitError::Conflict),
        }
    }
    Ok(())
}

/// Store the files the invocation created (their bytes moved into place
/// under the blob's lock), hold the files it was given, let go of the ones
/// it deleted; then check the quotas and that every file its messages show
/// is still its own (a concurrent invocation may have deleted one: re-run).
async fn apply_files(
    db: &Store,
    tx: &mut WriteTx,
    ident: &Identity,
    limits: &Limits,
    effects: &Effects,
) -> Result<(), CommitError> {
    let inst = ident.installation_id.as_str();
    let shown: Vec<&str> = effects
        .messages
        .iter()
        .map(|m| &m.message)
        .chain(effects.updates.values())
        .chain(effects.directs.iter().map(|d| &d.message))
        .flat_map(|m| m.files())
        .collect();
    if effects.files_created.is_empty()
        && effects.files_released.is_empty()
        && effects.files_held.is_empty()
        && shown.is_empty()
    {
        return Ok(());
    }
    for id in &effects.files_held {
        // A member's upload that is gone (swept) is simply not held.
        if tx.file_in_group(&ident.group_id, id).await?.is_some() {
            tx.hold_file(inst, id).await?;
        }
    }
    for file in &effects.files_created {
        tx.claim_blob(&file.staged.sha256, file.row.size).await?;
        db.blobs()
            .place(&file.staged)
            .await
            .map_err(|e| CommitError::Store(e.into()))?;
        tx.insert_file(&file.row).await?;
        tx.hold_file(inst, &file.row.id).await?;
    }
    for id in &effects.files_released {
        tx.release_file(inst, id).await?;
    }
    for id in shown {
        if !tx.holds_file(inst, id).await? {
            return Err(CommitError::Conflict);
        }
    }
    if !effects.files_created.is_empty() || !effects.files_held.is_empty() {
        let group = tx.group_file_bytes(&ident.group_id).await?;
        if group > limits.group_file_bytes {
            return Err(CommitError::Quota(format!(
                "group_file_quota: this group may keep {} bytes of files",
                limits.group_file_bytes
            )));
        }
        let mine = tx.installation_file_bytes(inst).await?;
        if mine > limits.installation_file_bytes {
            return Err(CommitError::Quota(format!(
                "file_quota: this app may keep {} bytes of files in a group",
                limits.installation_file_bytes
            )));
        }
    }
    Ok(())
}

/// Whether an invocation only read: nothing to change, no event to mark
/// delivered, no log line to keep. Such an invocation opens no write
/// transaction (issue 12 item 1).
pub fn is_read_only(effects: &Effects, logs: &[LogLine]) -> bool {
    effects.is_empty() && effects.delivers.is_none() && logs.is_empty()
}

/// For a read-only invocation: check, in one read-only snapshot and without
/// the writer, that what it read is still what is stored, so its answer
/// reflects one consistent state (otherwise it is re-run, like a commit).
pub async fn check_reads(
    db: &Store,
    ident: &Identity,
    effects: &Effects,
) -> Result<(), CommitError> {
    // One read from the database is consistent with itself: nothing to
    // check. One from this host's cache may be stale.
    if effects.reads.len() + effects.lists.len() <= 1 && effects.cached_reads.is_empty() {
        return Ok(());
    }
    let inst = ident.installation_id.as_str();
    let keys: Vec<&str> = effects.reads.keys().map(String::as_str).collect();
    let lists: Vec<&ListQuery> = effects.lists.iter().map(|(q, _)| q).collect();
    // One statement sees one snapshot by itself, on both backends; only
    // thousands of reads need a read-only transaction around several.
    let seen = if kv_snapshot_is_one_statement(keys.len(), lists.len()) {
        db.kv_snapshot(inst, &keys, &lists).await?
    } else {
        let mut snapshot = db.begin_snapshot().await?;
        snapshot.kv_snapshot(inst, &keys, &lists).await?
    };
    validate(&seen, effects)
}
