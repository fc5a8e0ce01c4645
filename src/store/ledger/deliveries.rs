//! Deliveries: claims, leases, and recording attempts set-based (a constant number of
//! statements per batch of attempts).

use std::time::Duration;

use async_trait::async_trait;

use super::events::json_list;
use serde_json::Value;

use super::requeue::{last_error, requeue_or_remove};
use super::{Arg, Dialect, Ledger, On, Outside, Stmt, Tx, chains, placeholders, throttle};
use crate::store::attempts::{WriteAttempts, record_or_explain};
use crate::store::rows::{AttemptRow, ClaimedRow, DeliveryRow, assemble_deliveries, parse_json};
use crate::store::signal::{Work, announce};
use crate::store::{
    ClaimedDelivery, DeliveryAction, DeliveryNext, DeliveryStore, DeliveryView, NewAttempt,
    StoreError, now_ms, to_ms,
};

#[async_trait]
impl DeliveryStore for Ledger {
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
        let d = self.dialect();
        let mut tx = self.worker_tx().await?;
        let lease_until = now + lease.as_millis() as i64;
        // Throttled rows first, admitted per key (`throttle.rs`); the rest below never reads
        // a key: their rows are the only ones in `delivery_queue_due`.
        let mut slots = throttle::claim_throttled(&mut tx, owner, limit, lease_until, now).await?;
        let limit = limit.saturating_sub(slots.len() as u32);
        // The pairs to pass over, as two JSON arrays expanded side by side.
        let (recipes, actions): (Vec<String>, Vec<String>) = skip.iter().cloned().unzip();
        let skipped = match d {
            Dialect::Sqlite => {
                "SELECT r.value AS recipe_id, a.value AS action_name
                 FROM json_each($5) r JOIN json_each($6) a ON a.key = r.key"
            }
            Dialect::Postgres => {
                "SELECT * FROM UNNEST(ARRAY(SELECT jsonb_array_elements_text($5::jsonb)),
                                      ARRAY(SELECT jsonb_array_elements_text($6::jsonb)))
                        AS s (recipe_id, action_name)"
            }
        };
        // The queue holds only pending deliveries (see the 0010/0007 migrations).
        // `NOT IN` (a per-row filter over a small hashed set), not `NOT EXISTS`: PostgreSQL plans
        // the latter as an anti-join that reads and sorts every due row before the LIMIT
        // (275–600 ms per claim at 200k due) where the filter walks `delivery_queue_due` in order
        // and stops at the limit (about 1.4 ms). The pairs are never NULL.
        // Held rows are outside the partial index; `NOT IN` paused recipes: see `pause.rs`.
        // RETURNING names exactly this claim's rows (two claims can share a millisecond).
        let mut ids: Vec<String> = Stmt::built(format!(
            "UPDATE delivery_queue SET lease_owner = $1, lease_until = $2
             WHERE delivery_id IN (
                SELECT delivery_id FROM delivery_queue
                WHERE next_attempt_at <= $3 AND (lease_until IS NULL OR lease_until < $3)
                  AND held_at IS NULL AND throttle_key IS NULL
                  AND recipe_id NOT IN (SELECT id FROM recipes WHERE paused_at IS NOT NULL)
                  AND (recipe_id, action_name) NOT IN (
                    SELECT s.recipe_id, s.action_name FROM ({skipped}) s)
                ORDER BY next_attempt_at LIMIT $4{})
             RETURNING delivery_id",
            d.skip_locked()
        ))
        .bind(owner)
        .bind(lease_until)
        .bind(now)
        .bind(limit)
        .bind(json_list(&recipes))
        .bind(json_list(&actions))
        .scalars(tx.on())
        .await?;
        ids.extend(slots.keys().cloned());
        if ids.is_empty() {
            tx.commit().await?;
            return Ok(Vec::new());
        }
        // The output is the run's (a row from before deliveries named their version keeps its
        // own copy); the secrets generation is read in the claim's transaction, so a secret
        // changed before the claim is never served from a cache by its attempts.
        let rows: Vec<ClaimedRow> = Stmt::built(format!(
            "SELECT d.id, d.event_id, d.recipe_id, d.action_name, d.recipe_version, d.action_index,
                    d.action, COALESCE(d.output, r.output, 'null') AS output, d.attempt_count,
                    e.payload,
                    COALESCE((SELECT generation FROM secret_generation), 0) AS secrets_generation
             FROM deliveries d JOIN events e ON e.id = d.event_id
             LEFT JOIN runs r ON r.id = d.run_id AND d.output IS NULL
             WHERE d.id IN {}",
            d.json_strings(1)
        ))
        .bind(json_list(&ids))
        .fetch_all(tx.on())
        .await?;
        let mut responses = chains::responses_of(&mut tx, &ids).await?;
        tx.commit().await?;
        rows.into_iter()
            .map(|row| {
                let responses = responses.remove(&row.id).unwrap_or(Value::Null);
                let slot = slots.remove(&row.id).flatten();
                claimed(row, responses, slot)
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
        Stmt::new(
            "UPDATE delivery_queue SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = $1",
        )
        .bind(owner)
        .execute(self.write())
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
        let d = self.dialect();
        let ids_in = format!("lease_owner = $2 AND delivery_id IN {}", d.json_strings(3));
        Stmt::built(format!(
            "UPDATE delivery_queue SET lease_until = $1 WHERE delivery_id IN {} RETURNING delivery_id",
            d.locked_in_order("delivery_queue", "delivery_id", &ids_in)
        ))
        .bind(now_ms() + lease.as_millis() as i64)
        .bind(owner)
        .bind(json_list(ids))
        .scalars(self.write())
        .await
    }

    async fn release_delivery_claims(&self, owner: &str, ids: &[String]) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        let d = self.dialect();
        let ids_in = format!("lease_owner = $1 AND delivery_id IN {}", d.json_strings(2));
        let released = Stmt::built(format!(
            "UPDATE delivery_queue SET lease_owner = NULL, lease_until = NULL WHERE delivery_id IN {}",
            d.locked_in_order("delivery_queue", "delivery_id", &ids_in)
        ))
        .bind(owner)
        .bind(json_list(ids))
        .execute(self.write())
        .await?;
        announce(self.write(), Work::Deliveries, released as usize).await
    }
}

#[async_trait]
impl WriteAttempts for Ledger {
    /// Each attempt, and each delivery's next state: its record and its queue row (a delivery
    /// whose lease passed to another worker keeps that worker's state; the attempt is still
    /// recorded), then the status of every event whose delivery finished: at most seven
    /// statements per 500 attempts.
    #[tracing::instrument(skip_all, fields(count = attempts.len()))]
    async fn write_attempts(
        &self,
        owner: &str,
        attempts: Vec<(NewAttempt, DeliveryNext)>,
    ) -> Result<(), StoreError> {
        if attempts.is_empty() {
            return Ok(());
        }
        let now = now_ms();
        let mut tx = self.worker_tx().await?;
        let d = self.dialect();
        if d == Dialect::Postgres {
            let ids: Vec<String> = attempts
                .iter()
                .map(|(a, _)| a.delivery_id.clone())
                .collect();
            let ids_in = format!("delivery_id IN {}", d.json_strings(1));
            Stmt::built(d.locked_in_order("delivery_queue", "delivery_id", &ids_in))
                .bind(json_list(&ids))
                .execute(tx.on())
                .await?;
        }
        for chunk in attempts.chunks(500) {
            let rows = chunk.iter().flat_map(|(attempt, _)| {
                [
                    Arg::from(attempt.delivery_id.as_str()),
                    (attempt.attempt_no as i64).into(),
                    to_ms(attempt.started_at).into(),
                    (attempt.duration.as_millis() as i64).into(),
                    attempt.status_code.map(i64::from).into(),
                    Outside(attempt.response_snippet.as_deref()).into(),
                    Outside(attempt.error.as_deref()).into(),
                ]
            });
            Stmt::built(format!(
                "INSERT INTO attempts (delivery_id, attempt_no, started_at, duration_ms, status_code, response_snippet, error)
                 VALUES {}",
                placeholders(chunk.len(), 7, 1)
            ))
            .bind_all(rows)
            .execute(tx.on())
            .await?;
            let next = chunk.iter().flat_map(|(attempt, next)| {
                let status = match next {
                    DeliveryNext::Delivered => "delivered",
                    DeliveryNext::RetryAt(_) => "pending",
                    DeliveryNext::Dead => "dead",
                };
                [
                    Arg::from(attempt.delivery_id.as_str()),
                    status.into(),
                    (attempt.attempt_no as i64).into(),
                    last_error(attempt, next),
                    Outside(attempt.response.as_deref()).into(),
                ]
            });
            // The lease is the queue row's: a delivery whose row another worker now holds (or
            // that left the queue) is not this worker's to change.
            Stmt::built(format!(
                "WITH v (id, status, attempt_no, last_error, response) AS (VALUES {})
                 UPDATE deliveries
                 SET status = v.status, response = COALESCE(v.response, deliveries.response),
                     attempt_count = CASE WHEN deliveries.attempt_count > v.attempt_no
                                          THEN deliveries.attempt_count ELSE v.attempt_no END,
                     last_error = v.last_error, updated_at = $1
                 FROM v, delivery_queue q
                 WHERE deliveries.id = v.id AND q.delivery_id = v.id AND q.lease_owner = $2",
                placeholders(chunk.len(), 5, 3)
            ))
            .bind(now)
            .bind(owner)
            .bind_all(next)
            .execute(tx.on())
            .await?;
            let paused: Vec<(String, i64)> = chunk
                .iter()
                .filter_map(|(attempt, next)| match next {
                    DeliveryNext::RetryAt(at) if attempt.status_code == Some(429) => {
                        Some((attempt.delivery_id.clone(), to_ms(*at)))
                    }
                    _ => None,
                })
                .collect();
            throttle::pause_keys(&mut tx, &paused).await?;
            requeue_or_remove(&mut tx, owner, chunk).await?;
        }
        let ids_where = |wanted: DeliveryNext| -> Vec<String> {
            attempts
                .iter()
                .filter(|(_, next)| *next == wanted)
                .map(|(a, _)| a.delivery_id.clone())
                .collect()
        };
        let (delivered, dead) = (
            ids_where(DeliveryNext::Delivered),
            ids_where(DeliveryNext::Dead),
        );
        let queued = chains::advance(&mut tx, now, &delivered, &dead).await?;
        if queued > 0 {
            announce(tx.on(), Work::Deliveries, queued).await?;
        }
        let finished: Vec<String> = attempts
            .iter()
            .filter(|(_, next)| !matches!(next, DeliveryNext::RetryAt(_)))
            .map(|(attempt, _)| attempt.delivery_id.clone())
            .collect();
        if !finished.is_empty() {
            let events: Vec<String> = Stmt::built(format!(
                "SELECT DISTINCT event_id FROM deliveries WHERE id IN {}",
                self.dialect().json_strings(1)
            ))
            .bind(json_list(&finished))
            .scalars(tx.on())
            .await?;
            refresh_event_statuses(&mut tx, &events).await?;
        }
        tx.commit().await
    }
}

/// A claimed row as the worker takes it: the version's action, or the row's own copy.
fn claimed(
    row: ClaimedRow,
    responses: Value,
    slot: Option<i64>,
) -> Result<ClaimedDelivery, StoreError> {
    let action = match (row.recipe_version, &row.action) {
        (Some(version), _) => DeliveryAction::Version {
            version,
            index: usize::try_from(row.action_index)
                .map_err(|_| StoreError::Corrupt(format!("delivery {}: action index", row.id)))?,
        },
        (None, Some(copy)) => DeliveryAction::Copied(parse_json(copy, "delivery action")?),
        (None, None) => {
            return Err(StoreError::Corrupt(format!(
                "delivery {} names neither a recipe version nor an action",
                row.id
            )));
        }
    };
    Ok(ClaimedDelivery {
        action,
        output: parse_json(&row.output, "delivery output")?,
        event_payload: parse_json(&row.payload, "event payload")?,
        id: row.id,
        event_id: row.event_id,
        recipe_id: row.recipe_id,
        action_name: row.action_name,
        attempt_count: row.attempt_count as u32,
        secrets_generation: row.secrets_generation,
        responses,
        not_before: slot.and_then(chrono::DateTime::from_timestamp_millis),
    })
}

/// Each event whose run passed becomes `dead` once any delivery died, `delivered` once all
/// succeeded or were skipped, and `done` (in flight: pending or waiting) otherwise. On PostgreSQL the events are locked first, in
/// one order: two workers finishing sibling deliveries at once then refresh one after the
/// other, the second's `UPDATE` starting after the first committed (a new snapshot).
pub(super) async fn refresh_event_statuses(
    tx: &mut Tx,
    event_ids: &[String],
) -> Result<(), StoreError> {
    if event_ids.is_empty() {
        return Ok(());
    }
    let d = tx.dialect();
    if d == Dialect::Postgres {
        Stmt::built(format!(
            "SELECT id FROM events WHERE id IN {} ORDER BY id FOR UPDATE",
            d.json_strings(1)
        ))
        .bind(json_list(event_ids))
        .execute(tx.on())
        .await?;
    }
    Stmt::built(format!(
        "UPDATE events SET status = CASE
            WHEN EXISTS (SELECT 1 FROM deliveries WHERE event_id = events.id AND status = 'dead') THEN 'dead'
            WHEN EXISTS (SELECT 1 FROM deliveries WHERE event_id = events.id AND status IN ('pending', 'waiting')) THEN 'done'
            ELSE 'delivered' END
         WHERE id IN {} AND status IN ('done', 'delivered', 'dead')",
        d.json_strings(1)
    ))
    .bind(json_list(event_ids))
    .execute(tx.on())
    .await?;
    Ok(())
}

/// An event's deliveries with their attempts, oldest first (two statements on `on`).
pub(super) async fn deliveries_of_event(
    mut on: On<'_>,
    event_id: &str,
) -> Result<Vec<DeliveryView>, StoreError> {
    let rows: Vec<DeliveryRow> = Stmt::new(
        "SELECT d.id, d.action_name, d.status, d.attempt_count, q.next_attempt_at, d.last_error
         FROM deliveries d LEFT JOIN delivery_queue q ON q.delivery_id = d.id
         WHERE d.event_id = $1 ORDER BY d.created_at, d.action_index",
    )
    .bind(event_id)
    .fetch_all(on.reborrow())
    .await?;
    let attempts: Vec<AttemptRow> = Stmt::new(
        "SELECT a.delivery_id, a.attempt_no, a.started_at, a.duration_ms, a.status_code, a.response_snippet, a.error
         FROM attempts a JOIN deliveries d ON d.id = a.delivery_id
         WHERE d.event_id = $1 ORDER BY a.attempt_no, a.id",
    )
    .bind(event_id)
    .fetch_all(on)
    .await?;
    Ok(assemble_deliveries(rows, attempts))
}
