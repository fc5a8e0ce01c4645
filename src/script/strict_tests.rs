//! Strict reads, strict comparisons, exact numbers and Rhai errors in the user's terms.

use serde_json::{Value, json};

use super::tests::{engine, run_json};
use super::*;

fn payment() -> Value {
    let mut event = json!({"id": "pi_1", "type": "payment", "currency": "eur", "amount": 4900,
                           "payment": {"amount": "49.00"}, "tags": ["a"]});
    event["big"] = serde_json::from_str("12591154125385152738").unwrap();
    event
}

fn error_of(source: &str) -> String {
    match run_json(&engine(), source, payment()) {
        Err(err) => err.to_string(),
        Ok(value) => panic!("{source}: expected an error, got {value}"),
    }
}

fn value_of(source: &str) -> Value {
    run_json(&engine(), source, payment()).unwrap_or_else(|e| panic!("{source}: {e}"))
}

#[test]
fn reading_a_missing_field_fails_naming_the_path_and_the_fields_there() {
    let cases = [
        (
            "event.amout > 10",
            "transform script, line 1, column 7: event.amout: the event has no field \"amout\" \
             (fields: amount, big, currency, id, payment, tags, type); if it is optional, read \
             it with event?.amout or test \"amout\" in event",
        ),
        (
            "1;\nevent.payment.amout",
            "transform script, line 2, column 15: event.payment.amout: event.payment has no \
             field \"amout\" (fields: amount); if it is optional, read it with \
             event.payment?.amout or test \"amout\" in event.payment",
        ),
        (
            "let p = event.payment; p.cents",
            "transform script, line 1, column 26: p.cents: p has no field \"cents\"; if it is \
             optional, read it with p?.cents or test \"cents\" in p",
        ),
        (
            "event[\"amout\"]",
            "transform script, line 1, column 7: event.amout: the event has no field \"amout\"",
        ),
        (
            "headers.signature",
            "transform script, line 1, column 9: headers.signature: headers has no field \
             \"signature\" (fields: content-type)",
        ),
        (
            "event?.note.x",
            "transform script, line 1, column 13: event?.note.x: cannot read a field of \
             nothing (()): event?.note is missing or null",
        ),
    ];
    for (source, expected) in cases {
        let message = error_of(source);
        assert!(
            message.starts_with(expected),
            "{source}\n got: {message}\nwant: {expected}"
        );
    }
}

#[test]
fn optional_reads_give_nothing_and_in_tests_for_a_field() {
    assert_eq!(value_of("event?.note"), Value::Null);
    assert_eq!(value_of("event?.note?.deeper"), Value::Null);
    assert_eq!(value_of("event?.payment?.amount"), json!("49.00"));
    assert_eq!(
        value_of("if \"note\" in event { event.note } else { \"none\" }"),
        json!("none")
    );
    assert_eq!(value_of("event?.note ?? \"default\""), json!("default"));
    assert_eq!(
        value_of("`${event?.note}|${event.tags?.len()}`"),
        json!("|1")
    );
    assert_eq!(
        value_of("let m = #{}; m.x = 1; m.x"),
        json!(1),
        "writing adds a field"
    );
}

#[test]
fn comparing_text_or_nothing_with_a_number_fails_naming_both_values() {
    let cases = [
        (
            "event.payment.amount > 10",
            "cannot compare the text \"49.00\" > the number 10",
        ),
        (
            "event.payment.amount == 49",
            "cannot compare the text \"49.00\" == the number 49",
        ),
        (
            "10 <= event.payment.amount",
            "cannot compare the number 10 <= the text \"49.00\"",
        ),
        (
            "event.amount != \"4900\"",
            "cannot compare the number 4900 != the text \"4900\"",
        ),
        (
            "event?.note > 10",
            "cannot compare nothing (()) > the number 10",
        ),
        (
            "1.5 < event?.note",
            "cannot compare the number 1.5 < nothing (())",
        ),
        ("true > 0", "cannot compare the bool true > the number 0"),
        (
            "event.big > \"1\"",
            "cannot compare the number 12591154125385152738 > the text \"1\"",
        ),
        (
            "event?.note < \"a\"",
            "cannot compare nothing (()) < the text \"a\"",
        ),
    ];
    for (source, expected) in cases {
        let message = error_of(source);
        assert!(
            message.contains(expected),
            "{source}\n got: {message}\nwant: {expected}"
        );
    }
    assert_eq!(
        value_of("event.payment.amount.parse_float() > 10.0"),
        json!(true)
    );
    assert_eq!(
        value_of("event?.note == ()"),
        json!(true),
        "missing equals nothing"
    );
    assert_eq!(value_of("event.type == \"payment\""), json!(true));
}

#[test]
fn rhai_errors_are_translated_and_keep_line_and_column() {
    let cases = [
        (
            "event.amount + ()",
            "line 1, column 14: cannot apply + to integer and nothing (()); a value is missing",
        ),
        (
            "event.tags[3]",
            "line 1, column 12: index 3 is outside the array, which has 1 item(s)",
        ),
        (
            "event.id.to_upper(1)",
            "no function 'to_upper' takes (string, integer)",
        ),
        ("throw \"boom\"", "line 1, column 1: Runtime error: boom"),
    ];
    for (source, expected) in cases {
        let message = error_of(source);
        assert!(
            message.contains(expected),
            "{source}\n got: {message}\nwant: {expected}"
        );
    }
    let compile = |source: &str| engine().compile(ScriptKind::Filter, source).unwrap_err();
    let dollar = compile("let x = ${event.id}; x");
    assert_eq!((dollar.line, dollar.column), (1, 9));
    assert!(dollar.message.contains("back-ticks"), "{}", dollar.message);
    let quoted = compile("let a = 1;\n#{ text: \"Paid ${event.amount}\" }");
    assert_eq!((quoted.line, quoted.column), (2, 10));
    assert!(quoted.message.contains("back-ticks"), "{}", quoted.message);
    let after_rewrite = compile("event?.a + event?.b + (");
    assert_eq!(after_rewrite.line, 1);
    assert!(after_rewrite.column <= 24, "{after_rewrite:?}");
}

#[test]
fn numbers_keep_their_exact_digits_through_scripts() {
    for text in [
        "12591154125385152738",
        "-12591154125385152739",
        "0.1000000000000000055511",
        "-0",
        "1e+400",
        "1.50",
        "7",
        "2.5",
        "-9223372036854775808",
    ] {
        let event: Value = serde_json::from_str(&format!(r#"{{"n": {text}}}"#)).unwrap();
        let run = |source: &str| run_json(&engine(), source, event.clone()).unwrap();
        assert_eq!(run("event.n").to_string(), text, "value out");
        assert_eq!(
            run("#{ n: event.n }").to_string(),
            format!(r#"{{"n":{text}}}"#)
        );
        assert_eq!(run("`${event.n}`"), json!(text), "as text");
        assert_eq!(run("event.n.to_string()"), json!(text));
        assert_eq!(run("event.n == event.n"), json!(true));
    }
}

#[test]
fn exact_numbers_compare_exactly_and_refuse_rounding_arithmetic() {
    let event: Value = serde_json::from_str(
        r#"{"a": 12591154125385152738, "b": 12591154125385152739, "z": -0, "d": 0.1000000000000000055511}"#,
    )
    .unwrap();
    let run = |source: &str| run_json(&engine(), source, event.clone());
    for (source, expected) in [
        ("event.a == event.b", false),
        ("event.a < event.b", true),
        ("event.a > 10", true),
        ("event.a > 1.0e19", true),
        ("event.z == 0", true),
        ("event.z == 0.0", true),
        ("event.d > 0.1", true),
        ("event.d < 0.2", true),
        ("-event.a < 0", true),
    ] {
        assert_eq!(run(source), Ok(json!(expected)), "{source}");
    }
    let err = run("event.a + 1").unwrap_err().to_string();
    assert!(
        err.contains("cannot compute 12591154125385152738 + 1") && err.contains("to_float()"),
        "{err}"
    );
    assert!(run("event.d * 2.0").is_err());
    assert_eq!(run("event.d.to_float() * 2.0"), Ok(json!(0.2)));
    assert_eq!(run("type_of(event.a)"), Ok(json!("exact number")));
    assert!(
        run("event.a.to_int()")
            .unwrap_err()
            .to_string()
            .contains("64 bits")
    );
}

proptest::proptest! {
    /// Any JSON number comes out of a script, as a value and as text, with the text it went in.
    #[test]
    fn any_json_number_keeps_its_text_through_a_script(
        text in "-?(0|[1-9][0-9]{0,40})(\\.[0-9]{1,40})?([eE][+-]?[0-9]{1,4})?"
    ) {
        let number: serde_json::Number = text.parse().unwrap();
        let event = json!({ "n": number.clone() });
        let out = run_json(&engine(), "#{ v: event.n, t: `${event.n}`, same: event.n == event.n }", event).unwrap();
        proptest::prop_assert_eq!(out["v"].to_string(), number.to_string());
        proptest::prop_assert_eq!(&out["t"], &json!(number.to_string()));
        proptest::prop_assert_eq!(&out["same"], &json!(true));
    }
}

#[test]
fn number_literals_beyond_i64_and_f64_keep_their_digits_and_compare_exactly() {
    for (source, expected) in [
        ("event.big == 12591154125385152738", json!(true)),
        ("event.big == 12591154125385152739", json!(false)),
        ("event.big < 12591154125385152739", json!(true)),
        (
            "12591154125385152738",
            serde_json::from_str("12591154125385152738").unwrap(),
        ),
        (
            "-12591154125385152739",
            serde_json::from_str("-12591154125385152739").unwrap(),
        ),
        (
            "0.1000000000000000055511",
            serde_json::from_str("0.1000000000000000055511").unwrap(),
        ),
        ("0.1000000000000000055511 > 0.1", json!(true)),
        ("1e400 > 1.7976931348623157e308", json!(true)),
        (
            "`${12_591_154_125_385_152_738}`",
            json!("12591154125385152738"),
        ),
        ("type_of(12591154125385152738)", json!("exact number")),
        ("type_of(0.1)", json!("f64")),
        ("type_of(-9223372036854775808)", json!("i64")),
    ] {
        assert_eq!(value_of(source), expected, "{source}");
    }
    let message = error_of("12591154125385152738 + 1");
    assert!(
        message.starts_with(
            "transform script, line 1, column 22: cannot compute 12591154125385152738 + 1"
        ),
        "the place is the one written: {message}"
    );
}

#[test]
fn a_missing_hyphenated_field_is_hinted_with_an_index_not_a_subtraction() {
    let error = error_of("event[\"x-github-delivery\"]");
    assert!(
        error.contains("read it with event.get(\"x-github-delivery\") or test"),
        "{error}"
    );
    assert!(!error.contains("?.x-github"), "{error}");
    // The hint reads: a missing key gives nothing, not an error.
    assert_eq!(value_of("event.get(\"x-github-delivery\") ?? 1"), json!(1));
}
