//! Per-recipe inbound rate limit: a token bucket per recipe id. On PostgreSQL the bucket is a
//! row of the store, shared by every process (`store::ledger::hook_buckets`); on SQLite (one
//! process) it is kept in memory here.
//!
//! A bucket holds up to `burst` tokens and refills at `rate`; each webhook call takes one.
//! An empty bucket refuses the call with 429 and the whole seconds until a token is back.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::config::hook_rate::HookRate;
use crate::store::{HookToken, Store};

/// Buckets kept before full (idle) ones are dropped; a dropped bucket is full again anyway.
const PRUNE_ABOVE: usize = 10_000;

struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// The buckets of every recipe, shared by the HTTP workers.
pub struct HookLimiter {
    rate: HookRate,
    burst: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl HookLimiter {
    /// `burst` below 1 counts as 1.
    pub fn new(rate: HookRate, burst: u32) -> Self {
        Self {
            rate,
            burst: f64::from(burst.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a token for `recipe_id` from the bucket `store` keeps for every process sharing
    /// it (PostgreSQL), else from this process's own; says how long until one is available.
    /// A store that cannot answer falls back to the process's bucket (logged).
    pub async fn take(&self, store: &dyn Store, recipe_id: &str) -> Result<(), Duration> {
        let Some(rate) = self.rate.as_per_second() else {
            return Ok(());
        };
        match store.take_hook_token(recipe_id, rate, self.burst).await {
            Ok(HookToken::Taken) => Ok(()),
            Ok(HookToken::Wait(wait)) => Err(wait),
            Ok(HookToken::InProcess) => self.check(recipe_id),
            Err(error) => {
                tracing::warn!(%error, "shared webhook rate limit unavailable; this process's own bucket decides");
                self.check(recipe_id)
            }
        }
    }

    /// Takes a token for `recipe_id`, or says how long until one is available.
    pub fn check(&self, recipe_id: &str) -> Result<(), Duration> {
        self.check_at(recipe_id, Instant::now())
    }

    fn check_at(&self, recipe_id: &str, now: Instant) -> Result<(), Duration> {
        let Some(rate) = self.rate.as_per_second() else {
            return Ok(());
        };
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() > PRUNE_ABOVE {
            buckets.retain(|_, b| self.refilled(b, rate, now) < self.burst);
        }
        let bucket = buckets
            .entry(recipe_id.to_owned())
            .or_insert_with(|| Bucket {
                tokens: self.burst,
                updated: now,
            });
        bucket.tokens = self.refilled(bucket, rate, now);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / rate))
        }
    }

    fn refilled(&self, bucket: &Bucket, rate: f64, now: Instant) -> f64 {
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        (bucket.tokens + elapsed * rate).min(self.burst)
    }
}

/// The `Retry-After` value for a wait: whole seconds, rounded up, at least 1.
pub fn retry_after_secs(wait: Duration) -> u64 {
    let whole = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    whole.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::hook_rate::DEFAULT_HOOK_BURST;

    #[test]
    fn the_burst_passes_then_calls_wait_for_the_refill() {
        let limiter = HookLimiter::new(HookRate::per_second(2.0), 3);
        let start = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.check_at("a", start), Ok(()));
        }
        let wait = limiter.check_at("a", start).unwrap_err();
        assert_eq!(wait, Duration::from_millis(500));
        assert_eq!(retry_after_secs(wait), 1);
        // Another recipe has its own bucket.
        assert_eq!(limiter.check_at("b", start), Ok(()));
        // Half a second later one token is back, and only one.
        let later = start + Duration::from_millis(500);
        assert_eq!(limiter.check_at("a", later), Ok(()));
        assert!(limiter.check_at("a", later).is_err());
        // Refills never exceed the burst.
        let much_later = start + Duration::from_secs(3600);
        for _ in 0..3 {
            assert_eq!(limiter.check_at("a", much_later), Ok(()));
        }
        assert!(limiter.check_at("a", much_later).is_err());
    }

    /// Calls sent evenly at `per_second` for `seconds`; how many the default limiter admits.
    fn admitted_by_default(per_second: u32, seconds: u32) -> u32 {
        let limiter = HookLimiter::new(HookRate::default(), DEFAULT_HOOK_BURST);
        let start = Instant::now();
        let gap = Duration::from_secs(1) / per_second;
        (0..per_second * seconds)
            .filter(|&i| limiter.check_at("renewals", start + gap * i).is_ok())
            .count() as u32
    }

    #[test]
    fn a_month_end_burst_passes_the_default_limit_and_a_flood_is_held_to_its_rate() {
        // Thousands of renewals within seconds, as a payment provider sends them.
        assert_eq!(admitted_by_default(1000, 9), 9_000);
        assert_eq!(admitted_by_default(300, 60), 18_000);
        // A flood: the burst, then 500/s (one token of rounding either way).
        let flooded = admitted_by_default(20_000, 10);
        assert!((9_999..=10_001).contains(&flooded), "{flooded}");
    }

    #[test]
    fn slow_rates_answer_the_whole_wait_and_off_never_refuses() {
        let limiter = HookLimiter::new("60/h".parse().unwrap(), 1);
        let now = Instant::now();
        assert_eq!(limiter.check_at("a", now), Ok(()));
        let wait = limiter.check_at("a", now).unwrap_err();
        assert_eq!(retry_after_secs(wait), 60);
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1001)), 2);
        assert_eq!(retry_after_secs(Duration::ZERO), 1);

        let off = HookLimiter::new(HookRate::OFF, 1);
        for _ in 0..1000 {
            assert_eq!(off.check_at("a", now), Ok(()));
        }
    }

    #[test]
    fn idle_buckets_are_pruned_when_there_are_many() {
        let limiter = HookLimiter::new(HookRate::per_second(1000.0), 5);
        let now = Instant::now();
        for i in 0..=PRUNE_ABOVE {
            limiter.check_at(&format!("r{i}"), now).unwrap();
        }
        let later = now + Duration::from_secs(1);
        limiter.check_at("fresh", later).unwrap();
        assert_eq!(limiter.buckets.lock().unwrap().len(), 1);
    }
}
