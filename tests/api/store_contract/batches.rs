//! Set-based batches: every run, id and key of a batch decided as if one after the other.

use chrono::Utc;
use std::sync::Arc;
use std::time::Duration;
use switchyard::store::{
    DedupeClaim, EventStatus, Inserted, NewEvent, RunOutcome, SenderDelivery, Store,
};

use super::contracts::{done_with, event, run};
use super::{PgDatabase, Raw, postgres_store, sqlite_store};

contracts!(
    a_batch_of_sender_ids_mixes_stored_retried_in_batch_and_expired,
    a_batch_of_dedupe_keys_acts_once_per_key_and_replays_act_anyway,
    a_lease_lost_mid_batch_writes_nothing_for_that_event_and_the_rest_commits,
    a_failed_run_in_a_batch_commits_with_the_rest,
);

/// Longer than any test: claims that must not run out.
const LONG: Duration = Duration::from_secs(60);

fn sender(id: &str, since: chrono::DateTime<Utc>) -> Option<SenderDelivery> {
    Some(SenderDelivery {
        id: id.into(),
        since,
    })
}

pub(super) async fn a_batch_of_sender_ids_mixes_stored_retried_in_batch_and_expired(
    store: Arc<dyn Store>,
    _raw: &Raw,
) {
    let hour_ago = Utc::now() - chrono::Duration::hours(1);
    let (seen, old) = (event("r", Utc::now()), event("r", Utc::now()));
    store
        .insert_events_once(&[
            (seen.clone(), sender("msg_1", hour_ago)),
            (old.clone(), sender("msg_3", hour_ago)),
        ])
        .await
        .unwrap();
    let batch: Vec<(NewEvent, Option<SenderDelivery>)> = vec![
        (event("r", Utc::now()), sender("msg_1", hour_ago)),
        (event("r", Utc::now()), sender("msg_2", hour_ago)),
        (event("r", Utc::now()), sender("msg_2", hour_ago)),
        // msg_3 was seen before this sender's window began: a new delivery.
        (
            event("r", Utc::now()),
            sender("msg_3", Utc::now() + chrono::Duration::seconds(1)),
        ),
        (event("r", Utc::now()), None),
        // The same id at another recipe is another delivery.
        (event("other", Utc::now()), sender("msg_1", hour_ago)),
        // A second retry in the batch of what its first sighting retried.
        (event("r", Utc::now()), sender("msg_1", hour_ago)),
    ];
    let results = store.insert_events_once(&batch).await.unwrap();
    assert_eq!(
        results,
        vec![
            Inserted::Duplicate {
                event_id: seen.id.clone()
            },
            Inserted::Stored,
            Inserted::Duplicate {
                event_id: batch[1].0.id.clone()
            },
            Inserted::Stored,
            Inserted::Stored,
            Inserted::Stored,
            Inserted::Duplicate {
                event_id: seen.id.clone()
            },
        ]
    );
    for (i, (event, _)) in batch.iter().enumerate() {
        let stored = store.get_event(&event.id).await.unwrap().is_some();
        assert_eq!(stored, matches!(results[i], Inserted::Stored), "event {i}");
    }
    // The expired sighting was taken over: a retry of msg_3 now answers with the new event.
    let retry = store
        .insert_events_once(&[(event("r", Utc::now()), sender("msg_3", hour_ago))])
        .await
        .unwrap();
    assert_eq!(
        retry,
        vec![Inserted::Duplicate {
            event_id: batch[3].0.id.clone()
        }]
    );
}

fn replay_of(key: &str) -> RunOutcome {
    let RunOutcome::Done {
        output, deliveries, ..
    } = done_with(None, 1)
    else {
        unreachable!()
    };
    RunOutcome::Done {
        output,
        deliveries,
        dedupe: Some(DedupeClaim {
            key: key.into(),
            window: Duration::from_secs(3600),
            force: true,
        }),
    }
}

pub(super) async fn a_batch_of_dedupe_keys_acts_once_per_key_and_replays_act_anyway(
    store: Arc<dyn Store>,
    _raw: &Raw,
) {
    let earlier = event("r", Utc::now());
    store
        .insert_events(std::slice::from_ref(&earlier))
        .await
        .unwrap();
    store.claim_events("w", 10, LONG).await.unwrap();
    store
        .complete_runs("w", vec![run(&earlier.id, done_with(Some("k"), 1))])
        .await
        .unwrap();

    let events: Vec<NewEvent> = (0..5).map(|_| event("r", Utc::now())).collect();
    store.insert_events(&events).await.unwrap();
    assert_eq!(store.claim_events("w", 10, LONG).await.unwrap().len(), 5);
    let statuses = store
        .complete_runs(
            "w",
            vec![
                run(&events[0].id, done_with(Some("k"), 1)),
                run(&events[1].id, done_with(Some("k2"), 1)),
                run(&events[2].id, done_with(Some("k2"), 1)),
                run(&events[3].id, replay_of("k")),
                run(&events[4].id, done_with(None, 2)),
            ],
        )
        .await
        .unwrap();
    use EventStatus::{Done, Duplicate};
    assert_eq!(
        statuses,
        vec![
            Some(Duplicate),
            Some(Done),
            Some(Duplicate),
            Some(Done),
            Some(Done)
        ]
    );
    let deliveries = [0, 1, 0, 1, 2];
    for (event, expected) in events.iter().zip(deliveries) {
        let detail = store.get_event(&event.id).await.unwrap().unwrap();
        assert_eq!(detail.deliveries.len(), expected, "event {}", event.id);
        assert_eq!(detail.runs.len(), 1);
    }
}

pub(super) async fn a_lease_lost_mid_batch_writes_nothing_for_that_event_and_the_rest_commits(
    store: Arc<dyn Store>,
    _raw: &Raw,
) {
    let events = [event("r", Utc::now()), event("r", Utc::now())];
    store.insert_events(&events).await.unwrap();
    let short = Duration::from_millis(300);
    assert_eq!(store.claim_events("a", 10, short).await.unwrap().len(), 2);
    // `a` keeps the first event's claim alive; the second's runs out and `b` takes it.
    let kept = store
        .renew_event_leases("a", &[events[0].id.clone()], LONG)
        .await
        .unwrap();
    assert_eq!(kept, vec![events[0].id.clone()]);
    tokio::time::sleep(short + Duration::from_millis(200)).await;
    let taken = store.claim_events("b", 10, LONG).await.unwrap();
    assert_eq!(taken.len(), 1);
    assert_eq!(taken[0].id, events[1].id);

    let statuses = store
        .complete_runs(
            "a",
            vec![
                run(&events[0].id, done_with(None, 1)),
                run(&events[1].id, done_with(None, 1)),
            ],
        )
        .await
        .unwrap();
    assert_eq!(statuses, vec![Some(EventStatus::Done), None]);
    let lost = store.get_event(&events[1].id).await.unwrap().unwrap();
    assert!(lost.runs.is_empty(), "the lost event got a run: {lost:?}");
    assert!(lost.deliveries.is_empty());
    assert_eq!(lost.event.status, EventStatus::Pending);
    let statuses = store
        .complete_runs("b", vec![run(&events[1].id, done_with(None, 1))])
        .await
        .unwrap();
    assert_eq!(statuses, vec![Some(EventStatus::Done)]);
}

pub(super) async fn a_failed_run_in_a_batch_commits_with_the_rest(
    store: Arc<dyn Store>,
    _raw: &Raw,
) {
    let events: Vec<NewEvent> = (0..3).map(|_| event("r", Utc::now())).collect();
    store.insert_events(&events).await.unwrap();
    store.claim_events("w", 10, LONG).await.unwrap();
    let statuses = store
        .complete_runs(
            "w",
            vec![
                run(&events[0].id, done_with(None, 1)),
                run(
                    &events[1].id,
                    RunOutcome::Failed {
                        error: "filter script: `amount` is missing".into(),
                    },
                ),
                run(
                    &events[2].id,
                    RunOutcome::Filtered {
                        reason: "row 1: amount 5 is not greater than 10".into(),
                    },
                ),
            ],
        )
        .await
        .unwrap();
    use EventStatus::{Done, Failed, Filtered};
    assert_eq!(statuses, vec![Some(Done), Some(Failed), Some(Filtered)]);
    let failed = store.get_event(&events[1].id).await.unwrap().unwrap();
    assert_eq!(
        failed.event.error.as_deref(),
        Some("filter script: `amount` is missing")
    );
    assert!(failed.deliveries.is_empty());
    let filtered = store.get_event(&events[2].id).await.unwrap().unwrap();
    assert_eq!(
        filtered.runs[0].filter_reason.as_deref(),
        Some("row 1: amount 5 is not greater than 10")
    );
    assert_eq!(
        store
            .get_event(&events[0].id)
            .await
            .unwrap()
            .unwrap()
            .deliveries
            .len(),
        1
    );
    // Nothing is left to claim.
    assert!(store.claim_events("w", 10, LONG).await.unwrap().is_empty());
}
