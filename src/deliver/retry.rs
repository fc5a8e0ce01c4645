//! Retry schedule, jitter and `Retry-After` handling for deliveries.

use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::Rng as _;

/// Jitter is uniform in ±20% of the scheduled delay.
const JITTER: f64 = 0.2;
/// A receiver's `Retry-After` can push an attempt back at most this far.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// Parses "0s", "5s", "100ms", "5m", "2h", "1d", "1h 30m"...
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let trimmed = s.trim();
    if trimmed.is_empty() {
        return Err("empty duration (examples: 30s, 5m, 2h, 1d)".to_string());
    }
    humantime::parse_duration(trimmed)
        .map_err(|e| format!("invalid duration `{s}`: {e} (examples: 30s, 5m, 2h, 1d)"))
}

/// Immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h. Entry i is the delay before attempt i
/// (0-based); its length is the number of attempts.
pub fn default_schedule() -> Vec<Duration> {
    const MIN: u64 = 60;
    const HOUR: u64 = 60 * MIN;
    [
        0,
        5,
        5 * MIN,
        30 * MIN,
        2 * HOUR,
        5 * HOUR,
        10 * HOUR,
        10 * HOUR,
    ]
    .into_iter()
    .map(Duration::from_secs)
    .collect()
}

/// What happens after failed attempt number `attempts_made` (1-based count of attempts done so
/// far): `Some(delay)` for the next attempt, `None` when the schedule is exhausted (dead).
///
/// The delay is `schedule[attempts_made]` with ±20% jitter, raised to `retry_after` when the
/// receiver asked for longer (capped at 24 h).
pub fn next_delay(
    schedule: &[Duration],
    attempts_made: usize,
    retry_after: Option<Duration>,
) -> Option<Duration> {
    let base = *schedule.get(attempts_made)?;
    let factor = rand::rng().random_range(-JITTER..=JITTER);
    let delay = jittered(base, factor);
    Some(match retry_after {
        Some(asked) => delay.max(asked.min(MAX_RETRY_AFTER)),
        None => delay,
    })
}

fn jittered(base: Duration, factor: f64) -> Duration {
    Duration::from_secs_f64((base.as_secs_f64() * (1.0 + factor)).max(0.0))
}

/// Parses a `Retry-After` header value: delta-seconds, or an HTTP-date relative to `now`.
/// Past dates give `Some(0)`; anything else unparseable gives `None`.
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return value.parse::<u64>().ok().map(Duration::from_secs);
    }
    // IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") is a subset of RFC 2822.
    let when = DateTime::parse_from_rfc2822(value)
        .ok()?
        .with_timezone(&Utc);
    Some((when - now).to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const MIN: u64 = 60;
    const HOUR: u64 = 3600;

    #[test]
    fn parses_durations() {
        let ok = |s: &str| parse_duration(s).unwrap();
        assert_eq!(ok("0s"), Duration::ZERO);
        assert_eq!(ok("5s"), Duration::from_secs(5));
        assert_eq!(ok("100ms"), Duration::from_millis(100));
        assert_eq!(ok("5m"), Duration::from_secs(5 * MIN));
        assert_eq!(ok("2h"), Duration::from_secs(2 * HOUR));
        assert_eq!(ok("10h"), Duration::from_secs(10 * HOUR));
        assert_eq!(ok("1d"), Duration::from_secs(24 * HOUR));
        assert_eq!(ok(" 1h 30m "), Duration::from_secs(90 * MIN));
        let err = parse_duration("5 parsecs").unwrap_err();
        assert!(err.contains("`5 parsecs`"), "{err}");
        assert!(parse_duration("").is_err());
        assert!(parse_duration("-5s").is_err());
    }

    #[test]
    fn default_schedule_matches_design() {
        let secs: Vec<u64> = default_schedule().iter().map(Duration::as_secs).collect();
        assert_eq!(
            secs,
            vec![
                0,
                5,
                5 * MIN,
                30 * MIN,
                2 * HOUR,
                5 * HOUR,
                10 * HOUR,
                10 * HOUR
            ]
        );
    }

    #[test]
    fn jitter_stays_within_twenty_percent_and_varies() {
        let schedule = default_schedule();
        let base = Duration::from_secs(5 * MIN);
        let samples: Vec<Duration> = (0..200)
            .map(|_| next_delay(&schedule, 2, None).unwrap())
            .collect();
        for d in &samples {
            assert!(*d >= base.mul_f64(0.8) && *d <= base.mul_f64(1.2), "{d:?}");
        }
        assert!(samples.iter().any(|d| *d < base) && samples.iter().any(|d| *d > base));
        assert_eq!(jittered(base, -0.2), Duration::from_secs(4 * MIN));
        assert_eq!(jittered(base, 0.2), Duration::from_secs(6 * MIN));
        assert_eq!(jittered(Duration::ZERO, 0.2), Duration::ZERO);
    }

    #[test]
    fn schedule_exhaustion_means_dead() {
        let schedule = default_schedule();
        let one_sec = Duration::from_secs(1);
        let d = next_delay(&schedule, 1, None).unwrap();
        assert!(
            d >= Duration::from_secs(4) && d <= Duration::from_secs(6),
            "{d:?}"
        );
        assert!(next_delay(&schedule, 7, None).is_some());
        assert_eq!(next_delay(&schedule, 8, None), None);
        assert_eq!(next_delay(&schedule, 9, Some(one_sec)), None);
        assert_eq!(next_delay(&[], 0, None), None);
        assert_eq!(next_delay(&[Duration::ZERO], 0, None), Some(Duration::ZERO));
    }

    #[test]
    fn retry_after_raises_delay_but_is_capped() {
        let schedule = default_schedule();
        // Larger Retry-After wins.
        let d = next_delay(&schedule, 1, Some(Duration::from_secs(120))).unwrap();
        assert_eq!(d, Duration::from_secs(120));
        // Smaller Retry-After is ignored.
        let d = next_delay(&schedule, 4, Some(Duration::from_secs(1))).unwrap();
        assert!(d >= Duration::from_secs(96 * MIN), "{d:?}");
        // Absurd Retry-After is capped at 24 h.
        let d = next_delay(&schedule, 1, Some(Duration::from_secs(30 * 24 * HOUR))).unwrap();
        assert_eq!(d, MAX_RETRY_AFTER);
    }

    #[test]
    fn parses_retry_after_values() {
        let now = Utc.with_ymd_and_hms(2015, 10, 21, 7, 28, 0).unwrap();
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after(" 120 ", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after("0", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:30:30 GMT", now),
            Some(Duration::from_secs(150))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        for garbage in [
            "",
            "soon",
            "-5",
            "1.5",
            "99999999999999999999999",
            "Wed, 99 Oct 2015",
        ] {
            assert_eq!(parse_retry_after(garbage, now), None, "{garbage:?}");
        }
    }
}
