//! Condition rows from form posts and back.

use super::*;

fn posted(pairs: &[(&str, &str)]) -> ConditionsForm {
    let mut form = ConditionsForm::blank();
    for (key, value) in pairs {
        assert!(form.read(key, value.to_string()), "{key} is a rows input");
    }
    form
}

fn row(field: &str, op: Op, value: Option<toml::Value>) -> ConditionRow {
    ConditionRow {
        field: field.into(),
        op,
        value,
        ignore_case: false,
    }
}

#[test]
fn posted_rows_and_groups_become_the_file_model() {
    let form = posted(&[
        ("match", "any"),
        ("when.0.field", "data.object.amount"),
        ("when.0.op", "gt"),
        ("when.0.value", "1000"),
        ("when.1.field", "type"),
        ("when.1.op", "starts_with"),
        ("when.1.value", "payment_intent."),
        ("when.1.ignore_case", "on"),
        ("group.0.match", "all"),
        ("group.0.when.0.field", "tags"),
        ("group.0.when.0.op", "in"),
        ("group.0.when.0.value", "vip, 42, \"7\""),
        ("group.0.when.1.field", "note"),
        ("group.0.when.1.op", "not_exists"),
        ("group.1.match", "any"),
        ("group.1.when.0.field", "\"data\".\"weird.key\""),
        ("group.1.when.0.op", "eq"),
        ("group.1.when.0.value", "\"true\""),
    ]);
    let (conditions, errors) = form.to_conditions();
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(conditions.match_mode, MatchMode::Any);
    assert_eq!(
        conditions.when[0],
        row(
            "data.object.amount",
            Op::Gt,
            Some(toml::Value::Integer(1000))
        )
    );
    assert!(conditions.when[1].ignore_case);
    assert_eq!(
        conditions.when[1].value,
        Some(toml::Value::String("payment_intent.".into()))
    );
    let tags = conditions.any[0].when[0].value.clone().unwrap();
    assert_eq!(
        tags,
        toml::Value::Array(vec!["vip".into(), 42.into(), "7".into()])
    );
    assert_eq!(conditions.any[0].when[1], row("note", Op::NotExists, None));
    assert_eq!(conditions.any[1].match_mode, MatchMode::Any);
    assert_eq!(
        conditions.any[1].when[0].value,
        Some(toml::Value::String("true".into())),
        "quotes make a boolean-looking value text"
    );
    // And back: every input renders as it was typed (lists in their canonical spelling).
    let again = ConditionsForm::from_conditions(&conditions);
    assert_eq!(again.rows[0].value, "1000");
    assert_eq!(again.rows[1].value, "payment_intent.");
    assert_eq!(again.groups[0].rows[0].value, "vip, 42, \"7\"");
    assert_eq!(again.groups[1].rows[0].value, "\"true\"");
    assert_eq!(again.groups[1].match_mode, "any");
    assert_eq!(again.to_conditions().0, conditions);
}

#[test]
fn values_that_need_quotes_or_brackets_round_trip() {
    let texts = ["", " padded", "a, b", "[x]", "12", "null"];
    for text in texts {
        let value = toml::Value::String(text.into());
        let conditions = Conditions {
            when: vec![row("f", Op::Eq, Some(value.clone()))],
            ..Conditions::default()
        };
        let form = ConditionsForm::from_conditions(&conditions);
        let (back, errors) = form.to_conditions();
        assert!(errors.is_empty(), "{text:?}: {errors:?}");
        assert_eq!(back.when[0].value, Some(value), "{text:?}");
    }
    let list = toml::Value::Array(vec!["a, b".into(), "c".into()]);
    let conditions = Conditions {
        when: vec![row("f", Op::In, Some(list.clone()))],
        ..Conditions::default()
    };
    let form = ConditionsForm::from_conditions(&conditions);
    assert_eq!(form.rows[0].value, r#"["a, b","c"]"#);
    assert_eq!(form.to_conditions().0.when[0].value, Some(list));
}

#[test]
fn a_value_that_does_not_fit_its_operator_is_an_error_naming_the_row() {
    let form = posted(&[
        ("when.0.field", "a"),
        ("when.0.op", "exists"),
        ("when.0.value", "x"),
        ("when.1.field", "b"),
        ("when.1.op", "gt"),
        ("when.1.value", " "),
        ("group.0.when.0.field", "c"),
        ("group.0.when.0.op", "eq"),
        ("group.0.when.0.value", "null"),
        ("group.0.when.1.field", "d"),
        ("group.0.when.1.op", "bigger"),
    ]);
    let (_, errors) = form.to_conditions();
    let named: Vec<(String, String)> = errors
        .iter()
        .map(|e| (e.field.clone(), e.message.clone()))
        .collect();
    assert_eq!(named[0].0, "filter.when[0]");
    assert!(
        named[0].1.starts_with("row 1: “exists” takes no value"),
        "{}",
        named[0].1
    );
    assert!(
        named[1]
            .1
            .starts_with("row 2: “is greater than” needs a value")
    );
    assert_eq!(named[2].0, "filter.any[0].when[0]");
    assert!(named[2].1.contains("null cannot be written"));
    assert!(named[3].1.contains("`bigger` is not an operator"));
}

#[test]
fn errors_named_after_rows_land_under_them() {
    let mut form = posted(&[
        ("when.0.field", "a"),
        ("when.1.field", "b"),
        ("group.0.when.0.field", "c"),
    ]);
    assert!(form.place_error("filter.when[1].value", "bad"));
    assert!(form.place_error("filter.any[0].when[0]", "worse"));
    assert!(!form.place_error("filter.when[5]", "nowhere"));
    assert!(!form.place_error("filter.script", "not a row"));
    assert_eq!(form.rows[1].error, "bad");
    assert_eq!(form.groups[0].rows[0].error, "worse");
}

#[test]
fn text_operators_take_what_was_typed_as_text_even_when_it_looks_like_a_number() {
    for op in [
        "contains",
        "not_contains",
        "starts_with",
        "ends_with",
        "matches",
    ] {
        for (typed, text) in [
            ("2024", "2024"),
            ("1e3", "1e3"),
            ("\"2024\"", "2024"),
            ("true", "true"),
        ] {
            let form = posted(&[
                ("when.0.field", "order_no"),
                ("when.0.op", op),
                ("when.0.value", typed),
            ]);
            let (conditions, errors) = form.to_conditions();
            assert!(errors.is_empty(), "{op} {typed}: {errors:?}");
            assert_eq!(conditions.when[0].value, Some(text.into()), "{op} {typed}");
            // Shown again, it reads back as the same text.
            let again = ConditionsForm::from_conditions(&conditions)
                .to_conditions()
                .0;
            assert_eq!(again.when[0].value, Some(text.into()), "{op} {typed}");
        }
    }
    // Other operators still read numbers as numbers.
    let form = posted(&[
        ("when.0.field", "n"),
        ("when.0.op", "eq"),
        ("when.0.value", "2024"),
    ]);
    assert_eq!(
        form.to_conditions().0.when[0].value,
        Some(toml::Value::Integer(2024))
    );
}
