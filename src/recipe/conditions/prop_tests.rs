//! Property: rows compiled to Rhai decide exactly as the direct evaluator, on random JSON.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;
use crate::script::{ScriptEngine, ScriptInput, ScriptLimits};

const KEYS: [&str; 4] = ["a", "b", "0", "x y"];

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-3i64..3).prop_map(Value::from),
        (-3.0f64..3.0).prop_map(|f| json!((f * 4.0).round() / 4.0)),
        Just(json!(12591154125385152738u64)),
        prop::sample::select(vec![
            "",
            "1",
            "1.50",
            "007",
            "Abc",
            "abc",
            "vip",
            "2024-05-01T00:00:00Z",
            "2024-05-01T02:00:00+02:00"
        ])
        .prop_map(Value::from),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(2, 12, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            prop::collection::btree_map(prop::sample::select(KEYS.to_vec()), inner, 1..4).prop_map(
                |m| Value::Object(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
            ),
        ]
    })
}

/// The payload: an object, so that most rows find their field (a missing field is an error
/// on both sides, which says little).
fn event() -> impl Strategy<Value = Value> {
    prop::collection::btree_map(prop::sample::select(KEYS.to_vec()), json_value(), 2..5)
        .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()))
}

fn scalar_value() -> impl Strategy<Value = toml::Value> {
    prop_oneof![
        any::<bool>().prop_map(toml::Value::Boolean),
        (-3i64..3).prop_map(toml::Value::Integer),
        Just(toml::Value::Float(1.5)),
        text_value(),
    ]
}

fn text_value() -> impl Strategy<Value = toml::Value> {
    prop::sample::select(vec![
        "1",
        "1.5",
        "abc",
        "ab",
        "^a",
        "B",
        "2024-05-01T00:00:00Z",
        "12591154125385152737",
    ])
    .prop_map(|s| toml::Value::String(s.to_owned()))
}

/// A value of the kind the operator takes (rows `check` refuses are not what this tests).
fn value_for(op: Op) -> BoxedStrategy<Option<toml::Value>> {
    match op {
        _ if !op.takes_value() => Just(None).boxed(),
        Op::In | Op::NotIn => prop::collection::vec(scalar_value(), 1..3)
            .prop_map(|v| Some(toml::Value::Array(v)))
            .boxed(),
        _ if op.is_text() => text_value().prop_map(Some).boxed(),
        Op::Gt | Op::Gte | Op::Lt | Op::Lte => prop_oneof![
            (-3i64..3).prop_map(toml::Value::Integer),
            Just(toml::Value::Float(1.5)),
            prop::sample::select(vec!["1.5", "2024-05-01T00:00:00Z", "12591154125385152737"])
                .prop_map(|s| toml::Value::String(s.to_owned())),
        ]
        .prop_map(Some)
        .boxed(),
        _ => scalar_value().prop_map(Some).boxed(),
    }
}

fn condition_row() -> impl Strategy<Value = ConditionRow> {
    let field = prop::collection::vec(prop::sample::select(KEYS.to_vec()), 1..3).prop_map(|keys| {
        keys.iter()
            .map(|k| {
                if k.contains(' ') {
                    format!("\"{k}\"")
                } else {
                    (*k).to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join(".")
    });
    let op_and_value =
        prop::sample::select(Op::ALL.to_vec()).prop_flat_map(|op| (Just(op), value_for(op)));
    (field, op_and_value, any::<bool>()).prop_map(|(field, (op, value), ignore_case)| {
        ConditionRow {
            field,
            op,
            value,
            ignore_case: ignore_case && op.is_text(),
        }
    })
}

fn mode() -> impl Strategy<Value = MatchMode> {
    prop_oneof![Just(MatchMode::All), Just(MatchMode::Any)]
}

fn conditions() -> impl Strategy<Value = Conditions> {
    let group = (mode(), prop::collection::vec(condition_row(), 1..3))
        .prop_map(|(match_mode, when)| ConditionGroup { match_mode, when });
    (
        mode(),
        prop::collection::vec(condition_row(), 0..3),
        prop::collection::vec(group, 0..3),
    )
        .prop_map(|(match_mode, when, any)| Conditions {
            match_mode,
            when,
            any,
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]
    #[test]
    fn rows_compiled_to_rhai_agree_with_the_direct_evaluation(
        rows in conditions(),
        event in event(),
    ) {
        let engine = ScriptEngine::new(ScriptLimits::default());
        // Rows that `check` refuses never run; draw again.
        let compiled = rows.compile(&engine, "filter");
        let compiled = compiled.expect("generated rows pass check");
        let empty = json!({});
        let direct = compiled.rows.evaluate(&EvalInput { event: &event, headers: &empty, meta: &empty, output: &Value::Null });
        let via_rhai = engine.eval_bool(&compiled.script, &ScriptInput { event: &event, headers: &empty, meta: &empty });
        match (&direct, &via_rhai) {
            (Ok(verdict), Ok(passed)) => prop_assert_eq!(verdict.passed, *passed),
            (Err(_), Err(_)) => {}
            _ => prop_assert!(false, "direct {:?} vs Rhai {:?}\n{}", direct, via_rhai, compiled.rhai),
        }
        // The oracle for the order rule: the same rows in reverse order (every list, and the
        // groups) decide the same way.
        let reversed = reversed(&rows).compile(&engine, "filter").expect("reversed rows pass check");
        let again = reversed.rows.evaluate(&EvalInput { event: &event, headers: &empty, meta: &empty, output: &Value::Null });
        match (&direct, &again) {
            (Ok(a), Ok(b)) => prop_assert_eq!(a.passed, b.passed),
            (Err(_), Err(_)) => {}
            _ => prop_assert!(false, "order changed the verdict: {:?} vs {:?}", direct, again),
        }
    }
}

fn reversed(rows: &Conditions) -> Conditions {
    let mut rows = rows.clone();
    rows.when.reverse();
    rows.any.reverse();
    for group in &mut rows.any {
        group.when.reverse();
    }
    rows
}
