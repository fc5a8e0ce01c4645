//! Script values that used to be decided quietly: number literals rounded to floats, arrays and
//! objects compared with numbers, fields read from a body that arrived as text.

use serde_json::Value;
use switchyard::store::EventStatus;

use super::recipe;
use crate::helpers::{WAIT, grace, spawn_app};
use crate::receiver::Receiver;

fn payload(text: &str) -> Value {
    serde_json::from_str(text).expect("test payload")
}

#[tokio::test]
async fn a_filter_literal_beyond_64_bits_equals_exactly_that_payload_number_and_no_other() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    let exact = app
        .import(&recipe(
            "exact-literal",
            "event.big == 12591154125385152738",
            "",
            &receiver.url("/hook"),
        ))
        .await;

    let same = app
        .send_event(&exact, &payload(r#"{"big": 12591154125385152738}"#))
        .await;
    let detail = app.wait_for_deliveries(&same).await;
    assert_eq!(detail.event.status, EventStatus::Delivered);
    let requests = receiver.wait_for(1, WAIT).await;
    assert_eq!(
        String::from_utf8_lossy(&requests[0].body),
        r#"{"big":12591154125385152738}"#
    );

    let next = app
        .send_event(&exact, &payload(r#"{"big": 12591154125385152739}"#))
        .await;
    let detail = app.wait_for_run(&next).await;
    assert_eq!(detail.event.status, EventStatus::Filtered);
    grace().await;
    assert_eq!(receiver.requests().len(), 1, "only the equal number passed");
}

#[tokio::test]
async fn transform_literals_keep_the_digits_they_are_written_with() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    let literals = app
        .import(&recipe(
            "literals",
            "",
            "#{ big: 12591154125385152738, small: 0.1000000000000000055511, \
             negative: -12591154125385152739, kind: type_of(12591154125385152738) }",
            &receiver.url("/hook"),
        ))
        .await;

    let event_id = app.send_event(&literals, &payload("{}")).await;
    app.wait_for_deliveries(&event_id).await;
    let requests = receiver.wait_for(1, WAIT).await;
    let body = String::from_utf8_lossy(&requests[0].body).to_string();
    for field in [
        r#""big":12591154125385152738"#,
        r#""small":0.1000000000000000055511"#,
        r#""negative":-12591154125385152739"#,
        r#""kind":"exact number""#,
    ] {
        assert!(body.contains(field), "{field} in {body}");
    }
}

#[tokio::test]
async fn filters_comparing_arrays_or_objects_with_numbers_fail_the_run_naming_both_values() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    for (id, filter, expected) in [
        (
            "items-gt",
            "event.items > 1",
            "filter script, line 1, column 13: cannot compare the array [1,2] > the number 1",
        ),
        (
            "object-gt",
            "event.m > 1",
            "filter script, line 1, column 9: cannot compare the object {\"a\":1} > the number 1",
        ),
        (
            "items-eq",
            "event.items == 1",
            "filter script, line 1, column 13: cannot compare the array [1,2] == the number 1",
        ),
    ] {
        let stored = app
            .import(&recipe(id, filter, "", &receiver.url("/hook")))
            .await;
        let event_id = app
            .send_event(&stored, &payload(r#"{"items": [1, 2], "m": {"a": 1}}"#))
            .await;
        let detail = app.wait_for_run(&event_id).await;
        assert_eq!(detail.event.status, EventStatus::Failed, "{filter}");
        let error = detail.runs[0].error.as_deref().expect("run error stored");
        assert!(error.contains(expected), "{filter}: {error}");
    }
    grace().await;
    assert!(receiver.requests().is_empty());
}

#[tokio::test]
async fn reading_a_field_of_a_text_body_fails_saying_the_event_is_text() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    for (id, dedupe, column) in [
        ("plain", "event.id", 7),
        ("optional", "event?.k ?? event", 8),
    ] {
        let toml = format!(
            "dedupe = '{dedupe}'\n{}",
            recipe(id, "", "", &receiver.url("/hook"))
        );
        let stored = app.import(&toml).await;
        let response = app.post_raw(&stored, Some("text/plain"), "hello").await;
        assert_eq!(response.status(), 202);
        let event_id = response.json::<Value>().await.unwrap()["event_id"]
            .as_str()
            .unwrap()
            .to_string();
        let detail = app.wait_for_run(&event_id).await;
        assert_eq!(detail.event.status, EventStatus::Failed, "{dedupe}");
        let error = detail.runs[0].error.as_deref().expect("run error stored");
        assert!(
            error.contains(&format!("dedupe expression, line 1, column {column}: "))
                && error.contains("the event is text, not a JSON object"),
            "{dedupe}: {error}"
        );
        assert!(!error.contains("'get'"), "no internal rewrite in {error}");
    }
}
