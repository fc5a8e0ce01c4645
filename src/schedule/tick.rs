//! Tick arithmetic: the exact UTC instants a cron expression in a time zone fires at, as a pure
//! function of (cron, zone, instant). Both the live timer and the catch-up after a restart walk
//! this one sequence, so a tick has one identity — its whole-second UTC instant — everywhere.
//!
//! Daylight-saving rules (Vixie cron, and croner's documented "DST Handling"): a schedule is
//! *fixed-time* when its second, minute and hour fields each name one value (`0 30 2 * * *`),
//! otherwise *interval/wildcard* (`* * * * * *`, `0 */30 * * * *`, `0 0 * * * *`).
//! - Repeated local times (clocks go back): interval schedules fire at every matching instant of
//!   both passes; a fixed-time schedule fires once, at the first pass.
//! - Skipped local times (clocks go forward): interval schedules have no ticks there; a
//!   fixed-time schedule whose time was skipped fires once, at the first instant after the gap.
//!
//! croner 3 searches in local wall time and, from an instant in the second pass of a repeated
//! hour, answers with the first pass (an instant *before* the start); tokio-cron-scheduler 0.15
//! freezes the zone's UTC offset when a job is created. So croner is used here only to match
//! wall-clock fields (searching a naive time as if it were UTC, where nothing repeats or is
//! skipped); the zone's offsets are walked here, one constant-offset stretch at a time.

use chrono::{DateTime, Duration, LocalResult, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;
use croner::{Cron, JobType};

/// Catch-up counts at most this many missed ticks (a per-second cron down for a day is 86,400).
const MAX_TICKS_COUNTED: u64 = 1_000_000;

/// Offsets are probed this far apart when looking for a change; zones change their offset at
/// most a few times a year, never twice within this span.
const PROBE: i64 = 6 * 3600;

/// A zone changes its offset at most this many times before any one tick (bounds the walk).
const MAX_TRANSITIONS_WALKED: usize = 64;

/// A cron expression bound to the IANA zone its wall-clock fields are read in.
#[derive(Clone, Debug)]
pub struct TickSchedule {
    cron: Cron,
    tz: Tz,
    fixed_time: bool,
}

/// The ticks in a span `(after, until]`: how many, and the latest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TickSpan {
    pub latest: Option<DateTime<Utc>>,
    /// Capped at `MAX_TICKS_COUNTED` (then `capped` is true: the count is a lower bound).
    pub count: u64,
    pub capped: bool,
}

impl TickSchedule {
    pub fn new(cron: Cron, tz: Tz) -> Self {
        let fixed_time = cron.determine_job_type() == JobType::FixedTime;
        Self {
            cron,
            tz,
            fixed_time,
        }
    }

    /// The first tick strictly after `after` (any sub-second part of `after` is ignored only in
    /// that ticks are whole seconds). `None` when the expression never matches again.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let mut from = whole_second(after);
        let mut offset = self.offset_at(from);
        for _ in 0..MAX_TRANSITIONS_WALKED {
            // Within one constant-offset stretch local time is UTC shifted by `offset`.
            let local = self.next_local_match(from.naive_utc() + offset, false)?;
            let candidate = (local - offset).and_utc();
            let Some((change, new_offset)) = self.offset_change(from, offset, candidate) else {
                if self.fixed_time && self.is_second_pass(local, candidate) {
                    from = candidate;
                    continue;
                }
                return Some(candidate);
            };
            if self.fixed_time && new_offset > offset {
                let skipped_from = change.naive_utc() + offset;
                let skipped_until = change.naive_utc() + new_offset;
                if self
                    .next_local_match(skipped_from, true)
                    .is_some_and(|m| m < skipped_until)
                {
                    return Some(change);
                }
            }
            from = change - Duration::seconds(1);
            offset = new_offset;
        }
        None
    }

    /// Every tick strictly after `after`, in order.
    pub fn ticks_after(&self, after: DateTime<Utc>) -> impl Iterator<Item = DateTime<Utc>> + '_ {
        std::iter::successors(self.next_after(after), move |t| self.next_after(*t))
    }

    /// The ticks in `(after, until]`.
    pub fn span(&self, after: DateTime<Utc>, until: DateTime<Utc>) -> TickSpan {
        let mut span = TickSpan {
            latest: None,
            count: 0,
            capped: false,
        };
        for tick in self.ticks_after(after).take_while(|t| *t <= until) {
            if span.count == MAX_TICKS_COUNTED {
                span.capped = true;
                span.latest = self.latest_at_or_before(until);
                break;
            }
            span.latest = Some(tick);
            span.count += 1;
        }
        span
    }

    /// The latest tick at or before `until`, found by widening a look-back window.
    fn latest_at_or_before(&self, until: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let mut window = Duration::minutes(1);
        while window < Duration::days(366 * 5) {
            let latest = self
                .ticks_after(until - window)
                .take_while(|t| *t <= until)
                .last();
            if latest.is_some() {
                return latest;
            }
            window = window * 2;
        }
        None
    }

    /// The first local wall time matching the fields after (or at) `local`. croner searches a
    /// naive time given as UTC, where no time repeats or is missing.
    fn next_local_match(&self, local: NaiveDateTime, inclusive: bool) -> Option<NaiveDateTime> {
        self.cron
            .find_next_occurrence(&local.and_utc(), inclusive)
            .ok()
            .map(|t| t.naive_utc())
    }

    /// The wall time `local` also names an earlier instant than `instant` (the first pass).
    fn is_second_pass(&self, local: NaiveDateTime, instant: DateTime<Utc>) -> bool {
        matches!(self.tz.from_local_datetime(&local),
            LocalResult::Ambiguous(first, _) if first.to_utc() < instant)
    }

    fn offset_at(&self, instant: DateTime<Utc>) -> Duration {
        let seconds = self
            .tz
            .offset_from_utc_datetime(&instant.naive_utc())
            .fix()
            .local_minus_utc();
        Duration::seconds(i64::from(seconds))
    }

    /// The first instant in `(from, until]` whose offset is not `offset`, with its offset.
    fn offset_change(
        &self,
        from: DateTime<Utc>,
        offset: Duration,
        until: DateTime<Utc>,
    ) -> Option<(DateTime<Utc>, Duration)> {
        let (mut low, end) = (from.timestamp(), until.timestamp());
        let at = |t: i64| self.offset_at(DateTime::from_timestamp(t, 0).unwrap_or(until));
        while low < end {
            let high = (low + PROBE).min(end);
            if at(high) == offset {
                low = high;
                continue;
            }
            let mut high = high;
            while high - low > 1 {
                let mid = low + (high - low) / 2;
                if at(mid) == offset {
                    low = mid;
                } else {
                    high = mid;
                }
            }
            let change = DateTime::from_timestamp(high, 0)?;
            return Some((change, self.offset_at(change)));
        }
        None
    }
}

fn whole_second(instant: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(instant.timestamp(), 0).unwrap_or(instant)
}

#[cfg(test)]
#[path = "tick_tests.rs"]
mod tests;
