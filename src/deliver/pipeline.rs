//! The long-running delivery loop. Unlike `run_once`, it never waits for a whole batch: as soon
//! as an attempt finishes its slot is refilled, so one slow receiver holds only its own slot.
//! Finished attempts are written by one recorder task, many per transaction.

use std::sync::Arc;

use tokio::sync::{Notify, Semaphore, mpsc};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::worker::{AttemptRecord, DeliveryWorker};
use crate::store::Store;

const RECORD_BATCH: usize = 256;

impl DeliveryWorker {
    /// Runs until cancelled; attempts in flight finish and are recorded, then claims are given
    /// back.
    pub async fn run(self, ready: Arc<Notify>, shutdown: CancellationToken) {
        let slots = Arc::new(Semaphore::new(
            self.settings().delivery_concurrency as usize,
        ));
        let (records, receiver) = mpsc::channel(RECORD_BATCH * 4);
        let recorder = tokio::spawn(record_loop(
            self.store().clone(),
            self.owner().to_owned(),
            receiver,
        ));
        let mut in_flight = JoinSet::new();

        while !shutdown.is_cancelled() {
            let free = slots.available_permits() as u32;
            let claimed = if free == 0 {
                Vec::new()
            } else {
                match self
                    .store()
                    .claim_deliveries(self.owner(), free, self.settings().lease)
                    .await
                {
                    Ok(claimed) => claimed,
                    Err(error) => {
                        tracing::error!(%error, "could not claim deliveries");
                        Vec::new()
                    }
                }
            };
            let idle = claimed.is_empty();
            for delivery in claimed {
                let slot = slots
                    .clone()
                    .acquire_owned()
                    .await
                    .expect("semaphore is never closed");
                let (worker, records) = (self.clone(), records.clone());
                in_flight.spawn(async move {
                    match worker.attempt(delivery).await {
                        Ok(record) => {
                            let _ = records.send(record).await;
                        }
                        Err(error) => {
                            tracing::error!(%error, "could not prepare a delivery attempt")
                        }
                    }
                    drop(slot);
                });
            }
            while in_flight.try_join_next().is_some() {}
            if idle {
                tokio::select! {
                    _ = ready.notified() => {}
                    _ = tokio::time::sleep(self.settings().idle_poll) => {}
                    _ = in_flight.join_next(), if !in_flight.is_empty() => {}
                    _ = shutdown.cancelled() => {}
                }
            }
        }
        while in_flight.join_next().await.is_some() {}
        drop(records);
        let _ = recorder.await;
        if let Err(error) = self.store().release_deliveries(self.owner()).await {
            tracing::warn!(%error, "could not release delivery claims at shutdown");
        }
    }
}

async fn record_loop(
    store: Arc<dyn Store>,
    owner: String,
    mut receiver: mpsc::Receiver<AttemptRecord>,
) {
    let mut batch = Vec::with_capacity(RECORD_BATCH);
    while receiver.recv_many(&mut batch, RECORD_BATCH).await > 0 {
        // On failure the leases expire and the deliveries are attempted again: at least once.
        if let Err(error) = store
            .record_attempts(&owner, std::mem::take(&mut batch))
            .await
        {
            tracing::error!(%error, "could not record delivery attempts");
        }
    }
}
