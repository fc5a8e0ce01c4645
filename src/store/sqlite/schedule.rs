use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::SqliteStore;
use crate::store::{NewEvent, ScheduleStore, StoreError, TickClaim, from_ms, now_ms, to_ms};

#[async_trait]
impl ScheduleStore for SqliteStore {
    async fn claim_tick(&self, claim: &TickClaim) -> Result<bool, StoreError> {
        let inserted = sqlx::query(
            "INSERT INTO schedule_ticks (recipe_id, scheduled_for, claimed_by, claimed_at, skipped)
             VALUES (?, ?, ?, ?, ?) ON CONFLICT (recipe_id, scheduled_for) DO NOTHING",
        )
        .bind(&claim.recipe_id)
        .bind(to_ms(claim.scheduled_for))
        .bind(&claim.owner)
        .bind(now_ms())
        .bind(claim.skipped as i64)
        .execute(&self.writer)
        .await?
        .rows_affected();
        Ok(inserted == 1)
    }

    async fn last_tick(&self, recipe_id: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        let last: Option<i64> =
            sqlx::query_scalar("SELECT MAX(scheduled_for) FROM schedule_ticks WHERE recipe_id = ?")
                .bind(recipe_id)
                .fetch_one(&self.reader)
                .await?;
        Ok(last.map(from_ms))
    }

    async fn skipped_ticks(&self, recipe_id: &str) -> Result<u64, StoreError> {
        let skipped: Option<i64> =
            sqlx::query_scalar("SELECT SUM(skipped) FROM schedule_ticks WHERE recipe_id = ?")
                .bind(recipe_id)
                .fetch_one(&self.reader)
                .await?;
        Ok(skipped.unwrap_or(0) as u64)
    }

    async fn record_failed_event(&self, event: &NewEvent, error: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO events (id, recipe_id, trigger, received_at, content_type, headers, body, payload, status, error)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'failed', ?)",
        )
        .bind(&event.id)
        .bind(&event.recipe_id)
        .bind(&event.trigger)
        .bind(to_ms(event.received_at))
        .bind(&event.content_type)
        .bind(event.headers.to_string())
        .bind(&event.body)
        .bind(event.payload.to_string())
        .bind(error)
        .execute(&self.writer)
        .await?;
        Ok(())
    }
}
