//! Events: ingest (set-based: a constant number of statements per batch), claims, leases and
//! reads. Completing runs is in [`super::runs`].

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{Arg, Ledger, Outside, Stmt, Tx, placeholders};
use crate::store::rows::{EventRow, RunRow, SummaryRow, select_summary};
use crate::store::signal::{Work, announce};
use crate::store::{
    Evaluated, EventDetail, EventQuery, EventRecord, EventStatus, EventStore, EventSummary,
    Inserted, NewEvent, NewRun, RunOutcome, RunStatus, RunView, SenderDelivery, SplitInserted,
    StoreError, StoredRecipe, now_ms, to_ms,
};

const EVENT_COLUMNS: &str = "e.id, e.recipe_id, e.trigger, e.received_at, e.content_type, e.headers, e.body, e.payload, e.status, e.error";

/// Rows per multi-row `INSERT`: 9 columns × 500 rows stays far below both backends' limit on
/// bound parameters (SQLite 32,766; PostgreSQL 65,535).
const ROWS_PER_INSERT: usize = 500;

#[async_trait]
impl EventStore for Ledger {
    #[tracing::instrument(skip_all, fields(count = events.len()))]
    async fn insert_events(&self, events: &[NewEvent]) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        write_events(&mut tx, &events.iter().collect::<Vec<_>>()).await?;
        tx.commit().await
    }

    #[tracing::instrument(skip_all, fields(count = events.len()))]
    async fn insert_events_once(
        &self,
        events: &[(NewEvent, Option<SenderDelivery>)],
    ) -> Result<Vec<Inserted>, StoreError> {
        let mut tx = self.write_tx().await?;
        let firsts = self.claim_sender_deliveries(&mut tx, events).await?;
        let fresh: Vec<&NewEvent> = events
            .iter()
            .zip(&firsts)
            .filter(|(_, first)| first.is_none())
            .map(|((event, _), _)| event)
            .collect();
        write_events(&mut tx, &fresh).await?;
        tx.commit().await?;
        Ok(firsts
            .into_iter()
            .map(|first| match first {
                Some(event_id) => Inserted::Duplicate { event_id },
                None => Inserted::Stored,
            })
            .collect())
    }

    #[tracing::instrument(skip_all, fields(event = %parent.id, count = children.len()))]
    async fn insert_split(
        &self,
        parent: &NewEvent,
        sender: Option<SenderDelivery>,
        children: &[NewEvent],
    ) -> Result<SplitInserted, StoreError> {
        let mut tx = self.write_tx().await?;
        let claim = [(parent.clone(), sender)];
        let first = self.claim_sender_deliveries(&mut tx, &claim).await?;
        if let Some(event_id) = first.into_iter().next().flatten() {
            let children: Vec<String> =
                Stmt::new("SELECT id FROM events WHERE parent_id = $1 ORDER BY split_index")
                    .bind(event_id.as_str())
                    .scalars(tx.on())
                    .await?;
            tx.commit().await?;
            return Ok(SplitInserted::Duplicate { event_id, children });
        }
        write_rows(&mut tx, &[parent], EventStatus::Split, None).await?;
        let children: Vec<&NewEvent> = children.iter().collect();
        write_rows(&mut tx, &children, EventStatus::Pending, Some(&parent.id)).await?;
        tx.commit().await?;
        Ok(SplitInserted::Stored)
    }

    #[tracing::instrument(skip_all, fields(event = %event.id))]
    async fn insert_evaluated(
        &self,
        event: NewEvent,
        sender: Option<SenderDelivery>,
        recipe_version: i64,
        outcome: RunOutcome,
    ) -> Result<Evaluated, StoreError> {
        self.commit_evaluated(event, sender, recipe_version, outcome)
            .await
    }

    async fn claim_events(
        &self,
        owner: &str,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<EventRecord>, StoreError> {
        let now = now_ms();
        let mut tx = self.worker_tx().await?;
        // RETURNING names exactly this claim's rows (two claims can share a millisecond).
        // Held jobs (a paused recipe's) are not in the partial index `event_jobs_due` walks.
        let ids: Vec<String> = Stmt::built(format!(
            "UPDATE event_jobs SET lease_owner = $1, lease_until = $2, claims = claims + 1
             WHERE event_id IN (
                SELECT event_id FROM event_jobs
                WHERE run_after <= $3 AND (lease_until IS NULL OR lease_until < $3)
                  AND held_at IS NULL
                ORDER BY run_after LIMIT $4{})
             RETURNING event_id",
            self.dialect().skip_locked()
        ))
        .bind(owner)
        .bind(now + lease.as_millis() as i64)
        .bind(now)
        .bind(limit)
        .scalars(tx.on())
        .await?;
        if ids.is_empty() {
            tx.commit().await?;
            return Ok(Vec::new());
        }
        let rows: Vec<EventRow> = Stmt::built(format!(
            "SELECT {EVENT_COLUMNS}, j.skip_dedupe AS replay FROM events e JOIN event_jobs j ON j.event_id = e.id
             WHERE e.id IN {} ORDER BY e.received_at",
            self.dialect().json_strings(1)
        ))
        .bind(json_list(&ids))
        .fetch_all(tx.on())
        .await?;
        tx.commit().await?;
        rows.into_iter().map(EventRecord::try_from).collect()
    }

    async fn release_events(&self, owner: &str) -> Result<(), StoreError> {
        let released = Stmt::new(
            "UPDATE event_jobs SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = $1",
        )
        .bind(owner)
        .execute(self.write())
        .await?;
        announce(self.write(), Work::Events, released as usize).await
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
        let d = self.dialect();
        let ids_in = format!("lease_owner = $2 AND event_id IN {}", d.json_strings(3));
        Stmt::built(format!(
            "UPDATE event_jobs SET lease_until = $1 WHERE event_id IN {} RETURNING event_id",
            d.locked_in_order("event_jobs", "event_id", &ids_in)
        ))
        .bind(now_ms() + lease.as_millis() as i64)
        .bind(owner)
        .bind(json_list(event_ids))
        .scalars(self.write())
        .await
    }

    async fn dedupe_key_seen(
        &self,
        recipe_id: &str,
        key: &str,
        since: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let key_column = self.dialect().key("key");
        let key_value = self.dialect().key("$2");
        Stmt::built(format!(
            "SELECT EXISTS (SELECT 1 FROM dedupe_keys
                            WHERE recipe_id = $1 AND {key_column} = {key_value} AND seen_at >= $3)"
        ))
        .bind(recipe_id)
        .bind(Outside(Some(key)))
        .bind(to_ms(since))
        .scalar(self.read())
        .await
    }

    #[tracing::instrument(skip_all, fields(count = runs.len()))]
    async fn complete_runs(
        &self,
        owner: &str,
        runs: Vec<NewRun>,
    ) -> Result<Vec<Option<RunStatus>>, StoreError> {
        let mut tx = self.worker_tx().await?;
        let statuses = self.write_runs(&mut tx, owner, runs).await?;
        tx.commit().await?;
        Ok(statuses)
    }

    async fn get_recipes(&self, ids: &[String]) -> Result<Vec<StoredRecipe>, StoreError> {
        self.recipes_by_id(ids).await
    }

    async fn dedupe_keys_seen(
        &self,
        probes: &[(String, String, DateTime<Utc>)],
    ) -> Result<Vec<bool>, StoreError> {
        self.seen_keys(probes).await
    }

    async fn get_event(&self, id: &str) -> Result<Option<EventDetail>, StoreError> {
        // One read transaction: the event, its runs and deliveries come from one snapshot, so a
        // reader never sees every delivery finished while the event still says in flight.
        let mut tx = self.read_tx().await?;
        let row: Option<EventRow> = Stmt::built(format!(
            "SELECT {EVENT_COLUMNS}, FALSE AS replay FROM events e WHERE e.id = $1"
        ))
        .bind(id)
        .fetch_optional(tx.on())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let runs: Vec<RunRow> = Stmt::new(
            "SELECT id, recipe_version, status, dedupe_key, output, error, filter_reason, created_at
             FROM runs WHERE event_id = $1 ORDER BY created_at, id",
        )
        .bind(id)
        .fetch_all(tx.on())
        .await?;
        let runs = runs
            .into_iter()
            .map(RunView::try_from)
            .collect::<Result<Vec<_>, StoreError>>()?;
        let deliveries = super::deliveries::deliveries_of_event(tx.on(), id).await?;
        tx.commit().await?;
        Ok(Some(EventDetail {
            event: row.try_into()?,
            runs,
            deliveries,
        }))
    }

    async fn list_events(&self, query: &EventQuery) -> Result<Vec<EventSummary>, StoreError> {
        let rows: Vec<SummaryRow> = Stmt::new(concat!(
            select_summary!(),
            " FROM events
             WHERE (CAST($1 AS TEXT) IS NULL OR recipe_id = $1)
               AND (CAST($2 AS TEXT) IS NULL OR status = $2)
             ORDER BY received_at DESC, id DESC LIMIT $3"
        ))
        .bind(query.recipe_id.as_deref())
        .bind(query.status.map(EventStatus::as_str))
        .bind(query.limit.max(1))
        .fetch_all(self.read())
        .await?;
        rows.into_iter().map(EventSummary::try_from).collect()
    }
}

/// New events and their processing jobs, inside the caller's transaction: two multi-row
/// `INSERT`s per [`ROWS_PER_INSERT`] events.
pub(super) async fn write_events(tx: &mut Tx, events: &[&NewEvent]) -> Result<(), StoreError> {
    write_rows(tx, events, EventStatus::Pending, None).await
}

/// Events with `status`; pending ones get their processing jobs. With `parent`, they are the
/// elements of that split request, `split_index` in the order given.
async fn write_rows(
    tx: &mut Tx,
    events: &[&NewEvent],
    status: EventStatus,
    parent: Option<&str>,
) -> Result<(), StoreError> {
    let now = now_ms();
    for (at, chunk) in events.chunks(ROWS_PER_INSERT).enumerate() {
        let first_index = at * ROWS_PER_INSERT;
        let rows = chunk.iter().enumerate().flat_map(|(i, event)| {
            [
                Arg::from(event.id.as_str()),
                event.recipe_id.as_str().into(),
                event.trigger.as_str().into(),
                to_ms(event.received_at).into(),
                Outside(event.content_type.as_deref()).into(),
                event.headers.to_string().into(),
                event.body.as_slice().into(),
                event.payload.to_string().into(),
                status.as_str().into(),
                parent.into(),
                parent.map(|_| (first_index + i) as i64).into(),
            ]
        });
        Stmt::built(format!(
            "INSERT INTO events (id, recipe_id, trigger, received_at, content_type, headers, body, payload, status, parent_id, split_index)
             VALUES {}",
            placeholders(chunk.len(), 11, 1)
        ))
        .bind_all(rows)
        .execute(tx.on())
        .await?;
        if status != EventStatus::Pending {
            continue;
        }
        // A paused recipe's events are held as they are written (see `pause.rs`).
        let ids: Vec<String> = chunk.iter().map(|event| event.id.clone()).collect();
        Stmt::built(format!(
            "INSERT INTO event_jobs (event_id, run_after, held_at)
             SELECT e.id, $1, CASE WHEN r.paused_at IS NULL THEN NULL ELSE $1 END
             FROM events e LEFT JOIN recipes r ON r.id = e.recipe_id
             WHERE e.id IN {}",
            tx.dialect().json_strings(2)
        ))
        .bind(now)
        .bind(json_list(&ids))
        .execute(tx.on())
        .await?;
    }
    if status != EventStatus::Pending {
        return Ok(());
    }
    announce(tx.on(), Work::Events, events.len()).await
}

/// A JSON array of strings, for [`super::Dialect::json_strings`].
pub(super) fn json_list(ids: &[String]) -> String {
    serde_json::to_string(ids).expect("strings serialise")
}
