//! The path grammar inside `{{ }}`: quoted keys, indexes, roots.

use serde_json::{Value, json};

use super::*;

fn try_render(src: &str, event: &Value) -> Result<String, TemplateError> {
    let ctx = TemplateContext {
        responses: &serde_json::Value::Null,
        output: &json!(null),
        event,
        secrets: &|_| None,
    };
    Template::parse(src).unwrap().render(&ctx)
}

#[test]
fn paths_take_quoted_keys_with_dots_spaces_and_escapes() {
    let ev = json!({"data": {"weird.key": "w", "first name": "Ada", "q\"k": "quoted",
                    "list": ["a", "b"], "map": {"0": "zero"}}});
    assert_eq!(
        try_render(
            r#"{{ event.data."weird.key" }}|{{ event."data"."first name" }}|{{ event.data."q\"k" }}"#,
            &ev
        )
        .unwrap(),
        "w|Ada|quoted"
    );
    assert_eq!(
        try_render(
            r#"{{ event.data.list.1 }}{{ event.data.map."0" }}{{ event.data."x y" | default: "-" }}"#,
            &ev
        )
        .unwrap(),
        "bzero-"
    );
    let err = try_render(r#"{{ event.data.list."1" }}"#, &ev)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(
            r#"`{{ event.data.list."1" }}`: event.data.list is an array, not an object"#
        ),
        "a quoted digit is a key, not an index: {err}"
    );
    let missing = try_render(r#"{{ event."no such" }}"#, &ev)
        .unwrap_err()
        .to_string();
    assert!(
        missing.starts_with(r#"`{{ event."no such" }}`: the event has no field `"no such"`"#),
        "{missing}"
    );
}

#[test]
fn headers_and_meta_are_not_template_roots_and_say_why() {
    for src in ["{{ headers.x-github-event }}", "{{ meta.recipe }}"] {
        let message = Template::parse(src).unwrap_err().to_string();
        assert!(message.contains("unknown template root"), "{message}");
        assert!(
            message.contains("copy what you need into the transform's output"),
            "{message}"
        );
    }
    let err = |src: &str| Template::parse(src).unwrap_err().to_string();
    assert!(err(r#"{{ event."open }}"#).contains("not closed"));
    assert!(err(r#"{{ event."a\n" }}"#).contains("not an escape"));
    assert!(err(r#"{{ event."a"b }}"#).contains("without spaces or braces"));
}
