//! Dedupe: one real-world happening causes one call, however many times it is reported.

use serde_json::json;
use switchyard::store::{EventStatus, StoredRecipe};

use crate::helpers::{TestApp, WAIT, grace, spawn_app};
use crate::receiver::Receiver;

async fn dedupe_recipe(app: &TestApp, id: &str, url: &str) -> StoredRecipe {
    app.import(&format!(
        r#"
id = "{id}"
name = "{id}"
dedupe = "event.payment.id"
[trigger.webhook]
[transform]
script = '#{{ payment: event.payment.id, via: event?.via }}'
[[action]]
name = "notify"
url = "{url}"
"#
    ))
    .await
}

#[tokio::test]
async fn second_event_with_the_same_key_is_a_duplicate_and_causes_no_call() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    let recipe = dedupe_recipe(&app, "pay", &receiver.url("/hook")).await;

    let first = app
        .send_event(
            &recipe,
            &json!({ "payment": { "id": "pi_1" }, "via": "webhook" }),
        )
        .await;
    let detail = app.wait_for_deliveries(&first).await;
    assert_eq!(detail.event.status, EventStatus::Delivered);
    assert_eq!(detail.runs[0].dedupe_key.as_deref(), Some("pi_1"));

    let second = app
        .send_event(
            &recipe,
            &json!({ "payment": { "id": "pi_1" }, "via": "poll" }),
        )
        .await;
    let detail = app.wait_for_run(&second).await;
    assert_eq!(detail.event.status, EventStatus::Duplicate);
    assert_eq!(detail.runs[0].status, EventStatus::Duplicate);
    assert_eq!(detail.runs[0].dedupe_key.as_deref(), Some("pi_1"));
    assert!(
        detail.deliveries.is_empty(),
        "a duplicate plans no delivery"
    );

    grace().await;
    let requests = receiver.requests();
    assert_eq!(requests.len(), 1, "{requests:#?}");
    assert_eq!(
        requests[0].json(),
        json!({ "payment": "pi_1", "via": "webhook" })
    );
}

#[tokio::test]
async fn events_with_different_keys_each_cause_a_call() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    let recipe = dedupe_recipe(&app, "pay", &receiver.url("/hook")).await;

    let a = app
        .send_event(&recipe, &json!({ "payment": { "id": "pi_a" } }))
        .await;
    let b = app
        .send_event(&recipe, &json!({ "payment": { "id": "pi_b" } }))
        .await;
    for id in [a, b] {
        let detail = app.wait_for_deliveries(&id).await;
        assert_eq!(detail.event.status, EventStatus::Delivered);
    }
    receiver.wait_for(2, WAIT).await;
    grace().await;
    let mut paid: Vec<String> = receiver
        .requests()
        .iter()
        .map(|r| r.json()["payment"].as_str().unwrap().to_owned())
        .collect();
    paid.sort();
    assert_eq!(paid, ["pi_a", "pi_b"]);
}

#[tokio::test]
async fn concurrent_events_with_the_same_key_cause_exactly_one_call() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    let recipe = dedupe_recipe(&app, "pay", &receiver.url("/hook")).await;

    let sends = (0..8).map(|i| {
        let (app, recipe) = (&app, &recipe);
        async move {
            app.send_event(recipe, &json!({ "payment": { "id": "pi_same" }, "via": i }))
                .await
        }
    });
    let ids = futures_util::future::join_all(sends).await;
    let mut statuses = Vec::new();
    for id in &ids {
        statuses.push(app.wait_for_run(id).await.runs[0].status);
    }
    let done = statuses.iter().filter(|s| **s == EventStatus::Done).count();
    let duplicates = statuses
        .iter()
        .filter(|s| **s == EventStatus::Duplicate)
        .count();
    assert_eq!((done, duplicates), (1, 7), "{statuses:?}");

    receiver.wait_for(1, WAIT).await;
    grace().await;
    assert_eq!(receiver.requests().len(), 1);
}

#[tokio::test]
async fn the_same_key_in_two_recipes_is_not_a_duplicate() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    let one = dedupe_recipe(&app, "one", &receiver.url("/one")).await;
    let two = dedupe_recipe(&app, "two", &receiver.url("/two")).await;

    let payload = json!({ "payment": { "id": "pi_shared" } });
    for recipe in [&one, &two] {
        let id = app.send_event(recipe, &payload).await;
        let detail = app.wait_for_deliveries(&id).await;
        assert_eq!(detail.event.status, EventStatus::Delivered);
    }
    let mut paths: Vec<String> = receiver
        .wait_for(2, WAIT)
        .await
        .into_iter()
        .map(|r| r.path)
        .collect();
    paths.sort();
    assert_eq!(paths, ["/one", "/two"]);
}

#[tokio::test]
async fn dedupe_expression_giving_nothing_fails_the_run_with_a_message() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    let recipe = dedupe_recipe(&app, "pay", &receiver.url("/hook")).await;

    let id = app.send_event(&recipe, &json!({ "payment": {} })).await;
    let detail = app.wait_for_run(&id).await;
    assert_eq!(detail.event.status, EventStatus::Failed);
    let error = detail.event.error.unwrap_or_default();
    assert!(error.contains("dedupe expression"), "{error}");
    grace().await;
    assert!(receiver.requests().is_empty());
}

#[tokio::test]
async fn ids_beyond_64_bits_keep_every_digit_in_dedupe_keys_scripts_and_deliveries() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    let recipe = app
        .import(&format!(
            r#"
id = "big-ids"
name = "big ids"
dedupe = "event.id"
[trigger.webhook]
[transform]
script = '#{{ id: event.id, text: `id ${{event.id}}`, amount: event.amount }}'
[[action]]
name = "notify"
url = "{}"
"#,
            receiver.url("/hook")
        ))
        .await;

    let mut ids = Vec::new();
    for body in [
        r#"{"id": 12591154125385152738, "amount": 0.1000000000000000055511}"#,
        r#"{"id": 12591154125385152739, "amount": -0}"#,
    ] {
        let response = app.post_raw(&recipe, Some("application/json"), body).await;
        assert_eq!(response.status(), 202);
        let answer: serde_json::Value = response.json().await.unwrap();
        ids.push(answer["event_id"].as_str().unwrap().to_owned());
    }
    let first = app.wait_for_deliveries(&ids[0]).await;
    let second = app.wait_for_deliveries(&ids[1]).await;
    assert_eq!(
        first.runs[0].dedupe_key.as_deref(),
        Some("12591154125385152738")
    );
    assert_eq!(
        second.runs[0].dedupe_key.as_deref(),
        Some("12591154125385152739")
    );
    assert_eq!(
        second.event.status,
        EventStatus::Delivered,
        "not a duplicate"
    );

    let requests = receiver.wait_for(2, WAIT).await;
    let mut bodies: Vec<String> = requests
        .iter()
        .map(|r| String::from_utf8(r.body.clone()).unwrap())
        .collect();
    bodies.sort();
    assert_eq!(
        bodies,
        [
            r#"{"amount":-0,"id":12591154125385152739,"text":"id 12591154125385152739"}"#,
            r#"{"amount":0.1000000000000000055511,"id":12591154125385152738,"text":"id 12591154125385152738"}"#,
        ]
    );
}
