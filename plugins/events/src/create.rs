//! `/event Title | when | capacity [| fee] [--cutoff 24h]`.

use std::time::Duration;

use qun_sdk::prelude::*;
use serde::Serialize;

use crate::event::{EventRecord, Money, Roster, currency_exponent, display_name};

const MAX_TITLE: usize = 200;
const MAX_CAPACITY: u32 = 5_000;
/// The largest fee, in major units (the host may allow less).
const MAX_FEE_MAJOR: u64 = 1_000_000;
const DEFAULT_CURRENCY: &str = "CNY";
const DEFAULT_CUTOFF: Duration = Duration::from_secs(24 * 3600);
/// The reminder goes out this long before the start.
pub(crate) const REMIND_BEFORE: Duration = Duration::from_secs(2 * 3600);
pub(crate) const USAGE: &str = "write /event Title | when (2d, 3h or 2026-12-01T18:00:00+08:00) | capacity [| fee, e.g. 25 or 25.50 CNY] [--cutoff 24h]";

/// A button's payload: `{"event":"<id>"}`.
#[derive(Serialize)]
struct EventButton<'a> {
    event: &'a str,
}

pub(crate) fn run(ctx: &Context, command: &Command) -> Result<Reply> {
    let organizer = ctx.actor()?.to_owned();
    let args = command.parse_args(&["cutoff"])?;
    args.allow_only(&["cutoff"])?;
    let (title, when, capacity, fee) = match args.parts() {
        [title, when, capacity] => (title, when, capacity, None),
        [title, when, capacity, fee] => (title, when, capacity, Some(fee)),
        [] => {
            return Err(Error::invalid(format!(
                "an event needs a title, a time and a capacity; {USAGE}"
            )));
        }
        parts if parts.len() < 3 => {
            return Err(Error::invalid(format!(
                "an event needs a title, a time and a capacity (got {} part{}); {USAGE}",
                parts.len(),
                if parts.len() == 1 { "" } else { "s" }
            )));
        }
        parts => {
            return Err(Error::invalid(format!(
                "an event has at most 4 parts (title, time, capacity, fee), got {}; {USAGE}",
                parts.len()
            )));
        }
    };
    if title.chars().count() > MAX_TITLE {
        return Err(Error::invalid(format!(
            "the title is longer than {MAX_TITLE} characters; shorten it"
        )));
    }
    let now = ctx.now();
    let starts = start_time(now, when)?;
    let capacity = parse_capacity(capacity)?;
    let fee = fee.map(|fee| parse_fee(fee)).transpose()?.flatten();
    let cutoff = match args.value("cutoff") {
        Some(text) => qun_sdk::parse_duration(text).map_err(|_| {
            Error::invalid(format!(
                "--cutoff `{text}` is not a duration; write how long before the start refunds stop, e.g. --cutoff 24h or --cutoff 2d"
            ))
        })?,
        None if args.flag("cutoff") => {
            return Err(Error::invalid("--cutoff needs a duration, e.g. --cutoff 24h"));
        }
        None => DEFAULT_CUTOFF,
    };
    let refund_cutoff_ms =
        i64::try_from(cutoff.as_millis()).map_err(|_| Error::invalid("--cutoff is too long"))?;

    let remind = starts
        .millis()
        .checked_sub(i64::try_from(REMIND_BEFORE.as_millis()).unwrap_or(i64::MAX))
        .map(Timestamp::from_millis)
        .filter(|at| *at > now);

    let mut event = EventRecord {
        id: EventRecord::next_id()?,
        title: title.clone(),
        starts_at: starts.millis(),
        capacity,
        fee,
        refund_cutoff_ms,
        organizer,
        created_at: now.millis(),
        remind_at: None,
    };
    if let Some(at) = remind {
        let payload = EventButton { event: &event.id };
        match scheduler::schedule_json(&event.remind_timer_key(), at, &payload) {
            Ok(()) => event.remind_at = Some(at.millis()),
            // No scheduler grant: the event works, without a reminder.
            Err(Error::Denied(why)) => {
                log::warn(
                    "no reminder scheduled",
                    &[("event", &event.id), ("why", &why)],
                );
            }
            Err(err) => return Err(err),
        }
    }
    event.save()?;
    Roster::default().save(&event.id)?;
    log::info(
        "event created",
        &[("event", &event.id), ("organizer", &event.organizer)],
    );
    Ok(Reply::message(event_message(&event)?))
}

/// `when`: a duration from now (`2d`, `3h`, `1h30m`) or an RFC 3339 time; in
/// the future.
fn start_time(now: Timestamp, when: &str) -> Result<Timestamp> {
    let at = match qun_sdk::parse_duration(when) {
        Ok(duration) => now + duration,
        Err(_) => Timestamp::parse_rfc3339(when).map_err(|_| {
            Error::invalid(format!(
                "the time `{when}` is neither a duration from now (3h, 2d, 1d12h) nor a date-time (2026-12-01T18:00:00+08:00)"
            ))
        })?,
    };
    if at <= now {
        return Err(Error::invalid(format!(
            "the time `{when}` ({at}) is not in the future; pick a later time"
        )));
    }
    Ok(at)
}

fn parse_capacity(text: &str) -> Result<u32> {
    let bad = || {
        Error::invalid(format!(
            "the capacity `{text}` is not a number of seats; write a whole number from 1 to {MAX_CAPACITY}"
        ))
    };
    let text = text.trim();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    match text.parse::<u32>() {
        Ok(n) if (1..=MAX_CAPACITY).contains(&n) => Ok(n),
        _ => Err(bad()),
    }
}

/// `25`, `25.50`, `25.50 CNY`, `CNY 25`, `free`, `0` → minor units.
/// `None` for a free event.
pub(crate) fn parse_fee(text: &str) -> Result<Option<Money>> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let is_code = |w: &str| w.len() == 3 && w.bytes().all(|b| b.is_ascii_alphabetic());
    let (amount, currency) = match words.as_slice() {
        [free] if free.eq_ignore_ascii_case("free") => return Ok(None),
        [amount] => (*amount, DEFAULT_CURRENCY.to_owned()),
        [amount, code] if is_code(code) => (*amount, code.to_ascii_uppercase()),
        [code, amount] if is_code(code) => (*amount, code.to_ascii_uppercase()),
        _ => {
            return Err(Error::invalid(format!(
                "the fee `{text}` is not an amount; write e.g. 25 or 25.50 CNY (or leave it out for a free event)"
            )));
        }
    };
    let exp = currency_exponent(&currency);
    let minor = parse_amount(amount, exp).ok_or_else(|| {
        Error::invalid(format!(
            "the fee `{text}` is not an amount in {currency}; write e.g. {}",
            if exp == 0 {
                format!("25 {currency}")
            } else {
                format!(
                    "25.{} {currency} (at most {exp} decimals)",
                    "5".repeat(exp as usize)
                )
            }
        ))
    })?;
    if minor == 0 {
        return Ok(None);
    }
    let max = MAX_FEE_MAJOR.saturating_mul(10_u64.pow(exp));
    if minor > max {
        return Err(Error::invalid(format!(
            "the fee is above the most an event can ask ({MAX_FEE_MAJOR} {currency})"
        )));
    }
    Ok(Some(Money {
        amount: minor,
        currency,
    }))
}

/// `12`, `12.5`, `12.50` with at most `exp` decimals → minor units.
fn parse_amount(text: &str, exp: u32) -> Option<u64> {
    let (whole, frac) = match text.split_once('.') {
        Some((whole, frac)) => (whole, frac),
        None => (text, ""),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(frac) || frac.len() > exp as usize {
        return None;
    }
    if text.contains('.') && frac.is_empty() {
        return None;
    }
    let whole: u64 = whole.parse().ok()?;
    let mut minor = whole.checked_mul(10_u64.pow(exp))?;
    if !frac.is_empty() {
        let scale = 10_u64.pow(exp - frac.len() as u32);
        minor = minor.checked_add(frac.parse::<u64>().ok()?.checked_mul(scale)?)?;
    }
    Some(minor)
}

fn event_message(event: &EventRecord) -> Result<Message> {
    let body = match &event.fee {
        None => "Press RSVP to take a seat; when it is full you join the waitlist.".to_owned(),
        Some(fee) => format!(
            "Press RSVP to take a seat; you will be asked to pay {fee} to confirm it. When it is full you join the waitlist."
        ),
    };
    let mut card = Card::new(&event.title)
        .body(body)
        .field("Event", format!("#{}", event.id))
        .field("Starts", event.starts().to_string())
        .field("Seats", event.capacity.to_string())
        .field(
            "Fee",
            event
                .fee
                .as_ref()
                .map_or_else(|| "free".to_owned(), Money::to_string),
        );
    if event.fee.is_some() {
        card = card.field(
            "Refunds",
            format!("on cancelling before {}", event.refund_deadline()),
        );
    }
    card = card
        .field("Organizer", display_name(&event.organizer)?)
        .button("RSVP", "rsvp", &EventButton { event: &event.id })?
        .button("Cancel RSVP", "cancel", &EventButton { event: &event.id })?;
    Ok(Message::text(format!("Event {}", event.name())).with_card(card))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fees_parse_to_minor_units() {
        let fee = |t| parse_fee(t).map(|m| m.map(|m| (m.amount, m.currency)));
        assert_eq!(fee("25"), Ok(Some((2500, "CNY".into()))));
        assert_eq!(fee("25.50 CNY"), Ok(Some((2550, "CNY".into()))));
        assert_eq!(fee("25.5 usd"), Ok(Some((2550, "USD".into()))));
        assert_eq!(fee("EUR 0.99"), Ok(Some((99, "EUR".into()))));
        assert_eq!(fee("500 JPY"), Ok(Some((500, "JPY".into()))));
        assert_eq!(fee("free"), Ok(None));
        assert_eq!(fee("0"), Ok(None));
        for bad in [
            "",
            "-5",
            "25.",
            ".5",
            "25.505",
            "2,5",
            "25 CNY extra",
            "25 CN",
            "5.5 JPY",
            "ten",
            "99999999999999999999",
            "1000001",
        ] {
            assert_eq!(
                parse_fee(bad).map_err(|e| e.code()),
                Err("invalid"),
                "{bad}"
            );
        }
    }

    #[test]
    fn money_displays_with_its_decimals() {
        let m = |amount, c: &str| {
            Money {
                amount,
                currency: c.into(),
            }
            .to_string()
        };
        assert_eq!(m(2550, "CNY"), "25.50 CNY");
        assert_eq!(m(5, "USD"), "0.05 USD");
        assert_eq!(m(500, "JPY"), "500 JPY");
        assert_eq!(m(1234, "KWD"), "1.234 KWD");
    }
}
