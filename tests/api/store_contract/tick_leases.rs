//! Schedule tick claims are leases, on every backend: a claim whose lease ran out without
//! completing is taken over, the old owner's late completion writes nothing, and a renewed
//! claim holds however long its tick runs.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use switchyard::store::{EventQuery, Store, StoreError, TickClaim};

use super::contracts::{LEASE, event};
use super::{PgDatabase, Raw, postgres_store, sqlite_store};

const LONG: Duration = Duration::from_secs(60);

contracts!(
    a_tick_claim_whose_lease_ran_out_is_taken_over_and_the_old_owners_completion_writes_nothing,
    a_renewed_tick_claim_is_not_taken_over_and_its_owner_completes_it,
);

fn claim(owner: &str, scheduled_for: DateTime<Utc>, lease: Duration) -> TickClaim {
    TickClaim {
        recipe_id: "cron".into(),
        scheduled_for,
        owner: owner.into(),
        skipped: 0,
        lease,
    }
}

async fn event_count(store: &Arc<dyn Store>) -> usize {
    let query = EventQuery {
        recipe_id: Some("cron".into()),
        limit: 100,
        ..EventQuery::default()
    };
    store.list_events(&query).await.unwrap().len()
}

async fn a_tick_claim_whose_lease_ran_out_is_taken_over_and_the_old_owners_completion_writes_nothing(
    store: Arc<dyn Store>,
    _raw: &Raw,
) {
    let at = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
    let dead = claim("dead", at, LEASE);
    assert!(store.claim_tick(&dead).await.unwrap());
    let until = store.tick_lease_until("cron", at).await.unwrap();
    assert!(
        until.is_some_and(|u| u > at),
        "a held claim has a lease: {until:?}"
    );

    // Never renewed: once the lease ran out the claim is no longer live, and is taken over.
    tokio::time::sleep(LEASE + Duration::from_millis(100)).await;
    assert_eq!(
        store.last_tick("cron").await.unwrap(),
        None,
        "expired claim"
    );
    let next = claim("next", at, LONG);
    assert!(
        store.claim_tick(&next).await.unwrap(),
        "expired claim taken"
    );
    assert_eq!(store.last_tick("cron").await.unwrap(), Some(at));
    assert!(!store.claim_tick(&dead).await.unwrap(), "taken back");
    assert!(!store.renew_tick(&dead).await.unwrap(), "old owner renewed");

    // The old owner's late results, events or a failed poll, write nothing.
    let late = event("cron", at);
    let lost = store
        .complete_tick(&dead, std::slice::from_ref(&late), None)
        .await;
    assert!(matches!(lost, Err(StoreError::LeaseLost(_))), "{lost:?}");
    let lost = store
        .complete_tick(&dead, &[], Some((&late, "poll failed")))
        .await;
    assert!(matches!(lost, Err(StoreError::LeaseLost(_))), "{lost:?}");
    assert!(store.get_event(&late.id).await.unwrap().is_none());
    assert_eq!(event_count(&store).await, 0);

    let done = event("cron", at);
    store
        .complete_tick(&next, std::slice::from_ref(&done), None)
        .await
        .unwrap();
    assert_eq!(event_count(&store).await, 1);
    assert!(store.get_event(&done.id).await.unwrap().is_some());
    assert_eq!(store.tick_lease_until("cron", at).await.unwrap(), None);
    // Complete: neither taken over nor completed again, however old its lease.
    assert!(!store.claim_tick(&dead).await.unwrap());
    let again = store.complete_tick(&next, &[event("cron", at)], None).await;
    assert!(matches!(again, Err(StoreError::LeaseLost(_))), "{again:?}");
    assert_eq!(event_count(&store).await, 1);
}

async fn a_renewed_tick_claim_is_not_taken_over_and_its_owner_completes_it(
    store: Arc<dyn Store>,
    _raw: &Raw,
) {
    let at = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
    let owner = claim("owner", at, LEASE);
    assert!(store.claim_tick(&owner).await.unwrap());
    // One renewal, with a longer lease, outlives the first.
    let renewed = claim("owner", at, LONG);
    assert!(store.renew_tick(&renewed).await.unwrap());
    tokio::time::sleep(LEASE + Duration::from_millis(100)).await;
    assert!(!store.claim_tick(&claim("other", at, LONG)).await.unwrap());
    assert_eq!(
        store.last_tick("cron").await.unwrap(),
        Some(at),
        "still live"
    );
    let until = store.tick_lease_until("cron", at).await.unwrap();
    assert!(
        until.is_some_and(|u| u > Utc::now() + chrono::Duration::seconds(30)),
        "renewed to the long lease: {until:?}"
    );

    let tick = event("cron", at);
    store
        .complete_tick(&owner, std::slice::from_ref(&tick), None)
        .await
        .unwrap();
    assert!(store.get_event(&tick.id).await.unwrap().is_some());
    assert!(!store.renew_tick(&owner).await.unwrap(), "a complete tick");
    assert_eq!(store.tick_lease_until("cron", at).await.unwrap(), None);
    assert_eq!(store.last_tick("cron").await.unwrap(), Some(at));
}
