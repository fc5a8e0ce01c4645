//! A tick's claim while the tick runs: a short lease renewed every heartbeat (one statement
//! each), so a dead process's tick is taken over after one lease while a live process keeps a
//! poll of any length (up to its 30 s timeout) to itself and it is not run twice.

use std::future::Future;
use std::time::Duration;

use tokio::time::MissedTickBehavior;

use crate::store::{Store, TickClaim};

/// Runs `work` while renewing `claim` every `every`. A renewal the store refuses means another
/// process took the tick over after this one stalled past its lease: said once, at warn level;
/// the completion is then refused by the store (`StoreError::LeaseLost`) and writes nothing.
pub(super) async fn renewing<T>(
    store: &dyn Store,
    claim: &TickClaim,
    every: Duration,
    work: impl Future<Output = T>,
) -> T {
    let beat = async {
        let mut ticker = tokio::time::interval(every);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        ticker.tick().await;
        loop {
            ticker.tick().await;
            match store.renew_tick(claim).await {
                Ok(true) => {}
                Ok(false) => {
                    tracing::warn!(
                        recipe = %claim.recipe_id,
                        tick = %claim.scheduled_for.to_rfc3339(),
                        "tick claim lost to another process (its lease ran out); this run's result will be dropped"
                    );
                    break;
                }
                Err(error) => tracing::warn!(%error, "could not renew the tick claim"),
            }
        }
        std::future::pending().await
    };
    tokio::select! {
        done = work => done,
        never = beat => never,
    }
}
