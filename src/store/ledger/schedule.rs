//! Schedule ticks: claimed once per cluster under a lease, completed with their events.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::events::write_events;
use super::{Ledger, Outside, Stmt, Tx};
use crate::store::{NewEvent, ScheduleStore, StoreError, TickClaim, from_ms, now_ms, to_ms};

#[async_trait]
impl ScheduleStore for Ledger {
    async fn claim_tick(&self, claim: &TickClaim) -> Result<bool, StoreError> {
        let now = now_ms();
        // The primary key makes the tick once per cluster: a concurrent claim waits for the
        // other insert, then conflicts and (unless that claim's lease ran out) changes nothing.
        let claimed = Stmt::new(
            "INSERT INTO schedule_ticks (recipe_id, scheduled_for, claimed_by, claimed_at, lease_until, skipped)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (recipe_id, scheduled_for) DO UPDATE
             SET claimed_by = excluded.claimed_by, claimed_at = excluded.claimed_at,
                 lease_until = excluded.lease_until, skipped = excluded.skipped
             WHERE schedule_ticks.completed_at IS NULL AND schedule_ticks.lease_until < $4",
        )
        .bind(&claim.recipe_id)
        .bind(to_ms(claim.scheduled_for))
        .bind(&claim.owner)
        .bind(now)
        .bind(now + claim.lease.as_millis() as i64)
        .bind(claim.skipped as i64)
        .execute(self.write())
        .await?;
        Ok(claimed == 1)
    }

    async fn renew_tick(&self, claim: &TickClaim) -> Result<bool, StoreError> {
        let renewed = Stmt::new(
            "UPDATE schedule_ticks SET lease_until = $1
             WHERE recipe_id = $2 AND scheduled_for = $3 AND claimed_by = $4 AND completed_at IS NULL",
        )
        .bind(now_ms() + claim.lease.as_millis() as i64)
        .bind(&claim.recipe_id)
        .bind(to_ms(claim.scheduled_for))
        .bind(&claim.owner)
        .execute(self.write())
        .await?;
        Ok(renewed == 1)
    }

    async fn complete_tick(
        &self,
        claim: &TickClaim,
        events: &[NewEvent],
        failed: Option<(&NewEvent, &str)>,
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        // The owner check first; on PostgreSQL its row lock makes a concurrent takeover wait,
        // then find the tick complete. A claim taken over leaves the transaction unwritten.
        let completed = Stmt::new(
            "UPDATE schedule_ticks SET completed_at = $1
             WHERE recipe_id = $2 AND scheduled_for = $3 AND claimed_by = $4 AND completed_at IS NULL",
        )
        .bind(now_ms())
        .bind(&claim.recipe_id)
        .bind(to_ms(claim.scheduled_for))
        .bind(&claim.owner)
        .execute(tx.on())
        .await?;
        if completed == 0 {
            return Err(claim.lost());
        }
        write_events(&mut tx, &events.iter().collect::<Vec<_>>()).await?;
        if let Some((event, error)) = failed {
            insert_failed_event(&mut tx, event, error).await?;
        }
        tx.commit().await
    }

    async fn tick_lease_until(
        &self,
        recipe_id: &str,
        scheduled_for: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let until: Option<i64> = Stmt::new(
            "SELECT lease_until FROM schedule_ticks
             WHERE recipe_id = $1 AND scheduled_for = $2 AND completed_at IS NULL",
        )
        .bind(recipe_id)
        .bind(to_ms(scheduled_for))
        .scalar_optional(self.read())
        .await?;
        Ok(until.map(from_ms))
    }

    async fn last_tick(&self, recipe_id: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        let last: Option<i64> = Stmt::new(
            "SELECT MAX(scheduled_for) FROM schedule_ticks
             WHERE recipe_id = $1 AND (completed_at IS NOT NULL OR lease_until >= $2)",
        )
        .bind(recipe_id)
        .bind(now_ms())
        .scalar(self.read())
        .await?;
        Ok(last.map(from_ms))
    }

    async fn skipped_ticks(&self, recipe_id: &str) -> Result<u64, StoreError> {
        // SUM(BIGINT) is NUMERIC in PostgreSQL: cast back.
        let skipped: Option<i64> = Stmt::new(
            "SELECT CAST(SUM(skipped) AS BIGINT) FROM schedule_ticks WHERE recipe_id = $1",
        )
        .bind(recipe_id)
        .scalar(self.read())
        .await?;
        Ok(skipped.unwrap_or(0) as u64)
    }
}

/// The event of a tick whose poll or script failed, stored `failed` with its error.
async fn insert_failed_event(tx: &mut Tx, event: &NewEvent, error: &str) -> Result<(), StoreError> {
    Stmt::new(
        "INSERT INTO events (id, recipe_id, trigger, received_at, content_type, headers, body, payload, status, error)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'failed', $9)",
    )
    .bind(&event.id)
    .bind(&event.recipe_id)
    .bind(&event.trigger)
    .bind(to_ms(event.received_at))
    .bind(Outside(event.content_type.as_deref()))
    .bind(event.headers.to_string())
    .bind(&event.body)
    .bind(event.payload.to_string())
    .bind(Outside(Some(error)))
    .execute(tx.on())
    .await?;
    Ok(())
}
