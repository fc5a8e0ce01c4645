use proptest::prelude::*;
use serde_json::json;

use super::*;

fn secrets(name: &str) -> Option<String> {
    (name == "TOKEN").then(|| "s3cret".to_string())
}

fn try_render(
    src: &str,
    landing: Landing,
    output: &Value,
    event: &Value,
) -> Result<String, TemplateError> {
    let ctx = TemplateContext {
        responses: &serde_json::Value::Null,
        output,
        event,
        secrets: &secrets,
    };
    Template::parse_for(src, landing).unwrap().render(&ctx)
}

fn render(src: &str, output: &Value, event: &Value) -> String {
    try_render(src, Landing::Text, output, event).unwrap()
}

#[test]
fn renders_paths_with_and_without_whitespace() {
    let out = json!({"user": {"name": "Ada", "age": 36}});
    let ev = json!({"id": "ev_1"});
    assert_eq!(
        render("hi {{output.user.name}} / {{  event.id  }}!", &out, &ev),
        "hi Ada / ev_1!"
    );
    assert_eq!(render("no templates here", &out, &ev), "no templates here");
    assert_eq!(render("", &out, &ev), "");
}

#[test]
fn digit_segments_index_arrays() {
    let out = json!({"items": [{"name": "a"}, {"name": "b"}], "map": {"0": "zero"}});
    let ev = json!(null);
    assert_eq!(render("{{ output.items.1.name }}", &out, &ev), "b");
    assert_eq!(render("{{ output.map.0 }}", &out, &ev), "zero");
}

#[test]
fn a_missing_or_null_path_fails_naming_it_unless_a_default_is_given() {
    let out = json!({"items": [{"name": "a"}], "s": "text", "z": null});
    let ev = json!({"id": "ev_1"});
    let err = |src: &str| try_render(src, Landing::Text, &out, &ev).unwrap_err();
    let cases = [
        (
            "{{ event.note }}",
            "`{{ event.note }}`: the event has no field `note`",
        ),
        (
            "{{ output.items.9.name }}",
            "`{{ output.items.9.name }}`: output.items has 1 item(s), no item 9",
        ),
        (
            "{{ output.s.x }}",
            "`{{ output.s.x }}`: output.s is a string, not an object",
        ),
        (
            "{{ output.z }}",
            "`{{ output.z }}`: output.z is null, and text is needed here",
        ),
        ("{{ output.z.y }}", "`{{ output.z.y }}`: output.z is null"),
    ];
    for (src, expected) in cases {
        let error = err(src);
        assert!(error.is_permanent(), "{src}");
        let message = error.to_string();
        assert!(message.starts_with(expected), "{src}\n got: {message}");
        assert!(
            message.contains("| default: \\\"\\\"") || message.contains("| default: \"\""),
            "{message}"
        );
    }
    assert_eq!(
        render(r#"[{{ event.note | default: "" }}]"#, &out, &ev),
        "[]"
    );
    assert_eq!(
        render(r#"{{ output.z | default: "none" }}"#, &out, &ev),
        "none"
    );
    assert_eq!(render("{{ event.n | default: 0 }}", &out, &ev), "0");
    assert_eq!(
        render(r#"{{ event.id | default: "x" }}"#, &out, &ev),
        "ev_1"
    );
}

#[test]
fn value_kinds_render_as_documented_in_text() {
    let out = json!({"s": "text \"q\"", "n": 1.5, "i": -3, "b": true,
                     "o": {"a": [1, 2]}, "a": ["x", {"y": null}]});
    let ev: Value =
        serde_json::from_str(r#"{"big": 12591154125385152738, "d": 0.1000000000000000055511}"#)
            .unwrap();
    assert_eq!(render("{{ output.s }}", &out, &ev), "text \"q\"");
    assert_eq!(
        render("{{ output.n }}|{{ output.i }}|{{ output.b }}", &out, &ev),
        "1.5|-3|true"
    );
    assert_eq!(render("{{ output.o }}", &out, &ev), r#"{"a":[1,2]}"#);
    assert_eq!(render("{{ output.a }}", &out, &ev), r#"["x",{"y":null}]"#);
    assert_eq!(
        render("{{ event.big }} {{ event.d }}", &out, &ev),
        "12591154125385152738 0.1000000000000000055511"
    );
    assert_eq!(
        render("{{ output }} {{event.big}}", &json!({"k": 1}), &ev),
        r#"{"k":1} 12591154125385152738"#
    );
}

#[test]
fn json_bodies_escape_inside_strings_and_write_json_values_elsewhere() {
    let ev: Value = serde_json::from_str(
        r#"{"name": "Grace \"Amazing\" Hopper\n", "amount": 12591154125385152738, "price": "49.00", "tags": ["a"], "none": null}"#,
    )
    .unwrap();
    let body = r#"{"text": "Hi {{ event.name }}: {{ event.amount }} {{ event.tags }}", "n": {{ event.amount }}, "p": {{ event.price }}, "t": {{ event.tags }}, "z": {{ event.none }}}"#;
    let rendered = try_render(body, Landing::JsonBody, &json!(null), &ev).unwrap();
    assert_eq!(
        rendered,
        r#"{"text": "Hi Grace \"Amazing\" Hopper\n: 12591154125385152738 [\"a\"]", "n": 12591154125385152738, "p": "49.00", "t": ["a"], "z": null}"#
    );
    let parsed: Value = serde_json::from_str(&rendered).unwrap();
    assert_eq!(
        parsed["text"],
        json!("Hi Grace \"Amazing\" Hopper\n: 12591154125385152738 [\"a\"]")
    );
    let escaped_quote = try_render(
        r#"{"a": "say \"{{ event.price }}\""}"#,
        Landing::JsonBody,
        &json!(null),
        &ev,
    );
    assert_eq!(escaped_quote.unwrap(), r#"{"a": "say \"49.00\""}"#);
}

#[test]
fn a_json_body_that_is_not_json_is_refused_when_checked() {
    let err = Template::parse_for(r#"{"text": {{ event.name }}"#, Landing::JsonBody).unwrap_err();
    assert!(err.to_string().contains("not valid JSON"), "{err}");
    assert!(Template::parse_for(r#"{"n": {{ event.n | default: 0 }}}"#, Landing::JsonBody).is_ok());
}

#[test]
fn urls_encode_path_and_query_values_but_keep_the_host_part_and_secrets() {
    let ev = json!({"id": "a/b?c#d e&f=g", "host": "example.com"});
    let null = json!(null);
    let url = |src: &str| try_render(src, Landing::Url, &null, &ev);
    assert_eq!(
        url("https://api.example.com/items/{{ event.id }}?q={{ event.id }}").unwrap(),
        "https://api.example.com/items/a%2Fb%3Fc%23d%20e%26f%3Dg?q=a%2Fb%3Fc%23d%20e%26f%3Dg"
    );
    assert_eq!(
        url("https://{{ event.host }}/x").unwrap(),
        "https://example.com/x"
    );
    assert_eq!(
        url("{{ secrets.TOKEN }}").unwrap_err().to_string(),
        "the rendered URL is not a valid URL: relative URL without a base"
    );
    let ctx = TemplateContext {
        responses: &serde_json::Value::Null,
        output: &null,
        event: &ev,
        secrets: &|_| Some("https://hooks.slack.com/services/T0/B0/xyz".into()),
    };
    let whole = Template::parse_for("{{ secrets.SLACK }}/{{ event.id }}", Landing::Url).unwrap();
    assert_eq!(
        whole.render(&ctx).unwrap(),
        "https://hooks.slack.com/services/T0/B0/xyz/a%2Fb%3Fc%23d%20e%26f%3Dg"
    );
    let path_secret = Template::parse_for(
        "https://hooks.slack.com/services/{{ secrets.SLACK }}",
        Landing::Url,
    )
    .unwrap();
    assert!(
        path_secret
            .render(&ctx)
            .unwrap()
            .ends_with("/services/https://hooks.slack.com/services/T0/B0/xyz")
    );
}

#[test]
fn header_values_refuse_line_breaks_and_nul() {
    let null = json!(null);
    for bad in ["a\r\nX-Injected: 1", "a\nb", "a\0b", "a\rb"] {
        let ev = json!({"v": bad});
        let err = try_render("Bearer {{ event.v }}", Landing::Header, &null, &ev).unwrap_err();
        assert!(err.is_permanent());
        assert!(
            err.to_string().contains("cannot go in a header value"),
            "{err}"
        );
    }
    let ev = json!({"v": "tab\there ünï"});
    assert_eq!(
        try_render("{{ event.v }}", Landing::Header, &null, &ev).unwrap(),
        "tab\there ünï"
    );
}

#[test]
fn form_bodies_percent_encode_values() {
    let ev = json!({"name": "Grace & Co=1"});
    let body = try_render(
        "name={{ event.name }}&x=1",
        Landing::FormBody,
        &json!(null),
        &ev,
    )
    .unwrap();
    assert_eq!(body, "name=Grace%20%26%20Co%3D1&x=1");
}

#[test]
fn secrets_render_and_missing_ones_fail_by_name_and_are_retried() {
    let null = json!(null);
    assert_eq!(
        render("Bearer {{ secrets.TOKEN }}", &null, &null),
        "Bearer s3cret"
    );
    let ctx = TemplateContext {
        responses: &serde_json::Value::Null,
        output: &null,
        event: &null,
        secrets: &|_| None,
    };
    let err = Template::parse("{{ secrets.SLACK_URL }}")
        .unwrap()
        .render(&ctx)
        .unwrap_err();
    assert_eq!(err.to_string(), "missing secret `SLACK_URL`");
    assert!(
        !err.is_permanent(),
        "setting the secret fixes the next attempt"
    );
}

#[test]
fn redacted_render_never_shows_secret_values() {
    let t = Template::parse("{{event.id}}:{{secrets.TOKEN}}:{{ secrets.OTHER }}").unwrap();
    let text = t.render_redacted(&json!(null), &json!({"id": 7})).unwrap();
    assert_eq!(text, "7:{{ secrets.TOKEN }}:{{ secrets.OTHER }}");
    let url = Template::parse_for("{{ secrets.URL }}", Landing::Url).unwrap();
    assert_eq!(
        url.render_redacted(&json!(null), &json!(null)).unwrap(),
        "{{ secrets.URL }}"
    );
}

#[test]
fn secret_names_and_single_ref() {
    let t =
        Template::parse("{{ secrets.A }} {{ output.x }} {{secrets._b2}} {{ secrets.A }}").unwrap();
    assert_eq!(t.secret_names(), vec!["A".to_string(), "_b2".to_string()]);
    assert_eq!(t.is_single_secret_ref(), None);
    let single = Template::parse("{{secrets.WEBHOOK_SECRET}}").unwrap();
    assert_eq!(
        single.is_single_secret_ref(),
        Some("WEBHOOK_SECRET".to_string())
    );
    assert_eq!(
        Template::parse(" {{ secrets.A }}")
            .unwrap()
            .is_single_secret_ref(),
        None
    );
    assert_eq!(
        Template::parse("{{ output.A }}")
            .unwrap()
            .is_single_secret_ref(),
        None
    );
    assert!(Template::parse("plain").unwrap().secret_names().is_empty());
}

#[test]
fn parse_errors_name_the_problem() {
    let err = |src: &str| Template::parse(src).unwrap_err().to_string();
    assert_eq!(
        err("{{ evnt.id }}"),
        "unknown template root `evnt` in `{{ evnt.id }}` (use output, event or secrets)"
    );
    assert_eq!(err("0123456789  {{ output.x"), "unclosed `{{` at offset 12");
    assert_eq!(
        err("ab{{}}"),
        "empty template expression `{{ }}` at offset 2"
    );
    assert!(err("{{ output..x }}").contains("empty path segment"));
    assert!(err("{{ output.x. }}").contains("empty path segment"));
    assert!(err("{{ output.a b }}").contains("without spaces"));
    assert!(err("{{ secrets.1X }}").contains("`1X` is not a valid secret name"));
    assert!(err("{{ secrets.A-B }}").contains("not a valid secret name"));
    assert!(err("{{ secrets }}").contains("name the secret"));
    assert!(err("{{ secrets.A.B }}").contains("single name"));
    assert!(err("{{ event.x | upper }}").contains("unknown filter `upper`"));
    assert!(err("{{ event.x | default: nope }}").contains("takes a JSON string"));
    assert!(err("{{ event.x | default: [1] }}").contains("takes a JSON string"));
    assert!(err("{{ secrets.A | default: \"\" }}").contains("takes no default"));
}

#[test]
fn lone_closing_braces_are_literal() {
    let t = Template::parse(r#"{"a":{"b":"{{ output }}"}}"#).unwrap();
    let text = t.render_redacted(&json!("v"), &json!(null)).unwrap();
    assert_eq!(text, r#"{"a":{"b":"v"}}"#);
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        "-?(0|[1-9][0-9]{0,29})(\\.[0-9]{1,30})?(e[+-]?[0-9]{1,3})?"
            .prop_map(|t| { Value::Number(t.parse().expect("a JSON number")) }),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{1,5}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

proptest! {
    /// Every value, in every JSON-body position, gives valid JSON holding that exact value.
    #[test]
    fn json_bodies_stay_json_for_any_value(value in any_json()) {
        let ev = json!({ "v": value.clone() });
        let body = r#"{"in_text": "<{{ event.v }}>", "whole": {{ event.v }}}"#;
        let rendered = try_render(body, Landing::JsonBody, &json!(null), &ev);
        if value.is_null() {
            prop_assert!(rendered.is_err(), "null inside text needs a default");
        } else {
            let parsed: Value = serde_json::from_str(&rendered.unwrap()).unwrap();
            prop_assert_eq!(&parsed["whole"], &value);
            prop_assert_eq!(&parsed["in_text"], &json!(format!("<{}>", text_of(&value))));
        }
    }

    /// A value in a URL path or query decodes back to itself and cannot add a segment or
    /// parameter.
    #[test]
    fn url_components_decode_to_the_value(text in any::<String>()) {
        let ev = json!({ "v": text.clone() });
        let url = try_render("https://x.test/a/{{ event.v }}?q={{ event.v }}", Landing::Url, &json!(null), &ev);
        if text == "." || text == ".." {
            prop_assert!(url.unwrap_err().to_string().contains("move along the URL's path"));
            return Ok(());
        }
        let url = url.unwrap();
        let parsed = reqwest::Url::parse(&url).unwrap();
        prop_assert_eq!(parsed.path_segments().unwrap().count(), 2);
        let segment = parsed.path_segments().unwrap().nth(1).unwrap().to_string();
        let decoded = percent_encoding::percent_decode_str(&segment).decode_utf8().unwrap();
        prop_assert_eq!(decoded.as_ref(), text.as_str());
        let query: Vec<(String, String)> = parsed.query_pairs().into_owned().collect();
        prop_assert_eq!(query, vec![("q".to_string(), text.clone())]);
    }

    /// A header value is either the text as is, or refused when it holds a control character.
    #[test]
    fn header_values_are_kept_or_refused(text in any::<String>()) {
        let ev = json!({ "v": text.clone() });
        let rendered = try_render("{{ event.v }}", Landing::Header, &json!(null), &ev);
        if text.chars().any(|c| c.is_control() && c != '\t') {
            prop_assert!(rendered.is_err());
        } else {
            prop_assert_eq!(rendered.unwrap(), text);
        }
    }
}
