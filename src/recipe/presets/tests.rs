use std::collections::BTreeMap;
use std::path::Path;

use chrono::Utc;
use serde_json::{Value, json};

use super::*;
use crate::engine::EventContext;
use crate::engine::dry_run::evaluate;
use crate::recipe::Recipe;
use crate::script::{ScriptEngine, ScriptLimits};

fn inputs(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Inputs for `preset`: each input without a default takes its example, then `extra`.
fn filled(preset: &Preset, extra: &[(&str, &str)]) -> BTreeMap<String, String> {
    let mut given: BTreeMap<String, String> = preset
        .inputs
        .iter()
        .filter(|i| i.default.is_none())
        .map(|i| {
            let example = i.example.clone();
            (
                i.name.clone(),
                example.unwrap_or_else(|| {
                    panic!(
                        "{}: input `{}` has neither default nor example",
                        preset.id, i.name
                    )
                }),
            )
        })
        .collect();
    given.extend(
        inputs(extra)
            .into_iter()
            .filter(|(k, _)| preset.input(k).is_some()),
    );
    given
}

fn preset(kind: PresetKind, id: &str) -> &'static Preset {
    get(kind, id).unwrap_or_else(|| panic!("no {} preset `{id}`", kind.as_str()))
}

/// The stems of `dir/*.toml`, sorted.
fn stems(dir: &Path) -> Vec<String> {
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

#[test]
fn the_embedded_presets_and_examples_are_exactly_the_files_in_the_repository() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for kind in [PresetKind::Trigger, PresetKind::Action] {
        let embedded: Vec<String> = all()
            .iter()
            .filter(|p| p.kind == kind)
            .map(|p| p.id.clone())
            .collect();
        let dir = root.join("presets").join(format!("{}s", kind.as_str()));
        assert_eq!(embedded, stems(&dir), "{}", dir.display());
    }
    let examples: Vec<String> = examples().into_iter().map(|e| e.id).collect();
    assert_eq!(examples, stems(&root.join("recipes")));
}

#[test]
fn every_preset_file_parses_and_applies_with_its_defaults_and_examples() {
    for preset in all() {
        let table = preset
            .apply(&filled(preset, &[]))
            .unwrap_or_else(|e| panic!("{}: {e}", preset.id));
        assert!(!to_toml(&table).contains("input."), "{}", preset.id);
    }
}

#[test]
fn examples_carry_their_name_and_sample_payload() {
    let examples = examples();
    let stripe = examples
        .iter()
        .find(|e| e.id == "stripe-payment-to-slack")
        .expect("shipped example");
    assert_eq!(stripe.name, "Stripe payment → Slack");
    assert_eq!(
        stripe.sample.as_ref().unwrap()["type"],
        "payment_intent.succeeded"
    );
    assert!(stripe.toml.contains("[trigger.webhook]"));
}

#[test]
fn inputs_are_substituted_into_string_values_and_user_text_cannot_become_toml() {
    let message = "He said \"\"\" hi '''\n[evil]\nx = 1 {{ event.id }}";
    let table = preset(PresetKind::Action, "slack")
        .apply(&inputs(&[("url_secret", "MY_HOOK"), ("message", message)]))
        .unwrap();
    let action = &table["action"][0];
    assert_eq!(action["url"].as_str(), Some("{{ secrets.MY_HOOK }}"));
    assert_eq!(action["fields"]["text"].as_str(), Some(message));
    let reparsed: toml::Table = toml::from_str(&to_toml(&table)).unwrap();
    assert_eq!(reparsed, table);
    assert!(!reparsed.contains_key("evil"));
}

#[test]
fn bad_inputs_are_refused_naming_the_input_and_the_rule() {
    let slack = preset(PresetKind::Action, "slack");
    let cases = [
        (inputs(&[("url_secret", "my hook")]), "input `url_secret`"),
        (inputs(&[("url_secret", "9LIVES")]), "is not a secret name"),
        (
            inputs(&[("url_secret", "A }} {{ x")]),
            "is not a secret name",
        ),
        (inputs(&[("message", "{{ nope.x }}")]), "input `message`"),
        (inputs(&[("message", "  ")]), "must not be empty"),
        (inputs(&[("channel", "x")]), "has no input `channel`"),
    ];
    for (given, expected) in cases {
        let error = slack.apply(&given).unwrap_err();
        assert!(error.contains(expected), "{given:?}: {error}");
    }
}

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

const MESSAGE: &str = "Payment {{ event.data.object.id }} of {{ event.data.object.amount }}";

#[test]
fn every_action_preset_puts_the_message_template_into_its_fields() {
    for action in all().iter().filter(|p| p.kind == PresetKind::Action) {
        let given = filled(action, &[("message", MESSAGE)]);
        let table = action.apply(&given).unwrap();
        let section = &table["action"][0];
        assert!(
            section.get("fields").is_some_and(toml::Value::is_table),
            "{}",
            action.id
        );
        assert!(
            section.get("body").is_none(),
            "{}: fields and body are exclusive",
            action.id
        );
        if action.input("message").is_some() {
            assert!(
                to_toml(&table).contains(MESSAGE),
                "{}: {}",
                action.id,
                to_toml(&table)
            );
        }
    }
}

#[test]
fn every_action_preset_with_the_stripe_trigger_passes_check_and_a_dry_run() {
    let stripe = preset(PresetKind::Trigger, "stripe");
    for action in all().iter().filter(|p| p.kind == PresetKind::Action) {
        let given = filled(action, &[("message", MESSAGE)]);
        let sections = [
            stripe.apply(&BTreeMap::new()).unwrap(),
            action.apply(&given).unwrap(),
        ];
        let report = check_and_dry_run(stripe, &sections);
        let request = &report["requests"][0]["request"];
        let body = request["body"].as_str().unwrap();
        if action.input("message").is_some() {
            assert!(
                body.contains("Payment pi_3PqK2nLkdIwHu7ix0yH9T4Xa of 2000"),
                "{}: {body}",
                action.id
            );
        }
    }
}

#[test]
fn compose_concatenates_actions_and_refuses_a_key_set_twice() {
    let stripe = preset(PresetKind::Trigger, "stripe")
        .apply(&BTreeMap::new())
        .unwrap();
    let slack = preset(PresetKind::Action, "slack")
        .apply(&BTreeMap::new())
        .unwrap();
    let recipe = compose("r", "R", &[stripe.clone(), slack.clone(), slack]).unwrap();
    assert_eq!(recipe["action"].as_array().unwrap().len(), 2);
    assert_eq!(recipe["id"].as_str(), Some("r"));
    let error = compose("r", "R", &[stripe.clone(), stripe]).unwrap_err();
    assert!(error.contains("`"), "{error}");
}

#[test]
fn an_input_without_a_default_is_required() {
    let telegram = preset(PresetKind::Action, "telegram");
    let error = telegram.apply(&BTreeMap::new()).unwrap_err();
    assert!(
        error.contains("input `chat_id`") && error.contains("is required"),
        "{error}"
    );
}

#[test]
fn a_choice_input_selects_its_variant_and_refuses_other_values() {
    let generic = preset(PresetKind::Trigger, "generic-json");
    let token = generic.apply(&BTreeMap::new()).unwrap();
    let webhook = &token["trigger"]["webhook"];
    assert_eq!(webhook["verify"].as_str(), Some("token"));
    assert_eq!(
        webhook["secret"].as_str(),
        Some("{{ secrets.WEBHOOK_TOKEN }}")
    );
    let none = generic.apply(&inputs(&[("verify", "none")])).unwrap();
    assert_eq!(none["trigger"]["webhook"].as_table().unwrap().len(), 1);
    assert_eq!(none["trigger"]["webhook"]["verify"].as_str(), Some("none"));
    let error = generic.apply(&inputs(&[("verify", "hmac")])).unwrap_err();
    assert!(error.contains("is not one of token, none"), "{error}");
}

#[test]
fn a_fields_input_becomes_the_fields_table_and_refuses_what_toml_cannot_hold() {
    let generic = preset(PresetKind::Action, "generic-json");
    let given = |fields: &str| inputs(&[("url", "https://example.com/hook"), ("fields", fields)]);
    let table = generic
        .apply(&given(
            r#"{"amount": "{{ event.data.object.amount }}", "meta": {"source": "stripe", "n": 2}}"#,
        ))
        .unwrap();
    let fields = &table["action"][0]["fields"];
    assert_eq!(
        fields["amount"].as_str(),
        Some("{{ event.data.object.amount }}")
    );
    assert_eq!(fields["meta"]["n"].as_integer(), Some(2));
    for (bad, expected) in [
        ("[1, 2]", "must be a JSON object"),
        ("{}", "names no field"),
        (r#"{"a": {"b": null}}"#, "field `a.b` is null"),
    ] {
        let error = generic.apply(&given(bad)).unwrap_err();
        assert!(error.contains(expected), "{bad}: {error}");
    }
}

#[test]
fn text_and_slug_inputs_refuse_template_braces_and_url_characters() {
    let ntfy = preset(PresetKind::Action, "ntfy");
    for (name, value, expected) in [
        ("topic", "alerts/../admin", "may hold only"),
        ("topic", "a?b", "may hold only"),
        ("server", "https://{{ secrets.X }}", "plain text"),
        ("server", "https://ntfy.sh\n", "control character"),
    ] {
        let error = ntfy.apply(&filled(ntfy, &[(name, value)])).unwrap_err();
        assert!(error.contains(expected), "{name}={value:?}: {error}");
    }
}

#[test]
fn the_teams_preset_posts_an_adaptive_card_with_the_message() {
    let stripe = preset(PresetKind::Trigger, "stripe");
    let teams = preset(PresetKind::Action, "teams");
    let sections = [
        stripe.apply(&BTreeMap::new()).unwrap(),
        teams.apply(&inputs(&[("message", MESSAGE)])).unwrap(),
    ];
    let report = check_and_dry_run(stripe, &sections);
    let body: Value =
        serde_json::from_str(report["requests"][0]["request"]["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["type"], "message");
    let attachment = &body["attachments"][0];
    assert_eq!(
        attachment["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    assert_eq!(attachment["content"]["type"], "AdaptiveCard");
    assert_eq!(
        attachment["content"]["body"][0]["text"],
        "Payment pi_3PqK2nLkdIwHu7ix0yH9T4Xa of 2000"
    );
}
