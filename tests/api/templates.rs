//! Action templates: values escaped for where they land, the body's escaping decides the
//! Content-Type sent when the action sets none, and a missing path fails the delivery at once,
//! naming the path.

use std::path::Path;

use serde_json::{Value, json};
use switchyard::store::EventStatus;

use crate::binary::Cli;
use crate::helpers::{WAIT, grace, spawn_app};
use crate::receiver::Receiver;

fn recipe(id: &str, url: &str, body: &str) -> String {
    format!(
        "id = \"{id}\"\nname = \"{id}\"\n[trigger.webhook]\n[[action]]\nname = \"notify\"\n\
         url = \"{url}\"\nheaders = {{ \"X-Payer\" = \"{{{{ event.name }}}}\" }}\n\
         body = '''{body}'''\nretry = {{ schedule = [\"0s\", \"0s\", \"0s\"] }}\n"
    )
}

#[tokio::test]
async fn a_payer_name_with_quotes_arrives_as_valid_json_and_an_id_with_slashes_as_one_segment() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    let url = format!("{}/{{{{ event.id }}}}", receiver.url("/orders"));
    let body = r#"{"text": "Paid by {{ event.name }}", "amount": {{ event.amount }}, "note": "{{ event.note | default: "" }}"}"#;
    let recipe = app.import(&recipe("quotes", &url, body)).await;

    let raw =
        r#"{"id": "a/b c", "name": "Grace \"Amazing\" Hopper", "amount": 12591154125385152738}"#;
    let response = app.post_raw(&recipe, Some("application/json"), raw).await;
    assert_eq!(response.status(), 202);

    let requests = receiver.wait_for(1, WAIT).await;
    assert_eq!(requests[0].path, "/orders/a%2Fb%20c");
    assert_eq!(
        requests[0].header("x-payer"),
        Some("Grace \"Amazing\" Hopper")
    );
    assert_eq!(
        String::from_utf8(requests[0].body.clone()).unwrap(),
        r#"{"text": "Paid by Grace \"Amazing\" Hopper", "amount": 12591154125385152738, "note": ""}"#
    );
    assert_eq!(
        requests[0].json()["text"],
        json!("Paid by Grace \"Amazing\" Hopper")
    );
}

#[tokio::test]
async fn a_missing_template_path_makes_the_delivery_dead_after_one_attempt_naming_the_path() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    let body = r#"{"text": "Paid {{ event.amount }}"}"#;
    let recipe = app
        .import(&recipe("missing", &receiver.url("/hook"), body))
        .await;

    let event_id = app.send_event(&recipe, &json!({ "name": "Ada" })).await;
    let detail = app.wait_for_deliveries(&event_id).await;
    let delivery = &detail.deliveries[0];
    assert_eq!(delivery.status, "dead", "{delivery:#?}");
    assert_eq!(
        delivery.attempts.len(),
        1,
        "no retries: the data will not change"
    );
    let error = delivery.attempts[0].error.as_deref().unwrap_or_default();
    assert!(
        error.contains("`{{ event.amount }}`: the event has no field `amount`"),
        "{error}"
    );
    assert_ne!(detail.event.status, EventStatus::Delivered);
    grace().await;
    assert!(
        receiver.requests().is_empty(),
        "nothing half-filled was sent"
    );
}

#[tokio::test]
async fn a_header_value_with_a_line_break_is_refused_not_sent() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    let recipe = app
        .import(&recipe("header", &receiver.url("/hook"), r#"{"a": 1}"#))
        .await;

    let event_id = app
        .send_event(&recipe, &json!({ "name": "Ada\r\nX-Injected: yes" }))
        .await;
    let detail = app.wait_for_deliveries(&event_id).await;
    let delivery = &detail.deliveries[0];
    assert_eq!(delivery.status, "dead");
    let error = delivery.attempts[0].error.as_deref().unwrap_or_default();
    assert!(error.contains("cannot go in a header value"), "{error}");
    grace().await;
    assert!(receiver.requests().is_empty());
}

/// A recipe whose one action has `body` and the given `headers` (a TOML inline table's inside).
fn body_recipe(id: &str, url: &str, headers: &str, body: &str) -> String {
    format!(
        "id = \"{id}\"\nname = \"{id}\"\n[trigger.webhook]\n[[action]]\nname = \"notify\"\n\
         url = \"{url}\"\nheaders = {{ {headers} }}\nbody = '''{body}'''\n"
    )
}

/// Body template, the Content-Type the action sets, the body and Content-Type that arrive.
const SHAPES: [(&str, &str, &str, &str); 4] = [
    (
        r#"{"text": "Hi {{ event.name }}"}"#,
        "",
        r#"{"text": "Hi Ada \"A\""}"#,
        "application/json",
    ),
    // Exactly one template: it lands as a JSON value (text quoted), so it is JSON.
    ("{{ event.name }}", "", r#""Ada \"A\"""#, "application/json"),
    (
        "Hi {{ event.name }}",
        "",
        r#"Hi Ada "A""#,
        "text/plain; charset=utf-8",
    ),
    // The action's own Content-Type is kept as written.
    (
        "{{ event.name }}",
        r#""Content-Type" = "text/markdown""#,
        r#"Ada "A""#,
        "text/markdown",
    ),
];

#[tokio::test]
async fn a_body_without_a_content_type_is_sent_with_the_type_its_escaping_wrote() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    for (n, (body, headers, _, _)) in SHAPES.iter().enumerate() {
        let url = receiver.url(&format!("/{n}"));
        let recipe = app
            .import(&body_recipe(&format!("shape{n}"), &url, headers, body))
            .await;
        app.send_event(&recipe, &json!({ "name": "Ada \"A\"" }))
            .await;
    }
    let mut requests = receiver.wait_for(SHAPES.len(), WAIT).await;
    requests.sort_by(|a, b| a.path.cmp(&b.path));
    for (request, (body, _, sent, content_type)) in requests.iter().zip(SHAPES) {
        assert_eq!(String::from_utf8_lossy(&request.body), sent, "{body}");
        assert_eq!(request.header("content-type"), Some(content_type), "{body}");
    }
}

#[test]
fn switchyard_test_shows_the_content_type_a_body_is_sent_with() {
    let cli = Cli::without_store();
    let payload = cli.write("event.json", r#"{"name": "Ada \"A\""}"#);
    for (n, (body, headers, sent, content_type)) in SHAPES.iter().enumerate() {
        let file = cli.write(
            &format!("shape{n}.toml"),
            &body_recipe(
                &format!("shape{n}"),
                "https://example.com/in",
                headers,
                body,
            ),
        );
        let args = [Path::new("test"), &file, Path::new("--payload"), &payload];
        let out = cli.run(&[&args[..], &[Path::new("--json")]].concat());
        let request = out.json()["requests"][0]["request"].clone();
        assert_eq!(request["body"], *sent, "{body}");
        let types: Vec<&Value> = request["headers"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|h| h[0].as_str().unwrap().eq_ignore_ascii_case("content-type"))
            .map(|h| &h[1])
            .collect();
        assert_eq!(types, [content_type], "{body}: exactly one Content-Type");
        let text = cli.run(&args);
        assert!(
            text.ok()
                .to_ascii_lowercase()
                .contains(&format!("content-type: {content_type}")),
            "{body}: {text:#?}"
        );
    }
}
