//! Ticks across daylight-saving changes: hand-checked tables for the zones and shapes,
//! and a property test against a brute-force reading of the rules, one UTC second at a time.

use chrono::{DateTime, Duration, NaiveDateTime, Offset, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use proptest::prelude::*;

use super::TickSchedule;
use crate::recipe::parse_cron;

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn schedule(cron: &str, zone: &str) -> TickSchedule {
    TickSchedule::new(parse_cron(cron).unwrap(), zone.parse().unwrap())
}

/// The ticks in `[from, until)`.
fn ticks(cron: &str, zone: &str, from: &str, until: &str) -> Vec<DateTime<Utc>> {
    let schedule = schedule(cron, zone);
    let until = at(until);
    schedule
        .ticks_after(at(from) - Duration::seconds(1))
        .take_while(|t| *t < until)
        .collect()
}

fn times(list: &[&str]) -> Vec<DateTime<Utc>> {
    list.iter().map(|s| at(s)).collect()
}

fn offset(tz: Tz, t: DateTime<Utc>) -> i64 {
    i64::from(
        tz.offset_from_utc_datetime(&t.naive_utc())
            .fix()
            .local_minus_utc(),
    )
}

/// Every instant of `[from, until)` at which the zone's UTC offset changes, found second by
/// second after a per-minute scan (independent of the code under test).
fn changes(tz: Tz, from: DateTime<Utc>, until: DateTime<Utc>) -> Vec<(DateTime<Utc>, i64, i64)> {
    let mut found = Vec::new();
    let mut t = from;
    while t < until {
        let next = t + Duration::minutes(1);
        if offset(tz, t) != offset(tz, next) {
            let mut s = t + Duration::seconds(1);
            while offset(tz, s) == offset(tz, t) {
                s += Duration::seconds(1);
            }
            found.push((s, offset(tz, t), offset(tz, s)));
        }
        t = next;
    }
    found
}

/// The zones and 2026 changes the tables below rely on: (zone, instant, offset before, after).
const CHANGES: &[(&str, &str, i64, i64)] = &[
    ("Europe/Berlin", "2026-03-29T01:00:00Z", 3600, 7200),
    ("Europe/Berlin", "2026-10-25T01:00:00Z", 7200, 3600),
    ("America/New_York", "2026-03-08T07:00:00Z", -18000, -14400),
    ("America/New_York", "2026-11-01T06:00:00Z", -14400, -18000),
    // 30-minute shift: 02:00 → 02:30 in spring, 02:00 → 01:30 in autumn.
    ("Australia/Lord_Howe", "2026-04-04T15:00:00Z", 39600, 37800),
    ("Australia/Lord_Howe", "2026-10-03T15:30:00Z", 37800, 39600),
    // At local midnight: 00:00 → 23:00 the day before, and 00:00 → 01:00.
    ("America/Santiago", "2026-04-05T03:00:00Z", -10800, -14400),
    ("America/Santiago", "2026-09-06T04:00:00Z", -14400, -10800),
];

#[test]
fn the_tables_use_the_zone_changes_that_chrono_tz_really_has_in_2026() {
    for (zone, instant, before, after) in CHANGES {
        let tz: Tz = zone.parse().unwrap();
        let instant = at(instant);
        let found = changes(
            tz,
            instant - Duration::hours(6),
            instant + Duration::hours(6),
        );
        assert_eq!(found, vec![(instant, *before, *after)], "{zone}");
    }
}

#[test]
fn berlin_autumn_wildcard_and_interval_schedules_fire_through_both_passes() {
    let (from, until) = ("2026-10-24T23:30:00Z", "2026-10-25T02:30:00Z");
    let every_second = ticks("* * * * * *", "Europe/Berlin", from, until);
    assert_eq!(every_second.len(), 3 * 3600, "one tick per UTC second");
    assert!(
        every_second
            .windows(2)
            .all(|w| w[1] - w[0] == Duration::seconds(1))
    );
    assert_eq!(every_second[0], at(from));
    let half_hourly = times(&[
        "2026-10-24T23:30:00Z",
        "2026-10-25T00:00:00Z", // 02:00 CEST
        "2026-10-25T00:30:00Z", // 02:30 CEST
        "2026-10-25T01:00:00Z", // 02:00 CET
        "2026-10-25T01:30:00Z", // 02:30 CET
        "2026-10-25T02:00:00Z",
    ]);
    assert_eq!(
        ticks("0 */30 * * * *", "Europe/Berlin", from, until),
        half_hourly
    );
    let hourly = times(&[
        "2026-10-25T00:00:00Z",
        "2026-10-25T01:00:00Z",
        "2026-10-25T02:00:00Z",
    ]);
    assert_eq!(ticks("0 0 * * * *", "Europe/Berlin", from, until), hourly);
}

#[test]
fn a_fixed_time_inside_a_repeated_hour_fires_once_at_the_first_pass() {
    let daily = |cron, zone, from, until| ticks(cron, zone, from, until);
    assert_eq!(
        daily(
            "0 30 2 * * *",
            "Europe/Berlin",
            "2026-10-24T00:00:00Z",
            "2026-10-27T00:00:00Z"
        ),
        times(&[
            "2026-10-24T00:30:00Z",
            "2026-10-25T00:30:00Z",
            "2026-10-26T01:30:00Z"
        ])
    );
    assert_eq!(
        daily(
            "0 30 1 * * *",
            "America/New_York",
            "2026-10-31T00:00:00Z",
            "2026-11-03T00:00:00Z"
        ),
        times(&[
            "2026-10-31T05:30:00Z",
            "2026-11-01T05:30:00Z",
            "2026-11-02T06:30:00Z"
        ])
    );
    assert_eq!(
        daily(
            "0 45 1 * * *",
            "Australia/Lord_Howe",
            "2026-04-03T00:00:00Z",
            "2026-04-06T00:00:00Z"
        ),
        times(&[
            "2026-04-03T14:45:00Z",
            "2026-04-04T14:45:00Z",
            "2026-04-05T15:15:00Z"
        ])
    );
    assert_eq!(
        daily(
            "0 30 23 * * *",
            "America/Santiago",
            "2026-04-03T00:00:00Z",
            "2026-04-06T00:00:00Z"
        ),
        times(&[
            "2026-04-03T02:30:00Z",
            "2026-04-04T02:30:00Z",
            "2026-04-05T02:30:00Z"
        ]),
        "Saturday 23:30 runs in its first pass (-03), not again an hour later (-04)"
    );
}

#[test]
fn a_skipped_fixed_time_fires_once_at_the_first_instant_after_the_gap() {
    let daily = |cron, zone, from, until| ticks(cron, zone, from, until);
    assert_eq!(
        daily(
            "0 30 2 * * *",
            "Europe/Berlin",
            "2026-03-28T00:00:00Z",
            "2026-03-31T00:00:00Z"
        ),
        times(&[
            "2026-03-28T01:30:00Z",
            "2026-03-29T01:00:00Z",
            "2026-03-30T00:30:00Z"
        ])
    );
    assert_eq!(
        daily(
            "0 30 2 * * *",
            "America/New_York",
            "2026-03-07T00:00:00Z",
            "2026-03-10T00:00:00Z"
        ),
        times(&[
            "2026-03-07T07:30:00Z",
            "2026-03-08T07:00:00Z",
            "2026-03-09T06:30:00Z"
        ])
    );
    assert_eq!(
        daily(
            "0 15 2 * * *",
            "Australia/Lord_Howe",
            "2026-10-02T00:00:00Z",
            "2026-10-05T00:00:00Z"
        ),
        times(&[
            "2026-10-02T15:45:00Z",
            "2026-10-03T15:30:00Z",
            "2026-10-04T15:15:00Z"
        ])
    );
    assert_eq!(
        daily(
            "0 0 0 * * *",
            "America/Santiago",
            "2026-09-05T00:00:00Z",
            "2026-09-08T00:00:00Z"
        ),
        times(&[
            "2026-09-05T04:00:00Z",
            "2026-09-06T04:00:00Z",
            "2026-09-07T03:00:00Z"
        ]),
        "the midnight that does not exist runs at 01:00 (-03)"
    );
}

#[test]
fn interval_schedules_skip_the_times_that_do_not_exist() {
    assert_eq!(
        ticks(
            "0 */30 * * * *",
            "Europe/Berlin",
            "2026-03-29T00:00:00Z",
            "2026-03-29T02:00:00Z"
        ),
        times(&[
            "2026-03-29T00:00:00Z", // 01:00 CET
            "2026-03-29T00:30:00Z", // 01:30 CET
            "2026-03-29T01:00:00Z", // 03:00 CEST
            "2026-03-29T01:30:00Z",
        ])
    );
    assert_eq!(
        ticks(
            "0 */30 * * * *",
            "Australia/Lord_Howe",
            "2026-10-03T15:00:00Z",
            "2026-10-03T16:30:00Z"
        ),
        times(&[
            "2026-10-03T15:00:00Z",
            "2026-10-03T15:30:00Z",
            "2026-10-03T16:00:00Z"
        ]),
        "01:30, then 02:30 (+11): 02:00 does not exist"
    );
    assert_eq!(
        ticks(
            "0 0 * * * *",
            "Australia/Lord_Howe",
            "2026-04-04T13:30:00Z",
            "2026-04-04T16:30:00Z"
        ),
        times(&["2026-04-04T14:00:00Z", "2026-04-04T15:30:00Z"]),
        "01:00 (+11), then 02:00 (+10:30): only 01:30-02:00 repeats"
    );
    assert_eq!(
        ticks(
            "0 0 * * * *",
            "America/Santiago",
            "2026-09-06T02:00:00Z",
            "2026-09-06T06:00:00Z"
        ),
        times(&[
            "2026-09-06T02:00:00Z", // 22:00 (-04)
            "2026-09-06T03:00:00Z", // 23:00 (-04)
            "2026-09-06T04:00:00Z", // 01:00 (-03): midnight does not exist
            "2026-09-06T05:00:00Z",
        ])
    );
}

#[test]
fn ticks_are_whole_seconds_whatever_the_instant_asked_from() {
    let schedule = schedule("*/7 * * * * *", "Australia/Lord_Howe");
    let after = at("2026-04-04T14:59:58.999Z");
    let next = schedule.next_after(after).unwrap();
    assert_eq!(next.nanosecond(), 0);
    assert!(next > after);
    assert_eq!(
        schedule.next_after(next - Duration::milliseconds(1)),
        Some(next)
    );
}

#[test]
fn a_span_counts_the_missed_ticks_across_the_repeated_hour() {
    let schedule = schedule("0 */30 * * * *", "Europe/Berlin");
    // The last tick ran in the first pass (02:30 CEST); a restart at 02:40 CET.
    let span = schedule.span(at("2026-10-25T00:30:00Z"), at("2026-10-25T01:40:00Z"));
    assert_eq!(span.latest, Some(at("2026-10-25T01:30:00Z")));
    assert_eq!((span.count, span.capped), (2, false));
    let daily = schedule_span(
        "0 30 2 * * *",
        "2026-10-25T00:30:00Z",
        "2026-10-25T01:40:00Z",
    );
    assert_eq!(
        (daily.latest, daily.count),
        (None, 0),
        "02:30 CET is no tick"
    );
}

fn schedule_span(cron: &str, after: &str, until: &str) -> super::TickSpan {
    schedule(cron, "Europe/Berlin").span(at(after), at(until))
}

/// The rules read literally, for one UTC second `s`: an interval schedule fires when the wall
/// time at `s` matches; a fixed-time one when it matches and no earlier instant had that wall
/// time, or when `s` ends a gap in which a matching wall time was skipped.
fn fires(cron: &croner::Cron, fixed: bool, tz: Tz, s: DateTime<Utc>) -> bool {
    let matches = |local: NaiveDateTime| cron.is_time_matching(&local.and_utc()).unwrap();
    let (now, before) = (offset(tz, s), offset(tz, s - Duration::seconds(1)));
    let local = s.naive_utc() + Duration::seconds(now);
    if !fixed {
        return matches(local);
    }
    // An earlier instant `s - back` showed the same wall time if its offset was `now + back`.
    let earlier_pass = (1..=12)
        .map(|quarters| quarters * 900)
        .any(|back| offset(tz, s - Duration::seconds(back)) == now + back);
    if matches(local) && !earlier_pass {
        return true;
    }
    before < now && (before..now).any(|o| matches(s.naive_utc() + Duration::seconds(o)))
}

fn shape() -> impl Strategy<Value = String> {
    let second = prop::sample::select(vec!["*", "0", "0", "*/15", "30"]);
    let minute = prop::sample::select(vec!["*", "0", "*/30", "*/7", "15", "45"]);
    let hour = prop::sample::select(vec!["*", "0", "1", "2", "2", "23", "*/2", "1-3"]);
    (second, minute, hour).prop_map(|(s, m, h)| format!("{s} {m} {h} * * *"))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Zones × changes × cron shapes × the instant the walk starts from (a restart anywhere).
    #[test]
    fn ticks_around_every_change_are_exactly_the_instants_the_rules_name(
        change in 0..CHANGES.len(),
        cron in shape(),
        start in 0i64..4 * 3600,
    ) {
        let (zone, instant, _, _) = CHANGES[change];
        let tz: Tz = zone.parse().unwrap();
        let parsed = parse_cron(&cron).unwrap();
        let fixed = parsed.determine_job_type() == croner::JobType::FixedTime;
        let from = at(instant) - Duration::hours(2) + Duration::seconds(start);
        let until = at(instant) + Duration::hours(2);
        let expected: Vec<_> = (1..=(until - from).num_seconds())
            .map(|n| from + Duration::seconds(n))
            .filter(|s| fires(&parsed, fixed, tz, *s))
            .collect();
        let schedule = TickSchedule::new(parsed, tz);
        let got: Vec<_> = schedule.ticks_after(from).take_while(|t| *t <= until).collect();
        prop_assert_eq!(&got, &expected, "{} in {}", cron, zone);
        let span = schedule.span(from, until);
        prop_assert_eq!(span.count, expected.len() as u64);
        prop_assert_eq!(span.latest, expected.last().copied());
    }
}
