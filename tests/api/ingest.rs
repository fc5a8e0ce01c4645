//! Inbound webhooks: what is accepted and stored, what is refused (and then stores nothing),
//! token verification, body formats, `respond = "result"`, health endpoints.

pub mod encoding;
mod handshakes;
mod methods;
mod response;
mod split;

use serde_json::{Value, json};
use switchyard::store::EventStatus;

use crate::helpers::{WAIT, grace, post_chunked, spawn_app, spawn_app_with};
use crate::receiver::Receiver;

fn plain_recipe(id: &str, extra_top: &str, webhook: &str, url: &str) -> String {
    format!(
        r#"
id = "{id}"
name = "{id}"
{extra_top}
[trigger.webhook]
{webhook}
[[action]]
name = "notify"
url = "{url}"
retry = {{ schedule = ["0s", "200ms"] }}
"#
    )
}

async fn error_of(response: reqwest::Response) -> String {
    let body: Value = response.json().await.expect("error answers are JSON");
    body["error"].as_str().expect("an error message").to_owned()
}

#[tokio::test]
async fn accepted_webhook_is_stored_with_body_headers_and_content_type_before_the_answer() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    let recipe = app
        .import(&plain_recipe("stored", "", "", &receiver.url("/hook")))
        .await;
    let raw = r#"{"order": "o1",  "total": 12}"#;

    let response = app
        .http
        .put(app.hook_url(&recipe))
        .header("content-type", "application/json")
        .header("X-Shop-Event", "order.paid")
        .body(raw)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202, "PUT is accepted like POST");
    let event_id = response.json::<Value>().await.unwrap()["event_id"]
        .as_str()
        .expect("event_id in the answer")
        .to_owned();

    // Readable right away: the answer came after the commit, to this test's own SQLite file.
    assert!(app.data_dir.path().join("switchyard.db").is_file());
    let stored = app.event(&event_id).await.event;
    assert_eq!(stored.recipe_id, "stored");
    assert_eq!(stored.trigger, "webhook");
    assert_eq!(stored.body, raw.as_bytes(), "raw bytes kept exactly");
    assert_eq!(stored.payload, json!({ "order": "o1", "total": 12 }));
    assert_eq!(stored.content_type.as_deref(), Some("application/json"));
    assert_eq!(
        stored.headers["x-shop-event"], "order.paid",
        "lower-case names"
    );

    let detail = app.wait_for_deliveries(&event_id).await;
    assert_eq!(detail.event.status, EventStatus::Delivered);
    assert_eq!(receiver.wait_for(1, WAIT).await[0].json(), stored.payload);
}

#[tokio::test]
async fn webhook_with_malformed_json_is_rejected_with_400_and_stores_nothing() {
    let app = spawn_app().await;
    let recipe = app
        .import(&plain_recipe("strict", "", "", "http://127.0.0.1:9/x"))
        .await;

    for bad in [r#"{"order": "#, "not json at all"] {
        let response = app.post_raw(&recipe, Some("application/json"), bad).await;
        assert_eq!(response.status(), 400, "{bad:?}");
        let error = error_of(response).await;
        assert!(error.contains("not valid JSON"), "{bad:?}: {error}");
    }
    assert_eq!(app.event_count().await, 0);
}

#[tokio::test]
async fn webhook_to_an_unknown_token_is_404_and_stores_nothing() {
    let app = spawn_app().await;
    app.import(&plain_recipe("known", "", "", "http://127.0.0.1:9/x"))
        .await;

    let response = app
        .http
        .post(format!("{}/hooks/not-a-real-token", app.address))
        .json(&json!({ "a": 1 }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let error = error_of(response).await;
    assert!(error.contains("no enabled recipe"), "{error}");
    assert_eq!(app.event_count().await, 0);
}

#[tokio::test]
async fn webhook_to_a_disabled_recipe_is_404_and_stores_nothing() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    let recipe = app
        .import(&plain_recipe(
            "off",
            "enabled = false",
            "",
            &receiver.url("/hook"),
        ))
        .await;

    let response = app.post_json(&recipe, &json!({ "a": 1 })).await;
    assert_eq!(response.status(), 404);
    assert!(error_of(response).await.contains("no enabled recipe"));
    assert_eq!(app.event_count().await, 0);
    grace().await;
    assert!(receiver.requests().is_empty());
}

#[tokio::test]
async fn webhook_body_over_the_limit_is_413_and_stores_nothing() {
    let app = spawn_app_with(|s| s.body_limit = 1024).await;
    let recipe = app
        .import(&plain_recipe("small", "", "", "http://127.0.0.1:9/x"))
        .await;

    let too_big = json!({ "blob": "x".repeat(2000) });
    let response = app.post_json(&recipe, &too_big).await;
    assert_eq!(response.status(), 413);
    let error = error_of(response).await;
    assert!(
        error.contains("larger than the limit of 1024 bytes"),
        "{error}"
    );
    assert_eq!(app.event_count().await, 0);

    // Without a Content-Length the limit is enforced while reading.
    let (status, body) =
        post_chunked(&app, &recipe.webhook_token, &[&[b'x'; 1000], &[b'y'; 200]]).await;
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("larger than the limit"), "{body}");
    assert_eq!(app.event_count().await, 0);

    // Just under the limit is fine.
    let fits = json!({ "blob": "x".repeat(900) });
    app.send_event(&recipe, &fits).await;
    assert_eq!(app.event_count().await, 1);
}

#[tokio::test]
async fn token_verified_webhook_refuses_a_missing_or_wrong_token_with_401_and_stores_nothing() {
    let app = spawn_app().await;
    app.set_secret("HOOK_TOKEN", "s3cret-token-value").await;
    let recipe = app
        .import(&plain_recipe(
            "guarded",
            "",
            "verify = \"token\"\nsecret = \"{{ secrets.HOOK_TOKEN }}\"",
            "http://127.0.0.1:9/x",
        ))
        .await;
    let url = app.hook_url(&recipe);
    let payload = json!({ "a": 1 });

    let missing = app.http.post(&url).json(&payload).send().await.unwrap();
    assert_eq!(missing.status(), 401);
    assert!(error_of(missing).await.contains("missing token"));

    let wrong_bearer = app.http.post(&url).bearer_auth("guess").json(&payload);
    let wrong_header = app
        .http
        .post(&url)
        .header("X-Webhook-Token", "s3cret-token-valuf")
        .json(&payload);
    for request in [wrong_bearer, wrong_header] {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 401);
        assert!(error_of(response).await.contains("invalid token"));
    }
    assert_eq!(app.event_count().await, 0);
}

#[tokio::test]
async fn token_verified_webhook_accepts_the_right_bearer_token_and_does_not_store_it() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    app.set_secret("HOOK_TOKEN", "s3cret-token-value").await;
    let recipe = app
        .import(&plain_recipe(
            "guarded",
            "",
            "verify = \"token\"\nsecret = \"{{ secrets.HOOK_TOKEN }}\"",
            &receiver.url("/hook"),
        ))
        .await;

    let response = app
        .http
        .post(app.hook_url(&recipe))
        .bearer_auth("s3cret-token-value")
        .json(&json!({ "a": 1 }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let event_id = response.json::<Value>().await.unwrap()["event_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let detail = app.wait_for_deliveries(&event_id).await;
    let headers = detail.event.headers.to_string();
    assert!(
        !headers.contains("s3cret-token-value"),
        "token stored: {headers}"
    );
    assert!(
        detail
            .event
            .headers
            .get("authorization")
            .is_some_and(|v| v != "Bearer s3cret-token-value")
    );
    assert_eq!(receiver.wait_for(1, WAIT).await.len(), 1);
}

#[tokio::test]
async fn form_urlencoded_body_becomes_a_map_the_transform_can_read() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    let recipe = app
        .import(&format!(
            r#"
id = "form"
name = "Form"
[trigger.webhook]
[transform]
script = '#{{ kind: type_of(event), greeting: "hi " + event.name, tags: event.tag }}'
[[action]]
name = "notify"
url = "{}"
"#,
            receiver.url("/hook")
        ))
        .await;

    let response = app
        .post_raw(
            &recipe,
            Some("application/x-www-form-urlencoded"),
            "name=Ada+Lovelace&tag=a&tag=b",
        )
        .await;
    assert_eq!(response.status(), 202);
    let requests = receiver.wait_for(1, WAIT).await;
    assert_eq!(
        requests[0].json(),
        json!({ "kind": "map", "greeting": "hi Ada Lovelace", "tags": ["a", "b"] })
    );
}

#[tokio::test]
async fn text_body_is_kept_as_a_string() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    let recipe = app
        .import(&format!(
            r#"
id = "text"
name = "Text"
[trigger.webhook]
[transform]
script = '#{{ kind: type_of(event), text: event }}'
[[action]]
name = "notify"
url = "{}"
"#,
            receiver.url("/hook")
        ))
        .await;

    let plain = app
        .post_raw(
            &recipe,
            Some("text/plain; charset=utf-8"),
            "hello {not json",
        )
        .await;
    assert_eq!(plain.status(), 202);
    let untyped = app.post_raw(&recipe, None, "no content type").await;
    assert_eq!(untyped.status(), 202);
    let requests = receiver.wait_for(2, WAIT).await;
    let mut bodies: Vec<Value> = requests.iter().map(|r| r.json()).collect();
    bodies.sort_by_key(|b| b["text"].to_string());
    assert_eq!(
        bodies,
        [
            json!({ "kind": "string", "text": "hello {not json" }),
            json!({ "kind": "string", "text": "no content type" }),
        ]
    );
}

fn result_recipe(transform: &str, url: &str) -> String {
    format!(
        r#"
id = "answering"
name = "Answering"
[trigger.webhook]
respond = "result"
[filter]
script = 'event.amount > 0'
[transform]
script = '''
{transform}
'''
[[action]]
name = "notify"
url = "{url}"
"#
    )
}

#[tokio::test]
async fn respond_result_answers_with_the_transform_output_and_still_stores_and_delivers() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    let recipe = app
        .import(&result_recipe(
            "#{ doubled: event.amount * 2, note: `paid ${event.amount}` }",
            &receiver.url("/hook"),
        ))
        .await;

    let response = app.post_json(&recipe, &json!({ "amount": 21 })).await;
    assert_eq!(response.status(), 200);
    let event_id = response
        .headers()
        .get("switchyard-event-id")
        .expect("event id header")
        .to_str()
        .unwrap()
        .to_owned();
    let expected = json!({ "doubled": 42, "note": "paid 21" });
    assert_eq!(response.json::<Value>().await.unwrap(), expected);

    let detail = app.wait_for_deliveries(&event_id).await;
    assert_eq!(detail.event.status, EventStatus::Delivered);
    assert_eq!(detail.deliveries[0].status, "delivered");
    assert_eq!(receiver.wait_for(1, WAIT).await[0].json(), expected);

    let filtered = app.post_json(&recipe, &json!({ "amount": 0 })).await;
    assert_eq!(filtered.status(), 204, "filtered: no content");
    assert!(filtered.headers().contains_key("switchyard-event-id"));
    assert_eq!(app.event_count().await, 2);
}

#[tokio::test]
async fn respond_result_answers_422_with_the_message_when_the_transform_throws() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    let recipe = app
        .import(&result_recipe(
            "throw \"amount too odd\"",
            &receiver.url("/hook"),
        ))
        .await;

    let response = app.post_json(&recipe, &json!({ "amount": 3 })).await;
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.unwrap();
    let error = body["error"].as_str().expect("error message");
    assert!(error.contains("amount too odd"), "{error}");
    let event_id = body["event_id"].as_str().expect("event id");

    let detail = app.wait_for_run(event_id).await;
    assert_eq!(detail.event.status, EventStatus::Failed);
    assert!(detail.event.error.unwrap().contains("amount too odd"));
    grace().await;
    assert!(receiver.requests().is_empty());
}

#[tokio::test]
async fn health_and_readiness_answer_200() {
    let app = spawn_app().await;
    let health = app.get("/healthz").await;
    assert_eq!(health.status(), 200);
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 200);
    assert_eq!(ready.json::<Value>().await.unwrap()["status"], "ready");
}
