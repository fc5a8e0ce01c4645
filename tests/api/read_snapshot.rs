//! An event's detail is read from one snapshot on PostgreSQL too: a reader never sees its
//! deliveries finished while the event still says in flight. (PostgreSQL's default isolation,
//! READ COMMITTED, gives each statement of a transaction a snapshot of its own.)

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use serde_json::json;
use sqlx::Connection;
use switchyard::store::crypto::SecretKey;
use switchyard::store::{
    DeliveryNext, EventStatus, NewAttempt, NewDelivery, NewEvent, NewRun, RunOutcome, Store,
    SyncMode,
};

use crate::store_contract::PgDatabase;
use crate::store_faults::postgres::wait_for_lock_waiter;

const LEASE: Duration = Duration::from_secs(60);

/// One event whose run planned one delivery, claimed by `deliver`; returns both ids.
async fn claimed_delivery(store: &Arc<dyn Store>) -> (String, String) {
    let event = NewEvent {
        id: switchyard::ids::new_id(),
        recipe_id: "r".into(),
        trigger: "webhook".into(),
        received_at: Utc::now(),
        content_type: None,
        headers: json!({}),
        body: Vec::new(),
        payload: json!({}),
    };
    store
        .insert_events(std::slice::from_ref(&event))
        .await
        .unwrap();
    store.claim_events("engine", 1, LEASE).await.unwrap();
    let run = NewRun {
        event_id: event.id.clone(),
        recipe_id: "r".into(),
        recipe_version: 1,
        outcome: RunOutcome::Done {
            output: json!({}),
            dedupe: None,
            deliveries: vec![NewDelivery {
                action_index: 0,
                action_name: "a0".into(),
                start: switchyard::store::DeliveryStart::Due(chrono::Utc::now()),
                after: None,
                throttle: None,
            }],
        },
    };
    store.complete_run("engine", run).await.unwrap();
    let claimed = store.claim_deliveries("deliver", 1, LEASE).await.unwrap();
    (event.id, claimed[0].id.clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_read_while_its_delivery_finishes_is_read_from_one_snapshot_on_postgres() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let store = switchyard::store::open_with_key(
        Some(db.url.as_str()),
        dir.path(),
        SyncMode::Normal,
        SecretKey::from_bytes([7; 32]),
    )
    .await
    .unwrap();
    let (event_id, delivery_id) = claimed_delivery(&store).await;

    // The reader gets the event row, then waits on `runs` (its second statement) ...
    let mut side = sqlx::PgConnection::connect(&db.url).await.unwrap();
    let mut lock = side.begin().await.unwrap();
    sqlx::query("LOCK TABLE runs IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *lock)
        .await
        .unwrap();
    let reader = {
        let (store, event_id) = (store.clone(), event_id.clone());
        tokio::spawn(async move { store.get_event(&event_id).await })
    };
    wait_for_lock_waiter(&db.url).await;
    // ... while the delivery succeeds and the event becomes delivered.
    let attempt = NewAttempt {
        delivery_id,
        attempt_no: 1,
        started_at: Utc::now(),
        duration: Duration::from_millis(5),
        status_code: Some(200),
        response_snippet: None,
        error: None,
        response: None,
    };
    store
        .record_attempts("deliver", vec![(attempt, DeliveryNext::Delivered)])
        .await
        .unwrap();
    lock.rollback().await.unwrap();

    let detail = reader.await.unwrap().unwrap().unwrap();
    let seen = (
        detail.event.status,
        detail.deliveries[0].status.as_str(),
        detail.deliveries[0].attempts.len(),
    );
    assert_eq!(seen, (EventStatus::Done, "pending", 0), "one snapshot");
    let now = store.get_event(&event_id).await.unwrap().unwrap();
    assert_eq!(now.event.status, EventStatus::Delivered);
}
