//! The store's side of sender retries: one delivery id is one event per recipe, within the window.

use chrono::Utc;
use serde_json::json;
use switchyard::store::{Inserted, NewEvent, SenderDelivery};

use crate::helpers::spawn_app;

#[tokio::test]
async fn a_delivery_id_is_a_retry_only_within_the_window_and_only_for_its_own_recipe() {
    let app = spawn_app().await;
    let event = |recipe: &str| NewEvent {
        id: uuid::Uuid::now_v7().to_string(),
        recipe_id: recipe.into(),
        trigger: "webhook".into(),
        received_at: Utc::now(),
        content_type: None,
        headers: json!({}),
        body: b"{}".to_vec(),
        payload: json!({}),
    };
    let within = |id: &str| {
        Some(SenderDelivery {
            id: id.into(),
            since: Utc::now() - chrono::Duration::days(7),
        })
    };
    let first = event("a");
    let batch = [
        (first.clone(), within("d1")),
        (event("a"), within("d1")),
        (event("b"), within("d1")),
        (event("a"), None),
    ];
    let results = app.store.insert_events_once(&batch).await.unwrap();
    let duplicate = Inserted::Duplicate {
        event_id: first.id.clone(),
    };
    let stored = Inserted::Stored;
    assert_eq!(
        results,
        [stored.clone(), duplicate, stored.clone(), stored.clone()]
    );

    // Once the first sighting is older than the window, the id starts a new event.
    let expired = SenderDelivery {
        id: "d1".into(),
        since: Utc::now() + chrono::Duration::seconds(1),
    };
    let results = app
        .store
        .insert_events_once(&[(event("a"), Some(expired))])
        .await
        .unwrap();
    assert_eq!(results, [stored]);
    assert_eq!(app.event_count().await, 4);
}
