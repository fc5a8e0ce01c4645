//! Scheduled triggers. Schedules live in the recipes; the [`Scheduler`] re-reads the store every
//! second, so imports, edits, disables and deletes take effect without a restart. A tick is a
//! whole-second UTC instant computed by [`tick::TickSchedule`] (daylight-saving rules there); it
//! runs only after its `(recipe, scheduled_for)` row is inserted, so it runs once however many
//! processes share the store and however often they restart.

pub mod clock;
pub mod poll;
pub mod tick;
pub mod timer;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::json;
use tokio::sync::Notify;

use crate::deliver::client::OutboundPolicy;
use crate::engine::cache::RecipeCache;
use crate::ids::new_id;
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
}

impl TickContext {
    /// Runs one tick of one recipe unless the recipe is gone, disabled or no longer scheduled,
    /// or another process claimed the tick. Returns whether this call ran it. `fired_at` is
    /// the clock's now, recorded in the tick's payload next to `scheduled_for`.
    #[tracing::instrument(skip_all, fields(recipe = %due.recipe_id, scheduled_for = %due.scheduled_for))]
    pub async fn fire(&self, due: &Due, fired_at: DateTime<Utc>) -> Result<bool, StoreError> {
        let (recipe_id, scheduled_for, skipped) =
            (due.recipe_id.as_str(), due.scheduled_for, due.skipped);
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

    /// [`TickContext::fire`] for a spawned task: a store error is logged.
    pub async fn fire_logged(&self, due: &Due, fired_at: DateTime<Utc>) {
        if let Err(error) = self.fire(due, fired_at).await {
            tracing::error!(recipe = %due.recipe_id, %error, "tick failed");
        }
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
