//! History retention: finished events go, in-flight ones and dedupe keys stay.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use switchyard::engine::cache::RecipeCache;
use switchyard::retention::Pruner;
use switchyard::script::{ScriptEngine, ScriptLimits};
use switchyard::store::EventStatus;

use crate::helpers::{grace, spawn_app};
use crate::receiver::Receiver;

async fn attempts_in(app: &crate::helpers::TestApp) -> i64 {
    let db = app.data_dir.path().join("switchyard.db");
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(db)
        .read_only(true);
    let pool = sqlx::SqlitePool::connect_with(options)
        .await
        .expect("open the store file");
    sqlx::query_scalar("SELECT COUNT(*) FROM attempts")
        .fetch_one(&pool)
        .await
        .expect("count attempts")
}

#[tokio::test]
async fn pruning_deletes_finished_history_but_keeps_in_flight_events_and_dedupe_keys() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    let recipe = app
        .import(&format!(
            r#"
id = "kept"
name = "Kept"
dedupe = "event.id"
[trigger.webhook]
[filter]
script = "event.amount > 10"
[[action]]
name = "notify"
url = "{}"
retry = {{ schedule = ["0s", "1h"] }}
"#,
            receiver.url("/in")
        ))
        .await;

    let delivered = app
        .send_event(&recipe, &json!({ "id": "a", "amount": 50 }))
        .await;
    app.wait_for_event(&delivered, |d| d.event.status == EventStatus::Delivered)
        .await;
    let filtered = app
        .send_event(&recipe, &json!({ "id": "b", "amount": 1 }))
        .await;
    app.wait_for_event(&filtered, |d| d.event.status == EventStatus::Filtered)
        .await;
    receiver.always(500);
    let in_flight = app
        .send_event(&recipe, &json!({ "id": "c", "amount": 70 }))
        .await;
    app.wait_for_event(&in_flight, |d| {
        d.deliveries.first().is_some_and(|x| x.attempt_count == 1)
    })
    .await;
    let attempts_before = attempts_in(&app).await;

    let cache = Arc::new(RecipeCache::new(ScriptEngine::new(ScriptLimits::default())));
    let pruner = Pruner::new(app.store.clone(), cache, Duration::ZERO);
    let report = pruner.run_once().await.expect("prune");

    assert_eq!(report.events, 2, "the delivered and the filtered event");
    assert!(app.store.get_event(&delivered).await.unwrap().is_none());
    assert!(app.store.get_event(&filtered).await.unwrap().is_none());
    let kept = app.event(&in_flight).await;
    assert_eq!(
        kept.event.status,
        EventStatus::Done,
        "deliveries still in flight"
    );
    assert_eq!(kept.deliveries[0].attempts.len(), 1);
    assert_eq!(
        attempts_in(&app).await,
        attempts_before - 1,
        "the delivered event's attempt went with it"
    );

    // The dedupe key of the pruned event still holds within the recipe's window.
    receiver.always(200);
    let again = app
        .send_event(&recipe, &json!({ "id": "a", "amount": 50 }))
        .await;
    let detail = app.wait_for_run(&again).await;
    assert_eq!(detail.event.status, EventStatus::Duplicate);
    grace().await;
    assert_eq!(
        receiver
            .requests()
            .iter()
            .filter(|r| r.json()["id"] == "a")
            .count(),
        1,
        "`a` was acted on once"
    );
}
