//! Pruning: finished history, old dedupe keys, bookkeeping of deleted recipes.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{Ledger, Stmt};
use crate::store::{PruneReport, RetentionStore, StoreError, to_ms};

/// Rows deleted per transaction, so pruning never holds the write lock (SQLite) or many row
/// locks (PostgreSQL) for long.
const BATCH: i64 = 1000;

#[async_trait]
impl RetentionStore for Ledger {
    async fn prune_history(&self, before: DateTime<Utc>) -> Result<PruneReport, StoreError> {
        let before = to_ms(before);
        let mut report = PruneReport::default();
        // Finished events only; their runs, deliveries and attempts go with them (cascade).
        // SKIP LOCKED (PostgreSQL) leaves events a replay is re-queueing right now to a later
        // prune; SQLite's single writer cannot meet one mid-way.
        let sql = format!(
            "DELETE FROM events WHERE id IN (
                SELECT id FROM events
                WHERE received_at < $1
                  AND status IN ('filtered', 'duplicate', 'failed', 'delivered', 'dead', 'split')
                  AND NOT EXISTS (SELECT 1 FROM event_jobs j WHERE j.event_id = events.id)
                LIMIT $2{})",
            self.dialect().skip_locked()
        );
        loop {
            let deleted = Stmt::built(sql.clone())
                .bind(before)
                .bind(BATCH)
                .execute(self.write())
                .await?;
            report.events += deleted;
            if deleted < BATCH as u64 {
                break;
            }
        }
        // Keep each recipe's latest tick: catch-up after downtime starts from it.
        report.ticks = Stmt::new(
            "DELETE FROM schedule_ticks WHERE scheduled_for < $1
               AND scheduled_for < (SELECT MAX(t.scheduled_for) FROM schedule_ticks t
                                    WHERE t.recipe_id = schedule_ticks.recipe_id)",
        )
        .bind(before)
        .execute(self.write())
        .await?;
        Ok(report)
    }

    async fn prune_dedupe_keys(
        &self,
        recipe_id: &str,
        before: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let before = to_ms(before);
        let keys = Stmt::new("DELETE FROM dedupe_keys WHERE recipe_id = $1 AND seen_at < $2")
            .bind(recipe_id)
            .bind(before)
            .execute(self.write())
            .await?;
        let senders =
            Stmt::new("DELETE FROM sender_deliveries WHERE recipe_id = $1 AND seen_at < $2")
                .bind(recipe_id)
                .bind(before)
                .execute(self.write())
                .await?;
        Ok(keys + senders)
    }

    async fn prune_orphans(&self) -> Result<u64, StoreError> {
        let mut deleted = 0;
        for table in [
            "DELETE FROM dedupe_keys WHERE recipe_id NOT IN (SELECT id FROM recipes)",
            "DELETE FROM sender_deliveries WHERE recipe_id NOT IN (SELECT id FROM recipes)",
            "DELETE FROM webhook_refusals WHERE recipe_id NOT IN (SELECT id FROM recipes)",
            "DELETE FROM schedule_ticks WHERE recipe_id NOT IN (SELECT id FROM recipes)",
        ] {
            deleted += Stmt::new(table).execute(self.write()).await?;
        }
        deleted += super::throttle::prune_idle_keys(self.write(), self.dialect()).await?;
        Ok(deleted)
    }
}
