//! Durations in recipe files ("5s", "1h 30m") and the default retry schedule an action gets
//! when its file names none (DESIGN.md, guarantee 2).

use std::time::Duration;

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
