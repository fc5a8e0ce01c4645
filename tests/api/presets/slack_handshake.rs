//! The Slack events preset and Slack's one-time `url_verification` handshake
//! (https://api.slack.com/events/url_verification): not answered by the preset itself (its
//! description says so), answered by the documented workaround.

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use super::apply;
use crate::api::{Api, spawn_api};

const SIGNING_SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";

/// Slack's documented request, as Slack sends it when the Request URL is saved.
const URL_VERIFICATION: &str = r#"{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}"#;

/// A recipe from the Slack events and generic JSON presets; `extra` goes under
/// `[trigger.webhook]`, `transform` (TOML) after the trigger. A non-empty `transform` is the
/// documented workaround, which also leaves the `dedupe` line out.
async fn slack_recipe(api: &Api, id: &str, extra: &str, transform: &str) -> Value {
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
    let mut trigger = trigger["toml"].as_str().unwrap().replace(
        "verify = \"slack\"",
        &format!("verify = \"slack\"\n{extra}"),
    );
    if !transform.is_empty() {
        assert!(trigger.contains("dedupe = "), "{trigger}");
        trigger = trigger
            .lines()
            .filter(|line| !line.starts_with("dedupe = "))
            .collect::<Vec<_>>()
            .join("\n");
    }
    let toml = format!(
        "id = \"{id}\"\nname = \"Slack events\"\n{trigger}\n{transform}\n{}",
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
async fn the_slack_events_preset_says_where_it_is_chosen_that_the_url_handshake_is_not_answered() {
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
        description.contains("Slack's one-time URL verification is not answered yet")
            && description.contains("respond = \"result\"")
            && description.contains("no dedupe line")
            && description.contains("#{ challenge: event.challenge }"),
        "{description}"
    );

    // As the preset is, Slack's handshake gets the plain 202, not its challenge.
    let recipe = slack_recipe(&api, "plain-slack", "", "").await;
    let response = send_handshake(&api, &recipe).await;
    assert_eq!(response.status(), 202);
    let body: Value = response.json().await.unwrap();
    assert!(body.get("challenge").is_none(), "{body}");
}

/// The workaround the description and README give: `respond = "result"` with a transform
/// answering `#{ challenge: event.challenge }` (and no dedupe line: the handshake has no
/// `event_id`) passes verify = "slack" and answers Slack's documented request with 200 and the
/// challenge, the run the handshake is stored with.
#[tokio::test]
async fn the_documented_workaround_answers_slacks_url_verification_with_the_challenge() {
    let api = spawn_api().await;
    let recipe = slack_recipe(
        &api,
        "slack-handshake",
        "respond = \"result\"",
        "[transform]\nscript = '#{ challenge: event.challenge }'\n",
    )
    .await;
    let response = send_handshake(&api, &recipe).await;
    assert_eq!(response.status(), 200);
    let event_id = response.headers()["switchyard-event-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({ "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" })
    );
    let detail = api.event(&event_id).await;
    assert_eq!(detail["runs"][0]["output"], body, "{detail:#}");
}
