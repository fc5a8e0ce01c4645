//! App presets over the API and the CLI: the list with inputs and samples, applying a preset to
//! inputs, a recipe assembled only from presets working end to end, and `switchyard presets`.

use std::path::Path;

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use switchyard::recipe::presets;

mod examples_in_editor;
mod fields_input;
mod slack_handshake;

use crate::api::{Api, DEADLINE, spawn_api};
use crate::binary::Cli;
use crate::receiver::Receiver;

const STRIPE_SECRET: &str = "whsec_preset_test_0b7d1e";

pub(crate) async fn apply(api: &Api, kind: &str, id: &str, inputs: Value) -> crate::api::Reply {
    api.post_json(
        &format!("/api/presets/{kind}/{id}/apply"),
        &json!({ "inputs": inputs }),
    )
    .await
}

/// The ids the API lists for a kind, in order.
fn listed(list: &Value, kind: &str) -> Vec<String> {
    list["presets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["kind"] == kind)
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect()
}

fn files(dir: &str) -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut stems: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.strip_suffix(".toml").map(str::to_owned)
        })
        .collect();
    stems.sort();
    stems
}

#[tokio::test]
async fn the_preset_list_has_every_preset_file_with_inputs_and_samples_and_every_example() {
    let api = spawn_api().await;
    let list = api.get("/api/presets").await.expect(200).json();
    assert_eq!(listed(&list, "trigger"), files("presets/triggers"));
    assert_eq!(listed(&list, "action"), files("presets/actions"));

    let stripe = list["presets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["kind"] == "trigger" && p["id"] == "stripe")
        .unwrap();
    assert_eq!(stripe["sample"]["type"], "payment_intent.succeeded");
    assert_eq!(stripe["inputs"][0]["name"], "secret_name");
    assert_eq!(stripe["inputs"][0]["kind"], "secret");
    assert_eq!(stripe["inputs"][0]["default"], "STRIPE_SIGNING_SECRET");
    let github = list["presets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "github")
        .unwrap();
    assert_eq!(github["sample_headers"]["x-github-event"], "push");

    let examples: Vec<&str> = list["examples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(examples, files("recipes"));
    let example = &list["examples"][examples
        .iter()
        .position(|id| *id == "stripe-payment-to-slack")
        .unwrap()];
    assert!(
        example["toml"]
            .as_str()
            .unwrap()
            .contains("verify = \"stripe\"")
    );
    assert_eq!(
        example["sample"]["data"]["object"]["object"],
        "payment_intent"
    );
}

/// The story of issue 9 without the editor: a Stripe trigger preset and a Slack action preset,
/// put together by a program, import as a recipe; a signed Stripe call posts Slack's
/// `{"text": ...}` with the mapped values.
#[tokio::test]
async fn a_recipe_made_only_from_presets_posts_the_mapped_message_for_a_signed_stripe_event() {
    let api = spawn_api().await;
    let slack = Receiver::start().await;
    for (name, value) in [
        ("MY_STRIPE", STRIPE_SECRET.to_owned()),
        ("MY_SLACK", slack.url("/services/T0/B0/x")),
    ] {
        api.put_json(&format!("/api/secrets/{name}"), &json!({ "value": value }))
            .await
            .expect(204);
    }
    let trigger = apply(
        &api,
        "trigger",
        "stripe",
        json!({ "secret_name": "MY_STRIPE" }),
    )
    .await
    .expect(200)
    .json();
    assert_eq!(trigger["sections"]["dedupe"], "event.id");
    assert_eq!(
        trigger["sections"]["trigger"]["webhook"]["secret"],
        "{{ secrets.MY_STRIPE }}"
    );
    let message = "{{ event.data.object.receipt_email }} paid {{ event.data.object.amount }}";
    let action = apply(
        &api,
        "action",
        "slack",
        json!({ "url_secret": "MY_SLACK", "message": message }),
    )
    .await
    .expect(200)
    .json();
    let toml = format!(
        "id = \"paid-to-slack\"\nname = \"Paid → Slack\"\n{}\n{}",
        trigger["toml"].as_str().unwrap(),
        action["toml"].as_str().unwrap()
    );
    let recipe = api.save(&toml, "created").await;

    let list = api.get("/api/presets").await.expect(200).json();
    let sample = list["presets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "stripe")
        .unwrap()["sample"]
        .to_string();
    let t = chrono::Utc::now().timestamp().to_string();
    let mut mac = Hmac::<Sha256>::new_from_slice(STRIPE_SECRET.as_bytes()).unwrap();
    mac.update(format!("{t}.{sample}").as_bytes());
    let signature: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let response = api
        .app
        .http
        .post(recipe["webhook_url"].as_str().unwrap())
        .header("content-type", "application/json")
        .header("stripe-signature", format!("t={t},v1={signature}"))
        .body(sample)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202, "{}", response.text().await.unwrap());

    let got = slack.wait_for(1, DEADLINE).await;
    assert_eq!(got[0].path, "/services/T0/B0/x");
    assert_eq!(
        got[0].json(),
        json!({ "text": "ada@example.com paid 2000" })
    );
}

#[tokio::test]
async fn applying_a_preset_refuses_bad_inputs_and_unknown_presets_naming_them() {
    let api = spawn_api().await;
    let error = apply(
        &api,
        "action",
        "slack",
        json!({ "url_secret": "lower case" }),
    )
    .await
    .expect_error(422);
    assert!(
        error.contains("url_secret") && error.contains("not a secret name"),
        "{error}"
    );
    let error = apply(&api, "action", "telegram", json!({}))
        .await
        .expect_error(422);
    assert!(
        error.contains("`chat_id`") && error.contains("required"),
        "{error}"
    );
    let error = apply(&api, "action", "slack", json!({ "colour": "red" }))
        .await
        .expect_error(422);
    assert!(error.contains("no input `colour`"), "{error}");
    let error = apply(&api, "trigger", "slack", json!({}))
        .await
        .expect_error(404);
    assert!(error.contains("no trigger preset `slack`"), "{error}");
    apply(&api, "widget", "slack", json!({}))
        .await
        .expect_error(404);
    let reply = api
        .call(reqwest::Method::GET, "/api/presets", None, None)
        .await;
    assert_eq!(reply.status, 401);
    // The token is checked before the body: a stranger learns nothing from a malformed one.
    let reply = api
        .call(
            reqwest::Method::POST,
            "/api/presets/action/slack/apply",
            Some("wrong"),
            Some(("application/json", b"{not json".to_vec())),
        )
        .await;
    assert_eq!(reply.status, 401);
    let error = api
        .call(
            reqwest::Method::POST,
            "/api/presets/action/slack/apply",
            Some(crate::api::TOKEN),
            Some(("application/json", b"{not json".to_vec())),
        )
        .await
        .expect_error(400);
    assert!(error.contains("invalid JSON body"), "{error}");
    let error = apply(&api, "action", "slack", json!({ "message": 5 }))
        .await
        .expect_error(422);
    assert!(
        error.contains("input `message`: expected text (a JSON string), got a number"),
        "{error}"
    );
}

#[tokio::test]
async fn the_openapi_document_describes_the_preset_endpoints() {
    let api = spawn_api().await;
    let doc = api.get("/api/openapi.json").await.expect(200).json();
    assert!(doc["paths"]["/api/presets"]["get"].is_object(), "{doc:#}");
    assert!(doc["paths"]["/api/presets/{kind}/{id}/apply"]["post"].is_object());
}

#[test]
fn the_presets_command_lists_presets_and_examples_without_a_store() {
    let cli = Cli::without_store();
    let text = cli.run(&["presets"]).ok().to_owned();
    for preset in presets::all() {
        assert!(
            text.contains(&format!("  {:<18} {}", preset.id, preset.name)),
            "{text}"
        );
    }
    assert!(text.contains("chat_id: Chat id"), "{text}");
    assert!(text.contains("stripe-payment-to-slack"), "{text}");

    let json = cli.run(&["presets", "--json"]).json();
    assert_eq!(
        json["presets"].as_array().unwrap().len(),
        presets::all().len()
    );
    assert_eq!(
        json["examples"].as_array().unwrap().len(),
        files("recipes").len()
    );
    assert!(!cli.data_dir.exists(), "presets must not create a store");
}

/// A preset-made recipe through the real binary: `check` accepts it and `test` with the trigger
/// preset's sample payload and headers plans the action's request (GitHub's dedupe reads a
/// header, so the sample headers matter).
#[test]
fn a_recipe_from_the_github_and_discord_presets_passes_check_and_test_with_the_samples() {
    use std::collections::BTreeMap;
    use switchyard::recipe::presets::PresetKind;

    let github = presets::get(PresetKind::Trigger, "github").unwrap();
    let discord = presets::get(PresetKind::Action, "discord").unwrap();
    let message = BTreeMap::from([(
        "message".to_owned(),
        "{{ event.pusher.name }} pushed to {{ event.repository.full_name }}".to_owned(),
    )]);
    let recipe = presets::compose(
        "push-to-discord",
        "Push → Discord",
        &[
            github.apply(&BTreeMap::new()).unwrap(),
            discord.apply(&message).unwrap(),
        ],
    )
    .unwrap();
    let cli = Cli::without_store();
    let file = cli.write("push.toml", &presets::to_toml(&recipe));
    let payload = cli.write("payload.json", &github.sample.as_ref().unwrap().to_string());
    let headers = cli.write(
        "headers.json",
        &github.sample_headers.as_ref().unwrap().to_string(),
    );
    assert!(
        cli.run(&[Path::new("check"), &file])
            .ok()
            .contains("push-to-discord")
    );

    let report = cli
        .run(&[
            Path::new("test"),
            &file,
            Path::new("--payload"),
            &payload,
            Path::new("--headers"),
            &headers,
            Path::new("--json"),
        ])
        .json();
    assert_eq!(report["dedupe_key"], "72d3162e-cc78-11e3-81ab-4c9367dc0958");
    let request = &report["requests"][0]["request"];
    assert_eq!(request["url"], "{{ secrets.DISCORD_WEBHOOK_URL }}");
    let body: Value = serde_json::from_str(request["body"].as_str().unwrap()).unwrap();
    assert_eq!(
        body,
        json!({ "content": "octocat pushed to octo-org/hello-world" })
    );
}

/// A website form posted as a browser does (form-encoded) through a recipe made from the
/// website-form and JSON POST presets: the chosen fields arrive as a JSON object.
#[tokio::test]
async fn a_form_post_through_the_website_form_and_json_presets_arrives_as_the_chosen_fields() {
    let api = spawn_api().await;
    let receiver = Receiver::start().await;
    let trigger = apply(&api, "trigger", "website-form", json!({}))
        .await
        .expect(200)
        .json();
    let fields =
        json!({ "who": "{{ event.name }} <{{ event.email }}>", "says": "{{ event.message }}" });
    let action = apply(
        &api,
        "action",
        "generic-json",
        json!({ "url": receiver.url("/leads"), "fields": fields.to_string() }),
    )
    .await
    .expect(200)
    .json();
    let toml = format!(
        "id = \"form-to-crm\"\nname = \"Form → CRM\"\n{}\n{}",
        trigger["toml"].as_str().unwrap(),
        action["toml"].as_str().unwrap()
    );
    let recipe = api.save(&toml, "created").await;
    let response = api
        .app
        .http
        .post(recipe["webhook_url"].as_str().unwrap())
        .header("content-type", "application/x-www-form-urlencoded")
        .body("name=Ada+Lovelace&email=ada%40example.com&message=Quote+for+40%3F")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);

    let got = receiver.wait_for(1, DEADLINE).await;
    assert_eq!(got[0].path, "/leads");
    assert_eq!(
        got[0].json(),
        json!({ "who": "Ada Lovelace <ada@example.com>", "says": "Quote for 40?" })
    );
}
