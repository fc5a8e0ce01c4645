//! Lease renewal, hand-back and claims that pass over full destinations, on every backend.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use switchyard::store::{DeliveryNext, NewEvent, RunOutcome, Store};

use super::contracts::{LEASE, attempt, done_with, event, run};
use super::{PgDatabase, Raw, postgres_store, sqlite_store};

const LONG: Duration = Duration::from_secs(60);

contracts!(
    renewed_delivery_claims_outlive_their_lease_and_a_taken_one_is_not_renewed,
    released_delivery_claims_are_due_at_once_with_no_attempt_counted,
    delivery_claims_pass_over_the_skipped_actions,
    renewed_event_claims_outlive_their_lease_and_a_taken_one_is_not_renewed,
);

/// One event whose run planned deliveries `a0`..`a{n-1}` of recipe `r`; returns the event id
/// and their ids by action index, unclaimed.
async fn deliveries(store: &Arc<dyn Store>, n: usize) -> (String, Vec<String>) {
    let ev = event("r", Utc::now());
    store
        .insert_events(std::slice::from_ref(&ev))
        .await
        .unwrap();
    store.claim_events("engine", 1, LEASE).await.unwrap();
    store
        .complete_run("engine", run(&ev.id, done_with(None, n)))
        .await
        .unwrap();
    let detail = store.get_event(&ev.id).await.unwrap().unwrap();
    let ids = detail.deliveries.iter().map(|d| d.id.clone()).collect();
    (ev.id, ids)
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

async fn renewed_delivery_claims_outlive_their_lease_and_a_taken_one_is_not_renewed(
    store: Arc<dyn Store>,
    _raw: &Raw,
) {
    let (event_id, ids) = deliveries(&store, 2).await;
    assert_eq!(
        store.claim_deliveries("w", 10, LEASE).await.unwrap().len(),
        2
    );
    let renewed = store.renew_delivery_leases("w", &ids, LONG).await.unwrap();
    assert_eq!(sorted(renewed), sorted(ids.clone()));
    tokio::time::sleep(LEASE + Duration::from_millis(100)).await;
    assert!(
        store
            .claim_deliveries("x", 10, LEASE)
            .await
            .unwrap()
            .is_empty(),
        "renewed claims are not taken over"
    );

    // Not renewed, the claim on ids[1] runs out and another worker takes it.
    store
        .renew_delivery_leases("w", &ids[..1], Duration::ZERO)
        .await
        .unwrap();
    store.release_delivery_claims("w", &ids[1..]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    let taken = store.claim_deliveries("x", 10, LONG).await.unwrap();
    assert_eq!(taken.len(), 2, "an expired or released claim is taken");
    let renewed = store.renew_delivery_leases("w", &ids, LONG).await.unwrap();
    assert!(renewed.is_empty(), "w renewed x's claims: {renewed:?}");

    // w's late result does not move the delivery; x's does.
    store
        .record_attempts(
            "w",
            vec![(attempt(&ids[0], 1, 200), DeliveryNext::Delivered)],
        )
        .await
        .unwrap();
    assert_eq!(status(&store, &event_id, &ids[0]).await, "pending");
    store
        .record_attempts(
            "x",
            vec![(attempt(&ids[0], 1, 200), DeliveryNext::Delivered)],
        )
        .await
        .unwrap();
    assert_eq!(status(&store, &event_id, &ids[0]).await, "delivered");
}

async fn released_delivery_claims_are_due_at_once_with_no_attempt_counted(
    store: Arc<dyn Store>,
    _raw: &Raw,
) {
    let (_, ids) = deliveries(&store, 2).await;
    assert_eq!(
        store.claim_deliveries("w", 10, LONG).await.unwrap().len(),
        2
    );
    // Another owner cannot release w's claims.
    store.release_delivery_claims("x", &ids).await.unwrap();
    assert!(
        store
            .claim_deliveries("x", 10, LONG)
            .await
            .unwrap()
            .is_empty()
    );

    store.release_delivery_claims("w", &ids[..1]).await.unwrap();
    let again = store.claim_deliveries("x", 10, LONG).await.unwrap();
    assert_eq!(again.len(), 1, "only the released claim is free");
    assert_eq!(
        (again[0].id.as_str(), again[0].attempt_count),
        (ids[0].as_str(), 0)
    );
    let detail = store.get_event(&again[0].event_id).await.unwrap().unwrap();
    assert!(detail.deliveries.iter().all(|d| d.attempts.is_empty()));
}

async fn delivery_claims_pass_over_the_skipped_actions(store: Arc<dyn Store>, _raw: &Raw) {
    let (_, ids) = deliveries(&store, 3).await;
    let skip = vec![
        ("r".to_owned(), "a0".to_owned()),
        ("r".to_owned(), "a2".to_owned()),
        ("other".to_owned(), "a1".to_owned()),
    ];
    let claimed = store
        .claim_deliveries_skipping("w", 10, LONG, &skip)
        .await
        .unwrap();
    assert_eq!(
        claimed.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(),
        vec![ids[1].as_str()]
    );
    let rest = store
        .claim_deliveries_skipping("w", 10, LONG, &[])
        .await
        .unwrap();
    assert_eq!(
        sorted(rest.into_iter().map(|d| d.id).collect()),
        sorted(vec![ids[0].clone(), ids[2].clone()])
    );
}

async fn renewed_event_claims_outlive_their_lease_and_a_taken_one_is_not_renewed(
    store: Arc<dyn Store>,
    _raw: &Raw,
) {
    let events: Vec<NewEvent> = (0..2).map(|_| event("r", Utc::now())).collect();
    store.insert_events(&events).await.unwrap();
    let ids: Vec<String> = events.iter().map(|e| e.id.clone()).collect();
    assert_eq!(store.claim_events("a", 10, LEASE).await.unwrap().len(), 2);
    let renewed = store
        .renew_event_leases("a", &ids[..1], LONG)
        .await
        .unwrap();
    assert_eq!(renewed, ids[..1].to_vec());
    tokio::time::sleep(LEASE + Duration::from_millis(100)).await;

    let taken = store.claim_events("b", 10, LONG).await.unwrap();
    assert_eq!(
        taken.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
        vec![ids[1].as_str()],
        "only the claim that was not renewed is taken over"
    );
    let renewed = store.renew_event_leases("a", &ids, LONG).await.unwrap();
    assert_eq!(renewed, ids[..1].to_vec(), "a renewed b's claim");
    let lost = store
        .complete_runs(
            "a",
            vec![run(
                &ids[1],
                RunOutcome::Filtered {
                    reason: "test".into(),
                },
            )],
        )
        .await
        .unwrap();
    assert_eq!(lost, vec![None]);
}

async fn status(store: &Arc<dyn Store>, event_id: &str, delivery_id: &str) -> String {
    let detail = store.get_event(event_id).await.unwrap().unwrap();
    let delivery = detail.deliveries.iter().find(|d| d.id == delivery_id);
    delivery.expect("delivery of the event").status.clone()
}
