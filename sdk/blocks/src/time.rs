//! Dates and times as clients send them (ISO 8601) and as people type them
//! (`tomorrow 18:00`, `in 2h`, `monday 9am`), read on a zone's clock.

use chrono::{Datelike, NaiveDate, NaiveTime, TimeDelta, Weekday};

use crate::model::{Date, Timestamp};
use crate::zone::{Zone, to_date};

/// A calendar date written `2030-06-01` (also `2030-6-1` or `2030/06/01`).
pub fn parse_date(text: &str) -> Option<Date> {
    iso_date(text.trim()).map(to_date)
}

/// A moment written in ISO 8601: `2030-06-01T09:00`, `2030-06-01 09:00`,
/// with optional seconds and fraction, and an optional offset (`Z`,
/// `+08:00`, `+0800`, `+08`). Without an offset it is read on `zone`'s clock.
pub fn parse_date_time(text: &str, zone: &Zone) -> Option<Timestamp> {
    let text = text.trim();
    let split = text.find(['T', 't', ' '])?;
    let date = iso_date(&text[..split])?;
    let rest = text[split + 1..].trim_start();
    let (clock, offset) = split_offset(rest)?;
    let time = iso_time(clock)?;
    let local = date.and_time(time);
    match offset {
        Some(seconds) => {
            let utc = local.checked_sub_signed(TimeDelta::seconds(i64::from(seconds)))?;
            Some(utc.and_utc().timestamp_millis())
        }
        None => zone.resolve(local),
    }
}

/// A date as people type it, on `zone`'s clock at `now`: an ISO date,
/// `today`, `tomorrow`, `yesterday`, a weekday (`friday`, `fri`, `next
/// friday`: the next one after today), or `in 3 days` / `in 2 weeks`.
pub fn parse_typed_date(text: &str, zone: &Zone, now: Timestamp) -> Option<Date> {
    let today = zone.local(now)?.date();
    let words = words(text);
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    if let Some(date) = day(&words, today) {
        return Some(to_date(date));
    }
    let span = relative(&words)?;
    if span.millis != 0 {
        return None;
    }
    today
        .checked_add_signed(TimeDelta::days(span.days))
        .map(to_date)
}

/// A moment as people type it, on `zone`'s clock at `now`: ISO 8601 (see
/// [`parse_date_time`]), `now`, a span from now (`in 2h`, `in 30m`,
/// `in 1h 30m`, `in 3 days`, or just `2h`), a day and a time in either order
/// (`tomorrow 18:00`, `today at 9am`, `monday 9:00`, `2030-06-01 6pm`,
/// `9:30 pm friday`), or a time alone (`18:00`: the next time the clock
/// shows it). Days of a span keep the clock time across daylight saving time.
pub fn parse_typed_date_time(text: &str, zone: &Zone, now: Timestamp) -> Option<Timestamp> {
    if let Some(ts) = parse_date_time(text, zone) {
        return Some(ts);
    }
    let here = zone.local(now)?;
    let words = words(text);
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    if words == ["now"] {
        return Some(now);
    }
    if let Some(span) = relative(&words) {
        let local = here.checked_add_signed(TimeDelta::days(span.days))?;
        let base = if span.days == 0 {
            now
        } else {
            zone.resolve(local)?
        };
        return base.checked_add(span.millis);
    }
    let words: Vec<&str> = words.into_iter().filter(|w| *w != "at").collect();
    // A time alone: the next time the clock shows it.
    if let Some(time) = time_of_day(&words.concat()) {
        let today = zone.resolve(here.date().and_time(time))?;
        if today > now {
            return Some(today);
        }
        let tomorrow = here.date().succ_opt()?;
        return zone.resolve(tomorrow.and_time(time));
    }
    // A day and a time, in either order.
    for cut in 1..words.len() {
        let (a, b) = words.split_at(cut);
        let found = match (day(a, here.date()), time_of_day(&b.concat())) {
            (Some(d), Some(t)) => Some((d, t)),
            _ => match (day(b, here.date()), time_of_day(&a.concat())) {
                (Some(d), Some(t)) => Some((d, t)),
                _ => None,
            },
        };
        if let Some((date, time)) = found {
            return zone.resolve(date.and_time(time));
        }
    }
    None
}

/// Lowercase words, `,` dropped (`tomorrow, 9am`).
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// `YYYY-MM-DD` (month and day may have one digit; `/` works too).
fn iso_date(text: &str) -> Option<NaiveDate> {
    let mut parts = text.split(['-', '/']);
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some()
        || y.len() != 4
        || !(1..=2).contains(&m.len())
        || !(1..=2).contains(&d.len())
        || ![y, m, d]
            .iter()
            .all(|p| p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
}

/// `HH:MM`, `HH:MM:SS` or `HH:MM:SS.fff` (the hour may have one digit).
fn iso_time(text: &str) -> Option<NaiveTime> {
    let (clock, fraction) = match text.split_once(['.', ',']) {
        Some((c, f)) if !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()) => (c, Some(f)),
        Some(_) => return None,
        None => (text, None),
    };
    let mut parts = clock.split(':');
    let h = number(parts.next()?, 1, 2)?;
    let m = number(parts.next()?, 2, 2)?;
    let s = match parts.next() {
        Some(s) => number(s, 2, 2)?,
        None if fraction.is_some() => return None,
        None => 0,
    };
    if parts.next().is_some() {
        return None;
    }
    let nanos = match fraction {
        Some(f) => {
            let digits: String = f.chars().chain(std::iter::repeat('0')).take(9).collect();
            digits.parse().ok()?
        }
        None => 0,
    };
    NaiveTime::from_hms_nano_opt(h, m, s, nanos)
}

fn number(text: &str, min_len: usize, max_len: usize) -> Option<u32> {
    if !(min_len..=max_len).contains(&text.len()) || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Splits a trailing UTC offset off a clock time: `Z`, `±HH:MM`, `±HHMM`,
/// `±HH`; the offset in seconds east of UTC.
fn split_offset(text: &str) -> Option<(&str, Option<i32>)> {
    if let Some(clock) = text.strip_suffix(['Z', 'z']) {
        return Some((clock.trim_end(), Some(0)));
    }
    let Some(at) = text.rfind(['+', '-']) else {
        return Some((text, None));
    };
    let sign = if text.as_bytes()[at] == b'-' { -1 } else { 1 };
    let digits: String = text[at + 1..].chars().filter(|c| *c != ':').collect();
    if !matches!(digits.len(), 2 | 4) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hours: i32 = digits[..2].parse().ok()?;
    let minutes: i32 = if digits.len() == 4 {
        digits[2..].parse().ok()?
    } else {
        0
    };
    if hours > 23 || minutes > 59 {
        return None;
    }
    Some((
        text[..at].trim_end(),
        Some(sign * (hours * 3600 + minutes * 60)),
    ))
}

/// A time of day as people type it: `18:00`, `9:30`, `9`, `9am`, `9:30pm`,
/// `12am` (midnight), `noon`, `midnight` (spaces already removed).
fn time_of_day(text: &str) -> Option<NaiveTime> {
    match text {
        "noon" => return NaiveTime::from_hms_opt(12, 0, 0),
        "midnight" => return NaiveTime::from_hms_opt(0, 0, 0),
        _ => {}
    }
    let (clock, half) = if let Some(c) = text.strip_suffix("am").or(text.strip_suffix("a.m.")) {
        (c, Some(false))
    } else if let Some(c) = text.strip_suffix("pm").or(text.strip_suffix("p.m.")) {
        (c, Some(true))
    } else {
        (text, None)
    };
    let (h, m) = match clock.split_once(':') {
        Some((h, m)) => (number(h, 1, 2)?, number(m, 2, 2)?),
        None => (number(clock, 1, 2)?, 0),
    };
    let h = match half {
        None => h,
        Some(_) if !(1..=12).contains(&h) => return None,
        Some(false) => h % 12,
        Some(true) => h % 12 + 12,
    };
    NaiveTime::from_hms_opt(h, m, 0)
}

/// A day named by words: an ISO date, `today`, `tomorrow`, `yesterday`, or a
/// weekday (optionally after `next` or `on`), which is the next such day
/// after `today`.
fn day(words: &[&str], today: NaiveDate) -> Option<NaiveDate> {
    let words = match words {
        ["on" | "next", rest @ ..] => rest,
        _ => words,
    };
    let [word] = words else { return None };
    match *word {
        "today" => Some(today),
        "tomorrow" | "tmr" => today.succ_opt(),
        "yesterday" => today.pred_opt(),
        _ => match weekday(word) {
            Some(wd) => {
                let ahead =
                    (wd.num_days_from_monday() + 7 - today.weekday().num_days_from_monday()) % 7;
                let ahead = if ahead == 0 { 7 } else { ahead };
                today.checked_add_signed(TimeDelta::days(i64::from(ahead)))
            }
            None => iso_date(word),
        },
    }
}

fn weekday(word: &str) -> Option<Weekday> {
    Some(match word {
        "monday" | "mon" => Weekday::Mon,
        "tuesday" | "tue" | "tues" => Weekday::Tue,
        "wednesday" | "wed" => Weekday::Wed,
        "thursday" | "thu" | "thur" | "thurs" => Weekday::Thu,
        "friday" | "fri" => Weekday::Fri,
        "saturday" | "sat" => Weekday::Sat,
        "sunday" | "sun" => Weekday::Sun,
        _ => return None,
    })
}

/// A span of calendar days and exact milliseconds.
struct Span {
    days: i64,
    millis: i64,
}

/// `in 2h`, `in 1h 30m`, `in 3 days`, `2 weeks`, `90 minutes`.
fn relative(words: &[&str]) -> Option<Span> {
    let words = match words {
        ["in", rest @ ..] => rest,
        _ => words,
    };
    let text = words.concat();
    if text.is_empty() {
        return None;
    }
    let mut span = Span { days: 0, millis: 0 };
    let mut rest = text.as_str();
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > 6 {
            return None;
        }
        let n: i64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let letters = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let unit = &rest[..letters];
        rest = &rest[letters..];
        match unit {
            "m" | "min" | "mins" | "minute" | "minutes" => span.millis += n * 60_000,
            "h" | "hr" | "hrs" | "hour" | "hours" => span.millis += n * 3_600_000,
            "d" | "day" | "days" => span.days += n,
            "w" | "wk" | "wks" | "week" | "weeks" => span.days += n * 7,
            _ => return None,
        }
    }
    Some(span)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDateTime;

    fn zone(name: &str) -> Zone {
        Zone::parse(name).expect(name)
    }

    fn utc(s: &str) -> Timestamp {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M")
            .expect(s)
            .and_utc()
            .timestamp_millis()
    }

    fn date(y: i32, m: u8, d: u8) -> Date {
        Date {
            year: y,
            month: m,
            day: d,
        }
    }

    #[test]
    fn reads_iso_dates() {
        assert_eq!(parse_date("2030-06-01"), Some(date(2030, 6, 1)));
        assert_eq!(parse_date(" 2030-6-1 "), Some(date(2030, 6, 1)));
        assert_eq!(parse_date("2030/06/01"), Some(date(2030, 6, 1)));
        for bad in [
            "2030-02-30",
            "2030-13-01",
            "30-06-01",
            "2030-06",
            "2030-06-01x",
            "tomorrow",
            "",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn reads_iso_date_times_with_and_without_offsets() {
        let sh = zone("Asia/Shanghai");
        let nine_sh = utc("2030-06-01 01:00");
        for text in [
            "2030-06-01T09:00",
            "2030-06-01 09:00",
            "2030-06-01T09:00:00",
            "2030-06-01T09:00:00.000",
            "2030-06-01T09:00+08:00",
            "2030-06-01T01:00:00Z",
            "2030-06-01T09:00:00+0800",
            "2030-06-01 09:00 +08",
            "2030-06-01 9:00",
        ] {
            assert_eq!(parse_date_time(text, &sh), Some(nine_sh), "{text}");
        }
        assert_eq!(
            parse_date_time("2030-06-01T09:00-05:00", &sh),
            Some(utc("2030-06-01 14:00"))
        );
        assert_eq!(
            parse_date_time("2030-06-01T09:00:30.5Z", &sh),
            Some(utc("2030-06-01 09:00") + 30_500)
        );
        for bad in [
            "2030-06-01",
            "2030-06-01T25:00",
            "2030-06-01T09:60",
            "2030-06-01T09",
            "2030-06-01T09:00+24:00",
            "2030-06-01T09:00+8",
            "2030-06-01T09:00.5",
            "09:00",
        ] {
            assert_eq!(parse_date_time(bad, &sh), None, "{bad}");
        }
    }

    #[test]
    fn reads_local_times_across_daylight_saving() {
        let ny = zone("America/New_York");
        // Skipped: 02:30 moves forward to 03:00 EDT.
        assert_eq!(
            parse_date_time("2030-03-10 02:30", &ny),
            Some(utc("2030-03-10 07:00"))
        );
        // Repeated: the first 01:30 (EDT).
        assert_eq!(
            parse_date_time("2030-11-03 01:30", &ny),
            Some(utc("2030-11-03 05:30"))
        );
    }

    #[test]
    fn reads_typed_dates() {
        let sh = zone("Asia/Shanghai");
        // 2030-06-01 is a Saturday; 23:30 UTC on May 31 is already June 1 in Shanghai.
        let now = utc("2030-05-31 23:30");
        let typed = |t: &str| parse_typed_date(t, &sh, now);
        assert_eq!(typed("today"), Some(date(2030, 6, 1)));
        assert_eq!(typed("Tomorrow"), Some(date(2030, 6, 2)));
        assert_eq!(typed("yesterday"), Some(date(2030, 5, 31)));
        assert_eq!(typed("monday"), Some(date(2030, 6, 3)));
        assert_eq!(typed("next Mon"), Some(date(2030, 6, 3)));
        // Today is Saturday: "saturday" is next week's.
        assert_eq!(typed("saturday"), Some(date(2030, 6, 8)));
        assert_eq!(typed("friday"), Some(date(2030, 6, 7)));
        assert_eq!(typed("in 3 days"), Some(date(2030, 6, 4)));
        assert_eq!(typed("in 2 weeks"), Some(date(2030, 6, 15)));
        assert_eq!(typed("2030-07-04"), Some(date(2030, 7, 4)));
        for bad in ["in 2h", "someday", "", "2030-02-30", "mondays"] {
            assert_eq!(typed(bad), None, "{bad}");
        }
    }

    #[test]
    fn reads_typed_date_times() {
        let sh = zone("Asia/Shanghai");
        // Saturday 2030-06-01 10:00 in Shanghai.
        let now = utc("2030-06-01 02:00");
        let typed = |t: &str| parse_typed_date_time(t, &sh, now);
        let at = |s: &str| parse_date_time(s, &sh).expect(s);
        assert_eq!(typed("2030-06-01 09:00"), Some(at("2030-06-01 09:00")));
        assert_eq!(typed("tomorrow 18:00"), Some(at("2030-06-02 18:00")));
        assert_eq!(typed("tomorrow at 6pm"), Some(at("2030-06-02 18:00")));
        assert_eq!(typed("6:30 pm tomorrow"), Some(at("2030-06-02 18:30")));
        assert_eq!(typed("today 12am"), Some(at("2030-06-01 00:00")));
        assert_eq!(typed("today noon"), Some(at("2030-06-01 12:00")));
        assert_eq!(typed("monday 9:00"), Some(at("2030-06-03 09:00")));
        assert_eq!(typed("Mon, 9am"), Some(at("2030-06-03 09:00")));
        assert_eq!(typed("saturday 11:00"), Some(at("2030-06-08 11:00")));
        assert_eq!(typed("2030-07-04 6pm"), Some(at("2030-07-04 18:00")));
        // A time alone: later today, or tomorrow once it has passed.
        assert_eq!(typed("18:00"), Some(at("2030-06-01 18:00")));
        assert_eq!(typed("9:00"), Some(at("2030-06-02 09:00")));
        assert_eq!(typed("now"), Some(now));
        assert_eq!(typed("in 2h"), Some(now + 2 * 3_600_000));
        assert_eq!(typed("in 30m"), Some(now + 30 * 60_000));
        assert_eq!(typed("in 1h 30m"), Some(now + 90 * 60_000));
        assert_eq!(typed("2h"), Some(now + 2 * 3_600_000));
        assert_eq!(typed("in 90 minutes"), Some(now + 90 * 60_000));
        assert_eq!(typed("in 3 days"), Some(now + 3 * 86_400_000));
        for bad in [
            "tomorrow",
            "2030-06-01",
            "in",
            "in 2 fortnights",
            "13pm",
            "0am",
            "24:00",
            "9:5",
            "tomorrow 9 10",
            "later",
            "in 9999999h",
        ] {
            assert_eq!(typed(bad), None, "{bad}");
        }
    }

    #[test]
    fn typed_days_keep_the_clock_across_daylight_saving() {
        let ny = zone("America/New_York");
        // Saturday 2030-03-09 09:00 EST; three days later the clock is EDT.
        let now = parse_date_time("2030-03-09 09:00", &ny).expect("now");
        assert_eq!(
            parse_typed_date_time("in 3 days", &ny, now),
            parse_date_time("2030-03-12 09:00", &ny)
        );
        // Sunday 02:30 does not exist: it moves forward to 03:00.
        assert_eq!(
            parse_typed_date_time("sunday 2:30", &ny, now),
            Some(utc("2030-03-10 07:00"))
        );
        // Hours are exact: 24h later is 10:00 on the clock after the change.
        let later = parse_typed_date_time("in 24h", &ny, now).expect("later");
        assert_eq!(
            ny.local(later).map(|t| t.format("%d %H:%M").to_string()),
            Some("10 10:00".to_string())
        );
    }
}
