//! Dead deliveries come back: one at a time, or every dead delivery of a recipe.

use serde_json::{Value, json};

use super::{recipe_toml, spawn_api};
use crate::helpers::grace;
use crate::receiver::Receiver;

fn only_delivery(detail: &Value) -> &Value {
    let deliveries = detail["deliveries"].as_array().expect("deliveries");
    assert_eq!(deliveries.len(), 1, "{detail:#}");
    &deliveries[0]
}

#[tokio::test]
async fn a_dead_delivery_retried_through_the_api_gets_one_more_attempt_and_is_delivered() {
    let api = spawn_api().await;
    let receiver = Receiver::start().await;
    receiver.always(500);
    let recipe = api
        .save(
            &recipe_toml(
                "flaky",
                &receiver.url("/flaky"),
                "#{ n: event.n }",
                r#"["0s", "100ms"]"#,
            ),
            "created",
        )
        .await;
    let event_id = api.send(&recipe, &json!({ "n": 1 })).await;
    let detail = api.wait_for_status(&event_id, "dead").await;
    let delivery = only_delivery(&detail);
    assert_eq!(delivery["status"], "dead");
    assert_eq!(delivery["attempts"].as_array().unwrap().len(), 2);
    let delivery_id = delivery["id"].as_str().unwrap().to_owned();
    grace().await;
    assert_eq!(receiver.requests().len(), 2, "a dead delivery rests");

    receiver.always(200);
    let retried = api
        .post(&format!("/api/deliveries/{delivery_id}/retry"))
        .await
        .expect(202)
        .json();
    assert_eq!(retried["delivery_id"], delivery_id.as_str());
    let detail = api.wait_for_status(&event_id, "delivered").await;
    let delivery = only_delivery(&detail);
    assert_eq!(delivery["status"], "delivered");
    let attempts = delivery["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 3, "exactly one more attempt: {delivery:#}");
    assert_eq!(attempts[2]["status_code"], 200);
    let requests = receiver.wait_for(3, super::DEADLINE).await;
    assert_eq!(
        requests[2].header("webhook-id"),
        requests[0].header("webhook-id"),
        "a retry is the same delivery for the receiver"
    );
    assert_eq!(requests[2].json(), json!({ "n": 1 }));

    // Only dead deliveries can be retried.
    let message = api
        .post(&format!("/api/deliveries/{delivery_id}/retry"))
        .await
        .expect_error(404);
    assert!(message.contains(&delivery_id), "{message}");
    api.post("/api/deliveries/no-such-delivery/retry")
        .await
        .expect_error(404);
    grace().await;
    assert_eq!(receiver.requests().len(), 3);
}

#[tokio::test]
async fn retry_dead_puts_every_dead_delivery_of_the_recipe_back_and_counts_them() {
    let api = spawn_api().await;
    let receiver = Receiver::start().await;
    receiver.always(500);
    let save = |id: &str| {
        recipe_toml(
            id,
            &receiver.url(&format!("/{id}")),
            "#{ n: event.n }",
            r#"["0s"]"#,
        )
    };
    let mine = api.save(&save("mine"), "created").await;
    let other = api.save(&save("other"), "created").await;
    let mut dead = Vec::new();
    for n in 0..2 {
        dead.push(api.send(&mine, &json!({ "n": n })).await);
    }
    let others = api.send(&other, &json!({ "n": 9 })).await;
    for id in dead.iter().chain([&others]) {
        api.wait_for_status(id, "dead").await;
    }

    receiver.always(200);
    let answer = api
        .post("/api/recipes/mine/retry-dead")
        .await
        .expect(200)
        .json();
    assert_eq!(answer, json!({ "retried": 2 }));
    for id in &dead {
        let detail = api.wait_for_status(id, "delivered").await;
        let attempts = only_delivery(&detail)["attempts"].as_array().unwrap().len();
        assert_eq!(attempts, 2, "{detail:#}");
    }
    grace().await;
    let detail = api.event(&others).await;
    assert_eq!(
        detail["event"]["status"], "dead",
        "another recipe's dead delivery stays dead"
    );
    let to_other = receiver
        .requests()
        .iter()
        .filter(|r| r.path == "/other")
        .count();
    assert_eq!(to_other, 1);

    let again = api
        .post("/api/recipes/mine/retry-dead")
        .await
        .expect(200)
        .json();
    assert_eq!(again, json!({ "retried": 0 }));
    assert_eq!(
        api.event_ids("recipe=mine&status=dead").await,
        Vec::<String>::new()
    );
    assert_eq!(api.event_ids("status=dead").await, vec![others]);
}
