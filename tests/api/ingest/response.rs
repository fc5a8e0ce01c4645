//! `[trigger.webhook.response]`: status, headers, content type and a body template over the
//! event (or the output with `respond = "result"`); a template the request cannot fill is a
//! 422 naming the path, and nothing is stored.

use serde_json::{Value, json};

use super::plain_recipe;
use crate::helpers::spawn_app;

const RESPONSE: &str = r#"
[trigger.webhook.response]
status = 200
content_type = "application/json"
headers = { "X-Order" = "{{ event.order }}" }
body = '{"received": "{{ event.order }}", "total": {{ event.total }}}'
"#;

#[tokio::test]
async fn the_answer_is_the_configured_status_headers_and_rendered_body() {
    let app = spawn_app().await;
    let recipe = app
        .import(&format!(
            "{}{RESPONSE}",
            plain_recipe("shaped", "", "", "http://127.0.0.1:9/x")
        ))
        .await;
    let response = app
        .post_json(&recipe, &json!({ "order": "o \"1\"", "total": 12.50 }))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-order"], "o \"1\"");
    assert_eq!(response.headers()["content-type"], "application/json");
    let event_id = response.headers()["switchyard-event-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, json!({ "received": "o \"1\"", "total": 12.50 }));
    assert_eq!(app.event(&event_id).await.event.payload["order"], "o \"1\"");
}

#[tokio::test]
async fn a_path_the_request_lacks_is_a_422_naming_it_and_stores_nothing() {
    let app = spawn_app().await;
    let recipe = app
        .import(&format!(
            "{}{RESPONSE}",
            plain_recipe("shaped-missing", "", "", "http://127.0.0.1:9/x")
        ))
        .await;
    let response = app.post_json(&recipe, &json!({ "order": "o1" })).await;
    assert_eq!(response.status(), 422);
    let error: Value = response.json().await.unwrap();
    let message = error["error"].as_str().unwrap();
    assert!(
        message.contains("trigger.webhook.response: body") && message.contains("event.total"),
        "{message}"
    );
    assert_eq!(app.event_count().await, 0);
}

#[tokio::test]
async fn with_respond_result_the_body_renders_the_output() {
    let app = spawn_app().await;
    let recipe = app
        .import(
            r#"
id = "shaped-result"
name = "shaped-result"
[trigger.webhook]
respond = "result"
[trigger.webhook.response]
status = 201
body = "ok {{ output.reply }} for {{ event.who }}"
[transform]
script = '#{ reply: "hello" }'
[[action]]
name = "a"
url = "http://127.0.0.1:9/x"
"#,
        )
        .await;
    let response = app.post_json(&recipe, &json!({ "who": "Ada" })).await;
    assert_eq!(response.status(), 201);
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; charset=utf-8"
    );
    assert_eq!(response.text().await.unwrap(), "ok hello for Ada");
}
