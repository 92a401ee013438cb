//! `/event Title | when | capacity [| price] [| cutoff: 24h]`.

use std::time::Duration;

use qun_sdk::blocks::CommandSpec;
use qun_sdk::prelude::*;

use crate::card;
use crate::event::{EventRecord, Money, Roster, currency_exponent};

const MAX_TITLE: usize = 200;
const MAX_CAPACITY: u32 = 5_000;
/// The largest fee, in major units (the host may allow less).
const MAX_FEE_MAJOR: u64 = 1_000_000;
const DEFAULT_CURRENCY: &str = "CNY";
const DEFAULT_CUTOFF: Duration = Duration::from_secs(24 * 3600);
/// The reminder goes out this long before the start.
pub(crate) const REMIND_BEFORE: Duration = Duration::from_secs(2 * 3600);
pub(crate) const USAGE: &str = "write /event Title | when (2030-06-01 18:00, tomorrow 18:00, in 3h) | capacity [| price, e.g. 25 or 25.50 CNY] [| cutoff: 24h]";

/// The command's declaration: typed options, the host opens the event form
/// (pre-filled with what was typed) when the title, time or capacity is missing.
pub(crate) fn spec() -> CommandSpec {
    Describe::spec(
        "event",
        "Create an event: /event Title | when (2030-06-01 09:00, tomorrow 18:00, in 3h) | capacity [| price, e.g. 25.50 CNY] [| cutoff: 24h]",
    )
    .option(Input::text("title", "What the event is").required().max_length(MAX_TITLE as u32))
    .option(Input::date_time("when", "When it starts").required())
    .option(Input::integer("capacity", "How many seats").required().range(1, MAX_CAPACITY))
    .option(Input::text("price", "The fee per seat, e.g. 25 or 25.50 CNY (free when left out)").max_length(40))
    .option(
        Input::text("cutoff", "How long before the start cancelling still refunds, e.g. 24h")
            .max_length(20),
    )
    .into()
}

pub(crate) fn run(ctx: &Context, command: &Command) -> Result<Reply> {
    let organizer = ctx.actor()?.to_owned();
    let title: String = command.option("title")?;
    let title = title.trim().to_owned();
    if title.is_empty() {
        return Err(Error::invalid("title: give the event a title"));
    }
    let now = ctx.now();
    let starts: Timestamp = command.option("when")?;
    if starts <= now {
        return Err(Error::invalid(format!(
            "when: {} is not in the future; pick a later time",
            ctx.format_time(starts)
        )));
    }
    let capacity: u32 = command.option("capacity")?;
    let fee = command
        .option::<Option<String>>("price")?
        .map(|fee| parse_fee(&fee))
        .transpose()
        .map_err(|err| Error::invalid(format!("price: {}", err.message())))?
        .flatten();
    let cutoff = match command.option::<Option<String>>("cutoff")? {
        Some(text) => qun_sdk::parse_duration(&text).map_err(|_| {
            Error::invalid(format!(
                "cutoff: `{text}` is not a duration; write how long before the start refunds stop, e.g. 24h or 2d"
            ))
        })?,
        None => DEFAULT_CUTOFF,
    };
    let refund_cutoff_ms =
        i64::try_from(cutoff.as_millis()).map_err(|_| Error::invalid("cutoff: too long"))?;

    let remind = starts
        .millis()
        .checked_sub(i64::try_from(REMIND_BEFORE.as_millis()).unwrap_or(i64::MAX))
        .map(Timestamp::from_millis)
        .filter(|at| *at > now);

    let mut event = EventRecord {
        id: EventRecord::next_id()?,
        title,
        starts_at: starts.millis(),
        capacity,
        fee,
        refund_cutoff_ms,
        organizer,
        created_at: now.millis(),
        remind_at: None,
        card: None,
    };
    if let Some(at) = remind {
        let payload = json!({ "event": event.id });
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
    let roster = Roster::default();
    let message = card::event_card(ctx, &event, &roster)?;
    // Posting the card ourselves gives its id, so it can show seats as they
    // change; without the messaging grant it is the command's reply instead.
    let reply = match messaging::post(&message) {
        Ok(id) => {
            event.card = Some(id);
            Reply::none()
        }
        Err(Error::Denied(_)) => Reply::message(message),
        Err(err) => return Err(err),
    };
    event.save()?;
    roster.save(&event.id)?;
    log::info(
        "event created",
        &[("event", &event.id), ("organizer", &event.organizer)],
    );
    Ok(reply)
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
