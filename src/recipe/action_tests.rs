//! Action `fields` at check time, and the request they render to.

use serde_json::json;

use crate::deliver::request::{render, render_redacted};
use crate::recipe::Recipe;
use crate::recipe::file::ActionSection;
use crate::script::{ScriptEngine, ScriptLimits};

fn recipe(transform: bool, action: &str) -> Result<Recipe, Vec<String>> {
    let transform = if transform {
        "[transform]\nscript = '#{ total: event.amount * 2 }'\n"
    } else {
        ""
    };
    let source = format!(
        "id = \"r\"\nname = \"r\"\n[trigger.webhook]\n{transform}[[action]]\nname = \"a\"\n{action}\n"
    );
    Recipe::from_toml(&source, &ScriptEngine::new(ScriptLimits::default()))
        .map_err(|e| e.errors.iter().map(ToString::to_string).collect())
}

fn errors(transform: bool, action: &str) -> Vec<String> {
    recipe(transform, action).expect_err("refused")
}

#[test]
fn fields_and_body_together_are_refused() {
    let found = errors(
        false,
        r#"url = "https://example.com/"
body = '{"a": 1}'
fields = { a = 1 }"#,
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("action[0].fields: cannot be used together with `body`"),
        "{found:?}"
    );
}

#[test]
fn fields_with_a_content_type_that_is_not_json_are_refused() {
    let found = errors(
        false,
        r#"url = "https://example.com/"
headers = { "content-type" = "text/plain" }
fields = { a = 1 }"#,
    );
    assert!(
        found[0].starts_with(
            "action[0].fields: builds a JSON body, but the action's Content-Type is `text/plain`"
        ),
        "{found:?}"
    );
    recipe(
        false,
        r#"url = "https://example.com/"
headers = { "Content-Type" = "application/vnd.api+json" }
fields = { a = 1 }"#,
    )
    .expect("a JSON media type is fine");
}

#[test]
fn a_key_set_twice_is_refused_naming_both_keys() {
    let found = errors(
        false,
        r#"url = "https://example.com/"
fields = { "a.b" = 1, a = { b = 2 }, c = "x", "c.d" = "y" }"#,
    );
    assert_eq!(
        found,
        [
            "action[0].fields.a.b: is set twice: by `a.b` and by `\"a.b\"`",
            "action[0].fields.c: is set twice: by `c` and by `\"c.d\"`",
        ]
    );
}

#[test]
fn output_paths_without_a_transform_are_refused_in_every_template() {
    let action = r#"url = "https://example.com/{{ output.id }}"
headers = { "X-Total" = "{{ output.total }}" }
fields = { total = "{{ output.total }}", nested = { text = "t {{ output }}" }, ok = "{{ event.amount }}" }"#;
    let found = errors(false, action);
    assert_eq!(
        found,
        [
            "action[0].url: `{{ output.id }}`: no transform: output.* is empty; use event.* (`{{ event.id }}`) or add a [transform]",
            "action[0].headers.X-Total: `{{ output.total }}`: no transform: output.* is empty; use event.* (`{{ event.total }}`) or add a [transform]",
            "action[0].fields.nested.text: `{{ output }}`: no transform: output.* is empty; use event.* (`{{ event }}`) or add a [transform]",
            "action[0].fields.total: `{{ output.total }}`: no transform: output.* is empty; use event.* (`{{ event.total }}`) or add a [transform]",
        ]
    );
    let body = errors(
        false,
        "url = \"https://example.com/\"\nbody = \"{{ output.x }}\"",
    );
    assert!(body[0].starts_with("action[0].body: `{{ output.x }}`: no transform"));
    recipe(true, action).expect("with a transform, output.* is the transform's output");
}

#[test]
fn the_mapped_body_is_json_with_its_content_type_and_secrets_stay_redacted_in_dry_runs() {
    let recipe = recipe(
        true,
        r#"url = "https://example.com/"
fields = { amount = "{{ event.amount }}", total = "{{ output.total }}", "who.name" = "{{ event.name }}", auth = "{{ secrets.TOKEN }}" }"#,
    )
    .unwrap();
    let action = &recipe.actions[0];
    let event: serde_json::Value =
        serde_json::from_str(r#"{"amount": 12591154125385152738, "name": "Grace \"G\" H"}"#)
            .unwrap();
    let output = json!({"total": 4});
    let secrets = |name: &str| (name == "TOKEN").then(|| "s3cret".to_string());
    let request = render(action, &output, &event, &serde_json::Value::Null, &secrets).unwrap();
    assert_eq!(
        String::from_utf8(request.body).unwrap(),
        r#"{"amount":12591154125385152738,"auth":"s3cret","total":4,"who":{"name":"Grace \"G\" H"}}"#
    );
    assert!(
        request
            .headers
            .contains(&("content-type".into(), "application/json".into()))
    );
    let dry = render_redacted(action, &output, &event).unwrap();
    assert!(
        String::from_utf8(dry.body)
            .unwrap()
            .contains(r#""auth":"{{ secrets.TOKEN }}""#)
    );
    assert_eq!(
        crate::deliver::request::secret_names(action),
        ["TOKEN".to_string()]
    );
}

#[test]
fn fields_survive_the_delivery_snapshot_and_the_toml_export() {
    let recipe = recipe(
        false,
        r#"url = "https://example.com/"
fields = { when = 1979-05-27T07:32:00Z, n = 1, x = 0.5, list = [1, "{{ event.a }}"], "a.b" = { c = true } }"#,
    )
    .unwrap();
    let section = &recipe.file.actions[0];
    let snapshot = serde_json::to_value(section).unwrap();
    let back: ActionSection = serde_json::from_value(snapshot).unwrap();
    assert_eq!(&back, section);
    let exported = recipe.to_toml();
    let reimported = Recipe::from_toml(&exported, &ScriptEngine::new(ScriptLimits::default()))
        .unwrap_or_else(|e| panic!("{e}\n{exported}"));
    assert_eq!(reimported.file, recipe.file);
}

#[test]
fn the_content_type_sent_without_one_is_the_one_the_body_was_escaped_for() {
    let cases = [
        ("", "application/json"),
        ("fields = { a = 1 }", "application/json"),
        (r#"body = '{"a": "{{ event.a }}"}'"#, "application/json"),
        (r#"body = ' [{{ event.a }}]'"#, "application/json"),
        (r#"body = '{{ event.a }}'"#, "application/json"),
        (r#"body = 'a={{ event.a }}'"#, "text/plain; charset=utf-8"),
        (
            "headers = { \"content-type\" = \"application/x-www-form-urlencoded\" }\nbody = 'a={{ event.a }}'",
            "application/x-www-form-urlencoded",
        ),
    ];
    for (lines, expected) in cases {
        let recipe = recipe(false, &format!("url = \"https://example.com/\"\n{lines}"))
            .unwrap_or_else(|e| panic!("{lines}: {e:?}"));
        assert_eq!(recipe.actions[0].default_content_type, expected, "{lines}");
    }
}
