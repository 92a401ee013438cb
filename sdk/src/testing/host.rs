//! The in-memory host behind every capability call in native builds.
//!
//! A [`TestGroup`](super::TestGroup) moves its state into this thread's slot
//! for the length of one invocation; capability calls read and change it there.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::files::FileInfo;
use crate::log::Level;
use crate::membership::{Group, Member, MemberPage, Role};
use crate::payments::{Payment, PaymentRequest, PaymentStatus};
use crate::storage::{Entry, Page};
use crate::{Error, Message, MessageId, Result, Timestamp};

use super::checks;
use super::messages::{Author, Posted};
use super::{Capability, Limits, LogLine, ScheduledTimer};
use qun_blocks::Declared;

/// Everything the fake host knows about one group and one installation.
#[derive(Clone, Debug, Default)]
pub(crate) struct HostState {
    pub(crate) group_id: String,
    pub(crate) group_name: String,
    pub(crate) installation_id: String,
    pub(crate) now: Timestamp,
    pub(crate) time_zone: String,
    pub(crate) locale: String,
    pub(crate) declared: Declared,
    pub(crate) limits: Limits,
    pub(crate) members: BTreeMap<String, Member>,
    pub(crate) denied: BTreeSet<Capability>,
    pub(crate) storage: BTreeMap<String, Vec<u8>>,
    pub(crate) messages: Vec<Posted>,
    /// When each message and direct message was sent (rates).
    pub(crate) sent_at: Vec<(Timestamp, Option<String>)>,
    pub(crate) next_message: u64,
    pub(crate) direct: Vec<(String, Message)>,
    pub(crate) timers: BTreeMap<String, ScheduledTimer>,
    pub(crate) payments: BTreeMap<String, Payment>,
    pub(crate) payment_keys: BTreeMap<String, (PaymentRequest, String)>,
    pub(crate) refund_keys: BTreeMap<String, (String, u64)>,
    pub(crate) logs: Vec<LogLine>,
    pub(crate) next_id: u64,
    /// Every file in the group: members' uploads and the installation's own.
    pub(crate) files: BTreeMap<String, StoredFile>,
    /// Files given to the app in the running invocation.
    pub(crate) given: BTreeSet<String>,
    /// Files being written in the running invocation.
    pub(crate) uploads: BTreeMap<u32, Upload>,
    pub(crate) next_upload: u32,
}

/// A file as the fake host keeps it.
#[derive(Clone, Debug)]
pub(crate) struct StoredFile {
    pub(crate) info: FileInfo,
    pub(crate) bytes: Arc<[u8]>,
    /// One of the installation's own files (created by it, or given to it
    /// in an invocation that succeeded).
    pub(crate) owned: bool,
}

/// A file being written by `create`, `append` and `finish`.
#[derive(Clone, Debug, Default)]
pub(crate) struct Upload {
    name: String,
    bytes: Vec<u8>,
}

impl HostState {
    pub(crate) fn next_id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}-{}", self.next_id)
    }

    /// Puts a message in the group; its id.
    pub(crate) fn add_message(
        &mut self,
        message: Message,
        visible_to: Option<String>,
    ) -> MessageId {
        self.next_message += 1;
        let id = MessageId(self.next_message.to_string());
        self.messages.push(Posted {
            id: id.clone(),
            author: Author::App,
            message,
            visible_to,
            updates: 0,
            deleted: false,
        });
        id
    }

    /// What the host checks when an invocation commits.
    pub(crate) fn check_commit(&self) -> Result<()> {
        if self.timers.len() > self.limits.pending_timers {
            return Err(Error::quota_exceeded(format!(
                "this installation may have {} pending timers",
                self.limits.pending_timers
            )));
        }
        Ok(())
    }

    /// A new file: its id, type and hash, as the host gives them.
    pub(crate) fn new_file(
        &mut self,
        name: &str,
        bytes: Vec<u8>,
        uploaded_by: Option<String>,
        owned: bool,
    ) -> FileInfo {
        let info = FileInfo {
            id: self.next_id("file"),
            name: name.to_owned(),
            content_type: content_type(&bytes).to_owned(),
            size: bytes.len() as u64,
            sha256: sha256_hex(&bytes),
            uploaded_by,
            created_at: self.now,
        };
        self.files.insert(
            info.id.clone(),
            StoredFile {
                info: info.clone(),
                bytes: bytes.into(),
                owned,
            },
        );
        info
    }

    /// `invalid` for a file over the size limit, `quota-exceeded` when the
    /// installation's (`app`) or the group's files would pass their quota.
    pub(crate) fn check_file_room(&self, size: u64, app: bool) -> Result<()> {
        let max = self.limits.file_bytes;
        if size > max {
            return Err(Error::invalid(format!(
                "a file is {size} bytes; the limit is {max}"
            )));
        }
        let group: u64 = self.files.values().map(|f| f.info.size).sum();
        if group + size > self.limits.group_file_bytes {
            return Err(Error::quota_exceeded(format!(
                "the group's files may take {} bytes (group quota)",
                self.limits.group_file_bytes
            )));
        }
        if app {
            let own: u64 = self
                .files
                .values()
                .filter(|f| f.owned)
                .map(|f| f.info.size)
                .sum();
            if own + size > self.limits.installation_file_bytes {
                return Err(Error::quota_exceeded(format!(
                    "this installation's files may take {} bytes (installation quota)",
                    self.limits.installation_file_bytes
                )));
            }
        }
        Ok(())
    }

    /// The file `id` if the app may use it now: one of its own, or one
    /// given to it in this invocation.
    pub(crate) fn app_file(&self, id: &str) -> Option<&StoredFile> {
        self.files
            .get(id)
            .filter(|f| f.owned || self.given.contains(id))
    }

    /// The files a message or form shows must be the app's (`file`), and
    /// images of an image type (`image`), as the host checks.
    pub(crate) fn check_blocks_files(&self, blocks: &[qun_blocks::Block]) -> Result<()> {
        for (i, block) in blocks.iter().enumerate() {
            let (id, image) = match block {
                qun_blocks::Block::File { file } => (file, false),
                qun_blocks::Block::Image { file, .. } => (file, true),
                _ => continue,
            };
            let file = self.app_file(id).ok_or_else(|| {
                Error::invalid(format!(
                    "blocks[{i}].file: `{id}` is not one of this app's files"
                ))
            })?;
            if image && !crate::files::IMAGE_TYPES.contains(&file.info.content_type.as_str()) {
                return Err(Error::invalid(format!(
                    "blocks[{i}].file: `{id}` is {}; an image block shows PNG, JPEG, GIF or WebP (use a file block)",
                    file.info.content_type
                )));
            }
        }
        Ok(())
    }

    fn check_size(what: &str, len: usize, max: usize) -> Result<()> {
        if len > max {
            return Err(Error::invalid(format!(
                "{what} is {len} bytes; the limit is {max}"
            )));
        }
        Ok(())
    }

    fn check(&self, capability: Capability) -> Result<()> {
        if self.denied.contains(&capability) {
            return Err(Error::denied(format!(
                "capability `{}` is not granted to this installation",
                capability.name()
            )));
        }
        Ok(())
    }
}

thread_local! {
    static CURRENT: RefCell<Option<HostState>> = const { RefCell::new(None) };
}

/// Runs `f` with `state` installed as this thread's host; gives the state back.
pub(crate) fn install<R>(state: HostState, f: impl FnOnce() -> R) -> (HostState, R) {
    CURRENT.with(|slot| {
        let mut slot = slot.borrow_mut();
        assert!(
            slot.is_none(),
            "a TestGroup invocation is already running on this thread; invocations cannot nest"
        );
        *slot = Some(state);
    });
    let result = f();
    let state = CURRENT
        .with(|slot| slot.borrow_mut().take())
        .unwrap_or_default();
    (state, result)
}

fn with<R>(
    capability: Option<Capability>,
    f: impl FnOnce(&mut HostState) -> Result<R>,
) -> Result<R> {
    CURRENT.with(|slot| {
        let mut slot = slot.borrow_mut();
        let state = slot.as_mut().unwrap_or_else(|| {
            panic!(
                "a qun_sdk capability was called outside an invocation; in native tests run app code \
                 through qun_sdk::testing::TestGroup (command, action, event or run)"
            )
        });
        if let Some(capability) = capability {
            state.check(capability)?;
        }
        f(state)
    })
}

/// The files a reply shows, checked against the running invocation's host.
pub(crate) fn check_reply_files(blocks: &[qun_blocks::Block]) -> Result<()> {
    with(None, |s| s.check_blocks_files(blocks))
}

/// A file's type read from its bytes: PNG, JPEG, GIF, WebP, PDF, ZIP, HTML,
/// UTF-8 text; `application/octet-stream` for anything else (and nothing).
pub(crate) fn content_type(bytes: &[u8]) -> &'static str {
    let starts = |magic: &[u8]| bytes.starts_with(magic);
    if starts(b"\x89PNG\r\n\x1a\n") {
        return "image/png";
    }
    if starts(&[0xff, 0xd8, 0xff]) {
        return "image/jpeg";
    }
    if starts(b"GIF87a") || starts(b"GIF89a") {
        return "image/gif";
    }
    if bytes.len() >= 12 && starts(b"RIFF") && &bytes[8..12] == b"WEBP" {
        return "image/webp";
    }
    if starts(b"%PDF-") {
        return "application/pdf";
    }
    if starts(b"PK\x03\x04") {
        return "application/zip";
    }
    let Ok(text) = std::str::from_utf8(bytes) else {
        return "application/octet-stream";
    };
    if text.is_empty() {
        return "application/octet-stream";
    }
    let head: String = text
        .trim_start_matches('\u{feff}')
        .trim_start()
        .chars()
        .take(14)
        .collect::<String>()
        .to_ascii_lowercase();
    if head.starts_with("<!doctype html") || head.starts_with("<html") {
        return "text/html";
    }
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\u{c}'))
    {
        return "application/octet-stream";
    }
    "text/plain"
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    use std::fmt::Write;
    let digest = sha2::Sha256::digest(bytes);
    let mut hex = String::with_capacity(64);
    for b in digest {
        let _ = write!(hex, "{b:02x}");
    }
    hex
}

fn not_member(id: &str) -> Error {
    Error::not_found(format!("`{id}` is not a member of this group"))
}

pub(crate) mod storage {
    use super::*;

    const CAP: Option<Capability> = Some(Capability::Storage);

    fn key_ok(s: &HostState, key: &str) -> Result<()> {
        if key.is_empty() {
            return Err(Error::invalid("a storage key must not be empty"));
        }
        HostState::check_size("storage key", key.len(), s.limits.key_bytes)
    }

    /// Sets or deletes `key`, within the value size and the quotas.
    fn write(s: &mut HostState, key: &str, value: Option<&[u8]>) -> Result<()> {
        if let Some(value) = value {
            HostState::check_size("storage value", value.len(), s.limits.value_bytes)?;
            let old = s.storage.get(key).map_or(0, |v| key.len() + v.len());
            let used: usize = s.storage.iter().map(|(k, v)| k.len() + v.len()).sum();
            if used - old + key.len() + value.len() > s.limits.storage_bytes {
                return Err(Error::quota_exceeded(format!(
                    "this installation may keep {} bytes of data",
                    s.limits.storage_bytes
                )));
            }
            if !s.storage.contains_key(key) && s.storage.len() >= s.limits.storage_keys {
                return Err(Error::quota_exceeded(format!(
                    "this installation may keep {} keys",
                    s.limits.storage_keys
                )));
            }
            s.storage.insert(key.to_owned(), value.to_vec());
        } else {
            s.storage.remove(key);
        }
        Ok(())
    }

    pub(crate) fn get(key: &str) -> Result<Option<Vec<u8>>> {
        with(CAP, |s| {
            key_ok(s, key)?;
            Ok(s.storage.get(key).cloned())
        })
    }
    pub(crate) fn set(key: &str, value: &[u8]) -> Result<()> {
        with(CAP, |s| {
            key_ok(s, key)?;
            write(s, key, Some(value))
        })
    }
    pub(crate) fn delete(key: &str) -> Result<bool> {
        with(CAP, |s| {
            key_ok(s, key)?;
            let existed = s.storage.contains_key(key);
            write(s, key, None)?;
            Ok(existed)
        })
    }
    pub(crate) fn list(prefix: &str, cursor: Option<&str>, limit: u32) -> Result<Page> {
        with(CAP, |s| {
            if !(1..=crate::storage::MAX_PAGE).contains(&limit) {
                return Err(Error::invalid(format!(
                    "limit must be 1..={}",
                    crate::storage::MAX_PAGE
                )));
            }
            let after = cursor.unwrap_or("");
            let mut entries: Vec<Entry> = s
                .storage
                .range::<str, _>((std::ops::Bound::Excluded(after), std::ops::Bound::Unbounded))
                .filter(|(k, _)| k.starts_with(prefix))
                .take(limit as usize + 1)
                .map(|(k, v)| Entry {
                    key: k.clone(),
                    value: v.clone(),
                })
                .collect();
            let more = entries.len() > limit as usize;
            entries.truncate(limit as usize);
            let next_cursor = if more {
                entries.last().map(|e| e.key.clone())
            } else {
                None
            };
            Ok(Page {
                entries,
                next_cursor,
            })
        })
    }
    pub(crate) fn compare_and_swap(
        key: &str,
        expected: Option<&[u8]>,
        new: Option<&[u8]>,
    ) -> Result<bool> {
        with(CAP, |s| {
            key_ok(s, key)?;
            if s.storage.get(key).map(Vec::as_slice) != expected {
                return Ok(false);
            }
            write(s, key, new)?;
            Ok(true)
        })
    }
}

pub(crate) mod messaging {
    use super::*;

    const CAP: Option<Capability> = Some(Capability::Messaging);
    const MINUTE_MS: i64 = 60_000;

    fn message_ok(s: &HostState, message: &Message) -> Result<()> {
        checks::check_message(&message.clone().into(), &s.declared)?;
        s.check_blocks_files(&message.blocks)
    }

    fn rate_ok(s: &mut HostState, to: Option<&str>) -> Result<()> {
        let since = s.now.millis() - MINUTE_MS;
        let recent = s.sent_at.iter().filter(|(at, _)| at.millis() > since);
        match to {
            None => {
                if recent.filter(|(_, to)| to.is_none()).count() >= s.limits.messages_per_minute {
                    return Err(Error::quota_exceeded(format!(
                        "this app may post {} messages per minute in a group",
                        s.limits.messages_per_minute
                    )));
                }
            }
            Some(member) => {
                let dms: Vec<_> = recent.filter(|(_, to)| to.is_some()).collect();
                if dms.len() >= s.limits.dms_per_minute {
                    return Err(Error::quota_exceeded(format!(
                        "this app may send {} direct messages per minute",
                        s.limits.dms_per_minute
                    )));
                }
                if dms
                    .iter()
                    .filter(|(_, to)| to.as_deref() == Some(member))
                    .count()
                    >= s.limits.dms_per_recipient
                {
                    return Err(Error::quota_exceeded(format!(
                        "this app may send {} direct messages per minute to one member",
                        s.limits.dms_per_recipient
                    )));
                }
            }
        }
        s.sent_at.push((s.now, to.map(str::to_owned)));
        Ok(())
    }

    fn own(s: &mut HostState, id: &MessageId) -> Result<usize> {
        s.messages
            .iter()
            .position(|p| &p.id == id && !p.deleted)
            .ok_or_else(|| Error::not_found(format!("no message {id} of this app in this group")))
    }

    pub(crate) fn post(message: &Message) -> Result<MessageId> {
        with(CAP, |s| {
            message_ok(s, message)?;
            rate_ok(s, None)?;
            Ok(s.add_message(message.clone(), None))
        })
    }
    pub(crate) fn update(id: &MessageId, message: &Message) -> Result<()> {
        with(CAP, |s| {
            message_ok(s, message)?;
            let i = own(s, id)?;
            s.messages[i].message = message.clone();
            s.messages[i].updates += 1;
            Ok(())
        })
    }
    pub(crate) fn delete(id: &MessageId) -> Result<()> {
        with(CAP, |s| {
            let i = own(s, id)?;
            s.messages[i].deleted = true;
            Ok(())
        })
    }
    pub(crate) fn post_private(to: &str, message: &Message) -> Result<MessageId> {
        with(CAP, |s| {
            message_ok(s, message)?;
            if !s.members.contains_key(to) {
                return Err(not_member(to));
            }
            rate_ok(s, None)?;
            Ok(s.add_message(message.clone(), Some(to.to_owned())))
        })
    }
    pub(crate) fn send_direct(to: &str, message: &Message) -> Result<()> {
        with(CAP, |s| {
            message_ok(s, message)?;
            if !s.members.contains_key(to) {
                return Err(not_member(to));
            }
            rate_ok(s, Some(to))?;
            s.direct.push((to.to_owned(), message.clone()));
            Ok(())
        })
    }
}

pub(crate) mod membership {
    use super::*;

    const CAP: Option<Capability> = Some(Capability::Membership);

    pub(crate) fn current_group() -> Result<Group> {
        with(CAP, |s| {
            Ok(Group {
                id: s.group_id.clone(),
                name: s.group_name.clone(),
                owner: s
                    .members
                    .values()
                    .find(|m| m.role == Role::Owner)
                    .map(|m| m.id.clone())
                    .unwrap_or_default(),
                member_count: u32::try_from(s.members.len()).unwrap_or(u32::MAX),
                time_zone: s.time_zone.clone(),
                locale: s.locale.clone(),
            })
        })
    }
    pub(crate) fn get_member(id: &str) -> Result<Member> {
        with(CAP, |s| {
            s.members.get(id).cloned().ok_or_else(|| not_member(id))
        })
    }
    pub(crate) fn list_members(cursor: Option<&str>, limit: u32) -> Result<MemberPage> {
        with(CAP, |s| {
            if !(1..=100).contains(&limit) {
                return Err(Error::invalid("limit must be 1..=100"));
            }
            let mut members: Vec<Member> = s
                .members
                .values()
                .filter(|m| cursor.is_none_or(|c| m.id.as_str() > c))
                .take(limit as usize + 1)
                .cloned()
                .collect();
            let more = members.len() > limit as usize;
            members.truncate(limit as usize);
            let next_cursor = if more {
                members.last().map(|m| m.id.clone())
            } else {
                None
            };
            Ok(MemberPage {
                members,
                next_cursor,
            })
        })
    }
}

pub(crate) mod scheduler {
    use super::*;
    use crate::scheduler::Recurrence;

    const CAP: Option<Capability> = Some(Capability::Scheduler);

    fn arm(
        s: &mut HostState,
        key: &str,
        at: Timestamp,
        payload: &str,
        rule: Option<Recurrence>,
    ) -> Result<()> {
        HostState::check_size("timer key", key.len(), s.limits.key_bytes)?;
        HostState::check_size("timer payload", payload.len(), s.limits.timer_payload_bytes)?;
        if key.is_empty() {
            return Err(Error::invalid("a timer key must not be empty"));
        }
        if at.millis() < 0 {
            return Err(Error::invalid("a timer must be due at a time after 1970"));
        }
        s.timers.insert(
            key.to_owned(),
            ScheduledTimer {
                key: key.to_owned(),
                at,
                payload: payload.to_owned(),
                rule,
            },
        );
        Ok(())
    }

    pub(crate) fn schedule(key: &str, at: Timestamp, payload: &str) -> Result<()> {
        with(CAP, |s| arm(s, key, at, payload, None))
    }
    pub(crate) fn schedule_recurring(
        key: &str,
        rule: &Recurrence,
        payload: &str,
    ) -> Result<Timestamp> {
        with(CAP, |s| {
            checks::check_recurrence(rule)?;
            let first = checks::next_occurrence(rule, &s.time_zone, s.now)
                .ok_or_else(|| Error::invalid("this rule never fires"))?;
            arm(s, key, first, payload, Some(rule.clone()))?;
            Ok(first)
        })
    }
    pub(crate) fn cancel(key: &str) -> Result<bool> {
        with(CAP, |s| Ok(s.timers.remove(key).is_some()))
    }
}

pub(crate) mod payments {
    use super::*;

    const CAP: Option<Capability> = Some(Capability::Payments);

    pub(crate) fn request(r: &PaymentRequest) -> Result<Payment> {
        with(CAP, |s| {
            if r.amount == 0 {
                return Err(Error::invalid("the amount must be positive"));
            }
            if r.currency.len() != 3 || !r.currency.bytes().all(|b| b.is_ascii_uppercase()) {
                return Err(Error::invalid(
                    "the currency must be an ISO 4217 code such as CNY",
                ));
            }
            if r.idempotency_key.is_empty() {
                return Err(Error::invalid("the idempotency key must not be empty"));
            }
            if !s.members.contains_key(&r.payer) {
                return Err(not_member(&r.payer));
            }
            if let Some((earlier, id)) = s.payment_keys.get(&r.idempotency_key) {
                if earlier != r {
                    return Err(Error::conflict(
                        "this idempotency key was used with other parameters",
                    ));
                }
                return s
                    .payments
                    .get(id)
                    .cloned()
                    .ok_or_else(|| Error::internal("lost payment"));
            }
            let id = s.next_id("pay");
            let payment = Payment {
                id: id.clone(),
                payer: r.payer.clone(),
                amount: r.amount,
                currency: r.currency.clone(),
                memo: r.memo.clone(),
                status: PaymentStatus::Pending,
                refunded: 0,
                created_at: s.now,
            };
            s.payments.insert(id.clone(), payment.clone());
            s.payment_keys
                .insert(r.idempotency_key.clone(), (r.clone(), id));
            Ok(payment)
        })
    }
    pub(crate) fn status(id: &str) -> Result<Payment> {
        with(CAP, |s| {
            s.payments
                .get(id)
                .cloned()
                .ok_or_else(|| Error::not_found(format!("no payment `{id}`")))
        })
    }
    pub(crate) fn refund(id: &str, amount: u64, idempotency_key: &str) -> Result<Payment> {
        with(CAP, |s| {
            if let Some((earlier_id, earlier_amount)) = s.refund_keys.get(idempotency_key) {
                if earlier_id != id || *earlier_amount != amount {
                    return Err(Error::conflict(
                        "this idempotency key was used with other parameters",
                    ));
                }
                return s
                    .payments
                    .get(id)
                    .cloned()
                    .ok_or_else(|| Error::internal("lost payment"));
            }
            let payment = s
                .payments
                .get_mut(id)
                .ok_or_else(|| Error::not_found(format!("no payment `{id}`")))?;
            if payment.status != PaymentStatus::Settled {
                return Err(Error::invalid("only settled payments can be refunded"));
            }
            if amount == 0 || payment.refunded.saturating_add(amount) > payment.amount {
                return Err(Error::invalid(
                    "a refund must be positive and never exceed what was paid",
                ));
            }
            payment.refunded += amount;
            let payment = payment.clone();
            s.refund_keys
                .insert(idempotency_key.to_owned(), (id.to_owned(), amount));
            Ok(payment)
        })
    }
}

pub(crate) mod files {
    use super::*;
    use crate::files::MAX_CHUNK;

    const CAP: Option<Capability> = Some(Capability::Files);

    fn readable<'a>(s: &'a HostState, id: &str) -> Result<&'a StoredFile> {
        s.app_file(id).ok_or_else(|| {
            Error::not_found(format!(
                "no file `{id}` was given to this app in this invocation or is one of its own"
            ))
        })
    }

    fn upload(s: &mut HostState, upload: u32) -> Result<&mut Upload> {
        s.uploads
            .get_mut(&upload)
            .ok_or_else(|| Error::not_found(format!("no upload {upload} in this invocation")))
    }

    pub(crate) fn stat(id: &str) -> Result<FileInfo> {
        with(CAP, |s| Ok(readable(s, id)?.info.clone()))
    }
    pub(crate) fn read(id: &str, offset: u64, length: u32) -> Result<Vec<u8>> {
        with(CAP, |s| {
            if length > MAX_CHUNK {
                return Err(Error::invalid(format!(
                    "a read is at most {MAX_CHUNK} bytes, not {length}"
                )));
            }
            let bytes = &readable(s, id)?.bytes;
            let start = usize::try_from(offset)
                .unwrap_or(usize::MAX)
                .min(bytes.len());
            let end = start.saturating_add(length as usize).min(bytes.len());
            Ok(bytes[start..end].to_vec())
        })
    }
    pub(crate) fn create(name: &str) -> Result<u32> {
        with(CAP, |s| {
            if name.trim().is_empty() || name.len() > 255 {
                return Err(Error::invalid(
                    "a file's name must be 1 to 255 bytes, not only spaces",
                ));
            }
            if name
                .chars()
                .any(|c| c.is_control() || matches!(c, '/' | '\\'))
            {
                return Err(Error::invalid(
                    "a file's name must not hold `/`, `\\` or control characters",
                ));
            }
            s.next_upload += 1;
            s.uploads.insert(
                s.next_upload,
                Upload {
                    name: name.to_owned(),
                    bytes: Vec::new(),
                },
            );
            Ok(s.next_upload)
        })
    }
    pub(crate) fn append(id: u32, bytes: &[u8]) -> Result<()> {
        with(CAP, |s| {
            if bytes.len() > MAX_CHUNK as usize {
                return Err(Error::invalid(format!(
                    "an append is at most {MAX_CHUNK} bytes, not {}",
                    bytes.len()
                )));
            }
            let max = s.limits.file_bytes;
            let upload = upload(s, id)?;
            let size = (upload.bytes.len() + bytes.len()) as u64;
            if size > max {
                return Err(Error::invalid(format!(
                    "a file is at most {max} bytes; this one would be {size}"
                )));
            }
            upload.bytes.extend_from_slice(bytes);
            Ok(())
        })
    }
    pub(crate) fn finish(id: u32) -> Result<FileInfo> {
        with(CAP, |s| {
            let size = upload(s, id)?.bytes.len() as u64;
            s.check_file_room(size, true)?;
            let done = s.uploads.remove(&id).unwrap_or_default();
            Ok(s.new_file(&done.name, done.bytes, None, true))
        })
    }
    pub(crate) fn delete(id: &str) -> Result<bool> {
        with(CAP, |s| {
            match s.files.get_mut(id) {
                // A member's upload stays theirs; the app only lets go of it.
                Some(f) if f.owned && f.info.uploaded_by.is_some() => {
                    f.owned = false;
                    Ok(true)
                }
                Some(f) if f.owned => {
                    s.files.remove(id);
                    Ok(true)
                }
                _ => Ok(false),
            }
        })
    }
}

pub(crate) mod log {
    use super::*;

    pub(crate) fn write(level: Level, message: &str, fields: &[(&str, &str)]) {
        let _ = with(None, |s| {
            s.logs.push(LogLine {
                level,
                message: message.to_owned(),
                fields: fields
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
            });
            Ok(())
        });
    }
}
