//! The per-recipe webhook rate setting (`SWITCHYARD_HOOK_RATE`, `SWITCHYARD_HOOK_BURST`);
//! `ingest::rate_limit` enforces it.

use std::fmt;
use std::str::FromStr;

/// Per recipe (per process on SQLite, shared by the cluster on PostgreSQL). Webhook senders publish no send rate (Stripe, Shopify and
/// GitHub document retries, not throughput) and deliver month-end renewals or a flash sale's
/// orders as thousands of calls within seconds; a 429 only moves them into the sender's retry
/// schedule, and Shopify drops a subscription after repeated failures. So the default admits
/// any such burst (5,000 at once, then 500/s: 1,000 calls/s for 9 s, or 300/s for a minute,
/// all pass) while holding one flooded recipe to a third to a half of what the SQLite store
/// commits (~1,000–1,800 webhooks/s, see `bench/`), leaving the rest to the other recipes.
pub const DEFAULT_HOOK_RATE: &str = "500/s";
pub const DEFAULT_HOOK_BURST: u32 = 5000;

/// Calls per second a recipe's webhook accepts on average, or `off`. Written `50/s`,
/// `3000/m`, `100000/h` (also `sec`, `min`, `hour` and their plurals) or `off`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HookRate {
    per_second: Option<f64>,
}

impl HookRate {
    pub const OFF: HookRate = HookRate { per_second: None };

    pub fn per_second(rate: f64) -> HookRate {
        HookRate {
            per_second: Some(rate),
        }
    }

    pub fn as_per_second(&self) -> Option<f64> {
        self.per_second
    }
}

impl Default for HookRate {
    fn default() -> Self {
        DEFAULT_HOOK_RATE.parse().expect("the default rate parses")
    }
}

impl FromStr for HookRate {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("off") {
            return Ok(HookRate::OFF);
        }
        let invalid = || format!("`{text}` is not a rate: write e.g. `50/s`, `3000/m` or `off`");
        let (count, unit) = text.split_once('/').ok_or_else(invalid)?;
        let count: u32 = count.trim().parse().map_err(|_| invalid())?;
        let seconds = match unit.trim().to_ascii_lowercase().as_str() {
            "s" | "sec" | "second" | "seconds" => 1.0,
            "m" | "min" | "minute" | "minutes" => 60.0,
            "h" | "hour" | "hours" => 3600.0,
            _ => return Err(invalid()),
        };
        if count == 0 {
            return Err(format!(
                "`{text}` would refuse every call; write `off` for no limit"
            ));
        }
        Ok(HookRate::per_second(f64::from(count) / seconds))
    }
}

impl fmt::Display for HookRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.per_second {
            None => f.write_str("off"),
            Some(rate) if rate >= 1.0 && rate.fract() == 0.0 => write!(f, "{rate}/s"),
            Some(rate) => write!(f, "{}/h", (rate * 3600.0).round()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_per_second_minute_and_hour() {
        let rate = |text: &str| text.parse::<HookRate>().map(|r| r.as_per_second());
        assert_eq!(rate("50/s"), Ok(Some(50.0)));
        assert_eq!(rate(" 3000 / m "), Ok(Some(50.0)));
        assert_eq!(rate("7200/hour"), Ok(Some(2.0)));
        assert_eq!(rate("1/sec"), Ok(Some(1.0)));
        assert_eq!(rate("OFF"), Ok(None));
        for bad in ["", "50", "50/d", "-1/s", "1.5/s", "x/s", "/s"] {
            let error = rate(bad).unwrap_err();
            assert!(error.contains("is not a rate"), "{bad}: {error}");
        }
        assert!(rate("0/s").unwrap_err().contains("write `off`"));
        assert_eq!(HookRate::default(), HookRate::per_second(500.0));
        assert_eq!(HookRate::default().to_string(), "500/s");
        assert_eq!("90/m".parse::<HookRate>().unwrap().to_string(), "5400/h");
        assert_eq!(HookRate::OFF.to_string(), "off");
    }
}
