//! Every operator and type rule, decided by both the direct evaluator and the compiled Rhai.

use serde_json::{Value, json};

use super::*;
use crate::script::{ScriptEngine, ScriptInput, ScriptLimits};

pub(super) fn row(field: &str, op: Op, value: Option<toml::Value>) -> ConditionRow {
    ConditionRow {
        field: field.into(),
        op,
        value,
        ignore_case: false,
    }
}

pub(super) fn v(text: &str) -> Option<toml::Value> {
    let table: toml::Table = toml::from_str(&format!("v = {text}")).unwrap();
    Some(table["v"].clone())
}

pub(super) fn one(row: ConditionRow) -> Conditions {
    Conditions {
        when: vec![row],
        ..Conditions::default()
    }
}

/// Decides the rows both ways and insists they agree (errors on both sides, or the same bool).
pub(super) fn decide(rows: &Conditions, event: &Value) -> Result<bool, String> {
    let headers = json!({"x-github-event": "push"});
    let meta =
        json!({"recipe": "r", "trigger": "webhook", "received_at": "2024-05-01T00:00:00.000Z"});
    let input = EvalInput {
        event,
        headers: &headers,
        meta: &meta,
        output: &serde_json::Value::Null,
    };
    let direct = rows.evaluate(&input).map(|v| v.passed);
    let engine = ScriptEngine::new(ScriptLimits::default());
    let compiled = rows.compile(&engine, "filter").expect("rows compile");
    let script_input = ScriptInput {
        event,
        headers: &headers,
        meta: &meta,
    };
    let via_rhai = engine.eval_bool(&compiled.script, &script_input);
    match (&direct, &via_rhai) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "direct and Rhai disagree for {rows:?} on {event}"),
        (Err(_), Err(_)) => {}
        _ => panic!("direct {direct:?} vs Rhai {via_rhai:?} for {rows:?} on {event}"),
    }
    direct.map_err(|e| e.to_string())
}

fn holds(field: &str, op: Op, value: &str, event: Value) -> Result<bool, String> {
    let value = (!value.is_empty()).then(|| v(value)).flatten();
    decide(&one(row(field, op, value)), &event)
}

#[test]
fn numbers_compare_as_numbers_and_numeric_strings_count_as_numbers() {
    let e = json!({"amount": 500, "price": "49.00", "big": 12591154125385152738u64, "zip": "007"});
    assert_eq!(holds("amount", Op::Gt, "1000", e.clone()), Ok(false));
    assert_eq!(holds("amount", Op::Lte, "500", e.clone()), Ok(true));
    assert_eq!(holds("amount", Op::Gt, "499.5", e.clone()), Ok(true));
    assert_eq!(holds("price", Op::Gt, "10", e.clone()), Ok(true));
    assert_eq!(holds("price", Op::Eq, "49", e.clone()), Ok(true));
    assert_eq!(holds("amount", Op::Eq, "\"500.0\"", e.clone()), Ok(true));
    assert_eq!(
        holds("big", Op::Gt, "\"12591154125385152737\"", e.clone()),
        Ok(true),
        "an exact big number compares exactly"
    );
    assert_eq!(
        holds("big", Op::Eq, "\"12591154125385152739\"", e.clone()),
        Ok(false)
    );
    let zip = holds("zip", Op::Gt, "5", e.clone()).unwrap_err();
    assert!(zip.contains("zip = \"007\" is not a number"), "{zip}");
    assert_eq!(
        holds("zip", Op::Eq, "7", e),
        Ok(false),
        "\"007\" is text, not 7"
    );
}

#[test]
fn rfc3339_values_compare_as_instants() {
    let e = json!({"at": "2024-05-01T12:00:00+02:00", "note": "soon"});
    assert_eq!(
        holds("at", Op::Gt, "\"2024-05-01T09:59:59Z\"", e.clone()),
        Ok(true)
    );
    assert_eq!(
        holds("at", Op::Lt, "2024-05-01T10:00:01Z", e.clone()),
        Ok(true),
        "a TOML date-time"
    );
    assert_eq!(
        holds("at", Op::Eq, "\"2024-05-01T10:00:00Z\"", e.clone()),
        Ok(true)
    );
    assert_eq!(
        holds("at", Op::Ne, "\"2024-05-01T10:00:00Z\"", e.clone()),
        Ok(false)
    );
    let error = holds("note", Op::Gt, "\"2024-05-01T00:00:00Z\"", e).unwrap_err();
    assert!(error.contains("not an RFC 3339 date-time"), "{error}");
}

#[test]
fn a_missing_field_fails_every_operator_but_exists_not_exists_and_is_empty() {
    let e = json!({"present": 1});
    for op in Op::ALL {
        let value = match op {
            _ if !op.takes_value() => "",
            Op::In | Op::NotIn => "[1]",
            _ if op.is_text() => "\"a\"",
            _ => "1",
        };
        let result = holds("data.absent", op, value, e.clone());
        match op {
            Op::Exists => assert_eq!(result, Ok(false)),
            Op::NotExists | Op::IsEmpty => assert_eq!(result, Ok(true)),
            _ => {
                let error = result.unwrap_err();
                assert!(
                    error.starts_with("filter.when[0]: data.absent is missing"),
                    "{op}: {error}"
                );
            }
        }
    }
}

#[test]
fn null_exists_and_is_empty_and_equals_nothing() {
    let e = json!({"n": null});
    assert_eq!(holds("n", Op::Exists, "", e.clone()), Ok(true));
    assert_eq!(holds("n", Op::NotExists, "", e.clone()), Ok(false));
    assert_eq!(holds("n", Op::IsEmpty, "", e.clone()), Ok(true));
    assert_eq!(holds("n", Op::NotEmpty, "", e.clone()), Ok(false));
    assert_eq!(holds("n", Op::Eq, "\"\"", e.clone()), Ok(false));
    assert_eq!(holds("n", Op::Ne, "0", e.clone()), Ok(true));
    assert_eq!(holds("n", Op::In, "[\"a\"]", e.clone()), Ok(false));
    assert!(holds("n", Op::Contains, "\"a\"", e.clone()).is_err());
    assert!(holds("n", Op::Gt, "1", e.clone()).is_err());
    assert!(holds("n", Op::IsTrue, "", e).is_err());
}

#[test]
fn paths_reach_nested_arrays_quoted_keys_headers_and_meta() {
    let e = json!({"items": [{"sku": "A1"}, {"tags": ["x", "VIP"]}], "data": {"weird.key": 3, "with space": "y"}});
    assert_eq!(holds("items.0.sku", Op::Eq, "\"A1\"", e.clone()), Ok(true));
    assert_eq!(
        holds("items.1.tags.1", Op::Eq, "\"VIP\"", e.clone()),
        Ok(true)
    );
    assert_eq!(
        holds("\"data\".\"weird.key\"", Op::Gte, "3", e.clone()),
        Ok(true)
    );
    assert_eq!(
        holds("data.\"with space\"", Op::Eq, "\"y\"", e.clone()),
        Ok(true)
    );
    assert_eq!(
        holds("headers.X-GitHub-Event", Op::Eq, "\"push\"", e.clone()),
        Ok(true)
    );
    assert_eq!(
        holds("meta.trigger", Op::Eq, "\"webhook\"", e.clone()),
        Ok(true)
    );
    assert_eq!(
        holds(
            "meta.received_at",
            Op::Gt,
            "2024-04-30T00:00:00Z",
            e.clone()
        ),
        Ok(true)
    );
    assert_eq!(holds("items.5.sku", Op::Exists, "", e), Ok(false));
}

#[test]
fn text_operators_need_text_and_ignore_case_folds_both_sides() {
    let e = json!({"type": "Payment_Intent.Succeeded", "n": 5, "tags": ["a", "VIP"]});
    let mut r = row("type", Op::StartsWith, v("\"payment_intent.\""));
    assert_eq!(decide(&one(r.clone()), &e), Ok(false));
    r.ignore_case = true;
    assert_eq!(decide(&one(r), &e), Ok(true));
    assert_eq!(
        holds("type", Op::EndsWith, "\".Succeeded\"", e.clone()),
        Ok(true)
    );
    assert_eq!(
        holds("type", Op::Contains, "\"Intent\"", e.clone()),
        Ok(true)
    );
    assert_eq!(
        holds("type", Op::NotContains, "\"Intent\"", e.clone()),
        Ok(false)
    );
    assert_eq!(
        holds("type", Op::Matches, "\"^Pay.*ed$\"", e.clone()),
        Ok(true)
    );
    let mut m = row("type", Op::Matches, v("\"^payment_[a-z]+\""));
    m.ignore_case = true;
    assert_eq!(decide(&one(m), &e), Ok(true));
    assert_eq!(
        holds("tags", Op::Contains, "\"VIP\"", e.clone()),
        Ok(true),
        "an element of a list"
    );
    let mut vip = row("tags", Op::Contains, v("\"vip\""));
    vip.ignore_case = true;
    assert_eq!(decide(&one(vip), &e), Ok(true));
    let error = holds("n", Op::Contains, "\"5\"", e).unwrap_err();
    assert!(
        error.contains("n = 5 is not text, as `contains` needs"),
        "{error}"
    );
}

#[test]
fn booleans_lists_and_emptiness() {
    let e = json!({"paid": true, "s": "", "list": [], "obj": {"a": 1}, "n": 0, "t": "true"});
    assert_eq!(holds("paid", Op::IsTrue, "", e.clone()), Ok(true));
    assert_eq!(holds("paid", Op::IsFalse, "", e.clone()), Ok(false));
    assert_eq!(holds("paid", Op::Eq, "true", e.clone()), Ok(true));
    assert!(
        holds("t", Op::IsTrue, "", e.clone())
            .unwrap_err()
            .contains("not true or false")
    );
    assert_eq!(holds("s", Op::IsEmpty, "", e.clone()), Ok(true));
    assert_eq!(holds("list", Op::IsEmpty, "", e.clone()), Ok(true));
    assert_eq!(holds("obj", Op::NotEmpty, "", e.clone()), Ok(true));
    assert_eq!(
        holds("n", Op::IsEmpty, "", e.clone()),
        Ok(false),
        "0 is not empty"
    );
    assert_eq!(holds("n", Op::In, "[0, 1]", e.clone()), Ok(true));
    assert_eq!(
        holds("n", Op::NotIn, "[\"0\"]", e.clone()),
        Ok(false),
        "\"0\" is the number 0"
    );
    assert!(
        holds("obj", Op::In, "[1]", e)
            .unwrap_err()
            .contains("a single value")
    );
}

#[test]
fn groups_combine_as_when_and_any_group() {
    // (amount > 1000 and currency = usd) or type = refund; and always livemode
    let rows: Conditions = toml::from_str(
        r#"
        [[when]]
        field = "livemode"
        op = "is_true"
        [[any]]
        [[any.when]]
        field = "amount"
        op = "gt"
        value = 1000
        [[any.when]]
        field = "currency"
        op = "eq"
        value = "usd"
        [[any]]
        [[any.when]]
        field = "type"
        op = "eq"
        value = "refund"
        "#,
    )
    .unwrap();
    let event = |amount: i64, currency: &str, kind: &str, live: bool| json!({"amount": amount, "currency": currency, "type": kind, "livemode": live});
    assert_eq!(decide(&rows, &event(2000, "usd", "charge", true)), Ok(true));
    assert_eq!(
        decide(&rows, &event(2000, "eur", "charge", true)),
        Ok(false)
    );
    assert_eq!(decide(&rows, &event(5, "eur", "refund", true)), Ok(true));
    assert_eq!(
        decide(&rows, &event(5000, "usd", "refund", false)),
        Ok(false)
    );
    let headers = json!({});
    let input = EvalInput {
        event: &event(500, "eur", "charge", true),
        headers: &headers,
        meta: &headers,
        output: &serde_json::Value::Null,
    };
    let verdict = rows.evaluate(&input).unwrap();
    assert_eq!(
        verdict.reason.as_deref(),
        Some(
            "no group held (group 1: filter.any[0].when[0]: amount = 500 is not greater than \
             1000; filter.any[0].when[1]: currency = \"eur\" is not equal to \"usd\"; \
             group 2: filter.any[1].when[0]: type = \"charge\" is not equal to \"refund\")"
        )
    );
    assert_eq!(verdict.rows.len(), 4);
    assert_eq!(verdict.rows[3].path, "filter.any[1].when[0]");
}

#[test]
fn a_failed_row_gives_the_reason_with_the_value_it_saw() {
    let rows = one(row("data.object.amount", Op::Gt, v("1000")));
    let event = json!({"data": {"object": {"amount": 500}}});
    let empty = json!({});
    let input = EvalInput {
        event: &event,
        headers: &empty,
        meta: &empty,
        output: &serde_json::Value::Null,
    };
    let verdict = rows.evaluate(&input).unwrap();
    assert!(!verdict.passed);
    assert_eq!(
        verdict.reason.as_deref(),
        Some("filter.when[0]: data.object.amount = 500 is not greater than 1000")
    );
    let r = &verdict.rows[0];
    assert_eq!(
        (r.path.as_str(), r.held, r.seen.clone()),
        ("filter.when[0]", false, Some(json!(500)))
    );
}
