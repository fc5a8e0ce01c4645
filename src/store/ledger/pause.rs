//! Pause and resume. A paused recipe's queued work is *held*: `held_at` is set on its
//! `event_jobs` and `delivery_queue` rows, whose due indexes leave held rows out, so claims
//! never see them and walk no further for them. Each held row keeps its `run_after` /
//! `next_attempt_at`, so a resume releases the events in order of arrival.
//!
//! Race-free holding: events are held when they are written (`write_events`, replays read the
//! recipe's `paused_at` in the insert), and pause and resume take an exclusive `event_jobs` table lock
//! on PostgreSQL (SQLite's single writer already serialises them). An ingest is then either
//! committed before a pause (and held by it) or runs after it (and reads the recipe paused),
//! and likewise for a resume, so no job is left held after a resume nor runnable during a
//! pause. Deliveries need no lock: the delivery claim also passes over every paused recipe,
//! so a delivery planned by a run already in progress when the pause came is held as well.

use async_trait::async_trait;

use super::recipes::RECIPE_COLUMNS;
use super::{Ledger, Stmt, Tx};
use crate::store::rows::RecipeRow;
use crate::store::signal::{Work, announce};
use crate::store::{
    Held, HeldCounts, PauseChange, PauseStore, PausedTicks, StoreError, TickClaim, from_ms, now_ms,
    to_ms,
};

/// The event jobs of the recipe bound as `$n` (a probe of `events` by primary key per job).
fn jobs_of_recipe(n: usize) -> String {
    format!(
        "EXISTS (SELECT 1 FROM events e WHERE e.id = event_jobs.event_id AND e.recipe_id = ${n})"
    )
}

#[async_trait]
impl PauseStore for Ledger {
    #[tracing::instrument(skip_all, fields(recipe = %id))]
    async fn pause_recipe(&self, id: &str) -> Result<Option<PauseChange>, StoreError> {
        let now = now_ms();
        let mut tx = self.locked_queue_tx().await?;
        let changed =
            Stmt::new("UPDATE recipes SET paused_at = $1 WHERE id = $2 AND paused_at IS NULL")
                .bind(now)
                .bind(id)
                .execute(tx.on())
                .await?;
        let Some(recipe) = recipe_in(&mut tx, id).await? else {
            return Ok(None);
        };
        // Also when it was paused already: holds anything a race left unheld (see above).
        Stmt::built(format!(
            "UPDATE event_jobs SET held_at = $1 WHERE held_at IS NULL AND {}",
            jobs_of_recipe(2)
        ))
        .bind(now)
        .bind(id)
        .execute(tx.on())
        .await?;
        Stmt::new(
            "UPDATE delivery_queue SET held_at = $1 WHERE recipe_id = $2 AND held_at IS NULL",
        )
        .bind(now)
        .bind(id)
        .execute(tx.on())
        .await?;
        let work = held_of(&mut tx, id).await?;
        tx.commit().await?;
        Ok(Some(PauseChange {
            recipe,
            changed: changed == 1,
            work,
        }))
    }

    #[tracing::instrument(skip_all, fields(recipe = %id))]
    async fn resume_recipe(&self, id: &str) -> Result<Option<PauseChange>, StoreError> {
        let mut tx = self.locked_queue_tx().await?;
        let changed = Stmt::new(
            "UPDATE recipes SET paused_at = NULL WHERE id = $1 AND paused_at IS NOT NULL",
        )
        .bind(id)
        .execute(tx.on())
        .await?;
        let Some(recipe) = recipe_in(&mut tx, id).await? else {
            return Ok(None);
        };
        let events = Stmt::built(format!(
            "UPDATE event_jobs SET held_at = NULL WHERE held_at IS NOT NULL AND {}",
            jobs_of_recipe(1)
        ))
        .bind(id)
        .execute(tx.on())
        .await?;
        let deliveries = Stmt::new(
            "UPDATE delivery_queue SET held_at = NULL WHERE recipe_id = $1 AND held_at IS NOT NULL",
        )
        .bind(id)
        .execute(tx.on())
        .await?;
        announce(tx.on(), Work::Events, events as usize).await?;
        announce(tx.on(), Work::Deliveries, deliveries as usize).await?;
        tx.commit().await?;
        Ok(Some(PauseChange {
            recipe,
            changed: changed == 1,
            work: Held { events, deliveries },
        }))
    }

    async fn held_counts(&self) -> Result<Vec<HeldCounts>, StoreError> {
        let mut tx = self.read_tx().await?;
        // Driven by the held jobs (`event_jobs_held`), never by the events table.
        let events: Vec<(String, i64)> = Stmt::new(
            "WITH h AS MATERIALIZED (
                SELECT (SELECT e.recipe_id FROM events e WHERE e.id = j.event_id) AS recipe_id
                FROM event_jobs j WHERE j.held_at IS NOT NULL)
             SELECT recipe_id, COUNT(*) FROM h WHERE recipe_id IS NOT NULL GROUP BY recipe_id",
        )
        .fetch_all(tx.on())
        .await?;
        let deliveries: Vec<(String, i64)> = Stmt::new(
            "SELECT recipe_id, COUNT(*) FROM delivery_queue WHERE held_at IS NOT NULL
             GROUP BY recipe_id",
        )
        .fetch_all(tx.on())
        .await?;
        tx.commit().await?;
        let mut counts: Vec<HeldCounts> = Vec::new();
        let mut add = |recipe_id: String, count: i64, field: fn(&mut Held) -> &mut u64| {
            let index = match counts.iter().position(|c| c.recipe_id == recipe_id) {
                Some(index) => index,
                None => {
                    counts.push(HeldCounts {
                        recipe_id,
                        held: Held::default(),
                    });
                    counts.len() - 1
                }
            };
            *field(&mut counts[index].held) += count.max(0) as u64;
        };
        for (recipe_id, count) in events {
            add(recipe_id, count, |h| &mut h.events);
        }
        for (recipe_id, count) in deliveries {
            add(recipe_id, count, |h| &mut h.deliveries);
        }
        counts.sort_by(|a, b| a.recipe_id.cmp(&b.recipe_id));
        Ok(counts)
    }

    async fn skip_tick(&self, claim: &TickClaim, reason: &str) -> Result<(), StoreError> {
        let skipped = Stmt::new(
            "UPDATE schedule_ticks SET completed_at = $1, skip_reason = $2
             WHERE recipe_id = $3 AND scheduled_for = $4 AND claimed_by = $5 AND completed_at IS NULL",
        )
        .bind(now_ms())
        .bind(reason)
        .bind(&claim.recipe_id)
        .bind(to_ms(claim.scheduled_for))
        .bind(&claim.owner)
        .execute(self.write())
        .await?;
        if skipped == 0 {
            return Err(claim.lost());
        }
        Ok(())
    }

    async fn paused_ticks(&self, recipe_id: &str) -> Result<PausedTicks, StoreError> {
        let (count, last): (i64, Option<i64>) = Stmt::new(
            "SELECT COUNT(*), MAX(scheduled_for) FROM schedule_ticks
             WHERE recipe_id = $1 AND skip_reason = 'paused'",
        )
        .bind(recipe_id)
        .fetch_one(self.read())
        .await?;
        Ok(PausedTicks {
            count: count.max(0) as u64,
            last: last.map(from_ms),
        })
    }
}

impl Ledger {
    /// A write transaction holding the `event_jobs` table lock on PostgreSQL (see the module
    /// comment), taken first: transactions already writing the queue (a run's commit holds
    /// its jobs' row locks, then deletes them) finish before it is granted, and ingests,
    /// claims and runs that come later wait for the pause or resume to commit.
    async fn locked_queue_tx(&self) -> Result<Tx, StoreError> {
        let mut tx = self.write_tx().await?;
        if let Some(lock) = self.dialect().lock_out_writers("event_jobs") {
            Stmt::built(lock).execute(tx.on()).await?;
        }
        Ok(tx)
    }
}

async fn recipe_in(
    tx: &mut Tx,
    id: &str,
) -> Result<Option<crate::store::StoredRecipe>, StoreError> {
    let row: Option<RecipeRow> = Stmt::built(format!(
        "SELECT {RECIPE_COLUMNS} FROM recipes WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(tx.on())
    .await?;
    Ok(row.map(Into::into))
}

/// What the recipe holds now, inside the transaction.
async fn held_of(tx: &mut Tx, id: &str) -> Result<Held, StoreError> {
    let (events, deliveries): (i64, i64) = Stmt::new(
        "SELECT (SELECT COUNT(*) FROM event_jobs j WHERE j.held_at IS NOT NULL
                   AND (SELECT e.recipe_id FROM events e WHERE e.id = j.event_id) = $1),
                (SELECT COUNT(*) FROM delivery_queue WHERE held_at IS NOT NULL AND recipe_id = $1)",
    )
    .bind(id)
    .fetch_one(tx.on())
    .await?;
    Ok(Held {
        events: events.max(0) as u64,
        deliveries: deliveries.max(0) as u64,
    })
}
