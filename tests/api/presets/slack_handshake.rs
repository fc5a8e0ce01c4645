//! The Slack events preset and Slack's one-time `url_verification` handshake
//! (https://api.slack.com/events/url_verification): the preset sets `handshake = "slack"`, so
//! the signed request is answered with its challenge and stored as no event.

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use super::apply;
use crate::api::{Api, spawn_api};

const SIGNING_SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";

/// Slack's documented request, as Slack sends it when the Request URL is saved.
const URL_VERIFICATION: &str = r#"{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}"#;

/// A recipe from the Slack events and generic JSON presets, as applied.
async fn slack_recipe(api: &Api, id: &str) -> Value {
    api.put_json(
        "/api/secrets/SLACK_SIGNING_SECRET",
        &json!({ "value": SIGNING_SECRET }),
    )
    .await
    .expect(204);
    let trigger = apply(api, "trigger", "slack-events", json!({}))
        .await
        .expect(200)
        .json();
    let action = apply(
        api,
        "action",
        "generic-json",
        json!({ "url": "https://example.com/slack-events" }),
    )
    .await
    .expect(200)
    .json();
    let trigger = trigger["toml"].as_str().unwrap();
    assert!(trigger.contains("handshake = \"slack\""), "{trigger}");
    assert!(trigger.contains("dedupe = "), "{trigger}");
    let toml = format!(
        "id = \"{id}\"\nname = \"Slack events\"\n{trigger}\n{}",
        action["toml"].as_str().unwrap()
    );
    api.save(&toml, "created").await
}

/// Sends Slack's url_verification request signed as Slack signs it (v0 HMAC-SHA256 of
/// `v0:{timestamp}:{body}`, https://api.slack.com/authentication/verifying-requests-from-slack).
async fn send_handshake(api: &Api, recipe: &Value) -> reqwest::Response {
    let t = chrono::Utc::now().timestamp().to_string();
    let mut mac = Hmac::<Sha256>::new_from_slice(SIGNING_SECRET.as_bytes()).unwrap();
    mac.update(format!("v0:{t}:{URL_VERIFICATION}").as_bytes());
    let signature: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    api.app
        .http
        .post(recipe["webhook_url"].as_str().unwrap())
        .header("content-type", "application/json")
        .header("x-slack-signature", format!("v0={signature}"))
        .header("x-slack-request-timestamp", t)
        .body(URL_VERIFICATION)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_slack_events_preset_answers_url_verification_with_the_challenge_and_stores_nothing() {
    let api = spawn_api().await;
    let list = api.get("/api/presets").await.expect(200).json();
    let preset = list["presets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["kind"] == "trigger" && p["id"] == "slack-events")
        .unwrap();
    let description = preset["description"].as_str().unwrap();
    assert!(
        description.contains("answered with its challenge")
            && !description.contains("not answered"),
        "{description}"
    );

    let recipe = slack_recipe(&api, "slack-events").await;
    let before = api.get("/api/events").await.expect(200).json();
    let response = send_handshake(&api, &recipe).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    assert_eq!(
        response.text().await.unwrap(),
        "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    );
    let after = api.get("/api/events").await.expect(200).json();
    assert_eq!(after, before, "the handshake is stored as no event");
}
