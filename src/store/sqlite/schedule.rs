use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::SqliteStore;
use super::events::write_events;
use crate::store::{NewEvent, ScheduleStore, StoreError, TickClaim, from_ms, now_ms, to_ms};

#[async_trait]
impl ScheduleStore for SqliteStore {
    async fn claim_tick(&self, claim: &TickClaim) -> Result<bool, StoreError> {
        let now = now_ms();
        let claimed = sqlx::query(
            "INSERT INTO schedule_ticks (recipe_id, scheduled_for, claimed_by, claimed_at, lease_until, skipped)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (recipe_id, scheduled_for) DO UPDATE
             SET claimed_by = excluded.claimed_by, claimed_at = excluded.claimed_at,
                 lease_until = excluded.lease_until, skipped = excluded.skipped
             WHERE schedule_ticks.completed_at IS NULL AND schedule_ticks.lease_until < ?4",
        )
        .bind(&claim.recipe_id)
        .bind(to_ms(claim.scheduled_for))
        .bind(&claim.owner)
        .bind(now)
        .bind(now + claim.lease.as_millis() as i64)
        .bind(claim.skipped as i64)
        .execute(&self.writer)
        .await?
        .rows_affected();
        Ok(claimed == 1)
    }

    async fn renew_tick(&self, claim: &TickClaim) -> Result<bool, StoreError> {
        let renewed = sqlx::query(
            "UPDATE schedule_ticks SET lease_until = ?
             WHERE recipe_id = ? AND scheduled_for = ? AND claimed_by = ? AND completed_at IS NULL",
        )
        .bind(now_ms() + claim.lease.as_millis() as i64)
        .bind(&claim.recipe_id)
        .bind(to_ms(claim.scheduled_for))
        .bind(&claim.owner)
        .execute(&self.writer)
        .await?
        .rows_affected();
        Ok(renewed == 1)
    }

    async fn complete_tick(
        &self,
        claim: &TickClaim,
        events: &[NewEvent],
        failed: Option<(&NewEvent, &str)>,
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        // The owner check first: a claim taken over leaves the transaction unwritten.
        let completed = sqlx::query(
            "UPDATE schedule_ticks SET completed_at = ?
             WHERE recipe_id = ? AND scheduled_for = ? AND claimed_by = ? AND completed_at IS NULL",
        )
        .bind(now_ms())
        .bind(&claim.recipe_id)
        .bind(to_ms(claim.scheduled_for))
        .bind(&claim.owner)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if completed == 0 {
            return Err(claim.lost());
        }
        write_events(&mut tx, events).await?;
        if let Some((event, error)) = failed {
            insert_failed_event(&mut tx, event, error).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn tick_lease_until(
        &self,
        recipe_id: &str,
        scheduled_for: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let until: Option<i64> = sqlx::query_scalar(
            "SELECT lease_until FROM schedule_ticks
             WHERE recipe_id = ? AND scheduled_for = ? AND completed_at IS NULL",
        )
        .bind(recipe_id)
        .bind(to_ms(scheduled_for))
        .fetch_optional(&self.reader)
        .await?;
        Ok(until.map(from_ms))
    }

    async fn last_tick(&self, recipe_id: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        let last: Option<i64> = sqlx::query_scalar(
            "SELECT MAX(scheduled_for) FROM schedule_ticks
             WHERE recipe_id = ? AND (completed_at IS NOT NULL OR lease_until >= ?)",
        )
        .bind(recipe_id)
        .bind(now_ms())
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
}

async fn insert_failed_event(
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    event: &NewEvent,
    error: &str,
) -> Result<(), StoreError> {
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
    .execute(&mut **tx)
    .await?;
    Ok(())
}
