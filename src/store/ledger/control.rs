//! What operators do: rotate tokens, replay events, retry dead deliveries, list and count.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::deliveries::refresh_event_statuses;
use super::{Ledger, On, Stmt};
use crate::ids::new_webhook_token;
use crate::store::rows::{
    RECIPE_STATS, StatsRow, SummaryRow, merge_pages, recipe_stats, select_summary,
};
use crate::store::signal::{Work, announce};
use crate::store::{
    Backlog, ControlStore, EventPage, EventSummary, RecipeStats, RecipeStore, StoreError,
    StoredRecipe, now_ms, to_ms,
};

// One static query per filter shape, so the planner (SQLite's or PostgreSQL's) picks the
// matching index for each.
const PAGE_ALL: &str = concat!(
    select_summary!(),
    " FROM events
     WHERE (received_at, id) < ($1, $2) ORDER BY received_at DESC, id DESC LIMIT $3"
);
const PAGE_RECIPE: &str = concat!(
    select_summary!(),
    " FROM events
     WHERE recipe_id = $1 AND (received_at, id) < ($2, $3)
     ORDER BY received_at DESC, id DESC LIMIT $4"
);
const PAGE_STATUS: &str = concat!(
    select_summary!(),
    " FROM events
     WHERE status = $1 AND (received_at, id) < ($2, $3)
     ORDER BY received_at DESC, id DESC LIMIT $4"
);
const PAGE_RECIPE_STATUS: &str = concat!(
    select_summary!(),
    " FROM events
     WHERE recipe_id = $1 AND status = $2 AND (received_at, id) < ($3, $4)
     ORDER BY received_at DESC, id DESC LIMIT $5"
);

#[async_trait]
impl ControlStore for Ledger {
    async fn rotate_token(
        &self,
        recipe_id: &str,
        grace: std::time::Duration,
    ) -> Result<Option<StoredRecipe>, StoreError> {
        let now = now_ms();
        let grace_ms = grace.as_millis() as i64;
        // With a grace period the old token is kept beside the new one until it ends.
        let updated = Stmt::new(
            "UPDATE recipes
             SET previous_token = CASE WHEN $1 > 0 THEN webhook_token ELSE NULL END,
                 previous_token_until = CASE WHEN $1 > 0 THEN $2 + $1 ELSE NULL END,
                 webhook_token = $3, updated_at = $2
             WHERE id = $4",
        )
        .bind(grace_ms)
        .bind(now)
        .bind(new_webhook_token())
        .bind(recipe_id)
        .execute(self.write())
        .await?;
        if updated == 0 {
            return Ok(None);
        }
        self.get_recipe(recipe_id).await
    }

    async fn replay_event(&self, event_id: &str) -> Result<bool, StoreError> {
        let mut tx = self.write_tx().await?;
        // On PostgreSQL this locks the event: a concurrent prune cannot delete it between the
        // check and the job (SQLite's single writer already excludes one).
        let exists: Option<String> = Stmt::built(format!(
            "SELECT id FROM events WHERE id = $1{}",
            self.dialect().for_update()
        ))
        .bind(event_id)
        .scalar_optional(tx.on())
        .await?;
        if exists.is_none() {
            return Ok(false);
        }
        // Held when its recipe is paused, as at ingest (see `pause.rs`).
        Stmt::new(
            "INSERT INTO event_jobs (event_id, run_after, skip_dedupe, held_at)
             SELECT e.id, $2, TRUE, CASE WHEN r.paused_at IS NULL THEN NULL ELSE $2 END
             FROM events e LEFT JOIN recipes r ON r.id = e.recipe_id WHERE e.id = $1
             ON CONFLICT (event_id) DO UPDATE SET skip_dedupe = TRUE",
        )
        .bind(event_id)
        .bind(now_ms())
        .execute(tx.on())
        .await?;
        Stmt::new("UPDATE events SET status = 'pending', error = NULL WHERE id = $1")
            .bind(event_id)
            .execute(tx.on())
            .await?;
        announce(tx.on(), Work::Events, 1).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn retry_delivery(&self, delivery_id: &str) -> Result<bool, StoreError> {
        Ok(self.requeue_dead("id", delivery_id).await? > 0)
    }

    async fn retry_dead(&self, recipe_id: &str) -> Result<u64, StoreError> {
        self.requeue_dead("recipe_id", recipe_id).await
    }

    async fn page_events(&self, page: &EventPage) -> Result<Vec<EventSummary>, StoreError> {
        let limit = page.limit.clamp(1, 500);
        let mut rows = Vec::new();
        if page.statuses.is_empty() {
            rows = page_rows(self.read(), page, None, limit).await?;
        } else {
            // One indexed query per status, merged: an IN list would make SQLite walk the time
            // index and filter, which is slow when the statuses are rare.
            for status in &page.statuses {
                rows.extend(page_rows(self.read(), page, Some(status.as_str()), limit).await?);
            }
            rows = merge_pages(rows, limit);
        }
        rows.into_iter().map(EventSummary::try_from).collect()
    }

    async fn recipe_stats(&self, since: DateTime<Utc>) -> Result<Vec<RecipeStats>, StoreError> {
        let rows: Vec<StatsRow> = Stmt::new(RECIPE_STATS)
            .bind(to_ms(since))
            .fetch_all(self.read())
            .await?;
        recipe_stats(rows)
    }

    /// Both counts read only queues of pending work: `event_jobs` and `delivery_queue`.
    async fn backlog(&self) -> Result<Backlog, StoreError> {
        let (events, deliveries): (i64, i64) = Stmt::new(
            "SELECT (SELECT COUNT(*) FROM event_jobs),
                    (SELECT COUNT(*) FROM delivery_queue)",
        )
        .fetch_one(self.read())
        .await?;
        Ok(Backlog {
            events_pending: events.max(0) as u64,
            deliveries_pending: deliveries.max(0) as u64,
        })
    }
}

/// One page of one filter shape (the recipe and one status, each optional).
async fn page_rows(
    on: On<'_>,
    page: &EventPage,
    status: Option<&str>,
    limit: u32,
) -> Result<Vec<SummaryRow>, StoreError> {
    let (before_at, before_id) = page.before.as_ref().map_or((i64::MAX, String::new()), |c| {
        (c.received_at_ms, c.id.clone())
    });
    let stmt = match (&page.recipe_id, status) {
        (None, None) => Stmt::new(PAGE_ALL),
        (Some(recipe), None) => Stmt::new(PAGE_RECIPE).bind(recipe),
        (None, Some(status)) => Stmt::new(PAGE_STATUS).bind(status),
        (Some(recipe), Some(status)) => Stmt::new(PAGE_RECIPE_STATUS).bind(recipe).bind(status),
    };
    stmt.bind(before_at)
        .bind(before_id)
        .bind(i64::from(limit))
        .fetch_all(on)
        .await
}

impl Ledger {
    /// Puts the dead deliveries whose `column` equals `value` back in the queue, due now, in one
    /// transaction with their events' status refresh (an event listed twice is updated once)
    /// and a wake-up for delivery workers. Returns how many.
    async fn requeue_dead(&self, column: &'static str, value: &str) -> Result<u64, StoreError> {
        let mut tx = self.write_tx().await?;
        let now = now_ms();
        let requeued: Vec<(String, String, String, String)> = Stmt::built(format!(
            "UPDATE deliveries SET status = 'pending', updated_at = $1
             WHERE {column} = $2 AND status = 'dead'
             RETURNING id, event_id, recipe_id, action_name"
        ))
        .bind(now)
        .bind(value)
        .fetch_all(tx.on())
        .await?;
        // Back in the queue of pending work, due now (a dead delivery has no queue row).
        let due: Vec<(&str, &str, &str, i64)> = requeued
            .iter()
            .map(|(id, _, recipe, action)| (id.as_str(), recipe.as_str(), action.as_str(), now))
            .collect();
        super::throttle::enqueue(&mut tx, &due).await?;
        let events: Vec<String> = requeued.into_iter().map(|(_, e, _, _)| e).collect();
        refresh_event_statuses(&mut tx, &events).await?;
        announce(tx.on(), Work::Deliveries, events.len()).await?;
        tx.commit().await?;
        Ok(events.len() as u64)
    }
}
