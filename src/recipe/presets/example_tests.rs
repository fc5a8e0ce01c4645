//! The example recipes of `recipes/` ("new recipe from an example") show the no-code layer:
//! condition rows and `fields`, with a transform only where `fields` cannot say it.

use chrono::Utc;
use serde_json::json;

use super::*;
use crate::engine::EventContext;
use crate::engine::dry_run::evaluate;
use crate::recipe::{Filter, Recipe};
use crate::script::{ScriptEngine, ScriptLimits};

/// The examples that keep a transform (the escape hatch), and why: Stripe's cents shown as
/// dollars needs arithmetic; the housekeeping body names `meta.trigger`, not a template root.
const WITH_TRANSFORM: [&str; 2] = ["payment-housekeeping", "stripe-payment-to-slack"];

fn compiled(example: &Example, scripts: &ScriptEngine) -> Recipe {
    Recipe::from_toml(example.toml, scripts)
        .unwrap_or_else(|e| panic!("example {} does not pass check: {e}", example.id))
}

#[test]
fn every_example_filters_with_condition_rows_and_only_the_escape_hatches_keep_a_transform() {
    let scripts = ScriptEngine::new(ScriptLimits::default());
    let examples = examples();
    assert!(examples.len() >= 5, "{}", examples.len());
    for example in &examples {
        let recipe = compiled(example, &scripts);
        assert!(
            matches!(recipe.filter, Some(Filter::Rows(_))),
            "example {} filters with a script, not rows",
            example.id
        );
        let keeps_transform = WITH_TRANSFORM.contains(&example.id.as_str());
        assert_eq!(
            recipe.transform.is_some(),
            keeps_transform,
            "example {}: a transform only where fields cannot express the body",
            example.id
        );
        if !keeps_transform {
            for action in &recipe.actions {
                assert!(
                    action.fields.is_some() && action.body.is_none(),
                    "example {}: action `{}` builds its body with fields",
                    example.id,
                    action.name
                );
            }
        }
    }
}

#[test]
fn every_example_passes_a_dry_run_of_its_sample_with_each_row_saying_yes() {
    let scripts = ScriptEngine::new(ScriptLimits::default());
    for example in examples() {
        let recipe = compiled(&example, &scripts);
        let payload = example
            .sample
            .clone()
            .unwrap_or_else(|| panic!("example {} has no sample payload", example.id));
        let headers = json!({ "content-type": "application/json" });
        let ctx = EventContext::new(recipe.id(), "webhook", Utc::now(), payload.clone(), headers);
        let report = evaluate(&scripts, &recipe, &ctx, &payload);
        assert!(report["error"].is_null(), "{}: {report:#}", example.id);
        assert_eq!(report["filter"], true, "{}: {report:#}", example.id);
        let rows = report["conditions"].as_array().unwrap();
        assert!(
            !rows.is_empty() && rows.iter().all(|row| row["held"] == true),
            "{}: {report:#}",
            example.id
        );
        let requests = report["requests"].as_array().unwrap();
        assert_eq!(requests.len(), recipe.actions.len(), "{}", example.id);
        assert!(
            requests.iter().all(|r| r["error"].is_null()),
            "{}: {report:#}",
            example.id
        );
    }
}

/// The bodies the no-code examples send for their samples, as the walk-through and the files'
/// comments describe them; the Stripe one is the README walk-through's receiver output.
#[test]
fn the_examples_send_the_documented_bodies_for_their_samples() {
    let scripts = ScriptEngine::new(ScriptLimits::default());
    let expected = [
        (
            "stripe-payment-to-slack",
            json!({ "text": "Payment pi_3PqLm2Eo1nB8xYz01hIjKlMn: 49.99 USD" }),
        ),
        (
            "github-push-to-chat",
            json!({ "text": "ada pushed to acme/shop: Add refund tests (Grace Hopper)",
                    "compare": "https://github.com/acme/shop/compare/1a2b3c4d5e6f...9f2c1e4b7a0d" }),
        ),
        (
            "status-page-watcher",
            json!({ "text": "GitHub status: Partially Degraded Service (minor, since 2026-11-28T16:41:07.512Z)" }),
        ),
        (
            "website-form-to-email",
            json!({ "From": "forms@example.com", "To": "support@example.com",
                    "ReplyTo": "ada@example.org", "Subject": "Contact form: Ada Lovelace",
                    "TextBody": "Do you ship the analytical engine to Europe?\n\n— Ada Lovelace <ada@example.org>" }),
        ),
    ];
    let examples = examples();
    for (id, body) in expected {
        let example = examples.iter().find(|e| e.id == id).unwrap();
        let recipe = compiled(example, &scripts);
        let payload = example.sample.clone().unwrap();
        let headers = json!({ "content-type": "application/json" });
        let ctx = EventContext::new(recipe.id(), "webhook", Utc::now(), payload.clone(), headers);
        let report = evaluate(&scripts, &recipe, &ctx, &payload);
        let sent = report["requests"][0]["request"]["body"].as_str().unwrap();
        let sent: serde_json::Value = serde_json::from_str(sent).unwrap();
        assert_eq!(sent, body, "{id}");
    }
}
