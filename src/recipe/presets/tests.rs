//! Reading the embedded files and applying inputs: substitution, checks, variants, compose.

use std::collections::BTreeMap;
use std::path::Path;

use super::*;

pub(super) fn inputs(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Inputs for `preset`: each input without a default takes its example, then `extra`.
pub(super) fn filled(preset: &Preset, extra: &[(&str, &str)]) -> BTreeMap<String, String> {
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

pub(super) fn preset(kind: PresetKind, id: &str) -> &'static Preset {
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
        (r#"{"a": "{{ nope.x }}"}"#, "action.fields.a"),
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
        (
            "server",
            "ntfy.sh",
            "action.url: `ntfy.sh` is not a valid URL",
        ),
    ] {
        let error = ntfy.apply(&filled(ntfy, &[(name, value)])).unwrap_err();
        assert!(error.contains(expected), "{name}={value:?}: {error}");
    }
}

#[test]
fn a_malformed_preset_file_is_refused_naming_what_is_wrong() {
    let head = |id: &str, kind: &str| {
        format!("[preset]\nid = \"{id}\"\nkind = \"{kind}\"\nname = \"X\"\n")
    };
    let input =
        "[[preset.input]]\nname = \"s\"\nlabel = \"S\"\nkind = \"secret\"\ndefault = \"S\"\n";
    let action = "[[recipe.action]]\nname = \"a\"\nurl = \"https://example.com/\"\n";
    let cases = [
        (head("y", "action") + action, "differs from the file name"),
        (head("x", "trigger") + action, "differs from its folder"),
        (
            head("x", "action") + action.replace("example.com/", "{{ input.nope }}").as_str(),
            "names no declared input",
        ),
        (
            head("x", "action") + input + action.replace("example.com/", "{{ input.s }").as_str(),
            "is not closed",
        ),
        (
            head("x", "action") + action + action,
            "exactly one [[recipe.action]]",
        ),
        (
            head("x", "trigger") + "[recipe.trigger.webhook]\n" + action,
            "a trigger preset produces only",
        ),
        (
            head("x", "action") + input.replace("S\"\n", "lower\"\n").as_str() + action,
            "input `s` default",
        ),
        (
            head("x", "action")
                + "[[preset.input]]\nname = \"c\"\nlabel = \"C\"\nkind = \"choice\"\n"
                + action,
            "a choice needs `options`",
        ),
        (
            head("x", "action")
                + "[[preset.input]]\nname = \"f\"\nlabel = \"F\"\nkind = \"fields\"\n"
                + action
                    .replace("https://example.com/", "https://{{ input.f }}")
                    .as_str(),
            "must be a whole string value",
        ),
        (
            head("x", "action") + action + "[variant.v.a]\nx = 1\n",
            "[variant.v] names no `choice` input",
        ),
    ];
    for (source, expected) in cases {
        let kind = if source.contains("kind = \"trigger\"") && !expected.contains("folder") {
            "trigger"
        } else {
            "action"
        };
        let error = load::parse(kind, "x", &source, None, None).unwrap_err();
        assert!(error.contains(expected), "{source}\n→ {error}");
    }
}
