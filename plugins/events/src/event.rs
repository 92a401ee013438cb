//! An event as stored, its roster, money, and the storage keys they live under.
//!
//! Keys: `next-id` (the event counter), `event/<id>` (the event, written once),
//! `seats/<id>` (the event's RSVP counter, written by every seat change, so
//! concurrent changes of one event collide on it and the host re-runs one:
//! the capacity holds), `rsvp/<id>/<member>` (one record per member: seat,
//! waitlist place or departure, and payment), `payment/<payment id>` (which
//! event and member a payment request is for). No value grows with the event.
//! Timers: `remind/<id>`.

use std::collections::BTreeMap;
use std::fmt;

use qun_sdk::prelude::*;
use serde::{Deserialize, Serialize};

/// Event keys are `event/<id>`.
pub(crate) const EVENT_PREFIX: &str = "event/";

/// Reminder timer keys are `remind/<event id>`.
pub(crate) const REMIND_TIMER_PREFIX: &str = "remind/";

/// An event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRecord {
    /// Its id: "1", "2", ...
    pub id: String,
    /// The title.
    pub title: String,
    /// When it starts (ms).
    pub starts_at: i64,
    /// How many seats it has (≥ 1).
    pub capacity: u32,
    /// The fee per seat; `None` for a free event.
    pub fee: Option<Money>,
    /// Cancelling at least this long (ms) before the start refunds the fee.
    pub refund_cutoff_ms: i64,
    /// The member who created it.
    pub organizer: String,
    /// When it was created (ms).
    pub created_at: i64,
    /// When the reminder goes out (ms), if one was scheduled.
    pub remind_at: Option<i64>,
    /// The id of the event's card, updated as seats change (none when the
    /// app could not post it itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<MessageId>,
}

/// An amount of money in minor units.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    /// Minor units (fen, cents).
    pub amount: u64,
    /// ISO 4217 code.
    pub currency: String,
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let exp = currency_exponent(&self.currency);
        if exp == 0 {
            return write!(f, "{} {}", self.amount, self.currency);
        }
        let unit = 10_u64.pow(exp);
        write!(
            f,
            "{}.{:0width$} {}",
            self.amount / unit,
            self.amount % unit,
            self.currency,
            width = exp as usize
        )
    }
}

/// Digits after the decimal point of an ISO 4217 currency.
pub(crate) fn currency_exponent(currency: &str) -> u32 {
    match currency {
        "JPY" | "KRW" | "VND" | "CLP" | "ISK" | "UGX" | "XAF" | "XOF" | "PYG" | "KMF" | "RWF"
        | "BIF" | "DJF" | "GNF" | "VUV" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        _ => 2,
    }
}

/// Where a seat stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SeatStatus {
    /// A free event's seat.
    Attending,
    /// A paid event's seat, held while the member pays.
    PendingPayment,
    /// A paid event's seat, paid.
    Confirmed,
}

impl SeatStatus {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Attending => "attending",
            Self::PendingPayment => "pending-payment",
            Self::Confirmed => "confirmed",
        }
    }

    /// Attending or paid: the people who will be there.
    pub(crate) fn is_attendee(self) -> bool {
        matches!(self, Self::Attending | Self::Confirmed)
    }
}

/// The payment behind a paid seat.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeatPayment {
    /// The host's payment id.
    pub id: String,
    /// What was asked.
    pub money: Money,
    /// `pending`, `settled`.
    pub status: String,
}

/// A taken seat.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seat {
    /// Who holds it.
    pub member: String,
    /// Where it stands.
    pub status: SeatStatus,
    /// Since when (ms).
    pub since: i64,
    /// The payment, on a paid event.
    pub payment: Option<SeatPayment>,
    /// The order of the member's RSVP.
    pub seq: u64,
}

/// A member on the waitlist.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waiting {
    /// Who waits.
    pub member: String,
    /// Since when (ms).
    pub since: i64,
    /// The order of the member's RSVP: the waitlist is served by it.
    pub seq: u64,
}

/// A member who gave up a seat (or lost it to a failed payment).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Left {
    /// Who.
    pub member: String,
    /// When (ms).
    pub at: i64,
    /// `cancelled`, `payment declined`, ...
    pub reason: String,
    /// The payment of the seat, if any.
    pub payment: Option<String>,
    /// How much of it was refunded (minor units).
    pub refunded: u64,
}

/// Who holds a seat, who waits, who left: one event's RSVPs.
///
/// Stored as one small counter, `seats/<id>` (the next RSVP number and the
/// seats taken), and one record per member, `rsvp/<id>/<member>`, so no
/// stored value grows with the event. Every change writes the counter, so two
/// concurrent changes of one event always touch the same key and the host
/// re-runs one of them: the capacity holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Roster {
    /// Seats, oldest first; never more than the capacity.
    pub seats: Vec<Seat>,
    /// The waitlist, first come first served.
    pub waitlist: Vec<Waiting>,
    /// Members who left (the latest time for each), oldest first.
    pub left: Vec<Left>,
    /// Per member: how many payment requests were already used up, so a new
    /// RSVP after a failed or cancelled payment gets a fresh idempotency key
    /// while a retried one gets the same.
    attempts: BTreeMap<String, u32>,
    next_seq: u64,
    stored: BTreeMap<String, Record>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Counter {
    next_seq: u64,
    taken: usize,
}

/// Where a member stands, as stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum Place {
    Attending,
    PendingPayment,
    Confirmed,
    Waitlisted,
    Left,
    /// Off the list; the record only keeps the member's payment attempts.
    Gone,
}

/// One member's RSVP as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Record {
    member: String,
    place: Place,
    seq: u64,
    since: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    payment: Option<SeatPayment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    left: Option<Left>,
    #[serde(default)]
    attempts: u32,
}

impl Record {
    fn new(member: &str, place: Place, seq: u64, since: i64) -> Self {
        Self {
            member: member.to_owned(),
            place,
            seq,
            since,
            payment: None,
            left: None,
            attempts: 0,
        }
    }
}

/// Which event and member a payment request belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PaymentLink {
    pub(crate) event: String,
    pub(crate) member: String,
}

impl EventRecord {
    fn key(id: &str) -> String {
        format!("{EVENT_PREFIX}{id}")
    }

    /// The event `id`; `not-found` if there is none.
    pub(crate) fn load(id: &str) -> Result<EventRecord> {
        storage::get_json(&Self::key(id))?
            .ok_or_else(|| Error::not_found(format!("no event #{id} in this group")))
    }

    /// The event `id`, or `None`.
    pub(crate) fn find(id: &str) -> Result<Option<EventRecord>> {
        storage::get_json(&Self::key(id))
    }

    pub(crate) fn save(&self) -> Result<()> {
        storage::set_json(&Self::key(&self.id), self)
    }

    /// Takes the next id (see `storage::next_id`).
    pub(crate) fn next_id() -> Result<String> {
        storage::next_id("next-id")
    }

    pub(crate) fn starts(&self) -> Timestamp {
        Timestamp::from_millis(self.starts_at)
    }

    pub(crate) fn has_started(&self, now: Timestamp) -> bool {
        now.millis() >= self.starts_at
    }

    /// The last moment a cancellation is refunded.
    pub(crate) fn refund_deadline(&self) -> Timestamp {
        Timestamp::from_millis(self.starts_at.saturating_sub(self.refund_cutoff_ms))
    }

    pub(crate) fn refundable_at(&self, now: Timestamp) -> bool {
        now < self.refund_deadline()
    }

    pub(crate) fn remind_timer_key(&self) -> String {
        format!("{REMIND_TIMER_PREFIX}{}", self.id)
    }

    /// `#1 “Title”`
    pub(crate) fn name(&self) -> String {
        format!("#{} “{}”", self.id, self.title)
    }
}

impl Roster {
    fn counter_key(id: &str) -> String {
        format!("seats/{id}")
    }

    fn prefix(id: &str) -> String {
        format!("rsvp/{id}/")
    }

    pub(crate) fn load(id: &str) -> Result<Roster> {
        let counter: Counter = storage::get_json(&Self::counter_key(id))?.unwrap_or_default();
        let mut roster = Roster {
            next_seq: counter.next_seq,
            ..Roster::default()
        };
        for (_, record) in storage::list_json::<Record>(&Self::prefix(id))? {
            if record.attempts > 0 {
                roster
                    .attempts
                    .insert(record.member.clone(), record.attempts);
            }
            let seat = |status| Seat {
                member: record.member.clone(),
                status,
                since: record.since,
                payment: record.payment.clone(),
                seq: record.seq,
            };
            match record.place {
                Place::Attending => roster.seats.push(seat(SeatStatus::Attending)),
                Place::PendingPayment => roster.seats.push(seat(SeatStatus::PendingPayment)),
                Place::Confirmed => roster.seats.push(seat(SeatStatus::Confirmed)),
                Place::Waitlisted => roster.waitlist.push(Waiting {
                    member: record.member.clone(),
                    since: record.since,
                    seq: record.seq,
                }),
                Place::Left => roster.left.extend(record.left.clone()),
                Place::Gone => {}
            }
            roster.stored.insert(record.member.clone(), record);
        }
        roster.seats.sort_by_key(|s| (s.since, s.seq));
        roster.waitlist.sort_by_key(|w| w.seq);
        roster.left.sort_by_key(|l| l.at);
        Ok(roster)
    }

    /// Writes the records that changed, and the counter.
    pub(crate) fn save(&self, id: &str) -> Result<()> {
        let mut current: BTreeMap<String, Record> = BTreeMap::new();
        for left in &self.left {
            let mut record = Record::new(&left.member, Place::Left, 0, left.at);
            record.left = Some(left.clone());
            current.insert(left.member.clone(), record);
        }
        for waiting in &self.waitlist {
            let record = Record::new(
                &waiting.member,
                Place::Waitlisted,
                waiting.seq,
                waiting.since,
            );
            current.insert(waiting.member.clone(), record);
        }
        for seat in &self.seats {
            let place = match seat.status {
                SeatStatus::Attending => Place::Attending,
                SeatStatus::PendingPayment => Place::PendingPayment,
                SeatStatus::Confirmed => Place::Confirmed,
            };
            let mut record = Record::new(&seat.member, place, seat.seq, seat.since);
            record.payment = seat.payment.clone();
            current.insert(seat.member.clone(), record);
        }
        for (member, attempts) in &self.attempts {
            current
                .entry(member.clone())
                .or_insert_with(|| Record::new(member, Place::Gone, 0, 0))
                .attempts = *attempts;
        }
        let prefix = Self::prefix(id);
        for member in self.stored.keys() {
            if !current.contains_key(member) {
                storage::delete(&format!("{prefix}{member}"))?;
            }
        }
        for (member, record) in &current {
            if self.stored.get(member) != Some(record) {
                storage::set_json(&format!("{prefix}{member}"), record)?;
            }
        }
        storage::set_json(
            &Self::counter_key(id),
            &Counter {
                next_seq: self.next_seq,
                taken: self.seats.len(),
            },
        )
    }

    /// The number of a new RSVP.
    pub(crate) fn take_seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }

    pub(crate) fn seat(&self, member: &str) -> Option<&Seat> {
        self.seats.iter().find(|s| s.member == member)
    }

    /// 1-based waitlist position.
    pub(crate) fn waitlist_position(&self, member: &str) -> Option<usize> {
        self.waitlist
            .iter()
            .position(|w| w.member == member)
            .map(|i| i + 1)
    }

    /// The seat whose payment is `payment_id`, held by `member`.
    pub(crate) fn seat_index_with_payment(&self, member: &str, payment_id: &str) -> Option<usize> {
        self.seats.iter().position(|s| {
            s.member == member && s.payment.as_ref().is_some_and(|p| p.id == payment_id)
        })
    }

    pub(crate) fn attempt(&self, member: &str) -> u32 {
        self.attempts.get(member).copied().unwrap_or(0)
    }

    /// A payment request of `member` is used up (failed, or its seat was given up).
    pub(crate) fn use_up_attempt(&mut self, member: &str) {
        *self.attempts.entry(member.to_owned()).or_default() += 1;
    }
}

impl PaymentLink {
    fn key(payment_id: &str) -> String {
        format!("payment/{payment_id}")
    }

    pub(crate) fn find(payment_id: &str) -> Result<Option<PaymentLink>> {
        storage::get_json(&Self::key(payment_id))
    }

    pub(crate) fn save(&self, payment_id: &str) -> Result<()> {
        storage::set_json(&Self::key(payment_id), self)
    }
}

/// The payload of every action and of the reminder timer: `{"event": "<id>"}`
/// (a number is accepted too).
#[derive(Debug, Deserialize)]
pub(crate) struct EventRef {
    event: RawId,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawId {
    Text(String),
    Number(u64),
}

impl EventRef {
    /// The event id, checked: digits only.
    pub(crate) fn id(&self) -> Result<String> {
        let id = match &self.event {
            RawId::Text(text) => text.trim().trim_start_matches('#').to_owned(),
            RawId::Number(n) => n.to_string(),
        };
        if id.is_empty() || id.len() > 20 || !id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::invalid(format!(
                "`event` must be an event number such as \"1\", not {:?}",
                match &self.event {
                    RawId::Text(text) => text.clone(),
                    RawId::Number(n) => n.to_string(),
                }
            )));
        }
        Ok(id)
    }
}

/// A member's display name; their id when membership is not granted or they
/// are gone.
pub(crate) fn display_name(member: &str) -> Result<String> {
    match membership::member(member) {
        Ok(m) => Ok(m.display_name),
        Err(Error::Denied(_) | Error::NotFound(_)) => Ok(member.to_owned()),
        Err(err) => Err(err),
    }
}

/// Every member's display name, by id; empty without the membership grant.
pub(crate) fn display_names() -> Result<BTreeMap<String, String>> {
    match membership::all_members() {
        Ok(members) => Ok(members
            .into_iter()
            .map(|m| (m.id, m.display_name))
            .collect()),
        Err(Error::Denied(_)) => Ok(BTreeMap::new()),
        Err(err) => Err(err),
    }
}

/// Sends `member` a direct message. Best effort: without the messaging grant,
/// when the member has left the group or the message rate limit is reached,
/// it logs and goes on, so a missing notification never blocks a seat change.
pub(crate) fn notify(member: &str, text: impl Into<String>) -> Result<()> {
    match messaging::send_direct(member, &Message::new(text)) {
        Ok(()) => Ok(()),
        Err(Error::Denied(why) | Error::NotFound(why) | Error::QuotaExceeded(why)) => {
            log::warn(
                "direct message not sent",
                &[("member", member), ("why", &why)],
            );
            Ok(())
        }
        Err(err) => Err(err),
    }
}
