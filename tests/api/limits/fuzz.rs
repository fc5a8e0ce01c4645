//! Property tests (fuzzing, issue 5 item 8) of the recipe parser and the template renderer:
//! arbitrary and mutated input never panics. The signature-header parsers have theirs in
//! `src/ingest/signature/fuzz_tests.rs`. 256 cases per property by default; run longer with
//! `PROPTEST_CASES=100000 cargo test --test api limits::fuzz`.

use proptest::prelude::*;
use serde_json::{Value, json};
use switchyard::recipe::Recipe;
use switchyard::recipe::template::{Template, TemplateContext};
use switchyard::script::{ScriptEngine, ScriptLimits};

/// The shipped examples: valid recipes to mutate.
const EXAMPLES: [&str; 5] = [
    include_str!("../../../recipes/github-push-to-chat.toml"),
    include_str!("../../../recipes/payment-housekeeping.toml"),
    include_str!("../../../recipes/status-page-watcher.toml"),
    include_str!("../../../recipes/stripe-payment-to-slack.toml"),
    include_str!("../../../recipes/website-form-to-email.toml"),
];

fn engine() -> ScriptEngine {
    ScriptEngine::new(ScriptLimits::default())
}

/// Text made of TOML's punctuation, keys the recipe format knows, and anything else.
fn tomlish() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("\n".to_owned()),
        Just("[".to_owned()),
        Just("]".to_owned()),
        Just("[[action]]\n".to_owned()),
        Just("[trigger.webhook]\n".to_owned()),
        Just("[trigger.schedule]\n".to_owned()),
        Just("{".to_owned()),
        Just("}".to_owned()),
        Just(" = ".to_owned()),
        Just("\"".to_owned()),
        Just("'''".to_owned()),
        Just("{{ ".to_owned()),
        Just(" }}".to_owned()),
        Just(",".to_owned()),
        Just(".".to_owned()),
        prop::sample::select(vec![
            "id",
            "name",
            "url",
            "verify",
            "secret",
            "cron",
            "script",
            "dedupe",
            "retry",
            "schedule",
            "timeout",
            "headers",
            "body",
            "method",
            "respond",
            "poll",
            "items",
            "timezone",
            "enabled",
            "filter",
            "transform",
            "trigger",
            "action",
        ])
        .prop_map(str::to_owned),
        "[a-z0-9_ ]{0,8}",
        any::<String>(),
    ];
    prop::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
}

#[derive(Debug, Clone)]
enum Mutation {
    Delete {
        at: prop::sample::Index,
        len: usize,
    },
    Insert {
        at: prop::sample::Index,
        text: String,
    },
    DuplicateLine(prop::sample::Index),
    DropLine(prop::sample::Index),
    SwapLines(prop::sample::Index, prop::sample::Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<prop::sample::Index>(), 1usize..40)
            .prop_map(|(at, len)| Mutation::Delete { at, len }),
        (any::<prop::sample::Index>(), tomlish())
            .prop_map(|(at, text)| Mutation::Insert { at, text }),
        any::<prop::sample::Index>().prop_map(Mutation::DuplicateLine),
        any::<prop::sample::Index>().prop_map(Mutation::DropLine),
        (any::<prop::sample::Index>(), any::<prop::sample::Index>())
            .prop_map(|(a, b)| Mutation::SwapLines(a, b)),
    ]
}

/// Applies the mutation on characters (never splitting one) or on lines.
fn apply(text: &str, mutation: &Mutation) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    let mut lines: Vec<&str> = text.lines().collect();
    match mutation {
        Mutation::Delete { at, len } if !chars.is_empty() => {
            let start = at.index(chars.len());
            chars.drain(start..(start + len).min(chars.len()));
        }
        Mutation::Insert { at, text } => {
            let position = at.index(chars.len() + 1);
            chars.splice(position..position, text.chars());
        }
        Mutation::DuplicateLine(at) if !lines.is_empty() => {
            let line = lines[at.index(lines.len())];
            lines.insert(at.index(lines.len()), line);
            return lines.join("\n");
        }
        Mutation::DropLine(at) if !lines.is_empty() => {
            lines.remove(at.index(lines.len()));
            return lines.join("\n");
        }
        Mutation::SwapLines(a, b) if !lines.is_empty() => {
            let (a, b) = (a.index(lines.len()), b.index(lines.len()));
            lines.swap(a, b);
            return lines.join("\n");
        }
        _ => {}
    }
    chars.into_iter().collect()
}

/// Template text: the template syntax, paths, and anything else.
fn template_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("{{".to_owned()),
        Just("}}".to_owned()),
        Just("{".to_owned()),
        Just("}".to_owned()),
        Just(" ".to_owned()),
        Just("output".to_owned()),
        Just("event".to_owned()),
        Just("secrets".to_owned()),
        Just(".".to_owned()),
        Just("[0]".to_owned()),
        Just("[".to_owned()),
        Just("]".to_owned()),
        "[a-zA-Z0-9_-]{0,6}",
        any::<String>(),
    ];
    prop::collection::vec(piece, 0..24).prop_map(|pieces| pieces.concat())
}

/// JSON values up to a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "[a-z0-9 ]{0,8}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map("[a-z0-9_-]{0,4}", inner, 0..4).prop_map(|map| json!(map)),
        ]
    })
}

proptest! {
    #[test]
    fn arbitrary_text_never_panics_the_recipe_parser(source in tomlish()) {
        let _ = Recipe::from_toml(&source, &engine());
    }

    #[test]
    fn mutated_examples_never_panic_the_recipe_parser(
        example in prop::sample::select(EXAMPLES.to_vec()),
        mutations in prop::collection::vec(mutation(), 1..4),
    ) {
        let source = mutations.iter().fold(example.to_owned(), |text, m| apply(&text, m));
        if let Err(error) = Recipe::from_toml(&source, &engine()) {
            prop_assert!(!error.to_string().is_empty());
        }
    }

    #[test]
    fn arbitrary_templates_parse_and_render_without_panicking(
        text in template_text(),
        output in json_value(),
        event in json_value(),
        secret in prop::option::of("[ -~]{0,12}"),
    ) {
        if let Ok(template) = Template::parse(&text) {
            let secrets = |_: &str| secret.clone();
            let context = TemplateContext { output: &output, event: &event, responses: &serde_json::Value::Null, secrets: &secrets };
            let _ = template.render(&context);
            // A missing path is an error; when it renders, each secret shows as its reference.
            let redacted = template.render_redacted(&output, &event);
            if let (Ok(redacted), Some(name)) = (redacted, template.secret_names().first()) {
                let reference = format!("{{{{ secrets.{name} }}}}");
                prop_assert!(redacted.contains(&reference));
            }
        }
    }
}

#[test]
fn the_examples_parse_before_mutation() {
    for example in EXAMPLES {
        Recipe::from_toml(example, &engine()).expect("a shipped example is valid");
    }
}
