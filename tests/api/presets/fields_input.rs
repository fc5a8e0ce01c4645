//! `POST /api/presets/{kind}/{id}/apply`: a `fields` input given as a JSON object.

use serde_json::json;

use super::apply;
use crate::api::spawn_api;

/// README: a `fields` input "is a JSON object". Over the API it may be given as one, or as its
/// JSON text (the form the editor posts); both make the same action. Only `fields` inputs take
/// an object, and a list or null is refused naming the input.
#[tokio::test]
async fn a_fields_input_is_taken_as_a_json_object_or_as_its_json_text() {
    let api = spawn_api().await;
    let fields = json!({ "text": "Paid {{ event.data.object.amount }}", "amount": "{{ event.data.object.amount }}", "meta": { "source": "stripe" } });
    let url = "https://example.com/hooks/orders";
    let as_object = apply(
        &api,
        "action",
        "generic-json",
        json!({ "url": url, "fields": fields }),
    )
    .await
    .expect(200)
    .json();
    let as_text = apply(
        &api,
        "action",
        "generic-json",
        json!({ "url": url, "fields": fields.to_string() }),
    )
    .await
    .expect(200)
    .json();
    assert_eq!(as_object, as_text);
    assert_eq!(
        as_object["sections"]["action"][0]["fields"],
        json!({ "amount": "{{ event.data.object.amount }}", "meta": { "source": "stripe" }, "text": "Paid {{ event.data.object.amount }}" })
    );

    for (inputs, wanted) in [
        (
            json!({ "url": url, "fields": ["text"] }),
            "input `fields`: expected a JSON object (or its JSON text), got a list",
        ),
        (
            json!({ "url": url, "fields": null }),
            "input `fields`: expected a JSON object (or its JSON text), got null",
        ),
        (
            json!({ "url": { "href": url } }),
            "input `url`: expected text (a JSON string), got an object",
        ),
    ] {
        let error = apply(&api, "action", "generic-json", inputs)
            .await
            .expect_error(422);
        assert!(error.contains(wanted), "{error}");
    }
}
