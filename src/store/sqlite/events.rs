use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::SqliteStore;
use crate::store::rows::{EventRow, RunRow, SummaryRow, dead_delivery_error, latest_filter_reason};
use crate::store::{
    EventDetail, EventQuery, EventRecord, EventStatus, EventStore, EventSummary, Inserted,
    NewEvent, NewRun, RunStatus, RunView, SenderDelivery, StoreError, now_ms, to_ms,
};

const EVENT_COLUMNS: &str = "e.id, e.recipe_id, e.trigger, e.received_at, e.content_type, e.headers, e.body, e.payload, e.status, e.error";

#[async_trait]
impl EventStore for SqliteStore {
    #[tracing::instrument(skip_all, fields(count = events.len()))]
    async fn insert_events(&self, events: &[NewEvent]) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        write_events(&mut tx, events).await?;
        tx.commit().await?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(count = events.len()))]
    async fn insert_events_once(
        &self,
        events: &[(NewEvent, Option<SenderDelivery>)],
    ) -> Result<Vec<Inserted>, StoreError> {
        let mut tx = self.write_tx().await?;
        let mut results = Vec::with_capacity(events.len());
        for (event, sender) in events {
            if let Some(sender) = sender
                && let Some(first) = claim_sender_delivery(&mut tx, event, sender).await?
            {
                results.push(Inserted::Duplicate { event_id: first });
                continue;
            }
            write_events(&mut tx, std::slice::from_ref(event)).await?;
            results.push(Inserted::Stored);
        }
        tx.commit().await?;
        Ok(results)
    }

    async fn claim_events(
        &self,
        owner: &str,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<EventRecord>, StoreError> {
        let now = now_ms();
        let lease_until = now + lease.as_millis() as i64;
        let mut tx = self.worker_tx().await?;
        // RETURNING names exactly this claim's rows (two claims can share a millisecond).
        let ids: Vec<String> = sqlx::query_scalar(
            "UPDATE event_jobs SET lease_owner = ?1, lease_until = ?2, claims = claims + 1
             WHERE event_id IN (
                SELECT event_id FROM event_jobs
                WHERE run_after <= ?3 AND (lease_until IS NULL OR lease_until < ?3)
                ORDER BY run_after LIMIT ?4)
             RETURNING event_id",
        )
        .bind(owner)
        .bind(lease_until)
        .bind(now)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        let rows: Vec<EventRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {EVENT_COLUMNS}, j.skip_dedupe AS replay FROM events e JOIN event_jobs j ON j.event_id = e.id
             WHERE e.id IN (SELECT value FROM json_each(?)) ORDER BY e.received_at"
        )))
        .bind(serde_json::to_string(&ids).expect("ids serialise"))
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        rows.into_iter().map(EventRecord::try_from).collect()
    }

    async fn release_events(&self, owner: &str) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE event_jobs SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = ?",
        )
        .bind(owner)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn renew_event_leases(
        &self,
        owner: &str,
        event_ids: &[String],
        lease: Duration,
    ) -> Result<Vec<String>, StoreError> {
        if event_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self.worker_tx().await?;
        let renewed = sqlx::query_scalar(
            "UPDATE event_jobs SET lease_until = ?
             WHERE lease_owner = ? AND event_id IN (SELECT value FROM json_each(?))
             RETURNING event_id",
        )
        .bind(now_ms() + lease.as_millis() as i64)
        .bind(owner)
        .bind(serde_json::to_string(event_ids).expect("ids serialise"))
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(renewed)
    }

    async fn dedupe_key_seen(
        &self,
        recipe_id: &str,
        key: &str,
        since: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let seen: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM dedupe_keys WHERE recipe_id = ? AND key = ? AND seen_at >= ?",
        )
        .bind(recipe_id)
        .bind(key)
        .bind(to_ms(since))
        .fetch_optional(&self.reader)
        .await?;
        Ok(seen.is_some())
    }

    #[tracing::instrument(skip_all, fields(count = runs.len()))]
    async fn complete_runs(
        &self,
        owner: &str,
        runs: Vec<NewRun>,
    ) -> Result<Vec<Option<RunStatus>>, StoreError> {
        let mut tx = self.worker_tx().await?;
        let mut statuses = Vec::with_capacity(runs.len());
        for run in runs {
            statuses.push(super::runs::write_run(&mut tx, owner, run).await?);
        }
        tx.commit().await?;
        Ok(statuses)
    }

    async fn get_event(&self, id: &str) -> Result<Option<EventDetail>, StoreError> {
        // One read transaction: the event, its runs and deliveries come from one snapshot, so a
        // reader never sees every delivery finished while the event still says in flight.
        let mut tx = self.reader.begin().await?;
        let row: Option<EventRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {EVENT_COLUMNS}, FALSE AS replay FROM events e WHERE e.id = ?"
        )))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let runs: Vec<RunRow> = sqlx::query_as(
            "SELECT id, recipe_version, status, dedupe_key, output, error, filter_reason, created_at
             FROM runs WHERE event_id = ? ORDER BY created_at, id",
        )
        .bind(id)
        .fetch_all(&mut *tx)
        .await?;
        let runs = runs
            .into_iter()
            .map(RunView::try_from)
            .collect::<Result<Vec<_>, StoreError>>()?;
        let deliveries = super::deliveries::deliveries_of_event(&mut tx, id).await?;
        tx.commit().await?;
        Ok(Some(EventDetail {
            event: row.try_into()?,
            runs,
            deliveries,
        }))
    }

    async fn list_events(&self, query: &EventQuery) -> Result<Vec<EventSummary>, StoreError> {
        let rows: Vec<SummaryRow> = sqlx::query_as(concat!(
            "SELECT id, recipe_id, trigger, received_at, status, error, ",
            latest_filter_reason!(),
            dead_delivery_error!(),
            " FROM events
             WHERE (?1 IS NULL OR recipe_id = ?1) AND (?2 IS NULL OR status = ?2)
             ORDER BY received_at DESC, id DESC LIMIT ?3"
        ))
        .bind(&query.recipe_id)
        .bind(query.status.map(EventStatus::as_str))
        .bind(query.limit.max(1))
        .fetch_all(&self.reader)
        .await?;
        rows.into_iter().map(EventSummary::try_from).collect()
    }
}

/// Records the sender's delivery id for `event`; when the recipe saw it since `sender.since`,
/// records nothing and returns the event id it was first seen with.
async fn claim_sender_delivery(
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    event: &NewEvent,
    sender: &SenderDelivery,
) -> Result<Option<String>, StoreError> {
    // Inserts, or takes over a row older than the window; returns nothing for a retry.
    let claimed: Option<String> = sqlx::query_scalar(
        "INSERT INTO sender_deliveries (recipe_id, delivery_id, event_id, seen_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (recipe_id, delivery_id) DO UPDATE
            SET event_id = excluded.event_id, seen_at = excluded.seen_at
            WHERE sender_deliveries.seen_at < ?5
         RETURNING event_id",
    )
    .bind(&event.recipe_id)
    .bind(&sender.id)
    .bind(&event.id)
    .bind(to_ms(event.received_at))
    .bind(to_ms(sender.since))
    .fetch_optional(&mut **tx)
    .await?;
    if claimed.is_some() {
        return Ok(None);
    }
    let first: String = sqlx::query_scalar(
        "SELECT event_id FROM sender_deliveries WHERE recipe_id = ? AND delivery_id = ?",
    )
    .bind(&event.recipe_id)
    .bind(&sender.id)
    .fetch_one(&mut **tx)
    .await?;
    Ok(Some(first))
}

/// New events and their processing jobs, inside the caller's transaction.
pub(super) async fn write_events(
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    events: &[NewEvent],
) -> Result<(), StoreError> {
    let now = now_ms();
    for event in events {
        sqlx::query(
            "INSERT INTO events (id, recipe_id, trigger, received_at, content_type, headers, body, payload, status)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending')",
        )
        .bind(&event.id)
        .bind(&event.recipe_id)
        .bind(&event.trigger)
        .bind(to_ms(event.received_at))
        .bind(&event.content_type)
        .bind(event.headers.to_string())
        .bind(&event.body)
        .bind(event.payload.to_string())
        .execute(&mut **tx)
        .await?;
        sqlx::query("INSERT INTO event_jobs (event_id, run_after) VALUES (?, ?)")
            .bind(&event.id)
            .bind(now)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}
