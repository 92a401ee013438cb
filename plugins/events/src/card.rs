//! The event's live card: when it starts, the seats left, the waitlist, the
//! fee and the buttons; updated in place whenever the roster changes.

use qun_sdk::prelude::*;

use crate::event::{EventRecord, Money, Roster, display_name};

/// The card as the roster stands.
pub(crate) fn event_card(ctx: &Context, event: &EventRecord, roster: &Roster) -> Result<Message> {
    let taken = roster.seats.len();
    let left = (event.capacity as usize).saturating_sub(taken);
    let waiting = roster.waitlist.len();
    let started = event.has_started(ctx.now());
    let body = match (&event.fee, started) {
        (_, true) => "This event has started.".to_owned(),
        (None, false) => {
            "Press RSVP to take a seat; when it is full you join the waitlist.".to_owned()
        }
        (Some(fee), false) => format!(
            "Press RSVP to take a seat; you will be asked to pay {fee} to confirm it. When it is full you join the waitlist."
        ),
    };
    let seats = if left == 0 {
        format!("full ({} seats)", event.capacity)
    } else {
        format!("{left} of {} left", event.capacity)
    };
    let mut fields = vec![
        ("Starts".to_owned(), ctx.format_time(event.starts())),
        ("Seats".to_owned(), seats.clone()),
        (
            "Waitlist".to_owned(),
            if waiting == 0 {
                "nobody waiting".to_owned()
            } else {
                format!("{waiting} waiting")
            },
        ),
        (
            "Fee".to_owned(),
            event
                .fee
                .as_ref()
                .map_or_else(|| "free".to_owned(), Money::to_string),
        ),
    ];
    if event.fee.is_some() {
        fields.push((
            "Refunds".to_owned(),
            format!(
                "on cancelling before {}",
                ctx.format_time(event.refund_deadline())
            ),
        ));
    }
    fields.push(("Organizer".to_owned(), display_name(&event.organizer)?));
    let mut message = Message::new(format!(
        "Event {}: {seats}, {waiting} waiting",
        event.name()
    ))
    .header(&event.title)
    .text(body)
    .fields(fields)
    .context(format!("Event #{}", event.id));
    if !started {
        let reference = json!({ "event": event.id });
        message = message.actions([
            Button::new("RSVP", "rsvp")
                .payload(&reference)?
                .style(ButtonStyle::Primary),
            Button::new("Cancel RSVP", "cancel")
                .payload(&reference)?
                .style(ButtonStyle::Danger)
                .confirm(
                    "Give up your place?",
                    "Someone on the waitlist may take it.",
                ),
        ]);
    }
    Ok(message)
}

/// Updates the event's card to `roster`, when the app posted it itself. A
/// card someone deleted, or a messaging grant withdrawn since, leaves the
/// seat change standing.
pub(crate) fn refresh(ctx: &Context, event: &EventRecord, roster: &Roster) -> Result<()> {
    let Some(id) = &event.card else {
        return Ok(());
    };
    match messaging::update(id, &event_card(ctx, event, roster)?) {
        Ok(()) | Err(Error::NotFound(_) | Error::Denied(_)) => Ok(()),
        Err(err) => Err(err),
    }
}
