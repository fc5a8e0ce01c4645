//! History retention: finished events older than the retention setting are deleted with their
//! runs, deliveries and attempts; dedupe keys are kept for each recipe's own dedupe window.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio_util::sync::CancellationToken;

use crate::engine::cache::RecipeCache;
use crate::store::{PruneReport, Store, StoreError};

const PRUNE_EVERY: Duration = Duration::from_secs(3600);

pub struct Pruner {
    store: Arc<dyn Store>,
    cache: Arc<RecipeCache>,
    retention: Duration,
}

impl Pruner {
    pub fn new(store: Arc<dyn Store>, cache: Arc<RecipeCache>, retention: Duration) -> Self {
        Self {
            store,
            cache,
            retention,
        }
    }

    /// One pass: history older than the retention, dedupe keys older than their recipe's
    /// window, and bookkeeping of deleted recipes.
    pub async fn run_once(&self) -> Result<PruneReport, StoreError> {
        let now = Utc::now();
        let report = self.store.prune_history(now - self.retention).await?;
        for stored in self.store.list_recipes().await? {
            if let Ok(recipe) = self.cache.get(&stored) {
                self.store
                    .prune_dedupe_keys(&stored.id, now - recipe.dedupe_window)
                    .await?;
            }
        }
        self.store.prune_orphans().await?;
        if report.events > 0 || report.ticks > 0 {
            tracing::info!(
                events = report.events,
                ticks = report.ticks,
                "history pruned"
            );
        }
        Ok(report)
    }

    /// Prunes shortly after start, then hourly, until cancelled.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut wait = Duration::from_secs(60);
        loop {
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.cancelled() => return,
            }
            if let Err(error) = self.run_once().await {
                tracing::error!(%error, "pruning history failed");
            }
            wait = PRUNE_EVERY;
        }
    }
}
