//! Standard Webhooks secrets follow the reference libraries: an optional `whsec_` prefix, then
//! base64 of the key, inbound (verify) and outbound (action signing) alike. A value that cannot
//! be a key is refused where it is known to be one: setting the secret, importing the recipe.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use switchyard::store::EventStatus;

use super::sign::{mac, standard};
use super::{BODY, SECRET, post, recipe};
use crate::helpers::{WAIT, spawn_app_with};
use crate::receiver::Receiver;

const API_TOKEN: &str = "standard-secret-api-token";

fn spawn() -> impl Future<Output = crate::helpers::TestApp> {
    spawn_app_with(|s| s.api_token = Some(API_TOKEN.into()))
}

#[tokio::test]
async fn a_secret_without_the_whsec_prefix_is_base64_inbound_and_outbound() {
    let app = spawn().await;
    let receiver = Receiver::start().await;
    // The key is SECRET's bytes; the value set is its base64, without the prefix.
    app.set_secret("SW", &STANDARD.encode(SECRET)).await;
    let source = recipe(
        "bare",
        "verify = \"standard-webhooks\"\nsecret = \"{{ secrets.SW }}\"",
        &receiver.url("/out"),
    )
    .replace(
        "name = \"notify\"",
        "name = \"notify\"\nsecret = \"{{ secrets.SW }}\"",
    );
    let hook = app.import(&source).await;

    let response = post(&app, &hook, BODY, &standard(SECRET, BODY))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202, "{:?}", response.text().await);
    let id = response.json::<Value>().await.unwrap()["event_id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.wait_for_event(&id, |d| d.event.status == EventStatus::Delivered)
        .await;

    let sent = &receiver.wait_for(1, WAIT).await[0];
    let signed = [
        sent.header("webhook-id").unwrap().as_bytes(),
        b".",
        sent.header("webhook-timestamp").unwrap().as_bytes(),
        b".",
        &sent.body,
    ];
    let expected = format!("v1,{}", STANDARD.encode(mac(SECRET.as_bytes(), &signed)));
    assert_eq!(sent.header("webhook-signature"), Some(expected.as_str()));
}

#[tokio::test]
async fn a_value_that_cannot_be_a_key_is_refused_when_set_for_a_recipe_that_uses_it() {
    let app = spawn().await;
    let hook = recipe(
        "uses-sw",
        "verify = \"standard-webhooks\"\nsecret = \"{{ secrets.SW }}\"",
        "http://127.0.0.1:9/x",
    );
    app.import(&hook).await;
    let put = |name: &str, value: &str| {
        app.http
            .put(format!("{}/api/secrets/{name}", app.address))
            .bearer_auth(API_TOKEN)
            .json(&json!({ "value": value }))
            .send()
    };

    let refused = put("SW", "s3cret-signing-value!").await.unwrap();
    assert_eq!(refused.status(), 400);
    let error = refused.json::<Value>().await.unwrap()["error"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        error.contains("`SW`")
            && error.contains("`uses-sw`")
            && error.contains("trigger.webhook.secret"),
        "{error}"
    );
    assert!(
        !error.contains("s3cret"),
        "the value is never quoted: {error}"
    );
    assert_eq!(app.store.get_secret("SW").await.unwrap(), None);

    // The same value is fine for a secret no recipe uses as a key, and a key is fine for SW.
    assert_eq!(
        put("OTHER", "s3cret-signing-value!")
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(
        put("SW", &STANDARD.encode(SECRET)).await.unwrap().status(),
        204
    );
}

#[tokio::test]
async fn a_recipe_whose_standard_webhooks_secret_cannot_be_a_key_is_refused_at_import() {
    let app = spawn().await;
    app.set_secret("RAW", "plain text, not base64").await;
    let source = recipe("signs", "", "http://127.0.0.1:9/x").replace(
        "name = \"notify\"",
        "name = \"notify\"\nsecret = \"{{ secrets.RAW }}\"",
    );
    let response = app
        .http
        .post(format!("{}/api/recipes", app.address))
        .bearer_auth(API_TOKEN)
        .header("content-type", "application/toml")
        .body(source)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    assert!(status == 400 || status == 422, "{status}: {text}");
    assert!(
        text.contains("action[0].secret") && text.contains("`RAW`"),
        "{text}"
    );
    assert!(app.store.get_recipe("signs").await.unwrap().is_none());
}
