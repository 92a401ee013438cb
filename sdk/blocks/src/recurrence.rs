//! Recurring timers: when a [`Recurrence`] fires next on a zone's clock.

use chrono::{Datelike, NaiveTime, TimeDelta};

use crate::error::BlockError;
use crate::limits::MIN_EVERY_MINUTES;
use crate::model::{Recurrence, TimeOfDay, Timestamp, Weekday};
use crate::zone::Zone;

/// Refuses a rule that can never fire as written: a time of day outside
/// 00:00–23:59, a weekly rule with no days, or `every-minutes` below
/// [`MIN_EVERY_MINUTES`].
pub fn check_recurrence(rule: &Recurrence) -> Result<(), BlockError> {
    match rule {
        Recurrence::Daily(at) => check_time(at),
        Recurrence::Weekly(days, at) => {
            if days.is_empty() {
                return Err(BlockError::new(
                    "rule",
                    "is weekly but names no days of the week",
                ));
            }
            check_time(at)
        }
        Recurrence::EveryMinutes(n) if *n < MIN_EVERY_MINUTES => Err(BlockError::new(
            "rule",
            format!(
                "repeats every {n} minutes; the shortest period is {MIN_EVERY_MINUTES} minutes"
            ),
        )),
        Recurrence::EveryMinutes(_) => Ok(()),
    }
}

fn check_time(at: &TimeOfDay) -> Result<(), BlockError> {
    if at.hour > 23 || at.minute > 59 {
        return Err(BlockError::new(
            "rule",
            format!(
                "names the time {}:{:02}; hours go from 0 to 23 and minutes from 0 to 59",
                at.hour, at.minute
            ),
        ));
    }
    Ok(())
}

/// The first moment strictly after `after` at which `rule` fires on `zone`'s
/// clock; `None` for a rule [`check_recurrence`] refuses.
///
/// Daily and weekly rules follow daylight saving time: a time the clock
/// skips that day fires at the first minute after the gap, and a time the
/// clock shows twice fires once (the first time). `every-minutes` counts
/// exact minutes from `after` (the previous firing, or the scheduling).
pub fn next_occurrence(rule: &Recurrence, zone: &Zone, after: Timestamp) -> Option<Timestamp> {
    check_recurrence(rule).ok()?;
    let (days, at): (&[Weekday], &TimeOfDay) = match rule {
        Recurrence::EveryMinutes(n) => {
            return after.checked_add(i64::from(*n).checked_mul(60_000)?);
        }
        Recurrence::Daily(at) => (&[], at),
        Recurrence::Weekly(days, at) => (days, at),
    };
    let time = NaiveTime::from_hms_opt(u32::from(at.hour), u32::from(at.minute), 0)?;
    // Start a day early: around a zone's transitions the local date of
    // `after` and the day the next firing belongs to can differ.
    let first = zone.local(after)?.date().pred_opt()?;
    (0..=9).find_map(|i| {
        let date = first.checked_add_signed(TimeDelta::days(i))?;
        if !days.is_empty() && !days.contains(&weekday(date.weekday())) {
            return None;
        }
        zone.resolve(date.and_time(time)).filter(|&ts| ts > after)
    })
}

fn weekday(day: chrono::Weekday) -> Weekday {
    match day {
        chrono::Weekday::Mon => Weekday::Monday,
        chrono::Weekday::Tue => Weekday::Tuesday,
        chrono::Weekday::Wed => Weekday::Wednesday,
        chrono::Weekday::Thu => Weekday::Thursday,
        chrono::Weekday::Fri => Weekday::Friday,
        chrono::Weekday::Sat => Weekday::Saturday,
        chrono::Weekday::Sun => Weekday::Sunday,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_date_time;

    fn zone(name: &str) -> Zone {
        Zone::parse(name).expect(name)
    }

    fn at(hour: u8, minute: u8) -> TimeOfDay {
        TimeOfDay { hour, minute }
    }

    fn local(zone: &Zone, text: &str) -> Timestamp {
        parse_date_time(text, zone).expect(text)
    }

    fn shown(zone: &Zone, ts: Option<Timestamp>) -> String {
        let ts = ts.expect("an occurrence");
        zone.at(ts)
            .expect("in range")
            .format("%Y-%m-%d %H:%M %:z")
            .to_string()
    }

    #[test]
    fn daily_fires_at_the_next_time_strictly_after() {
        let sh = zone("Asia/Shanghai");
        let rule = Recurrence::Daily(at(18, 0));
        let next = |t: &str| shown(&sh, next_occurrence(&rule, &sh, local(&sh, t)));
        assert_eq!(next("2030-06-01 09:00"), "2030-06-01 18:00 +08:00");
        // Exactly at the time: the next day's (strictly after).
        assert_eq!(next("2030-06-01 18:00"), "2030-06-02 18:00 +08:00");
        assert_eq!(next("2030-06-01 23:59"), "2030-06-02 18:00 +08:00");
        assert_eq!(next("2030-12-31 19:00"), "2031-01-01 18:00 +08:00");
    }

    #[test]
    fn daily_follows_daylight_saving_time() {
        let ny = zone("America/New_York");
        let rule = Recurrence::Daily(at(18, 0));
        // Across the spring change the clock time stays 18:00.
        let before = next_occurrence(&rule, &ny, local(&ny, "2030-03-09 18:00"));
        assert_eq!(shown(&ny, before), "2030-03-10 18:00 -04:00");
        // 02:30 is skipped on 2030-03-10: it fires at 03:00 that day.
        let skipped = Recurrence::Daily(at(2, 30));
        let first = next_occurrence(&skipped, &ny, local(&ny, "2030-03-09 03:00"));
        assert_eq!(shown(&ny, first), "2030-03-10 03:00 -04:00");
        assert_eq!(
            shown(&ny, next_occurrence(&skipped, &ny, first.expect("first"))),
            "2030-03-11 02:30 -04:00"
        );
        // 01:30 happens twice on 2030-11-03: it fires once.
        let repeated = Recurrence::Daily(at(1, 30));
        let first = next_occurrence(&repeated, &ny, local(&ny, "2030-11-02 12:00"));
        assert_eq!(shown(&ny, first), "2030-11-03 01:30 -04:00");
        let second = next_occurrence(&repeated, &ny, first.expect("first"));
        assert_eq!(shown(&ny, second), "2030-11-04 01:30 -05:00");
    }

    #[test]
    fn weekly_fires_on_its_days_only() {
        let sh = zone("Asia/Shanghai");
        let rule = Recurrence::Weekly(vec![Weekday::Monday, Weekday::Thursday], at(9, 0));
        // 2030-06-01 is a Saturday.
        let mut t = local(&sh, "2030-06-01 12:00");
        let mut seen = Vec::new();
        for _ in 0..4 {
            let next = next_occurrence(&rule, &sh, t);
            seen.push(shown(&sh, next));
            t = next.expect("next");
        }
        assert_eq!(
            seen,
            [
                "2030-06-03 09:00 +08:00",
                "2030-06-06 09:00 +08:00",
                "2030-06-10 09:00 +08:00",
                "2030-06-13 09:00 +08:00"
            ]
        );
        // Monday before nine: that same Monday.
        let monday = next_occurrence(&rule, &sh, local(&sh, "2030-06-03 08:59"));
        assert_eq!(shown(&sh, monday), "2030-06-03 09:00 +08:00");
        let sunday = Recurrence::Weekly(vec![Weekday::Sunday], at(0, 0));
        let next = next_occurrence(&sunday, &sh, local(&sh, "2030-06-02 00:00"));
        assert_eq!(shown(&sh, next), "2030-06-09 00:00 +08:00");
    }

    #[test]
    fn every_minutes_counts_exact_minutes() {
        let rule = Recurrence::EveryMinutes(30);
        assert_eq!(
            next_occurrence(&rule, &Zone::utc(), 1_000),
            Some(1_000 + 1_800_000)
        );
        assert_eq!(next_occurrence(&rule, &Zone::utc(), i64::MAX), None);
    }

    #[test]
    fn refuses_rules_that_cannot_fire() {
        let sh = zone("Asia/Shanghai");
        for (rule, says) in [
            (
                Recurrence::EveryMinutes(4),
                "the shortest period is 5 minutes",
            ),
            (Recurrence::EveryMinutes(0), "every 0 minutes"),
            (Recurrence::Daily(at(24, 0)), "hours go from 0 to 23"),
            (Recurrence::Daily(at(9, 60)), "minutes from 0 to 59"),
            (Recurrence::Weekly(vec![], at(9, 0)), "names no days"),
        ] {
            let err = check_recurrence(&rule).expect_err(says);
            assert!(err.to_string().contains(says), "{err}");
            assert_eq!(next_occurrence(&rule, &sh, 0), None);
        }
        assert_eq!(check_recurrence(&Recurrence::EveryMinutes(5)), Ok(()));
    }

    #[test]
    fn json_matches_the_documented_form() {
        let rule = Recurrence::Weekly(vec![Weekday::Monday, Weekday::Friday], at(9, 0));
        let json = serde_json::to_string(&rule).expect("json");
        assert_eq!(
            json,
            r#"{"type":"weekly","value":[["monday","friday"],{"hour":9,"minute":0}]}"#
        );
        assert_eq!(
            serde_json::from_str::<Recurrence>(&json).expect("back"),
            rule
        );
        assert_eq!(
            serde_json::to_string(&Recurrence::EveryMinutes(30)).expect("json"),
            r#"{"type":"every_minutes","value":30}"#
        );
        assert_eq!(
            serde_json::to_string(&Recurrence::Daily(at(18, 0))).expect("json"),
            r#"{"type":"daily","value":{"hour":18,"minute":0}}"#
        );
    }
}
