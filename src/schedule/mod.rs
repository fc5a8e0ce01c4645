//! Scheduled triggers. Schedules live in the recipes; the [`Scheduler`] re-reads the store every
//! second, so imports, edits, disables and deletes take effect without a restart. A tick is a
//! whole-second UTC instant computed by [`tick::TickSchedule`] (daylight-saving rules there); it
//! runs only after its `(recipe, scheduled_for)` row is inserted, so it runs once however many
//! processes share the store and however often they restart. The claim is a lease renewed while
//! the tick runs (`claim.rs`): a dead process's tick is taken over once its lease runs out.

mod claim;
pub mod clock;
pub mod poll;
pub mod tick;
pub mod timer;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::json;
use tokio::sync::Notify;

use crate::engine::cache::RecipeCache;
use crate::ids::new_id;
use crate::outbound::client::OutboundPolicy;
use crate::recipe::{Recipe, ScheduleTrigger};
use crate::store::{NewEvent, Store, StoreError, TickClaim};
use poll::{PollError, poll_events};
pub use timer::{Due, Scheduler};

/// What a firing tick needs.
pub struct TickContext {
    pub store: Arc<dyn Store>,
    pub cache: Arc<RecipeCache>,
    pub client: reqwest::Client,
    pub policy: OutboundPolicy,
    pub owner: String,
    pub events_ready: Arc<Notify>,
    /// How long a tick claim holds unless renewed (`SWITCHYARD_LEASE`).
    pub lease: Duration,
    /// How often a running tick renews its claim (a quarter of the lease).
    pub heartbeat: Duration,
}

/// What became of one tick handed to [`TickContext::fire`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fired {
    /// This process ran it and stored its events.
    Ran,
    /// Not run here: the recipe is gone, disabled or unscheduled, the tick is complete, or this
    /// process's claim was taken over while it ran.
    NotRun,
    /// Another process's claim holds it until this instant: worth trying again then, in case
    /// that process died.
    Held(DateTime<Utc>),
    /// The recipe is paused: the tick is recorded as skipped (reason `paused`), nothing polled.
    Paused,
}

impl TickContext {
    /// Runs one tick of one recipe unless the recipe is gone, disabled or no longer scheduled,
    /// or another process claimed the tick. `fired_at` is the clock's now, recorded in the
    /// tick's payload next to `scheduled_for`.
    #[tracing::instrument(skip_all, fields(recipe = %due.recipe_id, scheduled_for = %due.scheduled_for))]
    pub async fn fire(&self, due: &Due, fired_at: DateTime<Utc>) -> Result<Fired, StoreError> {
        let Some(stored) = self.store.get_recipe(&due.recipe_id).await? else {
            return Ok(Fired::NotRun);
        };
        let recipe = match self.cache.get(&stored) {
            Ok(recipe) if stored.enabled => recipe,
            _ => return Ok(Fired::NotRun),
        };
        let Some(schedule) = recipe.schedule.clone() else {
            return Ok(Fired::NotRun);
        };
        let claim = TickClaim {
            recipe_id: due.recipe_id.clone(),
            scheduled_for: due.scheduled_for,
            owner: self.owner.clone(),
            skipped: due.skipped,
            lease: self.lease,
        };
        if !self.store.claim_tick(&claim).await? {
            let held = self
                .store
                .tick_lease_until(&due.recipe_id, due.scheduled_for)
                .await?;
            return Ok(held.map_or(Fired::NotRun, Fired::Held));
        }
        if stored.paused_at.is_some() {
            // Recorded, so the tick is not caught up after a resume: pausing skips it.
            self.store.skip_tick(&claim, "paused").await?;
            tracing::info!("tick skipped: the recipe is paused");
            return Ok(Fired::Paused);
        }
        let run = self.run_claimed(&claim, &recipe, &schedule, fired_at);
        match claim::renewing(self.store.as_ref(), &claim, self.heartbeat, run).await {
            Ok(()) => Ok(Fired::Ran),
            Err(StoreError::LeaseLost(tick)) => {
                tracing::warn!(
                    recipe = %claim.recipe_id,
                    tick = %claim.scheduled_for.to_rfc3339(),
                    "the claim on {tick} was taken over by another process (this one stalled past \
                     its lease): this run's events are dropped, the process that took it runs it"
                );
                Ok(Fired::NotRun)
            }
            Err(error) => Err(error),
        }
    }

    /// Polls (when the schedule does) and completes the claimed tick with its events.
    async fn run_claimed(
        &self,
        claim: &TickClaim,
        recipe: &Arc<Recipe>,
        schedule: &ScheduleTrigger,
        fired_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let (recipe_id, scheduled_for, skipped) =
            (claim.recipe_id.as_str(), claim.scheduled_for, claim.skipped);
        if skipped > 0 {
            tracing::warn!(skipped, "missed ticks skipped; running only the latest");
        }
        let mut tick = json!({
            "scheduled_for": scheduled_for.to_rfc3339(),
            "fired_at": fired_at.to_rfc3339(),
        });
        if skipped > 0 {
            tick["missed_ticks_skipped"] = json!(skipped);
        }
        let events = match &schedule.poll {
            None => vec![tick_event(recipe_id, "schedule", tick)],
            Some(poll) => match poll_events(self, recipe, poll, scheduled_for).await {
                Ok(events) => events,
                Err(PollError::Store(error)) => return Err(error),
                Err(PollError::Failed(message)) => {
                    tracing::warn!(%message, "poll failed");
                    let event = tick_event(recipe_id, "poll", tick);
                    return self
                        .store
                        .complete_tick(claim, &[], Some((&event, &message)))
                        .await;
                }
            },
        };
        self.store.complete_tick(claim, &events, None).await?;
        if !events.is_empty() {
            self.events_ready.notify_waiters();
            self.events_ready.notify_one();
        }
        tracing::info!(events = events.len(), "tick ran");
        Ok(())
    }

    /// [`TickContext::fire`] for a spawned task: a store error is logged (and the tick not run).
    pub async fn fire_logged(&self, due: &Due, fired_at: DateTime<Utc>) -> Fired {
        self.fire(due, fired_at).await.unwrap_or_else(|error| {
            tracing::error!(recipe = %due.recipe_id, %error, "tick failed");
            Fired::NotRun
        })
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
