//! Rows refused at import with their row number, the limits, the compiled Rhai text, and
//! `[filter]` as a whole (script or rows, export round-trip).

use serde_json::json;

use super::tests::{decide, one, row, v};
use super::*;
use crate::script::{ScriptEngine, ScriptLimits};

fn check_errors(toml_rows: &str) -> Vec<String> {
    let rows: Conditions = toml::from_str(toml_rows).unwrap();
    rows.check("filter")
        .unwrap_err()
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn bad_rows_are_refused_with_their_row_number_and_reason() {
    let errors = check_errors(
        r#"
        [[when]]
        field = "a"
        op = "gt"
        value = true
        [[when]]
        field = "b"
        op = "in"
        value = "x"
        [[when]]
        field = "c"
        op = "matches"
        value = "(unclosed"
        [[when]]
        field = "d..e"
        op = "eq"
        value = 1
        [[when]]
        field = "f"
        op = "eq"
        value = 1
        ignore_case = true
        [[when]]
        field = "g"
        op = "exists"
        value = 1
        [[when]]
        field = "h"
        op = "contains"
        value = 5
        [[any]]
        [[any.when]]
        field = "ok"
        op = "eq"
        value = 1
        [[any.when]]
        field = "output.text"
        op = "eq"
        value = "x"
        [[any.when]]
        field = "t"
        op = "lt"
        value = 2024-05-01
        "#,
    );
    let expected = [
        "filter.when[0]: `gt` compares numbers or RFC 3339 date-times",
        "filter.when[1]: `in` needs a list of values",
        "filter.when[2]: `(unclosed` is not a valid regular expression",
        "filter.when[3]: field `d..e`: empty segment at position 3",
        "filter.when[4]: `ignore_case` applies only to the text operators",
        "filter.when[5]: `exists` takes no `value`",
        "filter.when[6]: `contains` is a text operator: text operators take their value as text",
        "filter.any[0].when[1]: field `output.text`: `output.` is the transform's output",
        "filter.any[0].when[2]: 2024-05-01 needs a date, a time and an offset",
    ];
    assert_eq!(errors.len(), expected.len(), "{errors:#?}");
    for (error, want) in errors.iter().zip(expected) {
        assert!(
            error.starts_with(want),
            "{error}\n  should start with: {want}"
        );
    }
}

#[test]
fn a_huge_pattern_is_refused_by_the_size_limit() {
    let rows = one(row(
        "a",
        Op::Matches,
        Some(toml::Value::String("\\w{1000}{1000}".into())),
    ));
    let errors = rows.check("filter").unwrap_err();
    assert!(
        errors[0].message.contains("not a valid regular expression"),
        "{errors:?}"
    );
}

#[test]
fn the_most_rows_and_groups_compile_within_the_default_limits() {
    let many = |n: usize| {
        (0..n)
            .map(|i| row(&format!("f{i}"), Op::Exists, None))
            .collect()
    };
    let rows = Conditions {
        when: many(MAX_ROWS),
        any: (0..MAX_GROUPS)
            .map(|_| ConditionGroup {
                match_mode: MatchMode::Any,
                when: many(MAX_ROWS),
            })
            .collect(),
        ..Conditions::default()
    };
    let engine = ScriptEngine::new(ScriptLimits::default());
    rows.compile(&engine, "filter")
        .expect("the largest allowed filter compiles");
    let too_many = Conditions {
        when: many(MAX_ROWS + 1),
        ..Conditions::default()
    };
    assert!(too_many.check("filter").is_err());
}

#[test]
fn the_rhai_reads_like_the_rows_and_escapes_values() {
    let rows = Conditions {
        when: vec![
            row("data.object.amount", Op::Gt, v("1000")),
            row("items.0.\"a.b\"", Op::In, v("[\"x\", -2, 1.5]")),
            row("headers.x-kind", Op::Contains, v(r#""${oops} \"q\"""#)),
        ],
        ..Conditions::default()
    };
    let rhai = rows.to_rhai();
    assert_eq!(
        rhai,
        "passes(all_rows([\n  \
         gt(field(event, [\"data\", \"object\", \"amount\"]), 1000),\n  \
         is_in(field(event, [\"items\", 0, \"a.b\"]), [\"x\", (-2), \"1.5\"]),\n  \
         contains(field(headers, [\"x-kind\"]), \"\\x24{oops} \\\"q\\\"\")\n\
         ]))"
    );
    assert_eq!(
        decide(
            &rows,
            &json!({"data": {"object": {"amount": 2000}}, "items": [{"a.b": 7}]})
        ),
        Ok(false)
    );
    assert_eq!(Conditions::default().to_rhai(), "true");
}

const RECIPE_HEAD: &str = r#"
id = "rows"
name = "Rows"
[trigger.webhook]
[[action]]
name = "a"
url = "https://example.com/"
"#;

fn recipe_errors(filter: &str) -> Vec<String> {
    let engine = ScriptEngine::new(ScriptLimits::default());
    crate::recipe::Recipe::from_toml(&format!("{RECIPE_HEAD}{filter}"), &engine)
        .unwrap_err()
        .errors
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn a_filter_is_a_script_or_rows_never_both_never_neither() {
    let both = recipe_errors(
        "[filter]\nscript = \"true\"\n[[filter.when]]\nfield = \"a\"\nop = \"exists\"\n",
    );
    assert_eq!(
        both,
        [
            "filter: has both `script` and condition rows (`match`/`when`/`any`); a filter is one or the other"
        ]
    );
    assert!(recipe_errors("[filter]\n")[0].starts_with("filter: is empty"));
    assert!(
        recipe_errors("[filter]\nmatch = \"any\"\n")[0]
            .starts_with("filter: has `match` but no rows")
    );
    let bad = recipe_errors(
        "[[filter.any]]\n[[filter.any.when]]\nfield = \"a\"\nop = \"lt\"\nvalue = [1]\n",
    );
    assert!(
        bad[0].starts_with("filter.any[0].when[0]: `lt` compares numbers"),
        "{bad:?}"
    );
}

#[test]
fn a_rows_recipe_exports_the_same_rows() {
    let source = format!(
        "{RECIPE_HEAD}{}",
        r#"
[filter]
match = "any"
[[filter.when]]
field = "data.object.amount"
op = "gt"
value = 1000
[[filter.when]]
field = "type"
op = "starts_with"
value = "payment_"
ignore_case = true
[[filter.any]]
[[filter.any.when]]
field = "at"
op = "lt"
value = 2024-05-01T00:00:00Z
[[filter.any.when]]
field = "tags"
op = "not_in"
value = ["a", 1.5, true]
"#
    );
    let engine = ScriptEngine::new(ScriptLimits::default());
    let recipe = crate::recipe::Recipe::from_toml(&source, &engine).unwrap();
    let exported = recipe.to_toml();
    let again = crate::recipe::Recipe::from_toml(&exported, &engine).unwrap();
    assert_eq!(again.file, recipe.file, "exported:\n{exported}");
    let filter = again.file.filter.unwrap();
    assert_eq!(filter.match_mode, Some(MatchMode::Any));
    assert_eq!(filter.when.len(), 2);
    assert!(exported.contains("[[filter.any.when]]"), "{exported}");
}

#[test]
fn rows_read_from_json_keep_their_value_kinds() {
    let row: ConditionRow =
        serde_json::from_str(r#"{"field": "a", "op": "in", "value": [1000, 1.5, "x", true]}"#)
            .unwrap();
    let rows = one(row);
    let checked = rows
        .check("filter")
        .expect("a JSON row checks like a TOML row");
    assert_eq!(checked.when[0].value, Some(json!([1000, 1.5, "x", true])));
}

#[test]
fn a_json_number_beyond_64_bits_and_a_date_time_survive_json() {
    let row: ConditionRow =
        serde_json::from_str(r#"{"field": "id", "op": "eq", "value": 12591154125385152738}"#)
            .unwrap();
    assert_eq!(
        decide(&one(row), &json!({"id": 12591154125385152738u64})),
        Ok(true)
    );
    let at = row_from_toml("field = \"at\"\nop = \"lt\"\nvalue = 2024-05-01T00:00:00Z\n");
    let back: ConditionRow = serde_json::from_value(serde_json::to_value(&at).unwrap()).unwrap();
    assert_eq!(back, at);
}

fn row_from_toml(text: &str) -> ConditionRow {
    toml::from_str(text).unwrap()
}

#[test]
fn an_unknown_operator_is_refused_at_its_row_with_line_and_column() {
    let errors = recipe_errors("[[filter.when]]\nfield = \"a\"\nop = \"greater\"\n");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("filter.when[0].op: line 10, column 6: unknown variant `greater`"),
        "{errors:?}"
    );
}
