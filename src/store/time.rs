//! Instants as the store keeps them: milliseconds since the Unix epoch (UTC).

use chrono::{DateTime, Utc};

/// Now, in milliseconds since the epoch.
pub fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// `time` in milliseconds since the epoch.
pub fn to_ms(time: DateTime<Utc>) -> i64 {
    time.timestamp_millis()
}

/// Milliseconds since the epoch as an instant (the epoch itself when out of range).
pub fn from_ms(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}
