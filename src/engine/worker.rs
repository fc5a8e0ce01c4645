//! Claims pending events with a lease, decides their run and commits it with its deliveries.

use std::sync::Arc;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::cache::RecipeCache;
use crate::config::WorkerSettings;
use crate::store::{EventRecord, NewRun, Store, StoreError};
use crate::telemetry::metrics::Metrics;

pub struct EngineWorker {
    store: Arc<dyn Store>,
    cache: Arc<RecipeCache>,
    settings: WorkerSettings,
    owner: String,
    /// Woken when new deliveries exist.
    deliveries_ready: Arc<Notify>,
    metrics: Arc<Metrics>,
}

impl EngineWorker {
    pub fn new(
        store: Arc<dyn Store>,
        cache: Arc<RecipeCache>,
        settings: WorkerSettings,
        deliveries_ready: Arc<Notify>,
    ) -> Self {
        Self {
            store,
            cache,
            settings,
            owner: format!("engine-{}", crate::ids::new_id()),
            deliveries_ready,
            metrics: Arc::default(),
        }
    }

    /// Counts committed runs in the server's metrics (instead of private ones).
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = metrics;
        self
    }

    /// One step: claim a batch, decide it (see [`super::batch`]), then commit all runs in one
    /// transaction. Returns how many events were handled.
    pub async fn run_once(&self) -> Result<usize, StoreError> {
        let events = self
            .store
            .claim_events(&self.owner, self.settings.engine_batch, self.settings.lease)
            .await?;
        let count = events.len();
        if count == 0 {
            return Ok(0);
        }
        let ids: Vec<String> = events.iter().map(|event| event.id.clone()).collect();
        self.with_heartbeat(&ids, self.finish_step(&events)).await?;
        Ok(count)
    }

    /// Runs `step` while renewing the claims on `ids` every heartbeat (one statement each), so a
    /// step longer than the lease (slow scripts, a slow store) keeps its events.
    async fn with_heartbeat<T>(
        &self,
        ids: &[String],
        step: impl std::future::Future<Output = T>,
    ) -> T {
        let beat = async {
            let mut ticker = tokio::time::interval(self.settings.heartbeat());
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticker.tick().await;
            loop {
                ticker.tick().await;
                let renewed = self
                    .store
                    .renew_event_leases(&self.owner, ids, self.settings.lease)
                    .await;
                match renewed {
                    // Taken over after a stall: `complete_runs` refuses this worker's result.
                    Ok(renewed) if renewed.len() < ids.len() => tracing::warn!(
                        lost = ids.len() - renewed.len(),
                        "event claims lost to another worker"
                    ),
                    Ok(_) => {}
                    Err(error) => tracing::warn!(%error, "could not renew event claims"),
                }
            }
        };
        tokio::select! {
            done = step => done,
            never = beat => never,
        }
    }

    /// Decides the claimed events and commits their runs in one transaction.
    async fn finish_step(&self, events: &[EventRecord]) -> Result<(), StoreError> {
        let decided = super::batch::decide_batch(&*self.store, &self.cache, events).await?;
        let mut runs = Vec::with_capacity(events.len());
        for (event, (version, outcome)) in events.iter().zip(decided) {
            runs.push(NewRun {
                event_id: event.id.clone(),
                recipe_id: event.recipe_id.clone(),
                recipe_version: version,
                outcome,
            });
        }
        let statuses = self.store.complete_runs(&self.owner, runs).await?;
        for (event, status) in events.iter().zip(statuses) {
            match status {
                None => {
                    tracing::warn!(event = %event.id, "lease lost; another worker owns this event now")
                }
                Some(status) => {
                    self.metrics
                        .event_processed(&event.recipe_id, status.as_str());
                    tracing::debug!(event = %event.id, status = status.as_str(), "run finished")
                }
            }
        }
        self.deliveries_ready.notify_one();
        Ok(())
    }

    /// Runs until cancelled, then gives back what it had claimed.
    pub async fn run(self, events_ready: Arc<Notify>, shutdown: CancellationToken) {
        while !shutdown.is_cancelled() {
            match self.run_once().await {
                Ok(0) => {
                    tokio::select! {
                        _ = events_ready.notified() => {}
                        _ = tokio::time::sleep(self.settings.idle_poll) => {}
                        _ = shutdown.cancelled() => {}
                    }
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::error!(%error, "engine worker step failed");
                    tokio::time::sleep(self.settings.idle_poll).await;
                }
            }
        }
        if let Err(error) = self.store.release_events(&self.owner).await {
            tracing::warn!(%error, "could not release event claims at shutdown");
        }
    }
}
