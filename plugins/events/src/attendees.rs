//! Action `attendees`: who comes, who waits, who left, and each one's payment
//! (the organizer or a group owner/admin only).

use qun_sdk::prelude::*;

use crate::event::{EventRecord, Roster, display_names};

/// The host refuses answers above 64 KiB; stay clear of it.
const MAX_ANSWER: usize = 60 * 1024;

pub(crate) fn run(ctx: &Context, id: &str) -> Result<Json> {
    let actor = ctx.actor()?;
    let event = EventRecord::load(id)?;
    if event.organizer != actor && !membership::member(actor)?.is_admin() {
        return Err(Error::denied(
            "only the event's organizer or a group admin can see its attendees",
        ));
    }
    let roster = Roster::load(id)?;
    let names = display_names()?;
    let name = |member: &str| {
        names
            .get(member)
            .cloned()
            .unwrap_or_else(|| member.to_owned())
    };
    let attendees: Vec<Json> = roster
        .seats
        .iter()
        .map(|seat| {
            json!({
                "member": seat.member,
                "name": name(&seat.member),
                "status": seat.status.as_str(),
                "since": Timestamp::from_millis(seat.since).to_string(),
                "payment": seat.payment.as_ref().map(|p| json!({
                    "id": p.id,
                    "amount": p.money.amount,
                    "currency": p.money.currency,
                    "status": p.status,
                })),
            })
        })
        .collect();
    let waitlist: Vec<Json> = roster
        .waitlist
        .iter()
        .enumerate()
        .map(|(i, w)| {
            json!({
                "member": w.member,
                "name": name(&w.member),
                "position": i + 1,
                "since": Timestamp::from_millis(w.since).to_string(),
            })
        })
        .collect();
    let left: Vec<Json> = roster
        .left
        .iter()
        .map(|l| {
            json!({
                "member": l.member,
                "name": name(&l.member),
                "at": Timestamp::from_millis(l.at).to_string(),
                "reason": l.reason,
                "payment": l.payment,
                "refunded": l.refunded,
            })
        })
        .collect();
    let confirmed = roster
        .seats
        .iter()
        .filter(|s| s.status.is_attendee())
        .count();
    let mut answer = json!({
        "event": event.id,
        "title": event.title,
        "starts_at": event.starts().to_string(),
        "capacity": event.capacity,
        "fee": event.fee.as_ref().map(|f| json!({"amount": f.amount, "currency": f.currency})),
        "refund_cutoff": event.fee.as_ref().map(|_| event.refund_deadline().to_string()),
        "organizer": event.organizer,
        "seats_taken": roster.seats.len(),
        "seats_left": (event.capacity as usize).saturating_sub(roster.seats.len()),
        "attending": confirmed,
        "waiting": roster.waitlist.len(),
        "truncated": false,
    });
    fit(&mut answer, attendees, waitlist, left)?;
    Ok(answer)
}

/// Puts the lists into `answer`, shortening them (departures first, then the
/// waitlist's tail, then the attendees' tail) until the answer fits the
/// host's limit; `truncated` tells.
fn fit(
    answer: &mut Json,
    mut attendees: Vec<Json>,
    mut waitlist: Vec<Json>,
    mut left: Vec<Json>,
) -> Result<()> {
    loop {
        answer["attendees"] = json!(attendees);
        answer["waitlist"] = json!(waitlist);
        answer["left"] = json!(left);
        if serde_json::to_vec(&*answer)?.len() <= MAX_ANSWER {
            return Ok(());
        }
        answer["truncated"] = json!(true);
        if !left.is_empty() {
            left.clear();
        } else if !waitlist.is_empty() {
            waitlist.truncate(waitlist.len() * 3 / 4);
        } else if !attendees.is_empty() {
            attendees.truncate(attendees.len() * 3 / 4);
        } else {
            return Ok(());
        }
    }
}
