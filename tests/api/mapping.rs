//! Action `fields`: a recipe without a transform maps a payment into a JSON object body, in a
//! real delivery, in the API dry run and in `switchyard test`; `check` refuses `output.*`
//! without a transform.

use std::path::Path;

use serde_json::{Value, json};

use crate::api::spawn_api;
use crate::binary::Cli;
use crate::helpers::{TestApp, WAIT, grace, spawn_app, spawn_app_with};
use crate::receiver::Receiver;
use crate::store_contract::PgDatabase;

/// A Stripe-like payment: an amount, a number too big for 64 bits, a name with quotes.
const PAYMENT: &str = r#"{"id": "evt_1", "type": "payment_intent.succeeded",
  "data": {"object": {"id": "pi_3", "amount": 2000, "currency": "usd", "paid": true,
    "reference": 12591154125385152738, "receipt_email": null,
    "billing_details": {"name": "Grace \"Amazing\" Hopper"},
    "lines": [{"sku": "A-1", "qty": 2}]}}}"#;

fn recipe(id: &str, url: &str) -> String {
    format!(
        r#"id = "{id}"
name = "Payment to chat"

[trigger.webhook]

[[action]]
name = "chat"
url = "{url}"
retry = {{ schedule = ["0s"] }}
fields = {{ text = "Payment {{{{ event.data.object.id }}}} of {{{{ event.data.object.amount }}}} by {{{{ event.data.object.billing_details.name }}}}", amount = "{{{{ event.data.object.amount }}}}", reference = "{{{{ event.data.object.reference }}}}", paid = "{{{{ event.data.object.paid }}}}", "customer.name" = "{{{{ event.data.object.billing_details.name }}}}", "customer.email" = "{{{{ event.data.object.receipt_email }}}}", lines = "{{{{ event.data.object.lines }}}}", note = '{{{{ event.data.object.note | default: "none" }}}}', meta = {{ source = "stripe", version = 1, ratio = 0.5, since = 1979-05-27T07:32:00Z }} }}
"#
    )
}

/// The body the recipe must produce from [`PAYMENT`], parsed (big numbers compared as text).
fn expected_body() -> Value {
    serde_json::from_str(
        r#"{"text": "Payment pi_3 of 2000 by Grace \"Amazing\" Hopper", "amount": 2000,
            "reference": 12591154125385152738, "paid": true,
            "customer": {"name": "Grace \"Amazing\" Hopper", "email": null},
            "lines": [{"sku": "A-1", "qty": 2}], "note": "none",
            "meta": {"source": "stripe", "version": 1, "ratio": 0.5,
                     "since": "1979-05-27T07:32:00Z"}}"#,
    )
    .unwrap()
}

/// Imports the mapping recipe, sends [`PAYMENT`] and checks what the receiver got.
async fn delivers_exactly_the_mapped_json_object(app: &TestApp) {
    let receiver = Receiver::start().await;
    let recipe = app.import(&recipe("mapped", &receiver.url("/chat"))).await;

    let response = app
        .post_raw(&recipe, Some("application/json"), PAYMENT)
        .await;
    assert_eq!(response.status(), 202);

    let requests = receiver.wait_for(1, WAIT).await;
    assert_eq!(requests[0].header("content-type"), Some("application/json"));
    assert_eq!(requests[0].json(), expected_body());
    let raw = String::from_utf8(requests[0].body.clone()).unwrap();
    assert!(
        raw.contains(r#""amount":2000"#) && raw.contains(r#""reference":12591154125385152738"#),
        "numbers stay numbers with their exact digits: {raw}"
    );
    assert!(
        raw.contains(r#""name":"Grace \"Amazing\" Hopper""#),
        "{raw}"
    );
}

#[tokio::test]
async fn fields_without_a_transform_deliver_exactly_the_mapped_json_object() {
    delivers_exactly_the_mapped_json_object(&spawn_app().await).await;
}

/// The delivery keeps a JSON snapshot of the action: on PostgreSQL that is a JSONB column.
#[tokio::test]
async fn fields_survive_the_postgres_delivery_snapshot() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    let url = db.url.clone();
    let app = spawn_app_with(|s| s.database_url = Some(url)).await;
    delivers_exactly_the_mapped_json_object(&app).await;
}

#[tokio::test]
async fn the_api_dry_run_shows_the_mapped_body_and_sends_nothing() {
    let api = spawn_api().await;
    let receiver = Receiver::start().await;
    api.save(&recipe("mapped", &receiver.url("/chat")), "created")
        .await;

    let payload: Value = serde_json::from_str(PAYMENT).unwrap();
    let report = api
        .post_json("/api/recipes/mapped/test", &payload)
        .await
        .expect(200)
        .json();
    assert_eq!(report["error"], Value::Null, "{report:#}");
    let request = &report["requests"][0]["request"];
    let body: Value = serde_json::from_str(request["body"].as_str().unwrap()).unwrap();
    assert_eq!(body, expected_body());
    assert!(
        request["headers"]
            .as_array()
            .unwrap()
            .contains(&json!(["content-type", "application/json"])),
        "{request:#}"
    );
    grace().await;
    assert!(receiver.requests().is_empty(), "a dry run sends nothing");
}

#[test]
fn switchyard_test_prints_the_mapped_body_and_check_refuses_output_without_a_transform() {
    let cli = Cli::without_store();
    let file = cli.write(
        "mapped.toml",
        &recipe("mapped", "https://chat.example.com/hook"),
    );
    let payload = cli.write("payment.json", PAYMENT);
    cli.run(&[Path::new("check"), &file]).ok();
    let out = cli.run(&[
        Path::new("test"),
        &file,
        Path::new("--payload"),
        &payload,
        Path::new("--json"),
    ]);
    let report = out.json();
    let body = report["requests"][0]["request"]["body"].as_str().unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(body).unwrap(),
        expected_body()
    );
    let text = cli.run(&[Path::new("test"), &file, Path::new("--payload"), &payload]);
    assert!(
        text.ok()
            .contains(r#""customer":{"email":null,"name":"Grace \"Amazing\" Hopper"}"#),
        "{text:#?}"
    );

    let bad = cli.write(
        "bad.toml",
        &recipe("bad", "https://chat.example.com/hook").replace(
            "amount = \"{{ event.data.object.amount }}\"",
            "amount = \"{{ output.amount }}\"",
        ),
    );
    let stderr = cli.run(&[Path::new("check"), &bad]).fails().to_string();
    assert!(
        stderr.contains(
            "action[0].fields.amount: `{{ output.amount }}`: no transform: output.* is empty; use event.* (`{{ event.amount }}`)"
        ),
        "{stderr}"
    );
}
