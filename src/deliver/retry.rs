//! Retry schedule and jitter for deliveries; a receiver's `Retry-After` (parsed by
//! `outbound::retry_after`) can push the next attempt back, up to a cap.

use std::time::Duration;

use rand::Rng as _;

/// Jitter is uniform in ±20% of the scheduled delay.
const JITTER: f64 = 0.2;
/// A receiver's `Retry-After` can push an attempt back at most this far.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recipe::duration::default_schedule;

    const MIN: u64 = 60;
    const HOUR: u64 = 3600;

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
}
