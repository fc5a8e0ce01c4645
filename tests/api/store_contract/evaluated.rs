//! `insert_evaluated`: a webhook answered with its own run (`respond = "result"`) commits the
//! event with that run; the engine never claims it; duplicates name the event that acted.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use serde_json::json;
use switchyard::store::{EarlierRun, Evaluated, EventStatus, RunOutcome, SenderDelivery, Store};

use super::contracts::{done_with, event, run};
use super::{PgDatabase, Raw, postgres_store, sqlite_store};

contracts!(
    an_evaluated_event_commits_with_its_run_and_is_never_claimed,
    an_evaluated_duplicate_names_the_event_holding_the_key_and_its_output,
    an_evaluated_sender_retry_stores_nothing_and_names_the_first_output,
);

const LONG: Duration = Duration::from_secs(60);

fn sender(id: &str) -> Option<SenderDelivery> {
    Some(SenderDelivery {
        id: id.into(),
        since: Utc::now() - chrono::Duration::hours(1),
    })
}

fn filtered() -> RunOutcome {
    RunOutcome::Filtered {
        reason: "the filter script returned false".into(),
    }
}

pub(super) async fn an_evaluated_event_commits_with_its_run_and_is_never_claimed(
    store: Arc<dyn Store>,
    _raw: &Raw,
) {
    let passed = event("r", Utc::now());
    let evaluated = store
        .insert_evaluated(passed.clone(), None, 3, done_with(Some("k"), 2))
        .await
        .unwrap();
    assert_eq!(
        evaluated,
        Evaluated::Stored {
            status: EventStatus::Done
        }
    );
    let refused = event("r", Utc::now());
    let evaluated = store
        .insert_evaluated(refused.clone(), None, 3, filtered())
        .await
        .unwrap();
    assert_eq!(
        evaluated,
        Evaluated::Stored {
            status: EventStatus::Filtered
        }
    );

    let detail = store.get_event(&passed.id).await.unwrap().unwrap();
    assert_eq!(detail.event.status, EventStatus::Done);
    assert_eq!(detail.runs.len(), 1);
    assert_eq!(detail.runs[0].recipe_version, 3);
    assert_eq!(detail.runs[0].output, Some(json!({ "ok": true })));
    assert_eq!(detail.runs[0].dedupe_key.as_deref(), Some("k"));
    assert_eq!(detail.deliveries.len(), 2);
    let detail = store.get_event(&refused.id).await.unwrap().unwrap();
    assert_eq!(detail.event.status, EventStatus::Filtered);
    assert_eq!(detail.runs.len(), 1);
    assert!(detail.deliveries.is_empty());

    assert!(store.claim_events("w", 10, LONG).await.unwrap().is_empty());
    assert_eq!(
        store.claim_deliveries("d", 10, LONG).await.unwrap().len(),
        2
    );
    let since = Utc::now() - chrono::Duration::minutes(1);
    assert!(store.dedupe_key_seen("r", "k", since).await.unwrap());
}

pub(super) async fn an_evaluated_duplicate_names_the_event_holding_the_key_and_its_output(
    store: Arc<dyn Store>,
    _raw: &Raw,
) {
    // The key taken by the engine's run of an accepted event.
    let first = event("r", Utc::now());
    store
        .insert_events(std::slice::from_ref(&first))
        .await
        .unwrap();
    store.claim_events("w", 10, LONG).await.unwrap();
    store
        .complete_run("w", run(&first.id, done_with(Some("k"), 1)))
        .await
        .unwrap();
    let earlier = Evaluated::Duplicate {
        first: Some(EarlierRun {
            event_id: first.id.clone(),
            output: Some(json!({ "ok": true })),
        }),
    };

    // Checked before the scripts ran: a duplicate run.
    let checked = event("r", Utc::now());
    let outcome = RunOutcome::Duplicate { key: "k".into() };
    let evaluated = store
        .insert_evaluated(checked.clone(), None, 1, outcome)
        .await
        .unwrap();
    assert_eq!(evaluated, earlier);
    // Passed between the check and the commit: the claim in the commit makes it a duplicate.
    let raced = event("r", Utc::now());
    let evaluated = store
        .insert_evaluated(raced.clone(), None, 1, done_with(Some("k"), 1))
        .await
        .unwrap();
    assert_eq!(evaluated, earlier);

    for id in [&checked.id, &raced.id] {
        let detail = store.get_event(id).await.unwrap().unwrap();
        assert_eq!(detail.event.status, EventStatus::Duplicate);
        assert_eq!(detail.runs.len(), 1);
        assert_eq!(detail.runs[0].status, EventStatus::Duplicate);
        assert!(detail.deliveries.is_empty(), "a duplicate starts nothing");
    }
    assert_eq!(
        store.claim_deliveries("d", 10, LONG).await.unwrap().len(),
        1
    );

    // A sender retry of a duplicate is answered as the duplicate was: with the key holder.
    let answered = event("r", Utc::now());
    let outcome = RunOutcome::Duplicate { key: "k".into() };
    let evaluated = store
        .insert_evaluated(answered, sender("d9"), 1, outcome)
        .await
        .unwrap();
    assert_eq!(evaluated, earlier);
    let retry = store
        .insert_evaluated(event("r", Utc::now()), sender("d9"), 1, done_with(None, 1))
        .await
        .unwrap();
    let Evaluated::Duplicate { first: Some(first) } = earlier else {
        unreachable!()
    };
    assert_eq!(retry, Evaluated::SenderRetry { first });
}

pub(super) async fn an_evaluated_sender_retry_stores_nothing_and_names_the_first_output(
    store: Arc<dyn Store>,
    _raw: &Raw,
) {
    let passed = event("r", Utc::now());
    store
        .insert_evaluated(passed.clone(), sender("d1"), 1, done_with(None, 1))
        .await
        .unwrap();
    let refused = event("r", Utc::now());
    store
        .insert_evaluated(refused.clone(), sender("d2"), 1, filtered())
        .await
        .unwrap();
    // First received by an accepted-mode webhook, not run yet.
    let queued = event("r", Utc::now());
    store
        .insert_events_once(&[(queued.clone(), sender("d3"))])
        .await
        .unwrap();

    for (id, first, output) in [
        ("d1", &passed, Some(json!({ "ok": true }))),
        ("d2", &refused, None),
        ("d3", &queued, None),
    ] {
        let retry = event("r", Utc::now());
        let evaluated = store
            .insert_evaluated(retry.clone(), sender(id), 1, done_with(None, 1))
            .await
            .unwrap();
        let first = EarlierRun {
            event_id: first.id.clone(),
            output,
        };
        assert_eq!(evaluated, Evaluated::SenderRetry { first }, "{id}");
        assert!(store.get_event(&retry.id).await.unwrap().is_none(), "{id}");
    }
    assert_eq!(
        store.claim_deliveries("d", 10, LONG).await.unwrap().len(),
        1
    );
}
