//! Every preset in a complete recipe: each trigger with a fixed action and each action with the
//! Stripe trigger pass `check` and a dry run of the sample, with the request each app expects.

use std::collections::BTreeMap;

use chrono::Utc;
use serde_json::{Value, json};

use super::tests::{filled, inputs, preset};
use super::*;
use crate::engine::EventContext;
use crate::engine::dry_run::evaluate;
use crate::recipe::Recipe;
use crate::script::{ScriptEngine, ScriptLimits};

const MESSAGE: &str = "Payment {{ event.data.object.id }} of {{ event.data.object.amount }}";
const RENDERED: &str = "Payment pi_3PqK2nLkdIwHu7ix0yH9T4Xa of 2000";

/// A fixed action for trying the trigger presets: a plain body template (no `fields`).
fn fixed_action() -> toml::Table {
    toml::from_str(
        "[[action]]\nname = \"echo\"\nurl = \"https://example.com/echo\"\nbody = \"got an event\"\n",
    )
    .unwrap()
}

/// Builds a recipe from the sections, checks it as `switchyard check` would and dry-runs it
/// with the trigger preset's sample as `switchyard test` would; returns the report.
fn check_and_dry_run(trigger: &Preset, sections: &[toml::Table]) -> Value {
    let recipe = compose("from-presets", "From presets", sections).unwrap();
    let source = to_toml(&recipe);
    let scripts = ScriptEngine::new(ScriptLimits::default());
    let recipe = Recipe::from_toml(&source, &scripts)
        .unwrap_or_else(|e| panic!("{} does not pass check:\n{e}\n{source}", trigger.id));
    let payload = trigger
        .sample
        .clone()
        .expect("trigger presets have a sample");
    let headers = trigger
        .sample_headers
        .clone()
        .unwrap_or_else(|| json!({ "content-type": "application/json" }));
    let ctx = EventContext::new(recipe.id(), "webhook", Utc::now(), payload.clone(), headers);
    let report = evaluate(&scripts, &recipe, &ctx, &payload);
    assert!(
        report["error"].is_null(),
        "{}: {report:#}\n{source}",
        trigger.id
    );
    report
}

#[test]
fn every_trigger_preset_with_a_fixed_action_passes_check_and_a_dry_run_of_its_sample() {
    let triggers: Vec<&Preset> = all()
        .iter()
        .filter(|p| p.kind == PresetKind::Trigger)
        .collect();
    assert!(!triggers.is_empty());
    for trigger in triggers {
        let sections = [
            trigger.apply(&filled(trigger, &[])).unwrap(),
            fixed_action(),
        ];
        let report = check_and_dry_run(trigger, &sections);
        assert_ne!(report["filter"], json!(false), "{}: {report:#}", trigger.id);
        assert_eq!(
            report["requests"][0]["request"]["body"], "got an event",
            "{}",
            trigger.id
        );
        let expected_key = match trigger.id.as_str() {
            "stripe" => Some("evt_3PqK2nLkdIwHu7ix0Tu1Jf2Z"),
            "github" => Some("72d3162e-cc78-11e3-81ab-4c9367dc0958"),
            "shopify" => Some("b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"),
            "slack-events" => Some("Ev123ABC456"),
            "standard-webhooks" => Some("msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"),
            _ => None,
        };
        assert_eq!(
            report["dedupe_key"].as_str(),
            expected_key,
            "{}: {report:#}",
            trigger.id
        );
    }
}

/// `(preset id, url, a header that must be there, the JSON body)`.
type Expected = (
    &'static str,
    &'static str,
    Option<(&'static str, &'static str)>,
    Value,
);

/// What each action preset sends for the Stripe sample with [`MESSAGE`] and the examples of its
/// required inputs.
fn expected_requests(sample: &Value) -> Vec<Expected> {
    let card = json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": [{ "type": "TextBlock", "text": RENDERED, "wrap": true }]
            }
        }]
    });
    vec![
        (
            "discord",
            "{{ secrets.DISCORD_WEBHOOK_URL }}",
            None,
            json!({ "content": RENDERED }),
        ),
        (
            "generic-json",
            "https://example.com/hooks/orders",
            None,
            json!({ "event": sample }),
        ),
        (
            "google-chat",
            "{{ secrets.GOOGLE_CHAT_WEBHOOK_URL }}",
            None,
            json!({ "text": RENDERED }),
        ),
        (
            "mattermost",
            "{{ secrets.MATTERMOST_WEBHOOK_URL }}",
            None,
            json!({ "text": RENDERED }),
        ),
        (
            "ntfy",
            "https://ntfy.sh",
            None,
            json!({ "topic": "switchyard-alerts-7f3k2", "title": "Switchyard", "message": RENDERED }),
        ),
        (
            "postmark",
            "https://api.postmarkapp.com/email",
            Some((
                "X-Postmark-Server-Token",
                "{{ secrets.POSTMARK_SERVER_TOKEN }}",
            )),
            json!({
                "From": "shop@example.com", "To": "sales@example.com", "Subject": "New event",
                "TextBody": RENDERED, "MessageStream": "outbound"
            }),
        ),
        (
            "resend",
            "https://api.resend.com/emails",
            Some(("Authorization", "Bearer {{ secrets.RESEND_API_KEY }}")),
            json!({ "from": "shop@example.com", "to": "sales@example.com", "subject": "New event", "text": RENDERED }),
        ),
        (
            "slack",
            "{{ secrets.SLACK_WEBHOOK_URL }}",
            None,
            json!({ "text": RENDERED }),
        ),
        ("teams", "{{ secrets.TEAMS_WORKFLOW_URL }}", None, card),
        (
            "telegram",
            "https://api.telegram.org/bot{{ secrets.TELEGRAM_BOT_TOKEN }}/sendMessage",
            None,
            json!({ "chat_id": "-1001234567890", "text": RENDERED }),
        ),
    ]
}

#[test]
fn every_action_preset_with_the_stripe_trigger_sends_the_request_its_app_documents() {
    let stripe = preset(PresetKind::Trigger, "stripe");
    let sample = stripe.sample.clone().unwrap();
    let expected = expected_requests(&sample);
    let actions: Vec<&str> = all()
        .iter()
        .filter(|p| p.kind == PresetKind::Action)
        .map(|p| p.id.as_str())
        .collect();
    let covered: Vec<&str> = expected.iter().map(|e| e.0).collect();
    assert_eq!(
        actions, covered,
        "every action preset has an expected request here"
    );
    for (id, url, header, body) in expected {
        let action = preset(PresetKind::Action, id);
        let sections = [
            stripe.apply(&BTreeMap::new()).unwrap(),
            action
                .apply(&filled(action, &[("message", MESSAGE)]))
                .unwrap(),
        ];
        let report = check_and_dry_run(stripe, &sections);
        let request = &report["requests"][0]["request"];
        assert_eq!(request["method"], "POST", "{id}");
        assert_eq!(request["url"], url, "{id}");
        let headers = request["headers"].as_array().unwrap();
        let has = |name: &str, value: &str| {
            headers.iter().any(|h| {
                h[0].as_str().unwrap().eq_ignore_ascii_case(name) && h[1].as_str().unwrap() == value
            })
        };
        assert!(has("content-type", "application/json"), "{id}: {request:#}");
        if let Some((name, value)) = header {
            assert!(has(name, value), "{id}: {name}: {value} in {request:#}");
        }
        let sent: Value = serde_json::from_str(request["body"].as_str().unwrap()).unwrap();
        assert_eq!(sent, body, "{id}");
    }
}

#[test]
fn a_message_template_keeps_its_quotes_and_lines_through_preset_check_and_dry_run() {
    let stripe = preset(PresetKind::Trigger, "stripe");
    // Quotes, TOML delimiters and a browser textarea's CRLF line ends.
    let message = "He said \"paid\" ''' \r\n[evil]\n{{ event.data.object.amount }}";
    let sections = [
        stripe.apply(&BTreeMap::new()).unwrap(),
        preset(PresetKind::Action, "slack")
            .apply(&inputs(&[("message", message)]))
            .unwrap(),
    ];
    let report = check_and_dry_run(stripe, &sections);
    let sent: Value =
        serde_json::from_str(report["requests"][0]["request"]["body"].as_str().unwrap()).unwrap();
    assert_eq!(
        sent,
        json!({ "text": "He said \"paid\" ''' \r\n[evil]\n2000" })
    );
}
