//! Events for Qun groups.
//!
//! `/event Title | when | capacity [| price] [| cutoff: 24h]` (typed
//! options; the event form opens, pre-filled, when one is missing) posts a
//! live card with RSVP and cancel buttons, the seats left and the waitlist,
//! updated as people sign up and cancel. Actions: `rsvp`, `cancel`, `attendees`. Paid
//! seats are held while the member pays and confirmed when the payment
//! settles; a full event has a waitlist; cancelling before the cutoff
//! refunds; a timer reminds attendees before the start. See the README.

mod attendees;
mod card;
mod create;
mod event;
mod seats;

use qun_sdk::prelude::*;

pub use event::{EventRecord, Money, Roster, Seat, SeatStatus};

use event::{EventRef, REMIND_TIMER_PREFIX};

/// The events app.
pub struct Events;

impl App for Events {
    fn describe() -> Describe {
        Describe::new("events", "Events")
            .version(env!("CARGO_PKG_VERSION"))
            .description(
                "Organise events in the group: seats up to a capacity, then a waitlist; optional fee \
                 paid through the group's payments, refunded when cancelling before the cutoff; \
                 a reminder to attendees before the start.",
            )
            .command_with(create::spec())
            .action(
                "rsvp",
                r#"Take a seat, or join the waitlist when full; a paid seat waits for your payment: {"event": "<id>"}"#,
            )
            .action(
                "cancel",
                r#"Give up your seat or waitlist place; refunded before the cutoff: {"event": "<id>"}"#,
            )
            .action(
                "attendees",
                r#"Attendees, waitlist and payments (organizer or group admin): {"event": "<id>"}"#,
            )
    }

    fn on_command(ctx: &Context, command: &Command) -> Result<Reply> {
        match command.name.as_str() {
            "event" => create::run(ctx, command),
            other => Err(Error::invalid(format!(
                "unknown command /{other}; {}",
                create::USAGE
            ))),
        }
    }

    fn on_action(ctx: &Context, call: &ActionCall) -> Result<ActionAnswer> {
        let id = || call.payload::<EventRef>()?.id();
        match call.name.as_str() {
            "rsvp" => seats::rsvp(ctx, &id()?).map(|data| told(call, data)),
            "cancel" => seats::cancel(ctx, &id()?).map(|data| told(call, data)),
            "attendees" => attendees::run(ctx, &id()?).map(Into::into),
            other => Err(Error::invalid(format!(
                "unknown action `{other}`; events answer rsvp, cancel and attendees"
            ))),
        }
    }

    fn on_event(ctx: &Context, event: &Event) -> Result<()> {
        match event {
            Event::MemberLeft(member) => seats::member_left(ctx, member),
            Event::PaymentSettled(payment) => seats::payment_settled(ctx, payment),
            Event::PaymentFailed { payment, reason } => seats::payment_failed(ctx, payment, reason),
            Event::TimerFired(timer) if timer.key.starts_with(REMIND_TIMER_PREFIX) => {
                let bad = |err: serde_json::Error| {
                    Error::internal(format!("bad reminder payload: {err}"))
                };
                let id = serde_json::from_str::<EventRef>(&timer.payload)
                    .map_err(bad)?
                    .id()?;
                let cursor =
                    serde_json::from_str::<seats::ReminderPayload>(&timer.payload).map_err(bad)?;
                seats::remind(ctx, &id, cursor.after.as_deref())
            }
            _ => Ok(()),
        }
    }
}

/// An answer whose `message` the member who pressed a button also sees,
/// privately (API callers read it in the JSON).
fn told(call: &ActionCall, data: Json) -> ActionAnswer {
    match data["message"]
        .as_str()
        .filter(|_| call.message_id.is_some())
    {
        Some(text) => {
            let text = text.to_owned();
            ActionAnswer::new(data, Reply::private(Message::new(text.clone()).text(text)))
        }
        None => data.into(),
    }
}

export_app!(Events);

#[cfg(test)]
mod tests;
