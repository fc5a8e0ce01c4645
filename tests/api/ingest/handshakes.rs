//! `handshake = "…"`: each provider's documented verification request gets its documented
//! answer, stores no event and runs nothing; it counts for the rate limit. Requests follow the
//! providers' documentation (sources in `src/ingest/handshake.rs`).

use hmac::{Hmac, Mac};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::Sha256;
use switchyard::config::hook_rate::HookRate;
use switchyard::store::StoredRecipe;

use super::plain_recipe;
use crate::helpers::{TestApp, spawn_app, spawn_app_with};

fn hex_hmac(key: &str, parts: &[&str]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).unwrap();
    for part in parts {
        mac.update(part.as_bytes());
    }
    let bytes = mac.finalize().into_bytes();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn hook(app: &TestApp, id: &str, webhook: &str) -> StoredRecipe {
    app.import(&plain_recipe(id, "", webhook, "http://127.0.0.1:9/x"))
        .await
}

async fn send(app: &TestApp, method: Method, url: String) -> reqwest::Response {
    app.http.request(method, url).send().await.unwrap()
}

/// Status, `content-type`, `x-content-type-options` and body of an answer.
async fn parts(response: reqwest::Response) -> (u16, String, String, String) {
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map_or(String::new(), |v| v.to_str().unwrap().to_owned())
    };
    let (content_type, nosniff) = (header("content-type"), header("x-content-type-options"));
    let status = response.status().as_u16();
    (
        status,
        content_type,
        nosniff,
        response.text().await.unwrap(),
    )
}

/// Slack's documented `url_verification` (https://api.slack.com/events/url_verification).
const SLACK_URL_VERIFICATION: &str = r#"{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}"#;

#[tokio::test]
async fn slack_url_verification_is_verified_then_answered_with_its_challenge_and_not_stored() {
    let app = spawn_app().await;
    app.set_secret("SLACK", "8f742231b10e8888abcd99yyyzzz85a5")
        .await;
    let recipe = app
        .import(&plain_recipe(
            "slack",
            "dedupe = \"event.event_id\"",
            "verify = \"slack\"\nsecret = \"{{ secrets.SLACK }}\"\nhandshake = \"slack\"",
            "http://127.0.0.1:9/x",
        ))
        .await;
    let signed = |body: &str| {
        let t = chrono::Utc::now().timestamp().to_string();
        let signature = hex_hmac("8f742231b10e8888abcd99yyyzzz85a5", &["v0:", &t, ":", body]);
        app.http
            .post(app.hook_url(&recipe))
            .header("content-type", "application/json")
            .header("x-slack-request-timestamp", t)
            .header("x-slack-signature", format!("v0={signature}"))
            .body(body.to_owned())
    };
    let (status, content_type, nosniff, body) =
        parts(signed(SLACK_URL_VERIFICATION).send().await.unwrap()).await;
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    assert_eq!(nosniff, "nosniff");
    assert_eq!(body, "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P");
    assert_eq!(app.event_count().await, 0, "a handshake is not an event");

    // Unsigned, it is refused like any call (verify runs first).
    let unsigned = app
        .post_raw(&recipe, Some("application/json"), SLACK_URL_VERIFICATION)
        .await;
    assert_eq!(unsigned.status(), 401);
    // An event callback is an event as before.
    let callback = r#"{"type":"event_callback","event_id":"Ev1","event":{"type":"message"}}"#;
    assert_eq!(signed(callback).send().await.unwrap().status(), 202);
    assert_eq!(app.event_count().await, 1);
}

#[tokio::test]
async fn meta_verification_checks_the_verify_token_and_echoes_the_challenge_by_get() {
    let app = spawn_app().await;
    app.set_secret("META_VERIFY", "vibecoding").await;
    let recipe = hook(
        &app,
        "meta",
        "handshake = \"meta\"\nhandshake_secret = \"{{ secrets.META_VERIFY }}\"",
    )
    .await;
    let url = |token: &str| {
        format!(
            "{}?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token={token}",
            app.hook_url(&recipe)
        )
    };
    let (status, content_type, _, body) =
        parts(send(&app, Method::GET, url("vibecoding")).await).await;
    assert_eq!((status, body.as_str()), (200, "1158201444"));
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    let head = send(&app, Method::HEAD, url("vibecoding")).await;
    assert_eq!(head.status(), 200);
    assert_eq!(head.text().await.unwrap(), "", "HEAD: no content");

    let wrong = send(&app, Method::GET, url("guess")).await;
    assert_eq!(wrong.status(), 403, "a wrong verify token is refused");
    let mode = format!("{}?hub.mode=other&hub.challenge=1", app.hook_url(&recipe));
    assert_eq!(send(&app, Method::GET, mode).await.status(), 400);

    // GET is taken for the handshake only: without allow_get a plain GET is no event.
    let plain = send(&app, Method::GET, format!("{}?a=1", app.hook_url(&recipe))).await;
    assert_eq!(plain.status(), 400);
    let options = send(&app, Method::OPTIONS, app.hook_url(&recipe)).await;
    assert_eq!(options.headers()["allow"], "GET, HEAD, POST, PUT, OPTIONS");
    assert_eq!(app.event_count().await, 0);
    // Events come by POST.
    assert_eq!(
        app.post_json(&recipe, &json!({ "object": "whatsapp_business_account" }))
            .await
            .status(),
        202
    );
    assert_eq!(app.event_count().await, 1);
}

#[tokio::test]
async fn a_meta_handshake_without_its_secret_set_is_a_503_never_an_open_door() {
    let app = spawn_app().await;
    let recipe = hook(
        &app,
        "meta-unset",
        "handshake = \"meta\"\nhandshake_secret = \"{{ secrets.UNSET }}\"",
    )
    .await;
    let url = format!(
        "{}?hub.mode=subscribe&hub.challenge=1&hub.verify_token=x",
        app.hook_url(&recipe)
    );
    assert_eq!(send(&app, Method::GET, url).await.status(), 503);
}

#[tokio::test]
async fn msgraph_validation_echoes_the_decoded_token_as_text_plain() {
    let app = spawn_app().await;
    let recipe = hook(&app, "graph", "handshake = \"msgraph\"").await;
    // Graph posts to the URL with the token in the query, URL-encoded, and a text/plain type.
    let response = app
        .http
        .post(format!(
            "{}?validationToken=Validation%3A%20Testing%20client%20application",
            app.hook_url(&recipe)
        ))
        .header("content-type", "text/plain; charset=utf-8")
        .send()
        .await
        .unwrap();
    let (status, content_type, _, body) = parts(response).await;
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    assert_eq!(body, "Validation: Testing client application");
    assert_eq!(app.event_count().await, 0);
    // Without the token, a notification is an event.
    let notification = json!({ "value": [{ "subscriptionId": "s", "changeType": "created" }] });
    assert_eq!(app.post_json(&recipe, &notification).await.status(), 202);
    // Graph does not call GET: msgraph does not open the hook to it.
    let get = send(
        &app,
        Method::GET,
        format!("{}?validationToken=x", app.hook_url(&recipe)),
    )
    .await;
    assert_eq!(get.status(), 405);
}

#[tokio::test]
async fn zoom_url_validation_answers_the_plain_token_and_its_hex_hmac() {
    let app = spawn_app().await;
    app.set_secret("ZOOM_SECRET", "zoom-secret-token").await;
    let recipe = hook(
        &app,
        "zoom",
        "handshake = \"zoom\"\nhandshake_secret = \"{{ secrets.ZOOM_SECRET }}\"",
    )
    .await;
    let request = json!({
        "payload": { "plainToken": "qgg8vlvZRS6UYooatFL8Aw" },
        "event_ts": 1654503849680_u64,
        "event": "endpoint.url_validation"
    });
    let response = app.post_json(&recipe, &request).await;
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(
        answer,
        json!({
            "plainToken": "qgg8vlvZRS6UYooatFL8Aw",
            "encryptedToken": hex_hmac("zoom-secret-token", &["qgg8vlvZRS6UYooatFL8Aw"]),
        })
    );
    assert_eq!(app.event_count().await, 0);
    let event = json!({ "event": "meeting.started", "payload": { "object": { "id": "1" } } });
    assert_eq!(app.post_json(&recipe, &event).await.status(), 202);
}

#[tokio::test]
async fn dropbox_verification_echoes_the_challenge_as_text_plain_nosniff_by_get() {
    let app = spawn_app().await;
    let recipe = hook(&app, "dropbox", "handshake = \"dropbox\"").await;
    let url = format!("{}?challenge=%3Cb%3Ehi%3C%2Fb%3E", app.hook_url(&recipe));
    let (status, content_type, nosniff, body) = parts(send(&app, Method::GET, url).await).await;
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    assert_eq!(nosniff, "nosniff");
    assert_eq!(body, "<b>hi</b>");
    assert_eq!(app.event_count().await, 0);
    let notification = json!({ "list_folder": { "accounts": ["dbid:1"] } });
    assert_eq!(app.post_json(&recipe, &notification).await.status(), 202);
    assert_eq!(app.event_count().await, 1);
}

#[tokio::test]
async fn handshakes_count_for_the_rate_limit() {
    let app = spawn_app_with(|s| {
        s.hook_rate = HookRate::per_second(0.001);
        s.hook_burst = 2;
    })
    .await;
    let recipe = hook(&app, "limited", "handshake = \"dropbox\"").await;
    let url = format!("{}?challenge=c", app.hook_url(&recipe));
    for _ in 0..2 {
        assert_eq!(send(&app, Method::GET, url.clone()).await.status(), 200);
    }
    assert_eq!(send(&app, Method::GET, url).await.status(), 429);
}
