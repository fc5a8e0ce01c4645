//! The timer: one loop sleeps until the earliest next tick of any scheduled recipe (or the next
//! re-read of the recipes), then runs what is due. Every tick instant comes from
//! [`TickSchedule`], the same function the catch-up after a restart walks.
//!
//! Not tokio-cron-scheduler: 0.15 freezes a zone's UTC offset when a job is created (every tick
//! after the first daylight-saving change is an hour off) and steps with croner's iterator,
//! which skips every other tick of a per-second cron and stalls in a repeated hour. Its
//! remaining value (a sleep until the next instant) is the few lines of [`Scheduler::run`].
//!
//! A tick another process's claim holds is tried again when that lease runs out (the process
//! may have died mid-poll), unless a later tick of the recipe comes due first and stands in.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::task::{JoinError, JoinSet};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::clock::{Clock, SystemClock};
use super::tick::TickSchedule;
use super::{Fired, TickContext};
use crate::recipe::{ScheduleTrigger, parse_cron};
use crate::store::StoreError;

/// A running timer that fell further behind than this (a suspended machine, a stalled
/// process) runs only the latest due tick and records how many it skipped, as after a restart.
/// Within it, every due tick runs.
pub const LATE_LIMIT: chrono::Duration = chrono::Duration::seconds(60);

/// A held tick is tried again this long after its lease runs out (claims compare strictly).
const AFTER_LEASE: Duration = Duration::from_millis(50);

/// One tick to run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Due {
    pub recipe_id: String,
    /// The tick's identity: a whole-second UTC instant of the recipe's schedule.
    pub scheduled_for: DateTime<Utc>,
    /// Earlier ticks this one stands in for (missed while no server ran), not run.
    pub skipped: u64,
}

struct Job {
    version: i64,
    schedule: TickSchedule,
    /// Every tick at or before this instant is handled (run, claimed elsewhere, or skipped).
    cursor: DateTime<Utc>,
    next: Option<DateTime<Utc>>,
    /// The cursor came from the store at start: the first due batch is a catch-up.
    catching_up: bool,
    /// The latest tick handed out to run (at start: the latest recorded).
    latest: Option<DateTime<Utc>>,
    held: Option<Held>,
}

/// A tick another process's claim holds, to try again when that lease runs out. Leases are
/// wall-clock instants in the store; the retry waits on the runtime's timer, whatever the
/// scheduler's [`Clock`] says.
struct Held {
    due: Due,
    retry_at: Instant,
}

pub struct Scheduler {
    ctx: Arc<TickContext>,
    clock: Arc<dyn Clock>,
    jobs: HashMap<String, Job>,
    started: bool,
    /// The recipes as of the last complete sync (see `RecipeStore::recipes_fingerprint`):
    /// while it holds, a sync reads one row instead of every recipe's source.
    synced: Option<(i64, i64, i64)>,
}

impl Scheduler {
    pub fn new(ctx: TickContext) -> Self {
        Self {
            ctx: Arc::new(ctx),
            clock: Arc::new(SystemClock),
            jobs: HashMap::new(),
            started: false,
            synced: None,
        }
    }

    /// Reads the time from `clock` instead of the system clock (tests).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Runs until cancelled: re-reads the recipes every `refresh` and fires each tick at its
    /// instant. Ticks run as tasks, so a slow poll delays no other recipe; shutdown waits for
    /// the ticks in flight.
    pub async fn run(mut self, refresh: Duration, shutdown: CancellationToken) {
        let mut running = JoinSet::new();
        while !shutdown.is_cancelled() {
            match self.sync().await {
                Ok(()) => {
                    for due in self.take_due() {
                        let (ctx, fired_at) = (self.ctx.clone(), self.clock.now());
                        running.spawn(async move {
                            let fired = ctx.fire_logged(&due, fired_at).await;
                            (due, fired)
                        });
                    }
                }
                Err(error) => tracing::error!(%error, "scheduler could not read the recipes"),
            }
            // Until the next tick, retry or re-read; a tick found held moves the wake-up earlier.
            let mut wake = Instant::now() + self.wait(refresh);
            loop {
                tokio::select! {
                    _ = tokio::time::sleep_until(wake) => break,
                    Some(done) = running.join_next() => {
                        if let Some(retry_at) = self.settle(done) {
                            wake = wake.min(retry_at);
                        }
                    }
                    _ = shutdown.cancelled() => break,
                }
            }
        }
        while running.join_next().await.is_some() {}
    }

    /// How long until the next tick or held-tick retry, at most `refresh`.
    fn wait(&self, refresh: Duration) -> Duration {
        let now = Instant::now();
        let next_tick = self
            .next_tick()
            .map(|next| (next - self.clock.now()).to_std().unwrap_or_default());
        let next_retry = self
            .jobs
            .values()
            .filter_map(|job| job.held.as_ref())
            .map(|held| held.retry_at.saturating_duration_since(now))
            .min();
        [next_tick, next_retry]
            .into_iter()
            .flatten()
            .fold(refresh, Duration::min)
    }

    /// Takes a fired tick's outcome; returns when to retry it if another process holds it.
    fn settle(&mut self, done: Result<(Due, Fired), JoinError>) -> Option<Instant> {
        match done {
            Ok((due, Fired::Held(until))) => self.hold(due, until),
            Ok(_) => None,
            Err(error) => {
                tracing::error!(%error, "a tick task failed");
                None
            }
        }
    }

    /// Remembers a tick another process's claim holds until `until`, to try again then, unless
    /// a later tick of the recipe was handed out already (it stands in). Returns the retry time.
    fn hold(&mut self, due: Due, until: DateTime<Utc>) -> Option<Instant> {
        let job = self.jobs.get_mut(&due.recipe_id)?;
        if job.latest.is_some_and(|latest| latest > due.scheduled_for) {
            return None;
        }
        let wait = (until - Utc::now()).to_std().unwrap_or_default() + AFTER_LEASE;
        tracing::debug!(recipe = %due.recipe_id, scheduled_for = %due.scheduled_for, ?wait,
            "tick held by another process; trying again when its lease runs out");
        let retry_at = Instant::now() + wait;
        job.held = Some(Held { due, retry_at });
        Some(retry_at)
    }

    /// One step, in order and awaited: re-read the recipes, then run every due tick. Returns
    /// the ticks this process ran (a tick another process claimed is not among them).
    pub async fn run_once(&mut self) -> Result<Vec<Due>, StoreError> {
        self.sync().await?;
        let mut ran = Vec::new();
        for due in self.take_due() {
            match self.ctx.fire(&due, self.clock.now()).await? {
                Fired::Ran => ran.push(due),
                Fired::NotRun | Fired::Paused => {}
                Fired::Held(until) => {
                    self.hold(due, until);
                }
            }
        }
        Ok(ran)
    }

    /// The earliest next tick of any scheduled recipe.
    pub fn next_tick(&self) -> Option<DateTime<Utc>> {
        self.jobs.values().filter_map(|job| job.next).min()
    }

    /// Brings the jobs in line with the stored recipes. At start, a recipe's cursor is its
    /// latest recorded tick (complete, or claimed and its lease still holding), so the ticks
    /// missed while no server ran are caught up once; a claimed one is tried again when its
    /// lease runs out, in case its process died.
    pub async fn sync(&mut self) -> Result<(), StoreError> {
        let fingerprint = self.ctx.store.recipes_fingerprint().await?;
        if self.synced == Some(fingerprint) {
            return Ok(());
        }
        let mut wanted = HashMap::new();
        for stored in self.ctx.store.list_recipes().await? {
            if !stored.enabled {
                continue;
            }
            if let Ok(recipe) = self.ctx.cache.get(&stored)
                && let Some(schedule) = recipe.schedule.clone()
            {
                wanted.insert(stored.id.clone(), (stored.version, schedule));
            }
        }
        self.jobs.retain(|id, job| {
            let keep = wanted.get(id).is_some_and(|(v, _)| *v == job.version);
            if !keep {
                tracing::info!(recipe = %id, "schedule removed");
            }
            keep
        });
        let now = self.clock.now();
        for (id, (version, trigger)) in wanted {
            if self.jobs.contains_key(&id) {
                continue;
            }
            let last = match self.started {
                false => self.ctx.store.last_tick(&id).await?,
                true => None,
            };
            match job(version, &trigger, last, now) {
                Ok(job) => {
                    tracing::info!(recipe = %id, cron = %trigger.cron, tz = %trigger.timezone, "scheduled");
                    self.jobs.insert(id.clone(), job);
                }
                Err(error) => tracing::error!(recipe = %id, %error, "could not schedule"),
            }
            if let Some(last) = last
                && let Some(until) = self.ctx.store.tick_lease_until(&id, last).await?
            {
                self.hold(tick(&id, last, 0), until);
            }
        }
        self.started = true;
        self.synced = Some(fingerprint);
        Ok(())
    }

    /// Advances every job whose next tick is due at the clock's now and returns the ticks to run.
    fn take_due(&mut self) -> Vec<Due> {
        let (now, instant) = (self.clock.now(), Instant::now());
        let mut due = Vec::new();
        for (id, job) in &mut self.jobs {
            if job.next.is_none_or(|next| next > now) {
                if let Some(held) = job.held.take_if(|held| held.retry_at <= instant) {
                    due.push(held.due);
                }
                continue;
            }
            let first_due = due.len();
            let first = job.next.unwrap_or(now);
            if job.catching_up || first < now - LATE_LIMIT {
                let span = job.schedule.span(job.cursor, now);
                if span.capped {
                    tracing::warn!(recipe = %id, "more than {} missed ticks", span.count);
                }
                if let Some(latest) = span.latest {
                    let skipped = span.count.saturating_sub(1);
                    due.push(tick(id, latest, skipped));
                }
            } else {
                let ticks = job.schedule.ticks_after(job.cursor);
                due.extend(ticks.take_while(|t| *t <= now).map(|t| tick(id, t, 0)));
            }
            job.cursor = now;
            job.next = job.schedule.next_after(now);
            job.catching_up = false;
            if let Some(latest) = due[first_due..].iter().map(|d| d.scheduled_for).max() {
                job.latest = Some(latest);
                job.held = None;
            }
        }
        due.sort_by_key(|d| d.scheduled_for);
        due
    }
}

fn tick(recipe_id: &str, scheduled_for: DateTime<Utc>, skipped: u64) -> Due {
    Due {
        recipe_id: recipe_id.to_owned(),
        scheduled_for,
        skipped,
    }
}

/// A job whose first tick is the first after `last` (the latest recorded tick, at start) or
/// after `now` (a recipe added or changed while running).
fn job(
    version: i64,
    trigger: &ScheduleTrigger,
    last: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<Job, String> {
    let schedule = TickSchedule::new(parse_cron(&trigger.cron)?, trigger.timezone);
    let cursor = last.unwrap_or(now);
    Ok(Job {
        version,
        next: schedule.next_after(cursor),
        schedule,
        cursor,
        catching_up: last.is_some(),
        latest: last,
        held: None,
    })
}
