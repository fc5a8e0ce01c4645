//! Tick arithmetic: which tick a firing belongs to, and which ticks were missed.

use chrono::{DateTime, Timelike, Utc};
use chrono_tz::Tz;
use croner::Cron;

/// Catch-up never walks more ticks than this (a per-second cron down for a day is 86,400).
const MAX_TICKS_SCANNED: usize = 200_000;

/// The tick a firing at `now` belongs to: the latest occurrence not after `now` (plus a little
/// slack, since a scheduler may wake a hair early).
pub fn tick_for(cron: &Cron, tz: Tz, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let probe = (now + chrono::Duration::milliseconds(500)).with_timezone(&tz);
    // Ticks are whole seconds; croner keeps the fraction of an inclusive match.
    let probe = probe.with_nanosecond(0)?;
    cron.find_previous_occurrence(&probe, true)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Ticks strictly after `after` and not after `now`: the latest one and how many there were.
pub fn missed_ticks(
    cron: &Cron,
    tz: Tz,
    after: DateTime<Utc>,
    now: DateTime<Utc>,
) -> (Option<DateTime<Utc>>, u64) {
    let mut latest = None;
    let mut count = 0;
    // Not `cron.iter_after`: croner 3.0's iterator steps a second past each match and then
    // searches exclusively, so it skips every other tick of a per-second cron.
    let mut cursor = after.with_timezone(&tz);
    for _ in 0..MAX_TICKS_SCANNED {
        let Ok(next) = cron.find_next_occurrence(&cursor, false) else {
            break;
        };
        let tick = next.with_timezone(&Utc);
        if tick > now || next <= cursor {
            break;
        }
        latest = Some(tick);
        count += 1;
        cursor = next;
    }
    (latest, count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recipe::parse_cron;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn a_firing_belongs_to_the_latest_tick_at_or_before_it() {
        let cron = parse_cron("0 */5 * * * *").unwrap();
        let tick = tick_for(&cron, chrono_tz::UTC, at("2026-01-01T10:07:30Z"));
        assert_eq!(tick, Some(at("2026-01-01T10:05:00Z")));
        let early = tick_for(&cron, chrono_tz::UTC, at("2026-01-01T10:09:59.800Z"));
        assert_eq!(early, Some(at("2026-01-01T10:10:00Z")));
    }

    #[test]
    fn missed_ticks_counts_and_returns_the_latest() {
        let cron = parse_cron("0 0 * * * *").unwrap();
        let (latest, count) = missed_ticks(
            &cron,
            chrono_tz::UTC,
            at("2026-01-01T10:00:00Z"),
            at("2026-01-01T13:30:00Z"),
        );
        assert_eq!(latest, Some(at("2026-01-01T13:00:00Z")));
        assert_eq!(count, 3);
        let (none, zero) = missed_ticks(
            &cron,
            chrono_tz::UTC,
            at("2026-01-01T10:00:00Z"),
            at("2026-01-01T10:59:00Z"),
        );
        assert_eq!((none, zero), (None, 0));
    }

    #[test]
    fn per_second_crons_count_every_missed_second() {
        let cron = parse_cron("* * * * * *").unwrap();
        let (latest, count) = missed_ticks(
            &cron,
            chrono_tz::UTC,
            at("2026-01-01T10:00:00Z"),
            at("2026-01-01T10:00:05.400Z"),
        );
        assert_eq!(latest, Some(at("2026-01-01T10:00:05Z")));
        assert_eq!(count, 5);
    }

    #[test]
    fn timezones_shift_the_ticks() {
        let cron = parse_cron("0 0 9 * * *").unwrap();
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        let tick = tick_for(&cron, berlin, at("2026-01-15T12:00:00Z"));
        assert_eq!(tick, Some(at("2026-01-15T08:00:00Z")));
    }
}
