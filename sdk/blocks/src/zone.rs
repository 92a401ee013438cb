//! A group's time zone: reading local dates and times in it (daylight saving
//! time included) and showing moments on its clock.

use std::fmt;

use chrono::{DateTime, Datelike, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Timelike};
use chrono_tz::Tz;

use crate::model::{Date, Timestamp};

/// An IANA time zone, such as `Asia/Shanghai`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Zone(Tz);

/// A time zone name that is not in the IANA database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownZone(pub String);

impl fmt::Display for UnknownZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} is not an IANA time zone (such as \"Asia/Shanghai\" or \"UTC\")",
            self.0
        )
    }
}

impl std::error::Error for UnknownZone {}

impl Zone {
    /// The zone named `name` exactly as the IANA database spells it
    /// (`"Europe/Berlin"`, `"UTC"`).
    pub fn parse(name: &str) -> Result<Zone, UnknownZone> {
        name.parse::<Tz>()
            .map(Zone)
            .map_err(|_| UnknownZone(name.to_string()))
    }

    /// Every zone name [`Zone::parse`] accepts, as the IANA database spells them.
    pub fn names() -> impl Iterator<Item = &'static str> {
        chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name())
    }

    /// Coordinated Universal Time.
    pub fn utc() -> Zone {
        Zone(Tz::UTC)
    }

    /// The zone's IANA name.
    pub fn name(&self) -> &'static str {
        self.0.name()
    }

    /// The moment a local date and time on this zone's clock names.
    ///
    /// A time the clock skips (the hour daylight saving time springs over)
    /// moves forward to the first minute that exists after it; a time the
    /// clock shows twice (when it falls back) is the first of the two.
    /// `None` only outside the years chrono can represent.
    pub fn resolve(&self, local: NaiveDateTime) -> Option<Timestamp> {
        match self.0.from_local_datetime(&local) {
            LocalResult::Single(t) => Some(t.timestamp_millis()),
            LocalResult::Ambiguous(first, _) => Some(first.timestamp_millis()),
            LocalResult::None => {
                // In a gap. Gaps are whole minutes and at most a day (Samoa
                // skipped 2011-12-30 entirely), so walk minute by minute.
                let start = local.with_second(0)?.with_nanosecond(0)?;
                (1..=26 * 60).find_map(|m| {
                    let t = start.checked_add_signed(chrono::TimeDelta::minutes(m))?;
                    match self.0.from_local_datetime(&t) {
                        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => {
                            Some(t.timestamp_millis())
                        }
                        LocalResult::None => None,
                    }
                })
            }
        }
    }

    /// The local date and time on this zone's clock at `ts`.
    pub fn local(&self, ts: Timestamp) -> Option<NaiveDateTime> {
        Some(self.at(ts)?.naive_local())
    }

    /// The local date on this zone's clock at `ts`.
    pub fn date_at(&self, ts: Timestamp) -> Option<Date> {
        self.local(ts).map(|t| to_date(t.date()))
    }

    pub(crate) fn at(&self, ts: Timestamp) -> Option<DateTime<Tz>> {
        DateTime::from_timestamp_millis(ts).map(|t| t.with_timezone(&self.0))
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Default for Zone {
    fn default() -> Self {
        Zone::utc()
    }
}

/// A model [`Date`] as a chrono date, if it is a real calendar date.
pub fn to_naive(date: Date) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(date.year, u32::from(date.month), u32::from(date.day))
}

/// A chrono date as a model [`Date`].
pub fn to_date(date: NaiveDate) -> Date {
    Date {
        year: date.year(),
        month: date.month() as u8,
        day: date.day() as u8,
    }
}

/// Shows `ts` on `zone`'s clock for people who read `locale` (a BCP 47 tag):
/// `2030-06-01 09:00 (Asia/Shanghai)`.
///
/// The date is always year-month-day, which every language reads the same
/// way; the clock is 24-hour except for locales whose region customarily
/// uses a 12-hour clock (`en-US`: `2030-06-01 9:00 AM (America/New_York)`).
pub fn format_timestamp(ts: Timestamp, zone: &Zone, locale: &str) -> String {
    let Some(t) = zone.at(ts) else {
        return format!("{ts} ms since 1970 (UTC)");
    };
    let date = t.format("%Y-%m-%d");
    if twelve_hour(locale) {
        let (pm, hour) = t.hour12();
        let suffix = if pm { "PM" } else { "AM" };
        format!("{date} {hour}:{:02} {suffix} ({zone})", t.minute())
    } else {
        format!("{date} {:02}:{:02} ({zone})", t.hour(), t.minute())
    }
}

/// Locales (language-region) whose clocks people read as 12-hour.
fn twelve_hour(locale: &str) -> bool {
    let mut parts = locale.split(['-', '_']);
    let language = parts.next().unwrap_or("").to_ascii_lowercase();
    let region = parts
        .find(|p| p.len() == 2)
        .map(|p| p.to_ascii_uppercase())
        .unwrap_or_default();
    matches!(
        (language.as_str(), region.as_str()),
        ("en", "US" | "CA" | "AU" | "NZ" | "PH" | "IN")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").expect(s)
    }

    fn utc(s: &str) -> Timestamp {
        local(s).and_utc().timestamp_millis()
    }

    #[test]
    fn parses_iana_names_only() {
        assert_eq!(
            Zone::parse("Asia/Shanghai").map(|z| z.name()),
            Ok("Asia/Shanghai")
        );
        assert_eq!(Zone::parse("UTC"), Ok(Zone::utc()));
        for bad in [
            "",
            "Mars/Olympus",
            "asia/shanghai",
            "+08:00",
            "Asia/Shanghai ",
        ] {
            let err = Zone::parse(bad).expect_err(bad);
            assert!(err.to_string().contains("not an IANA time zone"), "{err}");
        }
    }

    #[test]
    fn resolves_local_times_across_daylight_saving() {
        let ny = Zone::parse("America/New_York").expect("zone");
        // Winter: UTC-5; summer: UTC-4.
        assert_eq!(
            ny.resolve(local("2030-01-15 09:00")),
            Some(utc("2030-01-15 14:00"))
        );
        assert_eq!(
            ny.resolve(local("2030-07-15 09:00")),
            Some(utc("2030-07-15 13:00"))
        );
        // 2030-03-10 02:30 does not exist (02:00 -> 03:00): 03:00 EDT.
        assert_eq!(
            ny.resolve(local("2030-03-10 02:30")),
            Some(utc("2030-03-10 07:00"))
        );
        // 2030-11-03 01:30 happens twice: the first (EDT).
        assert_eq!(
            ny.resolve(local("2030-11-03 01:30")),
            Some(utc("2030-11-03 05:30"))
        );
    }

    #[test]
    fn resolves_a_skipped_day() {
        // Samoa skipped 2011-12-30.
        let apia = Zone::parse("Pacific/Apia").expect("zone");
        let ts = apia.resolve(local("2011-12-30 12:00")).expect("resolves");
        assert_eq!(apia.local(ts), Some(local("2011-12-31 00:00")));
    }

    #[test]
    fn formats_on_the_zone_clock() {
        let sh = Zone::parse("Asia/Shanghai").expect("zone");
        let ts = utc("2030-06-01 01:00");
        assert_eq!(
            format_timestamp(ts, &sh, "zh-CN"),
            "2030-06-01 09:00 (Asia/Shanghai)"
        );
        assert_eq!(
            format_timestamp(ts, &Zone::utc(), "en"),
            "2030-06-01 01:00 (UTC)"
        );
        let ny = Zone::parse("America/New_York").expect("zone");
        assert_eq!(
            format_timestamp(utc("2030-06-01 17:05"), &ny, "en-US"),
            "2030-06-01 1:05 PM (America/New_York)"
        );
        assert_eq!(
            format_timestamp(utc("2030-06-01 04:05"), &ny, "en_us"),
            "2030-06-01 12:05 AM (America/New_York)"
        );
        assert_eq!(
            format_timestamp(utc("2030-06-01 17:05"), &ny, "en-GB"),
            "2030-06-01 13:05 (America/New_York)"
        );
        assert_eq!(
            sh.date_at(ts),
            Some(Date {
                year: 2030,
                month: 6,
                day: 1
            })
        );
    }
}
