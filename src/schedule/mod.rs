//! Scheduled triggers. Schedules live in the recipes; `Scheduler` mirrors them into
//! tokio-cron-scheduler jobs and re-reads the store every second, so imports, edits, disables and
//! deletes take effect without a restart. A tick runs only after its `(recipe, scheduled_for)`
//! row is inserted, so it runs once however many processes share the store.

pub mod poll;
pub mod tick;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::json;
use tokio::sync::Notify;
use tokio_cron_scheduler::{Job, JobScheduler, JobSchedulerError};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::deliver::client::OutboundPolicy;
use crate::engine::cache::RecipeCache;
use crate::ids::new_id;
use crate::recipe::{ScheduleTrigger, parse_cron};
use crate::store::{NewEvent, Store, StoreError, TickClaim};
use poll::{PollError, poll_events};

/// What a firing tick needs.
pub struct TickContext {
    pub store: Arc<dyn Store>,
    pub cache: Arc<RecipeCache>,
    pub client: reqwest::Client,
    pub policy: OutboundPolicy,
    pub owner: String,
    pub events_ready: Arc<Notify>,
}

impl TickContext {
    /// Runs one tick of one recipe unless the recipe is gone, disabled or no longer scheduled,
    /// or another process claimed the tick. Returns whether this call ran it.
    #[tracing::instrument(skip_all, fields(recipe = recipe_id, %scheduled_for))]
    pub async fn fire(
        &self,
        recipe_id: &str,
        scheduled_for: DateTime<Utc>,
        skipped: u64,
    ) -> Result<bool, StoreError> {
        let Some(stored) = self.store.get_recipe(recipe_id).await? else {
            return Ok(false);
        };
        let recipe = match self.cache.get(&stored) {
            Ok(recipe) if stored.enabled => recipe,
            _ => return Ok(false),
        };
        let Some(schedule) = recipe.schedule.clone() else {
            return Ok(false);
        };
        let claim = TickClaim {
            recipe_id: recipe_id.to_owned(),
            scheduled_for,
            owner: self.owner.clone(),
            skipped,
        };
        if !self.store.claim_tick(&claim).await? {
            return Ok(false);
        }
        if skipped > 0 {
            tracing::warn!(skipped, "missed ticks skipped; running only the latest");
        }
        let fired_at = Utc::now();
        let mut tick = json!({
            "scheduled_for": scheduled_for.to_rfc3339(),
            "fired_at": fired_at.to_rfc3339(),
        });
        if skipped > 0 {
            tick["missed_ticks_skipped"] = json!(skipped);
        }
        let events = match &schedule.poll {
            None => vec![tick_event(recipe_id, "schedule", tick)],
            Some(poll) => match poll_events(self, &recipe, poll, scheduled_for).await {
                Ok(events) => events,
                Err(PollError::Store(error)) => return Err(error),
                Err(PollError::Failed(message)) => {
                    tracing::warn!(%message, "poll failed");
                    let event = tick_event(recipe_id, "poll", tick);
                    self.store
                        .complete_tick(&claim, &[], Some((&event, &message)))
                        .await?;
                    return Ok(true);
                }
            },
        };
        self.store.complete_tick(&claim, &events, None).await?;
        if !events.is_empty() {
            self.events_ready.notify_waiters();
            self.events_ready.notify_one();
        }
        tracing::info!(events = events.len(), "tick ran");
        Ok(true)
    }
}

fn tick_event(recipe_id: &str, trigger: &str, payload: serde_json::Value) -> NewEvent {
    NewEvent {
        id: new_id(),
        recipe_id: recipe_id.to_owned(),
        trigger: trigger.into(),
        received_at: Utc::now(),
        content_type: Some("application/json".into()),
        headers: json!({}),
        body: payload.to_string().into_bytes(),
        payload,
    }
}

struct ScheduledJob {
    version: i64,
    job: Uuid,
}

pub struct Scheduler {
    ctx: Arc<TickContext>,
    jobs: HashMap<String, ScheduledJob>,
    cron: JobScheduler,
    caught_up: bool,
}

impl Scheduler {
    pub async fn new(ctx: TickContext) -> Result<Self, JobSchedulerError> {
        Ok(Self {
            ctx: Arc::new(ctx),
            jobs: HashMap::new(),
            cron: JobScheduler::new().await?,
            caught_up: false,
        })
    }

    /// Runs until cancelled: starts the cron jobs and re-reads the recipes every `refresh`.
    pub async fn run(mut self, refresh: Duration, shutdown: CancellationToken) {
        if let Err(error) = self.cron.start().await {
            tracing::error!(%error, "scheduler did not start");
            return;
        }
        while !shutdown.is_cancelled() {
            if let Err(error) = self.sync().await {
                tracing::error!(%error, "scheduler could not read the recipes");
            }
            tokio::select! {
                _ = tokio::time::sleep(refresh) => {}
                _ = shutdown.cancelled() => {}
            }
        }
        let _ = self.cron.shutdown().await;
    }

    /// One step: brings the jobs in line with the stored recipes. The first call also runs,
    /// per recipe, the latest tick missed while no server ran (at most one).
    pub async fn sync(&mut self) -> Result<(), StoreError> {
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
        let stale: Vec<String> = self
            .jobs
            .iter()
            .filter(|(id, job)| {
                wanted
                    .get(*id)
                    .is_none_or(|(version, _)| *version != job.version)
            })
            .map(|(id, _)| id.clone())
            .collect();
        for id in stale {
            if let Some(job) = self.jobs.remove(&id) {
                let _ = self.cron.remove(&job.job).await;
                tracing::info!(recipe = %id, "schedule removed");
            }
        }
        for (id, (version, schedule)) in wanted {
            if self.jobs.contains_key(&id) {
                continue;
            }
            if !self.caught_up {
                self.catch_up(&id, &schedule).await?;
            }
            match self.add_job(&id, &schedule).await {
                Ok(job) => {
                    tracing::info!(recipe = %id, cron = %schedule.cron, "scheduled");
                    self.jobs.insert(id, ScheduledJob { version, job });
                }
                Err(error) => tracing::error!(recipe = %id, %error, "could not schedule"),
            }
        }
        self.caught_up = true;
        Ok(())
    }

    async fn catch_up(
        &self,
        recipe_id: &str,
        schedule: &ScheduleTrigger,
    ) -> Result<(), StoreError> {
        let Some(last) = self.ctx.store.last_tick(recipe_id).await? else {
            return Ok(());
        };
        let Ok(cron) = parse_cron(&schedule.cron) else {
            return Ok(());
        };
        let (latest, missed) = tick::missed_ticks(&cron, schedule.timezone, last, Utc::now());
        if let Some(latest) = latest {
            self.ctx.fire(recipe_id, latest, missed - 1).await?;
        }
        Ok(())
    }

    async fn add_job(
        &self,
        recipe_id: &str,
        schedule: &ScheduleTrigger,
    ) -> Result<Uuid, JobSchedulerError> {
        let cron = parse_cron(&schedule.cron).map_err(|_| JobSchedulerError::ParseSchedule)?;
        let (ctx, id, tz) = (self.ctx.clone(), recipe_id.to_owned(), schedule.timezone);
        let job = Job::new_async_tz(schedule.cron.as_str(), tz, move |_, _| {
            let (ctx, id, cron) = (ctx.clone(), id.clone(), cron.clone());
            Box::pin(async move {
                let Some(scheduled_for) = tick::tick_for(&cron, tz, Utc::now()) else {
                    return;
                };
                if let Err(error) = ctx.fire(&id, scheduled_for, 0).await {
                    tracing::error!(recipe = %id, %error, "tick failed");
                }
            })
        })?;
        self.cron.add(job).await
    }
}
