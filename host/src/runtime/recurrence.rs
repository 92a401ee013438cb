//! Recurring timers: the rule an app gives `schedule-recurring` as a
//! `qun_blocks::Recurrence` (stored as its JSON in `timers.rule`), and its
//! next occurrence on the group's clock (`qun_blocks::next_occurrence`).

use qun_blocks::{Recurrence, TimeOfDay, Weekday, Zone};

use crate::capabilities::generated::qun::app::scheduler as wit;

/// An app's rule, checked (`Err` says what is wrong, for `invalid`).
pub fn from_wit(rule: &wit::Recurrence) -> Result<Recurrence, String> {
    let time = |t: &wit::TimeOfDay| TimeOfDay {
        hour: t.hour,
        minute: t.minute,
    };
    let rule = match rule {
        wit::Recurrence::Daily(at) => Recurrence::Daily(time(at)),
        wit::Recurrence::Weekly((days, at)) => Recurrence::Weekly(
            days.iter()
                .map(|d| match d {
                    wit::Weekday::Monday => Weekday::Monday,
                    wit::Weekday::Tuesday => Weekday::Tuesday,
                    wit::Weekday::Wednesday => Weekday::Wednesday,
                    wit::Weekday::Thursday => Weekday::Thursday,
                    wit::Weekday::Friday => Weekday::Friday,
                    wit::Weekday::Saturday => Weekday::Saturday,
                    wit::Weekday::Sunday => Weekday::Sunday,
                })
                .collect(),
            time(at),
        ),
        wit::Recurrence::EveryMinutes(n) => Recurrence::EveryMinutes(*n),
    };
    qun_blocks::check_recurrence(&rule).map_err(|e| e.to_string())?;
    Ok(rule)
}

/// The stored form of a rule.
pub fn to_json(rule: &Recurrence) -> String {
    serde_json::to_string(rule).unwrap_or_default()
}

/// The group's zone; a zone this host cannot read counts as UTC (groups
/// only ever store zones the API checked).
pub fn zone(name: &str) -> Zone {
    Zone::parse(name).unwrap_or_else(|_| Zone::utc())
}

/// The first occurrence of `rule` strictly after `after` (ms) on the clock
/// of the zone named `zone`.
pub fn next(rule: &Recurrence, zone_name: &str, after: i64) -> Option<i64> {
    qun_blocks::next_occurrence(rule, &zone(zone_name), after)
}

/// [`next`] for a stored rule; `None` for a rule this host cannot read.
pub fn next_stored(rule: &str, zone_name: &str, after: i64) -> Option<i64> {
    next(&serde_json::from_str(rule).ok()?, zone_name, after)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: i64 = 60_000;
    const DAY: i64 = 86_400_000;

    #[test]
    fn a_short_period_is_refused() {
        let err = from_wit(&wit::Recurrence::EveryMinutes(4)).unwrap_err();
        assert!(err.contains("shortest period is 5 minutes"), "{err}");
        assert!(from_wit(&wit::Recurrence::EveryMinutes(5)).is_ok());
    }

    #[test]
    fn a_stored_rule_follows_the_groups_clock() {
        // 2030-01-07 (a Monday) 10:00 UTC.
        let monday_10 = 1_894_010_400_000;
        let daily = from_wit(&wit::Recurrence::Daily(wit::TimeOfDay {
            hour: 9,
            minute: 30,
        }))
        .expect("rule");
        assert_eq!(
            next_stored(&to_json(&daily), "UTC", monday_10),
            Some(monday_10 + DAY - 30 * MINUTE)
        );
        // 18:00 in Shanghai (UTC+8) is 10:00 UTC: the Monday one is not
        // strictly after, the Tuesday one is.
        let evening = from_wit(&wit::Recurrence::Daily(wit::TimeOfDay {
            hour: 18,
            minute: 0,
        }))
        .expect("rule");
        assert_eq!(
            next_stored(&to_json(&evening), "Asia/Shanghai", monday_10),
            Some(monday_10 + DAY)
        );
        assert_eq!(next_stored("not json", "UTC", monday_10), None);
    }

    #[test]
    fn the_clock_is_the_group_zone_across_daylight_saving() {
        // 2030-03-09 23:00 UTC is 18:00 in New York (EST); the next 18:00
        // is the day after the clocks moved forward: 22:00 UTC (EDT).
        let sat_6pm = 1_899_327_600_000;
        let evening = from_wit(&wit::Recurrence::Daily(wit::TimeOfDay {
            hour: 18,
            minute: 0,
        }))
        .expect("rule");
        assert_eq!(
            next(&evening, "America/New_York", sat_6pm),
            Some(sat_6pm + DAY - 60 * MINUTE)
        );
    }
}
