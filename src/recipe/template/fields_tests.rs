use serde_json::{Value, json};

use super::TemplateContext;
use super::fields::{FieldMap, FieldsError};

fn map(toml_src: &str) -> FieldMap {
    let table: toml::Table = toml::from_str(toml_src).unwrap();
    FieldMap::parse(&table).unwrap()
}

fn errors(toml_src: &str) -> Vec<FieldsError> {
    let table: toml::Table = toml::from_str(toml_src).unwrap();
    FieldMap::parse(&table).unwrap_err()
}

fn payment() -> Value {
    serde_json::from_str(
        r#"{"data": {"object": {"id": "pi_1", "amount": 2000, "big": 12591154125385152738,
            "price": 0.1000000000000000055511, "name": "Grace \"Amazing\" Hopper",
            "paid": true, "note": null, "card": {"brand": "visa", "last4": "4242"},
            "items": [{"sku": "A-1"}, {"sku": "B-2"}], "weird.key": "dotted"}},
            "type": "payment_intent.succeeded"}"#,
    )
    .unwrap()
}

fn render(fields: &FieldMap, event: &Value) -> Value {
    let secrets = |name: &str| (name == "TOKEN").then(|| "s3cret".to_string());
    let ctx = TemplateContext {
        responses: &serde_json::Value::Null,
        output: &json!({"total": 42}),
        event,
        secrets: &secrets,
    };
    fields.render(&ctx).unwrap()
}

#[test]
fn a_single_path_keeps_the_json_type_of_its_value() {
    let fields = map(r#"
        amount = "{{ event.data.object.amount }}"
        big = "{{ event.data.object.big }}"
        price = "{{ event.data.object.price }}"
        name = "{{ event.data.object.name }}"
        paid = "{{ event.data.object.paid }}"
        note = "{{ event.data.object.note }}"
        card = "{{ event.data.object.card }}"
        items = "{{ event.data.object.items }}"
        first_sku = "{{ event.data.object.items.0.sku }}"
        total = "{{ output.total }}"
    "#);
    let body = render(&fields, &payment());
    assert_eq!(
        body,
        json!({"amount": 2000, "name": "Grace \"Amazing\" Hopper", "paid": true, "note": null,
               "card": {"brand": "visa", "last4": "4242"},
               "items": [{"sku": "A-1"}, {"sku": "B-2"}], "first_sku": "A-1", "total": 42,
               "big": body["big"], "price": body["price"]})
    );
    let text = body.to_string();
    assert!(text.contains(r#""big":12591154125385152738"#), "{text}");
    assert!(
        text.contains(r#""price":0.1000000000000000055511"#),
        "{text}"
    );
}

#[test]
fn other_strings_are_text_templates_with_values_as_exact_text() {
    let fields = map(r#"
        text = "Payment {{ event.data.object.id }} of {{ event.data.object.big }} by {{ event.data.object.name }}"
        card = "card: {{ event.data.object.card }}"
        padded = " {{ event.data.object.amount }}"
        fixed = "no templates"
        auth = "Bearer {{ secrets.TOKEN }}"
    "#);
    let body = render(&fields, &payment());
    assert_eq!(
        body["text"],
        json!("Payment pi_1 of 12591154125385152738 by Grace \"Amazing\" Hopper")
    );
    assert_eq!(
        body["card"],
        json!(r#"card: {"brand":"visa","last4":"4242"}"#)
    );
    assert_eq!(body["padded"], json!(" 2000"), "not exactly one path: text");
    assert_eq!(body["fixed"], json!("no templates"));
    assert_eq!(body["auth"], json!("Bearer s3cret"));
}

#[test]
fn non_string_toml_values_are_literal_json() {
    let fields = map(r#"
        n = 3
        x = 1.5
        yes = false
        when = 1979-05-27T07:32:00Z
        list = [1, "two {{ event.type }}", { k = "{{ event.data.object.amount }}" }]
        empty = {}
    "#);
    let body = render(&fields, &payment());
    assert_eq!(
        body,
        json!({"n": 3, "x": 1.5, "yes": false, "when": "1979-05-27T07:32:00Z",
               "list": [1, "two payment_intent.succeeded", {"k": 2000}], "empty": {}})
    );
}

#[test]
fn dotted_keys_and_inline_tables_nest_and_merge() {
    let fields = map(r#"
        "customer.email" = "{{ event.data.object.name }}"
        customer = { id = "{{ event.data.object.id }}", "address.city" = "Paris" }
        meta = { source = "stripe" }
        '"weird.key"' = "{{ event.data.object.\"weird.key\" }}"
        "items.0" = "zero"
    "#);
    let body = render(&fields, &payment());
    assert_eq!(
        body,
        json!({"customer": {"email": "Grace \"Amazing\" Hopper", "id": "pi_1",
                            "address": {"city": "Paris"}},
               "meta": {"source": "stripe"}, "weird.key": "dotted", "items": {"0": "zero"}})
    );
}

#[test]
fn a_default_applies_to_a_missing_or_null_path_and_keeps_its_type() {
    let fields = map(r#"
        note = '{{ event.data.object.note | default: "none" }}'
        count = "{{ event.data.object.count | default: 0 }}"
        amount = "{{ event.data.object.amount | default: 0 }}"
        text = '{{ event.data.object.missing | default: "" }}!'
    "#);
    let body = render(&fields, &payment());
    assert_eq!(
        body,
        json!({"note": "none", "count": 0, "amount": 2000, "text": "!"})
    );
}

#[test]
fn a_missing_path_fails_naming_it() {
    let event = payment();
    let ctx = TemplateContext {
        responses: &serde_json::Value::Null,
        output: &json!(null),
        event: &event,
        secrets: &|_| None,
    };
    for (src, expected) in [
        (
            r#"a = "{{ event.data.object.amout }}""#,
            "`{{ event.data.object.amout }}`: event.data.object has no field `amout`",
        ),
        (
            r#"a = "x {{ event.data.object.note }}""#,
            "`{{ event.data.object.note }}`: event.data.object.note is null",
        ),
    ] {
        let error = map(src).render(&ctx).unwrap_err();
        assert!(error.is_permanent());
        assert!(error.to_string().starts_with(expected), "{error}");
    }
}

#[test]
fn a_key_set_twice_is_an_error_naming_both() {
    let found = errors(
        r#"
        "a.b" = 1
        a = { b = 2 }
    "#,
    );
    assert_eq!(
        found,
        vec![FieldsError {
            at: "a.b".into(),
            message: "is set twice: by `a.b` and by `\"a.b\"`".into()
        }]
    );
    let found = errors(
        r#"
        a = "x"
        "a.b" = "y"
    "#,
    );
    assert_eq!(found[0].at, "a");
    assert_eq!(found[0].message, "is set twice: by `a` and by `\"a.b\"`");
    let found = errors(
        r#"
        "a.b" = { c = 1 }
        a = { b = "x" }
    "#,
    );
    assert_eq!(found[0].at, "a.b");
    assert!(found[0].message.contains("`a.b`") && found[0].message.contains("`\"a.b\"`"));
}

#[test]
fn bad_keys_and_templates_are_errors_naming_the_key() {
    let found = errors(
        r#"
        "a..b" = 1
        "x.\"y" = 2
        ok = "{{ evnt.id }}"
        nested = { t = "{{ event. }}" }
    "#,
    );
    let at: Vec<&str> = found.iter().map(|e| e.at.as_str()).collect();
    assert_eq!(at, ["\"a..b\"", "nested.t", "ok", "\"x.\\\"y\""]);
    assert!(found[0].message.contains("empty key segment"));
    assert!(found[2].message.contains("unknown template root `evnt`"));
}
