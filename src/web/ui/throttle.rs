//! Login attempt limiting, in memory: after `MAX_FAILURES` wrong passwords for one username
//! from one address within `WINDOW`, further logins for that pair are refused (429) without
//! checking the password until the oldest failure leaves the window. Every attempt counts as
//! a failure from the moment it starts (so concurrent guesses cannot slip past the limit);
//! a right password clears the pair. The address is the TCP peer (a reverse proxy's own address when there is one),
//! never a client-supplied `X-Forwarded-For`, which anyone could vary to escape the limit.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const MAX_FAILURES: usize = 5;
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Pairs tracked at most; past it, forgotten failures are pruned, then the stalest pair.
const MAX_KEYS: usize = 10_000;

type Key = (String, Option<IpAddr>);

#[derive(Default)]
pub struct LoginThrottle {
    failures: Mutex<HashMap<Key, VecDeque<Instant>>>,
}

impl LoginThrottle {
    /// Starts a login attempt: counted as failed until [`succeeded`](Self::succeeded) says
    /// otherwise. `Some(wait)`, counting nothing, while the pair is locked out.
    pub fn attempt(&self, username: &str, ip: Option<IpAddr>) -> Option<Duration> {
        self.attempt_at(username, ip, Instant::now())
    }

    /// The password was right: the pair starts again from zero.
    pub fn succeeded(&self, username: &str, ip: Option<IpAddr>) {
        self.lock().remove(&key(username, ip));
    }

    fn attempt_at(&self, username: &str, ip: Option<IpAddr>, now: Instant) -> Option<Duration> {
        let mut failures = self.lock();
        if let Some(recent) = failures.get_mut(&key(username, ip)) {
            forget_old(recent, now);
            if recent.len() >= MAX_FAILURES {
                let oldest = *recent.front()?;
                return Some(WINDOW.saturating_sub(now.duration_since(oldest)));
            }
        }
        if failures.len() >= MAX_KEYS && !failures.contains_key(&key(username, ip)) {
            failures.retain(|_, times| {
                forget_old(times, now);
                !times.is_empty()
            });
            if failures.len() >= MAX_KEYS {
                let stalest = failures
                    .iter()
                    .min_by_key(|(_, times)| times.back().copied())
                    .map(|(k, _)| k.clone());
                if let Some(stalest) = stalest {
                    failures.remove(&stalest);
                }
            }
        }
        let recent = failures.entry(key(username, ip)).or_default();
        forget_old(recent, now);
        recent.push_back(now);
        None
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, VecDeque<Instant>>> {
        // A poisoned map only holds timestamps: keep using it.
        self.failures.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Usernames compare case-insensitively here so `Admin` and `admin` share one budget.
fn key(username: &str, ip: Option<IpAddr>) -> Key {
    (username.trim().to_lowercase(), ip)
}

fn forget_old(times: &mut VecDeque<Instant>, now: Instant) {
    while times
        .front()
        .is_some_and(|t| now.duration_since(*t) >= WINDOW)
    {
        times.pop_front();
    }
}

/// "14 minutes", "1 minute", "30 seconds": how long the login page says to wait.
pub fn wait_text(wait: Duration) -> String {
    let secs = wait.as_secs().max(1);
    if secs < 60 {
        return format!("{secs} second{}", if secs == 1 { "" } else { "s" });
    }
    let minutes = secs.div_ceil(60);
    format!("{minutes} minute{}", if minutes == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;

    const IP: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));
    const OTHER: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 7)));

    #[test]
    fn five_failures_lock_the_pair_for_fifteen_minutes_from_the_oldest() {
        let throttle = LoginThrottle::default();
        let start = Instant::now();
        for i in 0..MAX_FAILURES as u64 {
            let at = start + Duration::from_secs(i * 60);
            assert_eq!(throttle.attempt_at("admin", IP, at), None);
        }
        let now = start + Duration::from_secs(5 * 60);
        assert_eq!(
            throttle.attempt_at("Admin", IP, now),
            Some(Duration::from_secs(10 * 60)),
            "case does not escape the limit"
        );
        assert_eq!(
            throttle.attempt_at("admin", IP, now + Duration::from_secs(60)),
            Some(Duration::from_secs(9 * 60)),
            "refused attempts do not extend the lockout"
        );
        assert_eq!(throttle.attempt_at("admin", OTHER, now), None);
        assert_eq!(throttle.attempt_at("other", IP, now), None);
        // The oldest failure leaves the window: one more try is allowed, then none again.
        assert_eq!(throttle.attempt_at("admin", IP, start + WINDOW), None);
        assert!(throttle.attempt_at("admin", IP, start + WINDOW).is_some());
    }

    #[test]
    fn a_right_password_clears_the_count() {
        let throttle = LoginThrottle::default();
        for _ in 0..MAX_FAILURES - 1 {
            assert_eq!(throttle.attempt("admin", IP), None);
        }
        throttle.succeeded("admin", IP);
        for _ in 0..MAX_FAILURES {
            assert_eq!(throttle.attempt("admin", IP), None);
        }
        assert!(throttle.attempt("admin", IP).is_some());
    }

    #[test]
    fn the_map_stays_bounded() {
        let throttle = LoginThrottle::default();
        let now = Instant::now();
        for i in 0..MAX_KEYS + 10 {
            throttle.attempt_at(&format!("user{i}"), IP, now);
        }
        assert_eq!(throttle.lock().len(), MAX_KEYS);
    }

    #[test]
    fn waits_read_as_minutes_or_seconds() {
        assert_eq!(wait_text(Duration::from_secs(61)), "2 minutes");
        assert_eq!(wait_text(Duration::from_secs(60)), "1 minute");
        assert_eq!(wait_text(Duration::from_secs(1)), "1 second");
        assert_eq!(wait_text(Duration::ZERO), "1 second");
    }
}
