//! The contracts themselves: written once, run against every store backend.

use chrono::{DateTime, Utc};
use serde_json::json;
use std::sync::Arc;
use switchyard::store::{
    DeliveryNext, EventCursor, EventPage, EventStatus, NewEvent, RunOutcome, Store, TickClaim,
};

use super::{Raw, test_key};

use super::contracts::{LEASE, attempt, done_with, event, run, status_of};

pub(super) async fn delivery_attempts_move_deliveries_and_refresh_the_event_status(
    store: Arc<dyn Store>,
    raw: &Raw,
) {
    let ev = event("r", Utc::now());
    store
        .insert_events(std::slice::from_ref(&ev))
        .await
        .unwrap();
    store.claim_events("w", 1, LEASE).await.unwrap();
    store
        .complete_run("w", run(&ev.id, done_with(None, 2)))
        .await
        .unwrap();

    let claimed = store.claim_deliveries("w", 10, LEASE).await.unwrap();
    assert_eq!(claimed.len(), 2);
    assert_eq!(claimed[0].event_payload, json!({ "n": 1 }));
    assert!(
        store
            .claim_deliveries("x", 10, LEASE)
            .await
            .unwrap()
            .is_empty()
    );
    let (d0, d1) = if claimed[0].action_name == "a0" {
        (claimed[0].id.clone(), claimed[1].id.clone())
    } else {
        (claimed[1].id.clone(), claimed[0].id.clone())
    };

    // One delivered, one to retry: the event is still in flight.
    store
        .record_attempts(
            "w",
            vec![
                (attempt(&d0, 1, 200), DeliveryNext::Delivered),
                (
                    attempt(&d1, 1, 503),
                    DeliveryNext::RetryAt(Utc::now() - chrono::Duration::seconds(1)),
                ),
            ],
        )
        .await
        .unwrap();
    assert_eq!(status_of(&store, &ev.id).await, EventStatus::Done);
    assert_eq!(
        raw.queued().await,
        std::slice::from_ref(&d1),
        "the delivered one left the queue"
    );

    let again = store.claim_deliveries("w", 10, LEASE).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(
        (again[0].id.as_str(), again[0].attempt_count),
        (d1.as_str(), 1)
    );
    // A worker without the lease records its attempt but does not move the delivery.
    store
        .record_attempts("x", vec![(attempt(&d1, 2, 200), DeliveryNext::Delivered)])
        .await
        .unwrap();
    store
        .record_attempts("w", vec![(attempt(&d1, 2, 500), DeliveryNext::Dead)])
        .await
        .unwrap();
    let detail = store.get_event(&ev.id).await.unwrap().unwrap();
    assert_eq!(detail.event.status, EventStatus::Dead);
    let dead = detail.deliveries.iter().find(|d| d.id == d1).unwrap();
    assert_eq!(dead.status, "dead");
    assert_eq!(dead.attempt_count, 2);
    assert_eq!(dead.last_error.as_deref(), Some("HTTP 500"));
    assert_eq!(dead.attempts.len(), 3);
    assert_eq!(store.backlog().await.unwrap().deliveries_pending, 0);
    assert!(
        raw.queued().await.is_empty(),
        "a dead delivery is not queued"
    );

    // An operator retry puts it back; success makes the event delivered.
    assert!(store.retry_delivery(&d1).await.unwrap());
    assert!(!store.retry_delivery(&d1).await.unwrap());
    assert_eq!(status_of(&store, &ev.id).await, EventStatus::Done);
    assert_eq!(
        raw.queued().await,
        std::slice::from_ref(&d1),
        "retried: queued again"
    );
    let retried = store.claim_deliveries("w", 10, LEASE).await.unwrap();
    assert_eq!(retried.len(), 1);
    store
        .record_attempts("w", vec![(attempt(&d1, 3, 204), DeliveryNext::Delivered)])
        .await
        .unwrap();
    assert_eq!(status_of(&store, &ev.id).await, EventStatus::Delivered);
    assert_eq!(store.retry_dead("r").await.unwrap(), 0);
    assert!(raw.queued().await.is_empty());
}

pub(super) async fn a_tick_is_claimed_once_per_recipe_and_time(store: Arc<dyn Store>, _raw: &Raw) {
    let at = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
    let claim = |owner: &str, scheduled_for: DateTime<Utc>, skipped: u64| TickClaim {
        recipe_id: "cron".into(),
        scheduled_for,
        owner: owner.into(),
        skipped,
        lease: std::time::Duration::from_secs(60),
    };
    assert!(store.claim_tick(&claim("p1", at, 2)).await.unwrap());
    assert!(!store.claim_tick(&claim("p1", at, 0)).await.unwrap());
    assert!(!store.claim_tick(&claim("p2", at, 0)).await.unwrap());
    let tick = event("cron", at);
    store
        .complete_tick(&claim("p1", at, 2), std::slice::from_ref(&tick), None)
        .await
        .unwrap();
    assert_eq!(status_of(&store, &tick.id).await, EventStatus::Pending);
    assert_eq!(store.last_tick("cron").await.unwrap(), Some(at));

    let next = at + chrono::Duration::minutes(1);
    assert!(store.claim_tick(&claim("p2", next, 1)).await.unwrap());
    assert!(!store.claim_tick(&claim("p1", next, 0)).await.unwrap());
    let failed = event("cron", next);
    store
        .complete_tick(&claim("p2", next, 1), &[], Some((&failed, "script error")))
        .await
        .unwrap();
    let detail = store.get_event(&failed.id).await.unwrap().unwrap();
    assert_eq!(detail.event.status, EventStatus::Failed);
    assert_eq!(detail.event.error.as_deref(), Some("script error"));
    assert_eq!(store.last_tick("cron").await.unwrap(), Some(next));
    assert_eq!(store.skipped_ticks("cron").await.unwrap(), 3);
    assert_eq!(store.skipped_ticks("none").await.unwrap(), 0);
    assert_eq!(store.last_tick("none").await.unwrap(), None);
}

pub(super) async fn secrets_roundtrip_and_are_sealed_in_the_row(store: Arc<dyn Store>, raw: &Raw) {
    store
        .set_secret("TOKEN", "plain-token-value")
        .await
        .unwrap();
    assert_eq!(
        store.get_secret("TOKEN").await.unwrap().as_deref(),
        Some("plain-token-value")
    );
    let column = raw.secret_column("TOKEN").await;
    assert_ne!(column, b"plain-token-value");
    assert!(!column.windows(17).any(|w| w == b"plain-token-value"));
    assert_eq!(
        test_key().open("TOKEN", &column).unwrap(),
        b"plain-token-value"
    );

    store.set_secret("TOKEN", "second").await.unwrap();
    store.set_secret("API", "x").await.unwrap();
    assert_eq!(
        store.get_secret("TOKEN").await.unwrap().as_deref(),
        Some("second")
    );
    assert_eq!(store.list_secret_names().await.unwrap(), ["API", "TOKEN"]);
    assert!(store.delete_secret("API").await.unwrap());
    assert!(!store.delete_secret("API").await.unwrap());
    assert_eq!(store.get_secret("API").await.unwrap(), None);
}

pub(super) async fn events_page_by_keyset_newest_first(store: Arc<dyn Store>, _raw: &Raw) {
    let base = Utc::now() - chrono::Duration::minutes(10);
    // Two share a time: the id breaks the tie.
    let events: Vec<NewEvent> = [0, 1, 1, 2, 3]
        .iter()
        .map(|s| event("p", base + chrono::Duration::seconds(*s)))
        .collect();
    store.insert_events(&events).await.unwrap();
    store.insert_events(&[event("q", base)]).await.unwrap();
    let mut expected: Vec<(i64, String)> = events
        .iter()
        .map(|e| (e.received_at.timestamp_millis(), e.id.clone()))
        .collect();
    expected.sort_by(|a, b| b.cmp(a));

    let mut seen = Vec::new();
    let mut page = EventPage {
        recipe_id: Some("p".into()),
        limit: 2,
        ..EventPage::default()
    };
    loop {
        let rows = store.page_events(&page).await.unwrap();
        if rows.is_empty() {
            break;
        }
        assert!(rows.len() <= 2);
        let last = rows.last().unwrap();
        page.before = Some(EventCursor {
            received_at_ms: last.received_at.timestamp_millis(),
            id: last.id.clone(),
        });
        seen.extend(
            rows.into_iter()
                .map(|r| (r.received_at.timestamp_millis(), r.id)),
        );
    }
    assert_eq!(seen, expected);

    let all = EventPage {
        limit: 100,
        ..EventPage::default()
    };
    assert_eq!(store.page_events(&all).await.unwrap().len(), 6);
    let pending = EventPage {
        recipe_id: Some("p".into()),
        statuses: vec![EventStatus::Pending, EventStatus::Dead],
        limit: 3,
        ..EventPage::default()
    };
    let rows = store.page_events(&pending).await.unwrap();
    assert_eq!(
        rows.iter().map(|r| r.id.clone()).collect::<Vec<_>>(),
        expected[..3]
            .iter()
            .map(|e| e.1.clone())
            .collect::<Vec<_>>()
    );
    let dead = EventPage {
        statuses: vec![EventStatus::Dead],
        limit: 10,
        ..EventPage::default()
    };
    assert!(store.page_events(&dead).await.unwrap().is_empty());
}

pub(super) async fn prune_history_deletes_finished_events_only(store: Arc<dyn Store>, _raw: &Raw) {
    let old = Utc::now() - chrono::Duration::days(2);
    let (filtered, failed, pending, delivering) = (
        event("r", old),
        event("r", old),
        event("r", old),
        event("r", old),
    );
    let recent = event("r", Utc::now());
    store
        .insert_events(&[
            filtered.clone(),
            failed.clone(),
            delivering.clone(),
            recent.clone(),
        ])
        .await
        .unwrap();
    store.claim_events("w", 10, LEASE).await.unwrap();
    let outcomes = vec![
        run(
            &filtered.id,
            RunOutcome::Filtered {
                reason: "test".into(),
            },
        ),
        run(
            &failed.id,
            RunOutcome::Failed {
                error: "boom".into(),
            },
        ),
        run(&delivering.id, done_with(None, 1)),
        run(
            &recent.id,
            RunOutcome::Filtered {
                reason: "test".into(),
            },
        ),
    ];
    store.complete_runs("w", outcomes).await.unwrap();
    store
        .insert_events(std::slice::from_ref(&pending))
        .await
        .unwrap();

    let report = store
        .prune_history(Utc::now() - chrono::Duration::days(1))
        .await
        .unwrap();
    assert_eq!(report.events, 2);
    for gone in [&filtered, &failed] {
        assert!(store.get_event(&gone.id).await.unwrap().is_none());
    }
    for kept in [&pending, &delivering, &recent] {
        assert!(store.get_event(&kept.id).await.unwrap().is_some());
    }
    assert_eq!(store.backlog().await.unwrap().deliveries_pending, 1);
}
