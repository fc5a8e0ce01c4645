//! Secrets through the API: set, replace, list (names only), delete; values never come back.

use reqwest::Method;
use serde_json::json;

use super::{TOKEN, recipe_toml, spawn_api};
use crate::receiver::Receiver;

const VALUE: &str = "xoxb-first-value-4471";
const REPLACED: &str = "xoxb-second-value-9902";

#[tokio::test]
async fn secrets_are_set_listed_by_name_replaced_and_deleted_and_values_never_come_back() {
    let api = spawn_api().await;
    assert_eq!(api.get("/api/secrets").await.expect(200).json(), json!([]));

    let reply = api
        .put_json("/api/secrets/SLACK_TOKEN", &json!({ "value": VALUE }))
        .await
        .expect(204);
    assert!(reply.text.is_empty(), "{}", reply.text);
    api.put_json("/api/secrets/OTHER", &json!({ "value": "other-value" }))
        .await
        .expect(204);
    let list = api.get("/api/secrets").await.expect(200);
    assert!(!list.text.contains(VALUE), "{}", list.text);
    let mut names: Vec<String> = serde_json::from_str(&list.text).expect("a list of names");
    names.sort();
    assert_eq!(names, vec!["OTHER", "SLACK_TOKEN"]);

    // The value is used (by a delivery) but shown by no API answer.
    let receiver = Receiver::start().await;
    let mut toml = recipe_toml("uses-secret", &receiver.url("/s"), "event", r#"["0s"]"#);
    toml.push_str("headers = { Authorization = \"Bearer {{ secrets.SLACK_TOKEN }}\" }\n");
    let recipe = api.save(&toml, "created").await;
    api.put_json("/api/secrets/SLACK_TOKEN", &json!({ "value": REPLACED }))
        .await
        .expect(204);
    let event_id = api.send(&recipe, &json!({ "hello": "world" })).await;
    api.wait_for_status(&event_id, "delivered").await;
    let sent = receiver.wait_for(1, super::DEADLINE).await;
    assert_eq!(
        sent[0].header("authorization"),
        Some(format!("Bearer {REPLACED}").as_str()),
        "the replaced value is the one used"
    );
    for path in [
        "/api/secrets".to_owned(),
        "/api/recipes".to_owned(),
        "/api/recipes/uses-secret".to_owned(),
        format!("/api/events/{event_id}"),
        "/api/events".to_owned(),
        "/api/export".to_owned(),
    ] {
        let reply = api.get(&path).await.expect(200);
        assert!(
            !reply.text.contains(VALUE) && !reply.text.contains(REPLACED),
            "{path} shows a secret value: {}",
            reply.text
        );
    }
    let dry = api
        .post_json("/api/recipes/uses-secret/test", &json!({}))
        .await
        .expect(200);
    assert!(!dry.text.contains(REPLACED), "{}", dry.text);
    assert!(
        dry.text.contains("{{ secrets.SLACK_TOKEN }}"),
        "{}",
        dry.text
    );

    api.delete("/api/secrets/SLACK_TOKEN").await.expect(204);
    let message = api
        .delete("/api/secrets/SLACK_TOKEN")
        .await
        .expect_error(404);
    assert!(message.contains("SLACK_TOKEN"), "{message}");
    assert_eq!(
        api.get("/api/secrets").await.expect(200).json(),
        json!(["OTHER"])
    );
}

#[tokio::test]
async fn invalid_secret_names_and_values_are_400_and_change_nothing() {
    let api = spawn_api().await;
    for name in [
        "1STARTS_WITH_DIGIT",
        "has-dash",
        "has%20space",
        "dotted.name",
    ] {
        let message = api
            .put_json(&format!("/api/secrets/{name}"), &json!({ "value": "v" }))
            .await
            .expect_error(400);
        assert!(message.contains("name"), "{name}: {message}");
    }
    let message = api
        .put_json("/api/secrets/EMPTY", &json!({ "value": "" }))
        .await
        .expect_error(400);
    assert!(message.contains("empty"), "{message}");
    for body in [
        Some(("application/json", b"{\"val\": \"x\"}".to_vec())),
        Some(("application/json", b"not json".to_vec())),
        None,
    ] {
        let reply = api
            .call(Method::PUT, "/api/secrets/NO_VALUE", Some(TOKEN), body)
            .await;
        assert_eq!(reply.status, 400, "{}", reply.text);
        assert!(reply.json()["error"].is_string(), "{}", reply.text);
    }
    assert_eq!(api.get("/api/secrets").await.expect(200).json(), json!([]));
}
