//! The delivery claims this worker holds, and the heartbeat that keeps their short leases alive
//! while their calls run: one statement per beat for all of them, so a dead process's claims
//! move on after one lease while a live one keeps its work however long a call takes.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::MissedTickBehavior;

use crate::store::Store;

/// Ids of the deliveries claimed and not yet recorded, released or given up.
#[derive(Default)]
pub struct Held(Mutex<HashSet<String>>);

impl Held {
    pub fn add<'a>(&self, ids: impl IntoIterator<Item = &'a str>) {
        let mut held = self.0.lock().expect("held lock");
        held.extend(ids.into_iter().map(str::to_owned));
    }

    /// Stops renewing these (recorded, released, or left to expire).
    pub fn forget<'a>(&self, ids: impl IntoIterator<Item = &'a str>) {
        let mut held = self.0.lock().expect("held lock");
        for id in ids {
            held.remove(id);
        }
    }

    pub fn snapshot(&self) -> Vec<String> {
        self.0.lock().expect("held lock").iter().cloned().collect()
    }
}

/// Renews every held claim to `lease` from now, every `every`, until aborted. A claim the
/// store did not renew was taken over by another worker after its lease ran out (this process
/// stalled): it is forgotten, and its attempt, when it ends, is recorded without moving the
/// delivery (the store checks the lease).
pub async fn beat(
    store: Arc<dyn Store>,
    owner: Arc<str>,
    held: Arc<Held>,
    lease: Duration,
    every: Duration,
) {
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    ticker.tick().await;
    loop {
        ticker.tick().await;
        let ids = held.snapshot();
        if ids.is_empty() {
            continue;
        }
        match store.renew_delivery_leases(&owner, &ids, lease).await {
            Ok(renewed) if renewed.len() < ids.len() => {
                let renewed: HashSet<&str> = renewed.iter().map(String::as_str).collect();
                let lost: Vec<&str> = ids
                    .iter()
                    .map(String::as_str)
                    .filter(|id| !renewed.contains(id))
                    .collect();
                // Recorded between the snapshot and the renewal, or taken over.
                tracing::debug!(count = lost.len(), "delivery claims not renewed");
                held.forget(lost);
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "could not renew delivery claims"),
        }
    }
}
