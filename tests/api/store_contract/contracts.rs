//! The contracts themselves: written once, run against every store backend.

use chrono::{DateTime, Utc};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use switchyard::store::{
    DedupeClaim, EventStatus, Inserted, NewAttempt, NewDelivery, NewEvent, NewRun, RecipeUpsert,
    RunOutcome, SenderDelivery, Store, UpsertKind,
};

use super::Raw;

pub(super) fn event(recipe: &str, received_at: DateTime<Utc>) -> NewEvent {
    NewEvent {
        id: switchyard::ids::new_id(),
        recipe_id: recipe.into(),
        trigger: "webhook".into(),
        received_at,
        content_type: Some("application/json".into()),
        headers: json!({ "x-test": "1" }),
        body: b"{\"n\":1}".to_vec(),
        payload: json!({ "n": 1 }),
    }
}

pub(super) fn run(event_id: &str, outcome: RunOutcome) -> NewRun {
    NewRun {
        event_id: event_id.into(),
        recipe_id: "r".into(),
        recipe_version: 1,
        outcome,
    }
}

pub(super) fn done_with(key: Option<&str>, actions: usize) -> RunOutcome {
    RunOutcome::Done {
        output: json!({ "ok": true }),
        dedupe: key.map(|key| DedupeClaim {
            key: key.into(),
            window: Duration::from_secs(3600),
            force: false,
        }),
        deliveries: (0..actions)
            .map(|i| NewDelivery {
                action_index: i,
                action_name: format!("a{i}"),
                start: switchyard::store::DeliveryStart::Due(chrono::Utc::now()),
                after: None,
                throttle: None,
            })
            .collect(),
    }
}

pub(super) fn attempt(delivery_id: &str, attempt_no: u32, status_code: u16) -> NewAttempt {
    NewAttempt {
        delivery_id: delivery_id.into(),
        attempt_no,
        started_at: Utc::now(),
        duration: Duration::from_millis(5),
        status_code: Some(status_code),
        response_snippet: Some("body".into()),
        error: None,
        response: None,
    }
}

pub(super) const LEASE: Duration = Duration::from_millis(200);

pub(super) async fn status_of(store: &Arc<dyn Store>, id: &str) -> EventStatus {
    store.get_event(id).await.unwrap().unwrap().event.status
}

pub(super) async fn recipe_upsert_keeps_the_token_and_bumps_the_version_only_on_change(
    store: Arc<dyn Store>,
    _raw: &Raw,
) {
    let mut upsert = RecipeUpsert {
        id: "r1".into(),
        name: "One".into(),
        enabled: true,
        source: "source v1".into(),
        managed_by: None,
        author: None,
    };
    let created = store.upsert_recipe(upsert.clone()).await.unwrap();
    assert_eq!(created.kind, UpsertKind::Created);
    assert_eq!(created.recipe.version, 1);
    let token = created.recipe.webhook_token.clone();
    assert!(!token.is_empty());

    let same = store.upsert_recipe(upsert.clone()).await.unwrap();
    assert_eq!(same.kind, UpsertKind::Unchanged);
    assert_eq!(same.recipe.version, 1);

    upsert.enabled = false;
    let disabled = store.upsert_recipe(upsert.clone()).await.unwrap();
    assert_eq!(disabled.kind, UpsertKind::Updated);
    assert_eq!(disabled.recipe.version, 1, "same source, same version");
    assert!(!disabled.recipe.enabled);

    upsert.source = "source v2".into();
    let changed = store.upsert_recipe(upsert.clone()).await.unwrap();
    assert_eq!(changed.kind, UpsertKind::Updated);
    assert_eq!(changed.recipe.version, 2);
    assert_eq!(changed.recipe.webhook_token, token, "the token is kept");

    let by_token = store.recipe_by_token(&token).await.unwrap().unwrap();
    assert_eq!(by_token.source, "source v2");
    let rotated = store
        .rotate_token("r1", Duration::ZERO)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(rotated.webhook_token, token);
    assert!(store.recipe_by_token(&token).await.unwrap().is_none());
    let graced = store
        .rotate_token("r1", Duration::from_secs(3600))
        .await
        .unwrap()
        .unwrap();
    let kept = store.recipe_by_token(&rotated.webhook_token).await.unwrap();
    assert_eq!(
        kept.map(|r| r.id),
        Some("r1".to_owned()),
        "the old token works during grace"
    );
    assert!(
        store
            .recipe_by_token(&graced.webhook_token)
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(store.list_recipes().await.unwrap().len(), 1);
    assert!(store.delete_recipe("r1").await.unwrap());
    assert!(!store.delete_recipe("r1").await.unwrap());
    assert!(store.get_recipe("r1").await.unwrap().is_none());
}

pub(super) async fn claimed_events_are_leased_to_one_owner_until_the_lease_expires(
    store: Arc<dyn Store>,
    _raw: &Raw,
) {
    let events: Vec<NewEvent> = (0..3).map(|_| event("r", Utc::now())).collect();
    store.insert_events(&events).await.unwrap();

    let first = store.claim_events("a", 10, LEASE).await.unwrap();
    assert_eq!(first.len(), 3);
    assert!(first.iter().all(|e| !e.replay));
    assert_eq!(first[0].payload, json!({ "n": 1 }));
    assert_eq!(first[0].body, b"{\"n\":1}");
    assert!(store.claim_events("b", 10, LEASE).await.unwrap().is_empty());

    tokio::time::sleep(LEASE + Duration::from_millis(100)).await;
    let taken = store.claim_events("b", 10, LEASE).await.unwrap();
    assert_eq!(taken.len(), 3, "expired leases are taken again");

    // The first owner lost its lease: its result is refused, the new owner's is kept.
    let lost = store
        .complete_runs(
            "a",
            vec![run(
                &events[0].id,
                RunOutcome::Filtered {
                    reason: "test".into(),
                },
            )],
        )
        .await
        .unwrap();
    assert_eq!(lost, vec![None]);
    let status = store
        .complete_run(
            "b",
            run(
                &events[0].id,
                RunOutcome::Filtered {
                    reason: "test".into(),
                },
            ),
        )
        .await
        .unwrap();
    assert_eq!(status, EventStatus::Filtered);

    // Released events are claimable at once.
    store.release_events("b").await.unwrap();
    let released = store.claim_events("c", 10, LEASE).await.unwrap();
    assert_eq!(released.len(), 2);
    assert_eq!(store.backlog().await.unwrap().events_pending, 2);
}

pub(super) async fn concurrent_claims_split_the_events_without_overlap(
    store: Arc<dyn Store>,
    _raw: &Raw,
) {
    let events: Vec<NewEvent> = (0..40).map(|_| event("r", Utc::now())).collect();
    store.insert_events(&events).await.unwrap();
    let workers: Vec<_> = (0..4)
        .map(|n| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let batch = store
                        .claim_events(&format!("w{n}"), 3, Duration::from_secs(60))
                        .await
                        .unwrap();
                    if batch.is_empty() {
                        return mine;
                    }
                    mine.extend(batch.into_iter().map(|e| e.id));
                }
            })
        })
        .collect();
    let mut claimed = Vec::new();
    for worker in workers {
        claimed.extend(worker.await.unwrap());
    }
    claimed.sort();
    let total = claimed.len();
    claimed.dedup();
    assert_eq!(claimed.len(), total, "an event was claimed twice");
    assert_eq!(total, 40);
}

pub(super) async fn sender_delivery_ids_store_a_retry_as_nothing(
    store: Arc<dyn Store>,
    _raw: &Raw,
) {
    let since = Utc::now() - chrono::Duration::hours(1);
    let sender = Some(SenderDelivery {
        id: "msg_1".into(),
        since,
    });
    let (first, retry) = (event("r", Utc::now()), event("r", Utc::now()));
    let results = store
        .insert_events_once(&[(first.clone(), sender.clone()), (retry.clone(), sender)])
        .await
        .unwrap();
    assert_eq!(
        results,
        vec![
            Inserted::Stored,
            Inserted::Duplicate {
                event_id: first.id.clone()
            }
        ]
    );
    assert!(store.get_event(&retry.id).await.unwrap().is_none());
    let other = store
        .insert_events_once(&[(event("r", Utc::now()), None)])
        .await
        .unwrap();
    assert_eq!(other, vec![Inserted::Stored]);
}

pub(super) async fn a_second_run_with_the_same_dedupe_key_is_a_duplicate(
    store: Arc<dyn Store>,
    _raw: &Raw,
) {
    let events = [event("r", Utc::now()), event("r", Utc::now())];
    store.insert_events(&events).await.unwrap();
    assert_eq!(store.claim_events("w", 10, LEASE).await.unwrap().len(), 2);
    let statuses = store
        .complete_runs(
            "w",
            vec![
                run(&events[0].id, done_with(Some("k"), 1)),
                run(&events[1].id, done_with(Some("k"), 1)),
            ],
        )
        .await
        .unwrap();
    assert_eq!(
        statuses,
        vec![Some(EventStatus::Done), Some(EventStatus::Duplicate)]
    );
    let since = Utc::now() - chrono::Duration::minutes(1);
    assert!(store.dedupe_key_seen("r", "k", since).await.unwrap());
    assert!(!store.dedupe_key_seen("r", "other", since).await.unwrap());

    let first = store.get_event(&events[0].id).await.unwrap().unwrap();
    assert_eq!(first.event.status, EventStatus::Done);
    assert_eq!(first.deliveries.len(), 1);
    assert_eq!(first.runs[0].dedupe_key.as_deref(), Some("k"));
    let second = store.get_event(&events[1].id).await.unwrap().unwrap();
    assert_eq!(second.event.status, EventStatus::Duplicate);
    assert!(second.deliveries.is_empty());
    let backlog = store.backlog().await.unwrap();
    assert_eq!((backlog.events_pending, backlog.deliveries_pending), (0, 1));
}
