//! The long-running delivery loop. Unlike `run_once`, it never waits for a whole batch: as soon
//! as an attempt finishes its slot is refilled, so one slow receiver holds only its own slot.
//! Each destination gets at most its fair share of the slots ([`FairShare`]). Finished attempts
//! are written by one recorder task, many per transaction; claims held meanwhile are renewed by
//! a heartbeat ([`heartbeat`]). On shutdown, calls still running when the grace runs out are
//! abandoned and their claims released, so the next process retries them at once.

use std::sync::Arc;

use futures_util::FutureExt;
use tokio::sync::{Notify, Semaphore, mpsc};
use tokio::task::{JoinError, JoinSet};
use tokio_util::sync::CancellationToken;

use super::fair_share::FairShare;
use super::heartbeat::{self, Held};
use super::worker::{AttemptRecord, DeliveryWorker, Prepared};
use crate::store::{ClaimedDelivery, Store};

const RECORD_BATCH: usize = 256;

/// What a delivery task ends with: `Some(id)` when its destination was full and the claim is
/// to be handed back.
type TaskEnd = Option<String>;

impl DeliveryWorker {
    /// Runs until cancelled; then in-flight attempts get the shutdown grace to finish and be
    /// recorded, and every claim still held is given back (the attempt not counted).
    pub async fn run(self, ready: Arc<Notify>, shutdown: CancellationToken) {
        let settings = self.settings().clone();
        let slots = Arc::new(Semaphore::new(settings.delivery_concurrency as usize));
        let share = FairShare::new(settings.destination_cap());
        let held = Arc::new(Held::default());
        let owner: Arc<str> = self.owner().into();
        let (records, receiver) = mpsc::channel(RECORD_BATCH * 4);
        let recorder = tokio::spawn(record_loop(
            self.store().clone(),
            owner.clone(),
            receiver,
            held.clone(),
        ));
        let heartbeat = tokio::spawn(heartbeat::beat(
            self.store().clone(),
            owner.clone(),
            held.clone(),
            settings.lease,
            settings.heartbeat(),
        ));
        let mut in_flight = JoinSet::new();
        let mut handed_back = Vec::new();

        while !shutdown.is_cancelled() {
            self.hand_back(&mut handed_back, &held).await;
            let free = slots.available_permits() as u32;
            let claimed = if free == 0 {
                Vec::new()
            } else {
                let skip = share.saturated_actions();
                match self
                    .store()
                    .claim_deliveries_skipping(self.owner(), free, settings.lease, &skip)
                    .await
                {
                    Ok(claimed) => claimed,
                    Err(error) => {
                        tracing::error!(%error, "could not claim deliveries");
                        Vec::new()
                    }
                }
            };
            held.add(claimed.iter().map(|d| d.id.as_str()));
            self.compile_actions(&claimed).await;
            let idle = claimed.is_empty();
            for delivery in claimed {
                let slot = slots
                    .clone()
                    .acquire_owned()
                    .await
                    .expect("semaphore is never closed");
                let (worker, share, records, held) =
                    (self.clone(), share.clone(), records.clone(), held.clone());
                in_flight.spawn(async move {
                    let end = worker.deliver(delivery, &share, &records, &held).await;
                    drop(slot);
                    end
                });
            }
            while let Some(joined) = in_flight.try_join_next() {
                collect(joined, &mut handed_back);
            }
            if idle && handed_back.is_empty() {
                tokio::select! {
                    _ = ready.notified() => {}
                    _ = tokio::time::sleep(settings.idle_poll) => {}
                    Some(joined) = in_flight.join_next(), if !in_flight.is_empty() => {
                        collect(joined, &mut handed_back);
                    }
                    _ = shutdown.cancelled() => {}
                }
            }
        }

        let drained = tokio::time::timeout(
            settings.drain_time(),
            join_all(&mut in_flight, &mut handed_back),
        )
        .await;
        if drained.is_err() {
            tracing::warn!(
                abandoned = in_flight.len(),
                "shutdown grace reached: abandoning unfinished calls, their claims are released"
            );
            in_flight.abort_all();
            join_all(&mut in_flight, &mut handed_back).await;
        }
        drop(records);
        let _ = recorder.await;
        heartbeat.abort();
        // Whatever is still held was handed back or abandoned: due again at once, elsewhere.
        if let Err(error) = self
            .store()
            .release_delivery_claims(self.owner(), &held.snapshot())
            .await
        {
            tracing::warn!(%error, "could not release delivery claims at shutdown");
        }
    }

    /// One claimed delivery: prepared, then sent if its destination has room, else handed
    /// back (returned) without an attempt.
    async fn deliver(
        &self,
        delivery: ClaimedDelivery,
        share: &Arc<FairShare>,
        records: &mpsc::Sender<AttemptRecord>,
        held: &Held,
    ) -> TaskEnd {
        let id = delivery.id.clone();
        let attempt = async {
            let ready = match self.prepare_attempt(delivery).await {
                Ok(Prepared::Ready(ready)) => ready,
                Ok(Prepared::Decided(record)) => {
                    let _ = records.send(record).await;
                    return None;
                }
                Err(error) => {
                    // Left to expire and be claimed again after the lease.
                    tracing::error!(%error, "could not prepare a delivery attempt");
                    held.forget([id.as_str()]);
                    return None;
                }
            };
            let _destination_slot = match ready.destination() {
                Some(destination) => {
                    let action = (
                        ready.delivery().recipe_id.clone(),
                        ready.delivery().action_name.clone(),
                    );
                    match share.try_take(action, &destination) {
                        Some(slot) => Some(slot),
                        None => return Some(id.clone()),
                    }
                }
                None => None,
            };
            let record = self.send_ready(ready).await;
            let _ = records.send(record).await;
            None
        };
        match std::panic::AssertUnwindSafe(attempt).catch_unwind().await {
            Ok(end) => end,
            Err(_) => {
                tracing::error!(delivery = %id, "a delivery attempt panicked; retried after the lease");
                held.forget([id.as_str()]);
                None
            }
        }
    }

    /// Gives back claims whose destination was full, in one statement.
    async fn hand_back(&self, handed_back: &mut Vec<String>, held: &Held) {
        if handed_back.is_empty() {
            return;
        }
        match self
            .store()
            .release_delivery_claims(self.owner(), handed_back)
            .await
        {
            Ok(()) => held.forget(handed_back.iter().map(String::as_str)),
            // Still held and renewed; the next round tries again.
            Err(error) => {
                tracing::warn!(%error, "could not hand back deliveries to a full destination");
                return;
            }
        }
        handed_back.clear();
    }
}

fn collect(joined: Result<TaskEnd, JoinError>, handed_back: &mut Vec<String>) {
    match joined {
        Ok(Some(id)) => handed_back.push(id),
        Ok(None) => {}
        // Aborted at shutdown: its claim is still held and released with the rest.
        Err(error) if error.is_cancelled() => {}
        Err(error) => tracing::error!(%error, "a delivery task failed"),
    }
}

async fn join_all(in_flight: &mut JoinSet<TaskEnd>, handed_back: &mut Vec<String>) {
    while let Some(joined) = in_flight.join_next().await {
        collect(joined, handed_back);
    }
}

async fn record_loop(
    store: Arc<dyn Store>,
    owner: Arc<str>,
    mut receiver: mpsc::Receiver<AttemptRecord>,
    held: Arc<Held>,
) {
    let mut batch = Vec::with_capacity(RECORD_BATCH);
    while receiver.recv_many(&mut batch, RECORD_BATCH).await > 0 {
        let ids: Vec<String> = batch.iter().map(|(a, _)| a.delivery_id.clone()).collect();
        // On failure the leases expire and the deliveries are attempted again: at least once.
        if let Err(error) = store
            .record_attempts(&owner, std::mem::take(&mut batch))
            .await
        {
            tracing::error!(%error, "could not record delivery attempts");
        }
        held.forget(ids.iter().map(String::as_str));
    }
}
