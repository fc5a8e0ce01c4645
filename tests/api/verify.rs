//! Inbound signature verification through the real server: each provider preset accepts its
//! sender's signature on the raw body and refuses anything else with 401, storing nothing and
//! counting the refusal; rotation; sender retries (same delivery id) are not new events.

mod compressed;
mod head;
mod schemes;
mod sender_ids;
pub(crate) mod sign;
mod standard_secret;

use chrono::Utc;
use reqwest::RequestBuilder;
use serde_json::{Value, json};
use switchyard::store::{EventStatus, StoredRecipe};

use self::sign::{Headers, github, senders, standard_secret, standard_with_id, stripe, stripe_at};

use crate::helpers::{TestApp, WAIT, grace, spawn_app};
use crate::receiver::Receiver;

const SECRET: &str = "s3cret-signing-value-7f2a";
const BODY: &str = r#"{"id": "evt_1", "amount": 1200}"#;

fn recipe(id: &str, webhook: &str, url: &str) -> String {
    format!(
        r#"
id = "{id}"
name = "{id}"
[trigger.webhook]
{webhook}
[[action]]
name = "notify"
url = "{url}"
retry = {{ schedule = ["0s", "200ms"] }}
"#
    )
}

async fn import_with_secret(app: &TestApp, preset: &str, webhook: &str, url: &str) -> StoredRecipe {
    let value = match preset {
        "standard-webhooks" => standard_secret(SECRET),
        _ => SECRET.to_owned(),
    };
    app.set_secret("SIGNING", &value).await;
    let webhook = format!("{webhook}\nsecret = \"{{{{ secrets.SIGNING }}}}\"");
    app.import(&recipe(&preset.replace('-', "_"), &webhook, url))
        .await
}

fn post(
    app: &TestApp,
    recipe: &StoredRecipe,
    body: &str,
    headers: &[(String, String)],
) -> RequestBuilder {
    headers.iter().fold(
        app.http
            .post(app.hook_url(recipe))
            .header("content-type", "application/json")
            .body(body.to_owned()),
        |request, (name, value)| request.header(name, value),
    )
}

async fn refused_with(response: reqwest::Response) -> String {
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.expect("a JSON error");
    body["error"].as_str().expect("an error message").to_owned()
}

#[tokio::test]
async fn every_preset_accepts_its_senders_signature_and_delivers() {
    for (preset, sender) in senders() {
        let app = spawn_app().await;
        let receiver = Receiver::start().await;
        let recipe = import_with_secret(&app, preset, sender.webhook, &receiver.url("/in")).await;

        let response = post(&app, &recipe, BODY, &(sender.sign)(SECRET, BODY))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            202,
            "{preset}: {}",
            response.text().await.unwrap()
        );
        let event_id = response.json::<Value>().await.unwrap()["event_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let detail = app
            .wait_for_event(&event_id, |d| d.event.status == EventStatus::Delivered)
            .await;
        assert_eq!(
            detail.event.body,
            BODY.as_bytes(),
            "{preset}: raw body kept"
        );
        assert_eq!(receiver.wait_for(1, WAIT).await.len(), 1, "{preset}");
    }
}

#[tokio::test]
async fn every_preset_refuses_a_bad_signature_with_401_stores_nothing_and_delivers_nothing() {
    for (preset, sender) in senders() {
        let app = spawn_app().await;
        let receiver = Receiver::start().await;
        let recipe = import_with_secret(&app, preset, sender.webhook, &receiver.url("/in")).await;
        let signed = (sender.sign)(SECRET, BODY);
        let reserialised =
            serde_json::to_string(&serde_json::from_str::<Value>(BODY).unwrap()).unwrap();
        let tampered = BODY.replace("1200", "1300");

        let attempts = [
            (post(&app, &recipe, &tampered, &signed), "a changed byte"),
            (
                post(&app, &recipe, &reserialised, &signed),
                "a re-serialised body",
            ),
            (
                post(&app, &recipe, BODY, &(sender.sign)("wrong secret", BODY)),
                "another secret",
            ),
            (post(&app, &recipe, BODY, &[]), "no signature headers"),
        ];
        for (request, what) in attempts {
            let reason = refused_with(request.send().await.unwrap()).await;
            assert!(!reason.contains(SECRET), "{preset}, {what}: {reason}");
        }
        grace().await;
        assert_eq!(app.event_count().await, 0, "{preset}: nothing stored");
        assert!(
            receiver.requests().is_empty(),
            "{preset}: nothing delivered"
        );
        let refusals = app.store.list_refusals().await.unwrap();
        assert_eq!(refusals.len(), 1, "{preset}");
        assert_eq!(refusals[0].recipe_id, recipe.id);
        assert_eq!(refusals[0].count, 4, "{preset}: every refusal counted");
        assert!(
            refusals[0].last_reason.contains("missing"),
            "{preset}: {refusals:?}"
        );
    }
}

#[tokio::test]
async fn a_stale_or_future_stripe_timestamp_is_refused_and_the_reason_says_so() {
    let app = spawn_app().await;
    let recipe = import_with_secret(
        &app,
        "stripe",
        "verify = \"stripe\"",
        "http://127.0.0.1:9/x",
    )
    .await;
    // A minute past the 300 s tolerance: a loaded machine may take seconds to send the call.
    let now = Utc::now().timestamp();

    let stale = refused_with(
        post(&app, &recipe, BODY, &stripe_at(SECRET, BODY, now - 360))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(stale.contains("s old"), "{stale}");
    let future = refused_with(
        post(&app, &recipe, BODY, &stripe_at(SECRET, BODY, now + 360))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(future.contains("in the future"), "{future}");
    assert_eq!(app.event_count().await, 0);

    let refusals = app.store.list_refusals().await.unwrap();
    assert_eq!(refusals[0].count, 2);
    assert!(
        refusals[0].last_reason.contains("in the future"),
        "{refusals:?}"
    );
}

#[tokio::test]
async fn during_a_rotation_the_current_and_the_previous_secret_both_verify() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    app.set_secret("GH_NEW", "new-secret").await;
    app.set_secret("GH_OLD", "old-secret").await;
    let webhook = "verify = \"github\"\nsecret = \"{{ secrets.GH_NEW }}\"\nprevious_secret = \"{{ secrets.GH_OLD }}\"";
    let recipe = app
        .import(&recipe("rotating", webhook, &receiver.url("/in")))
        .await;

    for secret in ["new-secret", "old-secret"] {
        let response = post(&app, &recipe, BODY, &github(secret, BODY))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 202, "signed with {secret}");
    }
    refused_with(
        post(&app, &recipe, BODY, &github("older-secret", BODY))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(receiver.wait_for(2, WAIT).await.len(), 2);
    assert_eq!(app.event_count().await, 2);

    // The rotation is over once the old secret is gone: only the new one verifies.
    app.store.delete_secret("GH_OLD").await.unwrap();
    refused_with(
        post(&app, &recipe, BODY, &github("old-secret", BODY))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let response = post(&app, &recipe, BODY, &github("new-secret", BODY))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
}

#[tokio::test]
async fn a_signed_webhook_whose_secret_is_not_set_is_refused_with_503_and_stores_nothing() {
    let app = spawn_app().await;
    let webhook = "verify = \"github\"\nsecret = \"{{ secrets.NOT_SET }}\"";
    let recipe = app
        .import(&recipe("unset", webhook, "http://127.0.0.1:9/x"))
        .await;

    let response = post(&app, &recipe, BODY, &github(SECRET, BODY))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    let answer = response.text().await.unwrap();
    assert!(answer.contains("misconfigured"), "{answer}");
    assert!(
        !answer.contains("NOT_SET"),
        "the caller is not told the secret's name: {answer}"
    );
    assert_eq!(app.event_count().await, 0);
}

#[tokio::test]
async fn a_sender_retry_with_the_same_delivery_id_answers_200_and_runs_once() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    let recipe = import_with_secret(
        &app,
        "standard-webhooks",
        "verify = \"standard-webhooks\"",
        &receiver.url("/in"),
    )
    .await;

    let first = post(
        &app,
        &recipe,
        BODY,
        &standard_with_id(SECRET, BODY, "msg_retry_1"),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(first.status(), 202);
    let event_id = first.json::<Value>().await.unwrap()["event_id"].clone();
    // A retry is signed anew (new timestamp) but carries the same id.
    let retry = post(
        &app,
        &recipe,
        BODY,
        &standard_with_id(SECRET, BODY, "msg_retry_1"),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(retry.status(), 200);
    assert_eq!(
        retry.json::<Value>().await.unwrap(),
        json!({ "event_id": event_id, "duplicate": true })
    );
    let other = post(
        &app,
        &recipe,
        BODY,
        &standard_with_id(SECRET, BODY, "msg_other"),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(other.status(), 202, "another id is another event");

    receiver.wait_for(2, WAIT).await;
    grace().await;
    assert_eq!(receiver.requests().len(), 2);
    assert_eq!(app.event_count().await, 2);
}

#[tokio::test]
async fn concurrent_deliveries_with_one_github_delivery_id_store_exactly_one_event() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    let recipe =
        import_with_secret(&app, "github", "verify = \"github\"", &receiver.url("/in")).await;
    let mut headers = github(SECRET, BODY);
    headers[1].1 = "72d3162e-cc78-11e3-81ab-4c9367dc0958".into();

    let calls = (0..8).map(|_| post(&app, &recipe, BODY, &headers).send());
    let answers = futures_util::future::join_all(calls).await;
    let mut accepted = Vec::new();
    let mut duplicates = Vec::new();
    for answer in answers {
        let answer = answer.unwrap();
        let status = answer.status().as_u16();
        let body: Value = answer.json().await.unwrap();
        match status {
            202 => accepted.push(body["event_id"].clone()),
            200 => duplicates.push(body["event_id"].clone()),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(accepted.len(), 1, "exactly one call stored an event");
    assert!(
        duplicates.iter().all(|id| *id == accepted[0]),
        "{duplicates:?}"
    );
    receiver.wait_for(1, WAIT).await;
    grace().await;
    assert_eq!(receiver.requests().len(), 1);
    assert_eq!(app.event_count().await, 1);
}

#[tokio::test]
async fn the_shipped_stripe_and_github_recipes_verify_their_senders() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("recipes");
    app.set_secret("SLACK_WEBHOOK_URL", &receiver.url("/slack"))
        .await;
    app.set_secret("CHAT_WEBHOOK_URL", &receiver.url("/chat"))
        .await;
    app.set_secret("STRIPE_SIGNING_SECRET", "whsec_stripe_test")
        .await;
    app.set_secret("GITHUB_WEBHOOK_SECRET", "github-test").await;

    for (name, sign) in [
        (
            "stripe-payment-to-slack",
            stripe as fn(&str, &str) -> Headers,
        ),
        ("github-push-to-chat", github),
    ] {
        let source = std::fs::read_to_string(dir.join(format!("{name}.toml"))).unwrap();
        let payload = std::fs::read_to_string(dir.join(format!("{name}.payload.json"))).unwrap();
        let recipe = app.import(&source).await;
        let secret = if name.starts_with("stripe") {
            "whsec_stripe_test"
        } else {
            "github-test"
        };

        refused_with(post(&app, &recipe, &payload, &[]).send().await.unwrap()).await;
        let response = post(&app, &recipe, &payload, &sign(secret, &payload))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 202, "{name}");
    }
    assert_eq!(receiver.wait_for(2, WAIT).await.len(), 2);
}

#[tokio::test]
async fn a_token_given_in_the_query_of_a_get_is_not_stored_in_the_payload() {
    let app = spawn_app().await;
    app.set_secret("HOOK_TOKEN", "query-token-value").await;
    let webhook = "verify = \"token\"\nsecret = \"{{ secrets.HOOK_TOKEN }}\"\nallow_get = true";
    let recipe = app
        .import(&recipe("by-get", webhook, "http://127.0.0.1:9/x"))
        .await;

    let url = format!("{}?token=query-token-value&order=o1", app.hook_url(&recipe));
    let response = app.http.get(url).send().await.unwrap();
    assert_eq!(response.status(), 202);
    let event_id = response.json::<Value>().await.unwrap()["event_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        app.event(&event_id).await.event.payload,
        json!({ "order": "o1" })
    );
}
