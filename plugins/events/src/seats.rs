//! Seats: the `rsvp` and `cancel` actions, waitlist promotion, the payment
//! outcome events and the reminder timer.
//!
//! The capacity counts every seat, paid or still waiting for its payment, so
//! it is never exceeded. A paid seat is `pending-payment` until the host says
//! the payment settled; a failed payment releases it to the waitlist.

use qun_sdk::payments::{self, Payment, PaymentRequest, PaymentStatus};
use qun_sdk::prelude::*;

use crate::event::{
    EVENT_PREFIX, EventRecord, Left, Money, PaymentLink, Roster, Seat, SeatPayment, SeatStatus,
    Waiting, notify,
};

const MAX_MEMO: usize = 120;

/// Action `rsvp`: take a seat, or a place on the waitlist. Asking again
/// answers the same state.
pub(crate) fn rsvp(ctx: &Context, id: &str) -> Result<Json> {
    let member = ctx.actor()?;
    let event = EventRecord::load(id)?;
    let mut roster = Roster::load(id)?;
    if roster.seat(member).is_none() && roster.waitlist_position(member).is_none() {
        if event.has_started(ctx.now()) {
            return Err(Error::invalid(format!(
                "event {} has already started ({}); RSVPs are closed",
                event.name(),
                ctx.format_time(event.starts())
            )));
        }
        if roster.seats.len() < event.capacity as usize {
            let seq = roster.take_seq();
            take_seat(ctx, &event, &mut roster, member, seq)?;
        } else {
            let seq = roster.take_seq();
            roster.waitlist.push(Waiting {
                member: member.to_owned(),
                since: ctx.now().millis(),
                seq,
            });
        }
        roster.save(id)?;
        crate::card::refresh(ctx, &event, &roster)?;
    }
    state_of(&event, &roster, member)
}

/// What `member` holds, as the `rsvp` action answers it.
fn state_of(event: &EventRecord, roster: &Roster, member: &str) -> Result<Json> {
    if let Some(seat) = roster.seat(member) {
        let mut answer = json!({
            "event": event.id,
            "status": seat.status.as_str(),
        });
        let message = match (&seat.status, &seat.payment) {
            (SeatStatus::PendingPayment, Some(payment)) => {
                answer["payment"] = json!({
                    "id": payment.id,
                    "amount": payment.money.amount,
                    "currency": payment.money.currency,
                    "status": payment.status,
                });
                format!(
                    "A seat at {} is held for you: pay {} (payment {}) to confirm it.",
                    event.name(),
                    payment.money,
                    payment.id
                )
            }
            (SeatStatus::Confirmed, _) => {
                format!("You are confirmed for {}.", event.name())
            }
            _ => format!("You are attending {}.", event.name()),
        };
        answer["message"] = json!(message);
        return Ok(answer);
    }
    if let Some(position) = roster.waitlist_position(member) {
        return Ok(json!({
            "event": event.id,
            "status": "waitlisted",
            "position": position,
            "message": format!(
                "{} is full; you are number {position} on the waitlist. You will get a message if a seat opens up.",
                event.name()
            ),
        }));
    }
    Err(Error::internal("the RSVP was not recorded"))
}

/// Gives `member` a seat: attending on a free event, `pending-payment` with a
/// payment request on a paid one. The caller checked there is room.
fn take_seat(
    ctx: &Context,
    event: &EventRecord,
    roster: &mut Roster,
    member: &str,
    seq: u64,
) -> Result<()> {
    let (status, payment) = match &event.fee {
        None => (SeatStatus::Attending, None),
        Some(fee) => {
            let mut memo = format!("Event #{}: {}", event.id, event.title);
            if memo.chars().count() > MAX_MEMO {
                memo = memo.chars().take(MAX_MEMO - 1).collect::<String>() + "…";
            }
            let payment = payments::request(&PaymentRequest {
                payer: member.to_owned(),
                amount: fee.amount,
                currency: fee.currency.clone(),
                memo,
                // Derived from the event, the member and how many of their
                // requests were used up: a retried RSVP gets the same request,
                // an RSVP after a failed payment a new one.
                idempotency_key: format!(
                    "event/{}/member/{member}/seat/{}",
                    event.id,
                    roster.attempt(member)
                ),
            })?;
            let status = match payment.status {
                PaymentStatus::Pending => SeatStatus::PendingPayment,
                PaymentStatus::Settled => SeatStatus::Confirmed,
                PaymentStatus::Declined | PaymentStatus::Expired => {
                    return Err(Error::conflict(format!(
                        "payment {} for this seat already failed; try again",
                        payment.id
                    )));
                }
            };
            PaymentLink {
                event: event.id.clone(),
                member: member.to_owned(),
            }
            .save(&payment.id)?;
            let seat_payment = SeatPayment {
                id: payment.id.clone(),
                money: fee.clone(),
                status: payment_status_name(payment.status).to_owned(),
            };
            (status, Some(seat_payment))
        }
    };
    roster.seats.push(Seat {
        member: member.to_owned(),
        status,
        since: ctx.now().millis(),
        payment,
        seq,
    });
    Ok(())
}

fn payment_status_name(status: PaymentStatus) -> &'static str {
    match status {
        PaymentStatus::Pending => "pending",
        PaymentStatus::Settled => "settled",
        PaymentStatus::Declined => "declined",
        PaymentStatus::Expired => "expired",
    }
}

/// Fills free seats from the waitlist, first come first served, and tells the
/// promoted members. Nobody is promoted once the event has started. A member
/// who left the group meanwhile is skipped.
fn promote(ctx: &Context, event: &EventRecord, roster: &mut Roster) -> Result<()> {
    if event.has_started(ctx.now()) {
        return Ok(());
    }
    while roster.seats.len() < event.capacity as usize && !roster.waitlist.is_empty() {
        let next = roster.waitlist.remove(0);
        match take_seat(ctx, event, roster, &next.member, next.seq) {
            Ok(()) => {}
            Err(Error::NotFound(why)) => {
                log::warn(
                    "waitlisted member skipped",
                    &[
                        ("event", &event.id),
                        ("member", &next.member),
                        ("why", &why),
                    ],
                );
                continue;
            }
            Err(err) => return Err(err),
        }
        let text = match roster.seat(&next.member).and_then(|s| s.payment.as_ref()) {
            Some(payment) => format!(
                "A seat opened up at {} ({}): pay {} (payment {}) to confirm it.",
                event.name(),
                ctx.format_time(event.starts()),
                payment.money,
                payment.id
            ),
            None => format!(
                "A seat opened up: you are now attending {} ({}).",
                event.name(),
                ctx.format_time(event.starts())
            ),
        };
        notify(&next.member, text)?;
    }
    Ok(())
}

/// Action `cancel`: the actor gives up their seat or waitlist place. A paid
/// seat is refunded in full before the refund cutoff; the freed seat goes to
/// the first on the waitlist.
pub(crate) fn cancel(ctx: &Context, id: &str) -> Result<Json> {
    let member = ctx.actor()?;
    let event = EventRecord::load(id)?;
    let mut roster = Roster::load(id)?;
    if let Some(position) = roster.waitlist_position(member) {
        roster.waitlist.remove(position - 1);
        roster.save(id)?;
        crate::card::refresh(ctx, &event, &roster)?;
        return Ok(json!({
            "event": event.id,
            "status": "cancelled",
            "was": "waitlisted",
            "refunded": 0,
            "message": format!("You left the waitlist of {}.", event.name()),
        }));
    }
    let Some(index) = roster.seats.iter().position(|s| s.member == member) else {
        return Err(Error::not_found(format!(
            "you have no RSVP for event {}",
            event.name()
        )));
    };
    if event.has_started(ctx.now()) {
        return Err(Error::invalid(format!(
            "event {} has already started ({}); it can no longer be cancelled",
            event.name(),
            ctx.format_time(event.starts())
        )));
    }
    let released = give_up_seat(ctx, &event, &mut roster, index, "cancelled")?;
    promote(ctx, &event, &mut roster)?;
    roster.save(id)?;
    crate::card::refresh(ctx, &event, &roster)?;
    let mut answer = json!({
        "event": event.id,
        "status": "cancelled",
        "was": released.seat.status.as_str(),
        "refunded": released.refunded,
    });
    if let Some(payment) = &released.seat.payment {
        answer["currency"] = json!(payment.money.currency);
    }
    if released.after_cutoff {
        answer["refund_cutoff"] = json!(event.refund_deadline().to_string());
    }
    answer["message"] = json!(released.message);
    Ok(answer)
}

/// What giving up a seat did.
struct Released {
    seat: Seat,
    /// Refunded now, in minor units.
    refunded: u64,
    /// Paid, but given up after the refund cutoff.
    after_cutoff: bool,
    /// For the member.
    message: String,
}

/// Takes seat `index` away (the caller promotes and saves): refunds a settled
/// payment in full before the cutoff, and retires the seat's payment request
/// (a request still pending is refunded if it is paid anyway).
fn give_up_seat(
    ctx: &Context,
    event: &EventRecord,
    roster: &mut Roster,
    index: usize,
    reason: &str,
) -> Result<Released> {
    let now = ctx.now();
    let seat = roster.seats.remove(index);
    let mut refunded = 0;
    let mut after_cutoff = false;
    let message = match &seat.payment {
        None => format!("You cancelled your RSVP for {}.", event.name()),
        Some(payment) => {
            roster.use_up_attempt(&seat.member);
            if payment.status != "settled" {
                format!(
                    "You cancelled your RSVP for {}. Payment {} is no longer needed; if it is paid anyway it will be refunded.",
                    event.name(),
                    payment.id
                )
            } else if event.refundable_at(now) {
                // What the group owner may have refunded already is not refunded twice.
                let paid = payments::status(&payment.id)?;
                let owed = paid.amount.saturating_sub(paid.refunded);
                if owed > 0 {
                    refunded = refund_in_full(event, &payment.id, owed)?;
                }
                format!(
                    "You cancelled your RSVP for {}; {} is refunded.",
                    event.name(),
                    Money {
                        amount: refunded,
                        currency: payment.money.currency.clone()
                    }
                )
            } else {
                after_cutoff = true;
                format!(
                    "You cancelled your RSVP for {}. Refunds stopped at {} ({} before the start), so your {} is not refunded.",
                    event.name(),
                    event.refund_deadline(),
                    hours(event.refund_cutoff_ms),
                    payment.money
                )
            }
        }
    };
    roster.left.push(Left {
        member: seat.member.clone(),
        at: now.millis(),
        reason: reason.to_owned(),
        payment: seat.payment.as_ref().map(|p| p.id.clone()),
        refunded,
    });
    Ok(Released {
        seat,
        refunded,
        after_cutoff,
        message,
    })
}

/// `member-left`: the member's seats and waitlist places in events that have
/// not started are given up as if they had cancelled (refund rules included),
/// and the seats go to the waitlists.
pub(crate) fn member_left(ctx: &Context, member: &str) -> Result<()> {
    for (_, event) in storage::list_json::<EventRecord>(EVENT_PREFIX)? {
        if event.has_started(ctx.now()) {
            continue;
        }
        let mut roster = Roster::load(&event.id)?;
        let mut changed = false;
        if let Some(position) = roster.waitlist_position(member) {
            roster.waitlist.remove(position - 1);
            changed = true;
        }
        if let Some(index) = roster.seats.iter().position(|s| s.member == member) {
            give_up_seat(ctx, &event, &mut roster, index, "left the group")?;
            promote(ctx, &event, &mut roster)?;
            changed = true;
        }
        if changed {
            roster.save(&event.id)?;
            crate::card::refresh(ctx, &event, &roster)?;
            log::info(
                "member left: RSVP released",
                &[("event", &event.id), ("member", member)],
            );
        }
    }
    Ok(())
}

fn hours(ms: i64) -> String {
    let minutes = ms / 60_000;
    match (minutes / 60, minutes % 60) {
        (h, 0) => format!("{h}h"),
        (0, m) => format!("{m}m"),
        (h, m) => format!("{h}h{m}m"),
    }
}

/// Refunds what is left of a settled payment; idempotent by payment. Returns
/// the amount refunded now.
fn refund_in_full(event: &EventRecord, payment_id: &str, amount: u64) -> Result<u64> {
    let payment = payments::refund(
        payment_id,
        amount,
        &format!("event/{}/refund/{payment_id}", event.id),
    )?;
    log::info(
        "refunded",
        &[
            ("event", &event.id),
            ("payment", payment_id),
            ("amount", &amount.to_string()),
        ],
    );
    Ok(amount.min(payment.refunded))
}

/// `payment-settled`: the seat is confirmed. A payment for a seat that is gone
/// (cancelled or released meanwhile) is refunded.
pub(crate) fn payment_settled(ctx: &Context, payment: &Payment) -> Result<()> {
    let Some((link, event)) = owner_of(payment)? else {
        return Ok(());
    };
    let mut roster = Roster::load(&event.id)?;
    if let Some(index) = roster.seat_index_with_payment(&link.member, &payment.id) {
        let seat = &mut roster.seats[index];
        if seat.status == SeatStatus::Confirmed {
            return Ok(()); // heard twice
        }
        seat.status = SeatStatus::Confirmed;
        if let Some(p) = seat.payment.as_mut() {
            p.status = "settled".into();
        }
        roster.save(&event.id)?;
        crate::card::refresh(ctx, &event, &roster)?;
        return notify(
            &link.member,
            format!(
                "Payment received: you are confirmed for {} ({}).",
                event.name(),
                ctx.format_time(event.starts())
            ),
        );
    }
    let owed = payment.amount.saturating_sub(payment.refunded);
    if owed == 0 {
        return Ok(());
    }
    let refunded = refund_in_full(&event, &payment.id, owed)?;
    if let Some(left) = roster
        .left
        .iter_mut()
        .rev()
        .find(|l| l.payment.as_deref() == Some(payment.id.as_str()))
    {
        left.refunded = left.refunded.saturating_add(refunded);
    }
    roster.save(&event.id)?;
    crate::card::refresh(ctx, &event, &roster)?;
    notify(
        &link.member,
        format!(
            "Your payment {} for {} arrived after your seat was given up, so it is refunded in full.",
            payment.id,
            event.name()
        ),
    )
}

/// `payment-failed`: the seat it held is released and offered to the waitlist.
pub(crate) fn payment_failed(ctx: &Context, payment: &Payment, reason: &str) -> Result<()> {
    let Some((link, event)) = owner_of(payment)? else {
        return Ok(());
    };
    let mut roster = Roster::load(&event.id)?;
    let Some(index) = roster.seat_index_with_payment(&link.member, &payment.id) else {
        return Ok(()); // the seat was given up already
    };
    if roster.seats[index].status != SeatStatus::PendingPayment {
        return Ok(());
    }
    roster.seats.remove(index);
    roster.use_up_attempt(&link.member);
    roster.left.push(Left {
        member: link.member.clone(),
        at: ctx.now().millis(),
        reason: format!("payment {reason}"),
        payment: Some(payment.id.clone()),
        refunded: 0,
    });
    promote(ctx, &event, &mut roster)?;
    roster.save(&event.id)?;
    crate::card::refresh(ctx, &event, &roster)?;
    let again = if event.has_started(ctx.now()) {
        String::new()
    } else {
        " RSVP again to try once more.".to_owned()
    };
    notify(
        &link.member,
        format!(
            "Your payment {} for {} was not completed ({reason}), so your seat was released.{again}",
            payment.id,
            event.name()
        ),
    )
}

/// The event and member a payment of this installation belongs to; `None`
/// for payments this app does not know (logged).
fn owner_of(payment: &Payment) -> Result<Option<(PaymentLink, EventRecord)>> {
    let Some(link) = PaymentLink::find(&payment.id)? else {
        log::warn("payment of no event", &[("payment", &payment.id)]);
        return Ok(None);
    };
    let Some(event) = EventRecord::find(&link.event)? else {
        log::warn(
            "payment of a missing event",
            &[("payment", &payment.id), ("event", &link.event)],
        );
        return Ok(None);
    };
    Ok(Some((link, event)))
}

/// Direct messages one reminder invocation sends at most; the host limits
/// messages per minute, so a big event is reminded in batches a minute apart.
pub(crate) const REMIND_BATCH: usize = 40;
const REMIND_NEXT_BATCH: std::time::Duration = std::time::Duration::from_secs(60);

/// The payload of the `remind/<id>` timer.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct ReminderPayload {
    pub(crate) event: String,
    /// Members up to this id (in id order) were reminded already.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) after: Option<String>,
}

/// The `remind/<id>` timer: a direct message to everyone attending (not to
/// the waitlist, not to seats still waiting for their payment), in batches
/// of [`REMIND_BATCH`] by member id; when the host's message limit is hit the
/// rest goes a minute later.
pub(crate) fn remind(ctx: &Context, id: &str, after: Option<&str>) -> Result<()> {
    let Some(event) = EventRecord::find(id)? else {
        return Ok(());
    };
    let roster = Roster::load(id)?;
    let mut due: Vec<&str> = roster
        .seats
        .iter()
        .filter(|s| s.status.is_attendee())
        .map(|s| s.member.as_str())
        .filter(|m| after.is_none_or(|after| *m > after))
        .collect();
    due.sort_unstable();
    let text = format!(
        "Reminder: {} starts at {}.",
        event.name(),
        ctx.format_time(event.starts())
    );
    let mut sent: Option<&str> = None;
    for (i, member) in due.iter().enumerate() {
        if i == REMIND_BATCH {
            break;
        }
        match messaging::send_direct(member, &Message::new(text.clone())) {
            Ok(()) => {}
            Err(Error::QuotaExceeded(why)) => {
                log::warn("reminder paused", &[("event", id), ("why", &why)]);
                break;
            }
            Err(Error::Denied(why) | Error::NotFound(why)) => {
                log::warn(
                    "reminder not sent",
                    &[("event", id), ("member", member), ("why", &why)],
                );
            }
            Err(err) => return Err(err),
        }
        sent = Some(member);
    }
    let done = sent.map_or(0, |last| due.iter().take_while(|m| **m <= last).count());
    if done < due.len() {
        let last = sent.or(after);
        scheduler::schedule_json(
            &event.remind_timer_key(),
            ctx.now() + REMIND_NEXT_BATCH,
            &ReminderPayload {
                event: event.id.clone(),
                after: last.map(str::to_owned),
            },
        )?;
    }
    log::info(
        "reminder sent",
        &[("event", id), ("messages", &done.to_string())],
    );
    Ok(())
}
