//! The comparison table of `strict.rs`: every pair of kinds under every comparison operator
//! gives a value or an error, never a quiet `false` between kinds that do not compare.

use serde_json::{Value, json};

use super::tests::{engine, run_json};

/// One value of each kind, as script source.
const KINDS: [(&str, &str); 6] = [
    ("number", "1"),
    ("text", "\"a\""),
    ("bool", "true"),
    ("()", "()"),
    ("array", "[1, 2]"),
    ("object", "#{a: 1}"),
];

const OPS: [&str; 6] = ["==", "!=", "<", "<=", ">", ">="];

/// Per left kind (rows, in `KINDS` order) and right kind (columns): the answer of
/// `==` `!=` `<` `<=` `>` `>=` for the values in `KINDS`; T true, F false, E an error.
const TABLE: [[&str; 6]; 6] = [
    //number   text      bool      ()        array     object
    ["TFFTFT", "EEEEEE", "EEEEEE", "FTEEEE", "EEEEEE", "EEEEEE"], // number
    ["EEEEEE", "TFFTFT", "EEEEEE", "FTEEEE", "EEEEEE", "EEEEEE"], // text
    ["EEEEEE", "EEEEEE", "TFFTFT", "FTEEEE", "EEEEEE", "EEEEEE"], // bool
    ["FTEEEE", "FTEEEE", "FTEEEE", "TFEEEE", "FTEEEE", "FTEEEE"], // ()
    ["EEEEEE", "EEEEEE", "EEEEEE", "FTEEEE", "TFEEEE", "EEEEEE"], // array
    ["EEEEEE", "EEEEEE", "EEEEEE", "FTEEEE", "EEEEEE", "TFEEEE"], // object
];

#[test]
fn every_pair_of_kinds_under_every_comparison_gives_the_value_or_error_of_the_table() {
    let engine = engine();
    let mut wrong = Vec::new();
    for (row, (left_kind, left)) in KINDS.iter().enumerate() {
        for (column, (right_kind, right)) in KINDS.iter().enumerate() {
            for (op, want) in OPS.iter().zip(TABLE[row][column].chars()) {
                let source = format!("{left} {op} {right}");
                let got = match run_json(&engine, &source, json!({})) {
                    Ok(Value::Bool(true)) => 'T',
                    Ok(Value::Bool(false)) => 'F',
                    Ok(other) => panic!("{source}: {other}"),
                    Err(err) => {
                        let message = err.to_string();
                        // An error names both values and the operator.
                        assert!(
                            message.contains(&format!(" {op} "))
                                && message.contains("cannot compare"),
                            "{source}: {message}"
                        );
                        'E'
                    }
                };
                if got != want {
                    wrong.push(format!(
                        "{left_kind} {op} {right_kind}: want {want}, got {got}"
                    ));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn refused_comparisons_name_both_values_and_what_to_do() {
    let event: Value = json!({"items": [1, 2], "m": {"a": 1}, "flag": true, "s": "x"});
    for (source, expected) in [
        (
            "event.items > 1",
            "line 1, column 13: cannot compare the array [1,2] > the number 1: arrays and \
             numbers do not compare; compare one item or field",
        ),
        (
            "event.m > 1",
            "cannot compare the object {\"a\":1} > the number 1: objects and numbers do not compare",
        ),
        (
            "event.items == 1",
            "cannot compare the array [1,2] == the number 1",
        ),
        (
            "event.flag == \"true\"",
            "cannot compare the bool true == the text \"true\": bools and text do not compare; compare a bool with true or false",
        ),
        (
            "event.flag == 1",
            "cannot compare the bool true == the number 1",
        ),
        (
            "event?.note < \"a\"",
            "cannot compare nothing (()) < the text \"a\": nothing (()) has no order",
        ),
        (
            "[1] < [2]",
            "cannot compare the array [1] < the array [2]: arrays have no order",
        ),
        ("event.m <= event.m", "objects have no order"),
        (
            "timestamp() == 1",
            "cannot compare a timestamp == the number 1",
        ),
    ] {
        let message = run_json(&engine(), source, event.clone())
            .unwrap_err()
            .to_string();
        assert!(
            message.contains(expected),
            "{source}\n got: {message}\nwant: {expected}"
        );
    }
}

#[test]
fn arrays_and_objects_are_equal_item_by_item_under_the_same_rules() {
    let event: Value = serde_json::from_str(
        r#"{"items": [1, 2], "m": {"a": 1, "b": [true]}, "big": [12591154125385152738]}"#,
    )
    .unwrap();
    let run = |source: &str| run_json(&engine(), source, event.clone());
    for (source, expected) in [
        ("event.items == [1, 2]", true),
        ("event.items == [1.0, 2.0]", true),
        ("event.items != [2, 1]", true),
        ("event.items == [1]", false),
        ("event.m == #{a: 1, b: [true]}", true),
        ("event.m == #{a: 1, c: [true]}", false),
        ("event.m != #{a: 1}", true),
        ("event.big == [12591154125385152738]", true),
        ("event.big == [12591154125385152739]", false),
        ("[()] == [()]", true),
        ("[(), 1] == [1, ()]", false),
    ] {
        assert_eq!(run(source), Ok(json!(expected)), "{source}");
    }
    let nested = run("event.items == [1, \"2\"]").unwrap_err().to_string();
    assert!(
        nested.contains("cannot compare the number 2 == the text \"2\""),
        "{nested}"
    );
}

#[test]
fn in_an_array_compares_under_the_same_rules() {
    let event: Value = serde_json::from_str(
        r#"{"ids": [1, 12591154125385152738], "tags": ["a", "b"], "mixed": [1, "a", null]}"#,
    )
    .unwrap();
    let run = |source: &str| run_json(&engine(), source, event.clone());
    for (source, expected) in [
        ("1 in event.ids", true),
        ("12591154125385152738 in event.ids", true),
        ("12591154125385152739 in event.ids", false),
        ("1.0 in event.ids", true),
        ("\"a\" in event.tags", true),
        ("\"c\" in event.tags", false),
        ("event.tags.contains(\"b\")", true),
        ("\"a\" in event.mixed", true),
        ("2 in event.mixed", false),
        ("() in event.tags", false),
        ("\"a\" in []", false),
        ("\"x\" in \"xyz\"", true),
        ("\"tags\" in event", true),
        ("event.tags.index_of(\"b\") == 1", true),
        ("event.ids.index_of(12591154125385152738) == 1", true),
        ("event.mixed.index_of(2) == -1", true),
    ] {
        assert_eq!(run(source), Ok(json!(expected)), "{source}");
    }
    let message = run("\"1\" in event.ids").unwrap_err().to_string();
    assert!(
        message.contains(
            "line 1, column 5: cannot test whether the text \"1\" is in the array \
             [1,12591154125385152738]: the array holds no text"
        ),
        "{message}"
    );
    assert!(run("true in event.tags").is_err());
    assert!(run("event.tags.index_of(1)").is_err());
}
