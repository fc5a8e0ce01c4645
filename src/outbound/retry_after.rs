//! The `Retry-After` response header (RFC 9110 §10.2.3), read by the outbound client into the
//! wait an attempt asks for.

use std::time::Duration;

use chrono::{DateTime, Utc};

/// Parses a `Retry-After` header value (RFC 9110 §10.2.3): delta-seconds, or an HTTP-date in
/// any of its three forms (RFC 9110 §5.6.7: IMF-fixdate `Sun, 06 Nov 1994 08:49:37 GMT`, the
/// obsolete RFC 850 form `Sunday, 06-Nov-94 08:49:37 GMT` and asctime `Sun Nov  6 08:49:37 1994`),
/// relative to `now`. A date in the past means "now" (`Duration::ZERO`).
///
/// Errors with the note the attempt records (`Retry-After "soon" not understood; retrying on
/// the schedule`), so an unparseable value is never ignored silently.
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Result<Duration, String> {
    let trimmed = value.trim();
    let not_understood = || {
        let shown: String = trimmed.chars().take(64).collect();
        format!("Retry-After {shown:?} not understood; retrying on the schedule")
    };
    if !trimmed.is_empty() && trimmed.bytes().all(|b| b.is_ascii_digit()) {
        // Too many digits to be a real wait: the cap applies anyway.
        return Ok(trimmed
            .parse::<u64>()
            .map(Duration::from_secs)
            .unwrap_or(Duration::MAX));
    }
    // httpdate reads all three forms, but maps RFC 850's two-digit years by a fixed pivot (and
    // checks the weekday in that century): such a date is rewritten with the RFC 9110 century.
    let imf = rfc850_as_imf(trimmed, now);
    let when: DateTime<Utc> = httpdate::parse_http_date(imf.as_deref().unwrap_or(trimmed))
        .map_err(|_| not_understood())?
        .into();
    Ok((when - now).to_std().unwrap_or(Duration::ZERO))
}

const DAY_NAMES: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// `Sunday, 06-Nov-94 08:49:37 GMT` as IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), its year
/// read per RFC 9110 §5.6.7: a two-digit year that appears more than 50 years in the future is
/// the most recent past year with the same last two digits. `None` when not in that form.
fn rfc850_as_imf(value: &str, now: DateTime<Utc>) -> Option<String> {
    use chrono::Datelike as _;
    let (day, rest) = value.split_once(", ")?;
    if !DAY_NAMES.contains(&day) || rest.len() != 22 || !rest.is_ascii() {
        return None;
    }
    let (date, time) = rest.split_at(9);
    let [dd, mon, yy]: [&str; 3] = date.split('-').collect::<Vec<_>>().try_into().ok()?;
    if yy.len() != 2 || !yy.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let this_year = now.year();
    let mut year = this_year - this_year.rem_euclid(100) + yy.parse::<i32>().ok()?;
    if year > this_year + 50 {
        year -= 100;
    }
    Some(format!("{}, {dd} {mon} {year}{time}", &day[..3]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const HOUR: u64 = 3600;

    #[test]
    fn parses_retry_after_values() {
        let now = Utc.with_ymd_and_hms(2015, 10, 21, 7, 28, 0).unwrap();
        let ok = |v: &str| parse_retry_after(v, now).unwrap();
        assert_eq!(ok("7"), Duration::from_secs(7));
        assert_eq!(ok(" 120 "), Duration::from_secs(120));
        assert_eq!(ok("0"), Duration::ZERO);
        assert_eq!(ok("99999999999999999999999"), Duration::MAX);
        assert_eq!(
            ok("Wed, 21 Oct 2015 07:30:30 GMT"),
            Duration::from_secs(150)
        );
        assert_eq!(ok("Wed, 21 Oct 2015 07:00:00 GMT"), Duration::ZERO);
        for garbage in [
            "",
            "soon",
            "-5",
            "1.5",
            "Wed, 99 Oct 2015",
            "Thu, 21 Oct 2015 07:30:30 GMT",
        ] {
            let note = parse_retry_after(garbage, now).unwrap_err();
            assert_eq!(
                note,
                format!("Retry-After {garbage:?} not understood; retrying on the schedule")
            );
        }
    }

    #[test]
    fn all_three_http_date_forms_give_the_same_wait() {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
        let two_hours = Duration::from_secs(2 * HOUR);
        for form in [
            "Tue, 01 Dec 2026 02:00:00 GMT",
            "Tuesday, 01-Dec-26 02:00:00 GMT",
            "Tue Dec  1 02:00:00 2026",
        ] {
            assert_eq!(parse_retry_after(form, now), Ok(two_hours), "{form}");
        }
    }

    #[test]
    fn rfc850_years_more_than_fifty_years_ahead_are_in_the_past_century() {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
        // 2076 is exactly 50 years ahead: still the future (capped later), not 1976.
        let ahead = parse_retry_after("Tuesday, 01-Dec-76 00:00:00 GMT", now).unwrap();
        assert_eq!(ahead.as_secs() / (365 * 24 * HOUR), 50);
        // 2077 is more than 50 years ahead: it is 1977, so the wait is over.
        assert_eq!(
            parse_retry_after("Thursday, 01-Dec-77 00:00:00 GMT", now),
            Ok(Duration::ZERO)
        );
        assert_eq!(
            rfc850_as_imf("Sunday, 06-Nov-94 08:49:37 GMT", now).as_deref(),
            Some("Sun, 06 Nov 1994 08:49:37 GMT")
        );
        assert_eq!(rfc850_as_imf("Sun, 06 Nov 1994 08:49:37 GMT", now), None);
    }
}
