use std::time::Duration;

use async_trait::async_trait;
use sqlx::{PgConnection, Postgres, Transaction};

use super::PgStore;
use crate::store::attempts::{WriteAttempts, record_or_explain};
use crate::store::rows::{
    AttemptRow, ClaimedRow, DeliveryRow, Text, assemble_deliveries, opt_text, parse_json,
};
use crate::store::{
    ClaimedDelivery, DeliveryNext, DeliveryStore, DeliveryView, NewAttempt, StoreError, now_ms,
    to_ms,
};

#[async_trait]
impl DeliveryStore for PgStore {
    async fn claim_deliveries(
        &self,
        owner: &str,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<ClaimedDelivery>, StoreError> {
        self.claim_deliveries_skipping(owner, limit, lease, &[])
            .await
    }

    async fn claim_deliveries_skipping(
        &self,
        owner: &str,
        limit: u32,
        lease: Duration,
        skip: &[(String, String)],
    ) -> Result<Vec<ClaimedDelivery>, StoreError> {
        let now = now_ms();
        let lease_until = now + lease.as_millis() as i64;
        let mut tx = self.tx().await?;
        // SKIP LOCKED: concurrent claimers take disjoint rows; RETURNING names exactly this
        // claim's rows.
        let ids: Vec<String> = sqlx::query_scalar(
            "UPDATE deliveries SET lease_owner = $1, lease_until = $2
             WHERE id IN (
                SELECT id FROM deliveries
                WHERE status = 'pending' AND next_attempt_at <= $3
                  AND (lease_until IS NULL OR lease_until < $3)
                  AND NOT EXISTS (
                    SELECT 1 FROM UNNEST($5::text[], $6::text[]) AS s(recipe_id, action_name)
                    WHERE s.recipe_id = deliveries.recipe_id
                      AND s.action_name = deliveries.action_name)
                ORDER BY next_attempt_at LIMIT $4
                FOR UPDATE SKIP LOCKED)
             RETURNING id",
        )
        .bind(owner)
        .bind(lease_until)
        .bind(now)
        .bind(i64::from(limit))
        .bind(
            skip.iter()
                .map(|(recipe, _)| recipe.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            skip.iter()
                .map(|(_, action)| action.as_str())
                .collect::<Vec<_>>(),
        )
        .fetch_all(&mut *tx)
        .await?;
        let rows: Vec<ClaimedRow> = sqlx::query_as(
            "SELECT d.id, d.event_id, d.recipe_id, d.action_name, d.action, d.output, d.attempt_count, e.payload
             FROM deliveries d JOIN events e ON e.id = d.event_id
             WHERE d.id = ANY($1)",
        )
        .bind(&ids)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        rows.into_iter()
            .map(|row| {
                Ok(ClaimedDelivery {
                    action: parse_json(&row.action, "delivery action")?,
                    output: parse_json(&row.output, "delivery output")?,
                    event_payload: parse_json(&row.payload, "event payload")?,
                    id: row.id,
                    event_id: row.event_id,
                    recipe_id: row.recipe_id,
                    action_name: row.action_name,
                    attempt_count: row.attempt_count as u32,
                })
            })
            .collect()
    }

    async fn record_attempts(
        &self,
        owner: &str,
        attempts: Vec<(NewAttempt, DeliveryNext)>,
    ) -> Result<(), StoreError> {
        record_or_explain(self, owner, attempts).await
    }

    async fn release_deliveries(&self, owner: &str) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE deliveries SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = $1",
        )
        .bind(owner)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn renew_delivery_leases(
        &self,
        owner: &str,
        ids: &[String],
        lease: Duration,
    ) -> Result<Vec<String>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        Ok(sqlx::query_scalar(
            "UPDATE deliveries SET lease_until = $1
             WHERE lease_owner = $2 AND id = ANY($3)
             RETURNING id",
        )
        .bind(now_ms() + lease.as_millis() as i64)
        .bind(owner)
        .bind(ids)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn release_delivery_claims(&self, owner: &str, ids: &[String]) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        sqlx::query(
            "UPDATE deliveries SET lease_owner = NULL, lease_until = NULL
             WHERE lease_owner = $1 AND id = ANY($2)",
        )
        .bind(owner)
        .bind(ids)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

#[async_trait]
impl WriteAttempts for PgStore {
    #[tracing::instrument(skip_all, fields(count = attempts.len()))]
    async fn write_attempts(
        &self,
        owner: &str,
        attempts: Vec<(NewAttempt, DeliveryNext)>,
    ) -> Result<(), StoreError> {
        if attempts.is_empty() {
            return Ok(());
        }
        let mut tx = self.tx().await?;
        let mut finished = Vec::new();
        for (attempt, next) in attempts {
            finished.extend(write_attempt(&mut tx, owner, attempt, next).await?);
        }
        // Events are refreshed (and locked) in one order, so two workers finishing sibling
        // deliveries of the same events never wait on each other in a cycle.
        finished.sort();
        finished.dedup();
        for event_id in finished {
            refresh_event_status(&mut tx, &event_id).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

pub(super) async fn deliveries_of_event(
    conn: &mut PgConnection,
    event_id: &str,
) -> Result<Vec<DeliveryView>, StoreError> {
    let rows: Vec<DeliveryRow> = sqlx::query_as(
        "SELECT id, action_name, status, attempt_count, next_attempt_at, last_error
         FROM deliveries WHERE event_id = $1 ORDER BY created_at, action_index",
    )
    .bind(event_id)
    .fetch_all(&mut *conn)
    .await?;
    let attempts: Vec<AttemptRow> = sqlx::query_as(
        "SELECT a.delivery_id, a.attempt_no, a.started_at, a.duration_ms, a.status_code, a.response_snippet, a.error
         FROM attempts a JOIN deliveries d ON d.id = a.delivery_id
         WHERE d.event_id = $1 ORDER BY a.attempt_no, a.id",
    )
    .bind(event_id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(assemble_deliveries(rows, attempts))
}

/// An event whose run passed is `dead` once any delivery died, `delivered` once all succeeded,
/// and `done` (in flight) otherwise.
pub(super) async fn refresh_event_status(
    tx: &mut Transaction<'static, Postgres>,
    event_id: &str,
) -> Result<(), StoreError> {
    // Lock the event row first: two workers finishing sibling deliveries at once then refresh
    // one after the other, the second seeing the first's committed delivery.
    sqlx::query("SELECT 1 FROM events WHERE id = $1 FOR UPDATE")
        .bind(event_id)
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "UPDATE events SET status = CASE
            WHEN EXISTS (SELECT 1 FROM deliveries WHERE event_id = $1 AND status = 'dead') THEN 'dead'
            WHEN EXISTS (SELECT 1 FROM deliveries WHERE event_id = $1 AND status = 'pending') THEN 'done'
            ELSE 'delivered' END
         WHERE id = $1 AND status IN ('done', 'delivered', 'dead')",
    )
    .bind(event_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// One attempt and the delivery's next state, inside the caller's transaction. A delivery whose
/// lease passed to another worker keeps that worker's state; the attempt is still recorded.
/// Returns the event whose status needs a refresh (the delivery finished).
async fn write_attempt(
    tx: &mut Transaction<'static, Postgres>,
    owner: &str,
    attempt: NewAttempt,
    next: DeliveryNext,
) -> Result<Option<String>, StoreError> {
    sqlx::query(
        "INSERT INTO attempts (delivery_id, attempt_no, started_at, duration_ms, status_code, response_snippet, error)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&attempt.delivery_id)
    .bind(attempt.attempt_no as i64)
    .bind(to_ms(attempt.started_at))
    .bind(attempt.duration.as_millis() as i64)
    .bind(attempt.status_code.map(i64::from))
    .bind(opt_text(&attempt.response_snippet))
    .bind(opt_text(&attempt.error))
    .execute(&mut **tx)
    .await?;
    let (status, next_at) = match next {
        DeliveryNext::Delivered => ("delivered", None),
        DeliveryNext::RetryAt(at) => ("pending", Some(to_ms(at))),
        DeliveryNext::Dead => ("dead", None),
    };
    let last_error = match (&attempt.error, attempt.status_code) {
        (Some(error), _) => Some(error.clone()),
        (None, Some(code)) if next != DeliveryNext::Delivered => Some(format!("HTTP {code}")),
        _ => None,
    };
    sqlx::query(
        "UPDATE deliveries
         SET status = $1, next_attempt_at = $2, attempt_count = GREATEST(attempt_count, $3), last_error = $4,
             lease_owner = NULL, lease_until = NULL, updated_at = $5
         WHERE id = $6 AND lease_owner = $7",
    )
    .bind(status)
    .bind(next_at)
    .bind(attempt.attempt_no as i64)
    .bind(last_error.map(Text))
    .bind(now_ms())
    .bind(&attempt.delivery_id)
    .bind(owner)
    .execute(&mut **tx)
    .await?;
    if matches!(next, DeliveryNext::RetryAt(_)) {
        return Ok(None);
    }
    let event_id: String = sqlx::query_scalar("SELECT event_id FROM deliveries WHERE id = $1")
        .bind(&attempt.delivery_id)
        .fetch_one(&mut **tx)
        .await?;
    Ok(Some(event_id))
}
