//! A poll as stored, its ballots, and the storage keys they live under.
//!
//! Keys: `next-id` (the poll counter), `poll/<id>` (the poll),
//! `ballot/<id>/<voter>` (one ballot per member, so concurrent voters never
//! write the same key). For anonymous polls `<voter>` is a salted hash of the
//! member id, so the stored data does not map members to choices on sight.

use qun_sdk::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Timer keys are `close/<poll id>`.
pub(crate) const CLOSE_TIMER_PREFIX: &str = "close/";

/// A poll.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Poll {
    /// Its id: "1", "2", ...
    pub id: String,
    /// The question.
    pub question: String,
    /// The options, in order; votes name them by index.
    pub options: Vec<String>,
    /// Several choices per ballot allowed.
    pub multiple: bool,
    /// Nobody may learn who voted for what.
    pub anonymous: bool,
    /// The member who started it.
    pub creator: String,
    /// When it was started (ms).
    pub created_at: i64,
    /// When it closes by itself (ms), if set.
    pub closes_at: Option<i64>,
    /// True once closed.
    pub closed: bool,
    /// Salt of the voter hashes of an anonymous poll.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salt: Option<String>,
    /// The id of the poll's card, updated after every vote (none when the
    /// app could not post it itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<MessageId>,
}

/// One member's ballot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Ballot {
    pub(crate) choices: Vec<usize>,
}

impl Poll {
    fn key(id: &str) -> String {
        format!("poll/{id}")
    }

    /// The poll `id`; `not-found` if there is none.
    pub(crate) fn load(id: &str) -> Result<Poll> {
        storage::get_json(&Self::key(id))?
            .ok_or_else(|| Error::not_found(format!("no poll `{id}` in this group")))
    }

    pub(crate) fn save(&self) -> Result<()> {
        storage::set_json(&Self::key(&self.id), self)
    }

    /// Takes the next id (see `storage::next_id`).
    pub(crate) fn next_id() -> Result<String> {
        storage::next_id("next-id")
    }

    /// True when votes are no longer taken: closed, or past its closing time.
    pub(crate) fn is_closed_at(&self, now: Timestamp) -> bool {
        self.closed || self.closes_at.is_some_and(|at| now.millis() >= at)
    }

    pub(crate) fn close_timer_key(&self) -> String {
        format!("{CLOSE_TIMER_PREFIX}{}", self.id)
    }

    fn ballot_prefix(&self) -> String {
        format!("ballot/{}/", self.id)
    }

    /// Where `member`'s ballot lives.
    pub(crate) fn ballot_key(&self, member: &str) -> String {
        let voter = match &self.salt {
            Some(salt) if self.anonymous => hex(&Sha256::new()
                .chain_update(salt.as_bytes())
                .chain_update([0])
                .chain_update(member.as_bytes())
                .finalize()),
            _ => member.to_owned(),
        };
        format!("{}{voter}", self.ballot_prefix())
    }

    /// Every ballot, with its voter's id when the poll is not anonymous.
    pub(crate) fn ballots(&self) -> Result<Vec<(Option<String>, Ballot)>> {
        let prefix = self.ballot_prefix();
        Ok(storage::list_json::<Ballot>(&prefix)?
            .into_iter()
            .map(|(key, ballot)| {
                let voter = (!self.anonymous).then(|| key[prefix.len()..].to_owned());
                (voter, ballot)
            })
            .collect())
    }
}

/// A salt no member can guess: derived from this invocation's unique id.
pub(crate) fn new_salt(ctx: &Context) -> String {
    hex(&Sha256::new()
        .chain_update(ctx.installation_id().as_bytes())
        .chain_update([0])
        .chain_update(ctx.invocation_id().as_bytes())
        .chain_update(ctx.now().millis().to_le_bytes())
        .finalize())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().take(16).map(|b| format!("{b:02x}")).collect()
}
