//! Events for Qun groups.
//!
//! `/event Title | when | capacity [| fee] [--cutoff 24h]` posts a card with
//! RSVP and cancel buttons. Actions: `rsvp`, `cancel`, `attendees`. Paid
//! seats are held while the member pays and confirmed when the payment
//! settles; a full event has a waitlist; cancelling before the cutoff
//! refunds; a timer reminds attendees before the start. See the README.

mod attendees;
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
            .command(
                "event",
                "Create an event: /event Title | when (3h, 2d or RFC 3339) | capacity [| fee, e.g. 25.50 CNY] [--cutoff 24h]",
            )
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

    fn on_action(ctx: &Context, action: &str, payload: &Json) -> Result<Json> {
        let id = || from_payload::<EventRef>(payload)?.id();
        match action {
            "rsvp" => seats::rsvp(ctx, &id()?),
            "cancel" => seats::cancel(ctx, &id()?),
            "attendees" => attendees::run(ctx, &id()?),
            other => Err(Error::invalid(format!(
                "unknown action `{other}`; events answer rsvp, cancel and attendees"
            ))),
        }
    }

    fn on_event(ctx: &Context, event: &Event) -> Result<()> {
        match event {
            Event::MemberLeft(member) => seats::member_left(ctx, member),
            Event::PaymentSettled(payment) => seats::payment_settled(payment),
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

export_app!(Events);

#[cfg(test)]
mod tests;
