//! Action templates: values escaped for where they land, and a missing path fails the delivery
//! at once, naming the path.

use serde_json::json;
use switchyard::store::EventStatus;

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
