//! Time as the host gives it: milliseconds since the Unix epoch, UTC.

use std::fmt;
use std::ops::{Add, Sub};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

const MS_PER_DAY: i64 = 86_400_000;

/// A point in time: milliseconds since the Unix epoch, UTC (the WIT `timestamp`).
///
/// Displays as RFC 3339 (`2026-11-25T17:49:00Z`, with `.mmm` when the
/// milliseconds are not zero). Serialises as the number of milliseconds.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Timestamp(i64);

impl Timestamp {
    /// The timestamp `ms` milliseconds after the Unix epoch.
    pub const fn from_millis(ms: i64) -> Self {
        Self(ms)
    }

    /// Milliseconds since the Unix epoch.
    pub const fn millis(self) -> i64 {
        self.0
    }

    /// The UTC calendar date of this instant.
    pub fn date(self) -> Date {
        let (year, month, day) = civil_from_days(self.0.div_euclid(MS_PER_DAY));
        Date { year, month, day }
    }

    /// Parses an RFC 3339 date-time (`2026-11-25T17:49:00Z`,
    /// `2026-11-25T17:49:00.5+08:00`; a space may replace the `T`, seconds may be
    /// left out) or a bare date (`2026-11-25`, midnight UTC).
    pub fn parse_rfc3339(text: &str) -> Result<Self> {
        parse_rfc3339(text.trim()).ok_or_else(|| {
            Error::invalid(format!(
                "`{text}` is not a date-time; write it like 2026-11-25T18:00:00Z or 2026-11-25T18:00+08:00"
            ))
        })
    }

    /// The later of `self + duration`, saturating at the end of time.
    pub fn saturating_add(self, duration: Duration) -> Self {
        let ms = i64::try_from(duration.as_millis()).unwrap_or(i64::MAX);
        Self(self.0.saturating_add(ms))
    }
}

impl Add<Duration> for Timestamp {
    type Output = Timestamp;
    fn add(self, rhs: Duration) -> Timestamp {
        self.saturating_add(rhs)
    }
}

impl Sub<Timestamp> for Timestamp {
    type Output = Duration;
    /// The time from `rhs` to `self`; zero if `rhs` is later.
    fn sub(self, rhs: Timestamp) -> Duration {
        Duration::from_millis(u64::try_from(self.0.saturating_sub(rhs.0)).unwrap_or(0))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms_of_day = self.0.rem_euclid(MS_PER_DAY);
        let (h, m, s, ms) = (
            ms_of_day / 3_600_000,
            ms_of_day / 60_000 % 60,
            ms_of_day / 1000 % 60,
            ms_of_day % 1000,
        );
        write!(f, "{}T{h:02}:{m:02}:{s:02}", self.date())?;
        if ms != 0 {
            write!(f, ".{ms:03}")?;
        }
        f.write_str("Z")
    }
}

/// A calendar date (proleptic Gregorian, UTC). Displays as `YYYY-MM-DD`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    /// The year, e.g. 2026.
    pub year: i32,
    /// The month, 1..=12.
    pub month: u8,
    /// The day of the month, 1..=31.
    pub day: u8,
}

impl Date {
    /// Midnight UTC at the start of this date.
    pub fn start(self) -> Timestamp {
        Timestamp(days_from_civil(self.year, self.month, self.day) * MS_PER_DAY)
    }
}

impl From<qun_blocks::Date> for Date {
    fn from(d: qun_blocks::Date) -> Self {
        Date {
            year: d.year,
            month: d.month,
            day: d.day,
        }
    }
}

impl From<Date> for qun_blocks::Date {
    fn from(d: Date) -> Self {
        qun_blocks::Date {
            year: d.year,
            month: d.month,
            day: d.day,
        }
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// Parses a relative duration such as `30s`, `30m`, `2h`, `1d`, `1w` or a
/// combination like `1h30m`.
pub fn parse_duration(text: &str) -> Result<Duration> {
    let bad = || {
        Error::invalid(format!(
            "`{text}` is not a duration; write a number and a unit (s, m, h, d, w), e.g. 30m, 2h, 1d, 1h30m"
        ))
    };
    let text_trimmed = text.trim();
    if text_trimmed.is_empty() {
        return Err(bad());
    }
    let mut total: u64 = 0;
    let mut number: Option<u64> = None;
    for c in text_trimmed.chars() {
        if let Some(digit) = c.to_digit(10) {
            let n = number.unwrap_or(0);
            number = Some(
                n.checked_mul(10)
                    .and_then(|n| n.checked_add(u64::from(digit)))
                    .ok_or_else(bad)?,
            );
            continue;
        }
        let unit: u64 = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 604_800,
            _ => return Err(bad()),
        };
        let n = number.take().ok_or_else(bad)?;
        total = n
            .checked_mul(unit)
            .and_then(|s| total.checked_add(s))
            .ok_or_else(bad)?;
    }
    if number.is_some() {
        return Err(bad());
    }
    Ok(Duration::from_secs(total))
}

// Howard Hinnant's `days_from_civil` / `civil_from_days`: exact for the
// proleptic Gregorian calendar, no tables, no dependencies.
fn days_from_civil(year: i32, month: u8, day: u8) -> i64 {
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i32, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    // The casts cannot truncate: month is 1..=12, day 1..=31, and the year of
    // any i64 millisecond timestamp fits an i32.
    (year as i32, month as u8, day as u8)
}

fn parse_rfc3339(s: &str) -> Option<Timestamp> {
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let part = b.get(from..from + len)?;
        part.iter().all(u8::is_ascii_digit).then_some(())?;
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    if b.get(4) != Some(&b'-')
        || b.get(7) != Some(&b'-')
        || !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
    {
        return None;
    }
    let date = days_from_civil(i32::try_from(year).ok()?, month as u8, day as u8);
    if civil_from_days(date) != (year as i32, month as u8, day as u8) {
        return None; // 2026-02-30 and friends
    }
    if b.len() == 10 {
        return Some(Timestamp(date * MS_PER_DAY));
    }
    if !matches!(b.get(10), Some(b'T' | b't' | b' ')) || b.get(13) != Some(&b':') {
        return None;
    }
    let (hour, minute) = (num(11, 2)?, num(14, 2)?);
    let mut i = 16;
    let mut second = 0;
    let mut millis = 0;
    if b.get(i) == Some(&b':') {
        second = num(17, 2)?;
        i = 19;
        if b.get(i) == Some(&b'.') {
            i += 1;
            let start = i;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            if i == start {
                return None;
            }
            let digits = &s[start..i.min(start + 3)];
            millis = digits.parse::<i64>().ok()? * 10_i64.pow(3 - digits.len() as u32);
        }
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let offset_minutes = match b.get(i)? {
        b'Z' | b'z' if b.len() == i + 1 => 0,
        sign @ (b'+' | b'-') if b.len() == i + 6 && b.get(i + 3) == Some(&b':') => {
            let minutes = num(i + 1, 2)? * 60 + num(i + 4, 2)?;
            if *sign == b'+' { minutes } else { -minutes }
        }
        _ => return None,
    };
    let ms =
        date * MS_PER_DAY + ((hour * 60 + minute - offset_minutes) * 60 + second) * 1000 + millis;
    Some(Timestamp(ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_rfc3339_and_dates() {
        assert_eq!(
            Timestamp::from_millis(0).to_string(),
            "1970-01-01T00:00:00Z"
        );
        let t = Timestamp::from_millis(1_795_628_940_123);
        assert_eq!(t.to_string(), "2026-11-25T17:49:00.123Z");
        assert_eq!(t.date().to_string(), "2026-11-25");
        assert_eq!(
            Timestamp::from_millis(-1).to_string(),
            "1969-12-31T23:59:59.999Z"
        );
        assert_eq!(
            Date {
                year: 2024,
                month: 2,
                day: 29
            }
            .start()
            .date()
            .to_string(),
            "2024-02-29"
        );
    }

    #[test]
    fn parses_rfc3339() {
        let p = |s| Timestamp::parse_rfc3339(s).map(|t| t.to_string());
        assert_eq!(
            p("2026-11-25T17:49:00Z").as_deref(),
            Ok("2026-11-25T17:49:00Z")
        );
        assert_eq!(
            p("2026-11-25 17:49Z").as_deref(),
            Ok("2026-11-25T17:49:00Z")
        );
        assert_eq!(
            p("2026-11-26T01:49:00.5+08:00").as_deref(),
            Ok("2026-11-25T17:49:00.500Z")
        );
        assert_eq!(p("2026-11-25").as_deref(), Ok("2026-11-25T00:00:00Z"));
        for bad in [
            "",
            "tomorrow",
            "2026-02-30",
            "2026-11-25T25:00Z",
            "2026-11-25T10:00",
            "2026-11-25T10:00+8",
        ] {
            assert_eq!(p(bad).map_err(|e| e.code()), Err("invalid"), "{bad}");
        }
    }

    #[test]
    fn parses_durations() {
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("1d"), Ok(Duration::from_secs(86_400)));
        for bad in ["", "m", "30", "3x", "-1h", "99999999999999999999d"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
