//! `split = "/items"`: one request, one event per element (own dedupe key, run and
//! deliveries), committed with the request before the 202; an empty list stores the request
//! and starts nothing; a pointer to a non-list is a 422 that stores nothing; a sender retry of
//! a split delivery stores nothing and answers the first request's ids. On SQLite and on
//! PostgreSQL (with `SWITCHYARD_TEST_POSTGRES`).

use std::collections::BTreeSet;

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use switchyard::store::{EventStatus, StoredRecipe};

use super::plain_recipe;
use crate::helpers::{TestApp, WAIT, grace, spawn_app_with};
use crate::receiver::Receiver;

on_both_backends!(
    a_list_of_100_becomes_100_events_runs_and_deliveries,
    an_empty_list_stores_the_request_and_starts_nothing,
    a_pointer_to_a_non_list_is_a_422_naming_it_and_stores_nothing,
    a_sender_retry_of_a_split_request_answers_its_ids_and_stores_nothing,
);

async fn spawn(database_url: Option<String>) -> TestApp {
    spawn_app_with(|settings| settings.database_url = database_url).await
}

async fn split_recipe(app: &TestApp, receiver: &Receiver) -> StoredRecipe {
    app.import(&plain_recipe(
        "split",
        "dedupe = \"event.sku\"",
        "split = \"/items\"",
        &receiver.url("/item"),
    ))
    .await
}

fn ids(answer: &Value) -> Vec<String> {
    let list = answer["event_ids"].as_array().expect("event_ids is a list");
    list.iter()
        .map(|id| id.as_str().unwrap().to_owned())
        .collect()
}

async fn a_list_of_100_becomes_100_events_runs_and_deliveries(app: TestApp) {
    let receiver = Receiver::start().await;
    let recipe = split_recipe(&app, &receiver).await;
    let items: Vec<Value> = (0..100)
        .map(|i| json!({ "sku": format!("sku-{i}"), "n": i }))
        .collect();
    let response = app
        .post_json(&recipe, &json!({ "order": "o-1", "items": items }))
        .await;
    assert_eq!(response.status(), 202);
    let answer: Value = response.json().await.unwrap();
    let children = ids(&answer);
    assert_eq!(children.len(), 100, "{answer}");
    assert_eq!(
        children.iter().collect::<BTreeSet<_>>().len(),
        100,
        "distinct ids"
    );

    // The request is kept as sent, with status `split` and no run of its own.
    let parent = app.event(answer["event_id"].as_str().unwrap()).await;
    assert_eq!(parent.event.status, EventStatus::Split);
    assert!(parent.runs.is_empty() && parent.deliveries.is_empty());
    assert_eq!(parent.event.payload["order"], "o-1");

    let delivered = receiver.wait_for(100, WAIT).await;
    let bodies: BTreeSet<String> = delivered.iter().map(|r| r.json().to_string()).collect();
    let sent: BTreeSet<String> = items.iter().map(Value::to_string).collect();
    assert_eq!(bodies, sent, "each element delivered once, as its own body");
    for (i, id) in children.iter().enumerate() {
        let child = app.wait_for_deliveries(id).await;
        assert_eq!(
            child.event.payload, items[i],
            "list order is kept in the ids"
        );
        assert_eq!(child.runs.len(), 1);
        assert_eq!(
            child.runs[0].dedupe_key.as_deref(),
            Some(format!("sku-{i}").as_str()),
            "each element has its own dedupe key"
        );
        assert_eq!(child.event.status, EventStatus::Delivered);
    }
    assert_eq!(app.event_count().await, 101);
}

async fn an_empty_list_stores_the_request_and_starts_nothing(app: TestApp) {
    let receiver = Receiver::start().await;
    let recipe = split_recipe(&app, &receiver).await;
    let response = app
        .post_json(&recipe, &json!({ "order": "o-2", "items": [] }))
        .await;
    assert_eq!(response.status(), 202);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["event_ids"], json!([]));
    let parent = app.event(answer["event_id"].as_str().unwrap()).await;
    assert_eq!(parent.event.status, EventStatus::Split);
    assert_eq!(app.event_count().await, 1);
    grace().await;
    assert!(receiver.requests().is_empty());
}

async fn a_pointer_to_a_non_list_is_a_422_naming_it_and_stores_nothing(app: TestApp) {
    let receiver = Receiver::start().await;
    let recipe = split_recipe(&app, &receiver).await;
    for (body, problem) in [
        (
            json!({ "items": { "sku": "a" } }),
            "an object there, not a list",
        ),
        (json!({ "items": "a,b" }), "a string there, not a list"),
        (json!({ "other": [] }), "nothing there"),
    ] {
        let response = app.post_json(&recipe, &body).await;
        assert_eq!(response.status(), 422, "{body}");
        let error: Value = response.json().await.unwrap();
        let message = error["error"].as_str().unwrap();
        assert!(
            message.contains("split = \"/items\"") && message.contains(problem),
            "{message}"
        );
    }
    let text = app.post_raw(&recipe, Some("text/plain"), "items").await;
    assert_eq!(text.status(), 422, "a text body has no list");
    assert_eq!(app.event_count().await, 0);
    grace().await;
    assert!(receiver.requests().is_empty());
}

async fn a_sender_retry_of_a_split_request_answers_its_ids_and_stores_nothing(app: TestApp) {
    const SECRET: &str = "split-github-secret";
    let receiver = Receiver::start().await;
    app.set_secret("GH", SECRET).await;
    let recipe = app
        .import(&plain_recipe(
            "split-gh",
            "",
            "verify = \"github\"\nsecret = \"{{ secrets.GH }}\"\nsplit = \"/commits\"",
            &receiver.url("/commit"),
        ))
        .await;
    let body = json!({ "commits": [{ "id": "c1" }, { "id": "c2" }] }).to_string();
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    let signature: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let send = || {
        app.http
            .post(app.hook_url(&recipe))
            .header("content-type", "application/json")
            .header("x-hub-signature-256", format!("sha256={signature}"))
            .header("x-github-delivery", "delivery-1")
            .body(body.clone())
            .send()
    };
    let first = send().await.unwrap();
    assert_eq!(first.status(), 202);
    let first: Value = first.json().await.unwrap();
    receiver.wait_for(2, WAIT).await;

    let retry = send().await.unwrap();
    assert_eq!(retry.status(), 200);
    assert_eq!(retry.headers()["switchyard-duplicate"], "true");
    let retry: Value = retry.json().await.unwrap();
    assert_eq!(retry["event_id"], first["event_id"]);
    assert_eq!(retry["duplicate"], true);
    assert_eq!(
        ids(&retry),
        ids(&first),
        "the first request's elements, in order"
    );
    assert_eq!(app.event_count().await, 3);
    grace().await;
    assert_eq!(receiver.requests().len(), 2, "nothing delivered twice");
}
