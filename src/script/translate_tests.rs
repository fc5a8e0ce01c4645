//! Rhai's common error kinds, each in the user's terms with line and column kept.

use serde_json::{Value, json};

use super::tests::{engine, run_json};
use super::*;

fn event() -> Value {
    json!({"s": "hi", "n": 5, "items": [1, 2], "m": {"a": 1}})
}

fn runtime_error(source: &str, event: Value) -> String {
    match run_json(&engine(), source, event) {
        Err(err) => err.to_string(),
        Ok(value) => panic!("{source}: expected an error, got {value}"),
    }
}

#[test]
fn each_common_runtime_error_kind_is_said_in_the_users_terms() {
    // (Rhai's error kind, script, what the message must contain)
    let cases = [
        (
            "ErrorPropertyNotFound",
            "event.amout",
            "line 1, column 7: event.amout: the event has no field \"amout\"",
        ),
        (
            "ErrorDotExpr on text",
            "event.s.x == 1",
            "line 1, column 9: event.s.x: event.s is the text \"hi\", not an object, so it has \
             no field \"x\"",
        ),
        (
            "ErrorDotExpr on an integer",
            "event.n.x",
            "line 1, column 9: event.n.x: event.n is the number 5, not an object",
        ),
        (
            "ErrorDotExpr on an array",
            "event.items.x",
            "line 1, column 13: event.items.x: event.items is the array [1,2], not an object",
        ),
        (
            "ErrorDotExpr on an array item",
            "event.items[0].x",
            "line 1, column 16: event.items[0].x: event.items[0] is an integer, not an object",
        ),
        (
            "ErrorDotExpr on nothing",
            "event?.note.x",
            "line 1, column 13: event?.note.x: cannot read a field of nothing (())",
        ),
        (
            "ErrorDotExpr, setter",
            "let x = 1; x.y = 2",
            "line 1, column 14: x.y: cannot set the field \"y\": x is an integer, not an object",
        ),
        (
            "ErrorFunctionNotFound from ?. on text",
            "event.s?.k",
            "line 1, column 10: event.s?.k: event.s is the text \"hi\", not an object, so it \
             has no field \"k\"",
        ),
        (
            "ErrorFunctionNotFound from ?. on an array",
            "event.items?.k",
            "line 1, column 14: event.items?.k: event.items is the array [1,2], not an object",
        ),
        (
            "ErrorFunctionNotFound from ?. on a number",
            "event.n?.k",
            "line 1, column 10: event.n?.k: event.n is the number 5, not an object",
        ),
        (
            "ErrorFunctionNotFound, operator",
            "event.s * 2",
            "line 1, column 9: cannot apply * to string and integer",
        ),
        (
            "ErrorFunctionNotFound, unary operator",
            "-event.s",
            "line 1, column 1: cannot apply - to string",
        ),
        (
            "ErrorFunctionNotFound, method",
            "event.n.len()",
            "line 1, column 9: no function 'len' takes (integer)",
        ),
        (
            "ErrorFunctionNotFound, method on an object",
            "event.m.foo(1)",
            "line 1, column 9: no function 'foo' takes (object, integer)",
        ),
        (
            "ErrorFunctionNotFound, closure",
            "let f = |a| a; f.call(1, 2)",
            "line 1, column 18: a closure was called with arguments it does not take (integer, \
             integer)",
        ),
        (
            "ErrorIndexingType",
            "true[0]",
            "line 1, column 5: cannot use [ ] on a bool: only arrays, objects and text take an \
             index",
        ),
        (
            "ErrorIndexingType on nothing",
            "event?.note[0]",
            "cannot use [ ] on nothing (()): the value is missing or null",
        ),
        (
            "ErrorMismatchDataType, object index",
            "event.m[0]",
            "line 1, column 9: event.m is an object, indexed by text keys (e.g. \
             event.m[\"name\"]), not by an integer",
        ),
        (
            "ErrorMismatchDataType, array index",
            "event.items[\"a\"]",
            "line 1, column 13: event.items is indexed by integer positions (e.g. \
             event.items[0]), not by text",
        ),
        (
            "ErrorMismatchDataType, condition",
            "if event.n { 1 } else { 2 }",
            "expected a bool, got an integer",
        ),
        (
            "ErrorArrayBounds",
            "event.items[5]",
            "line 1, column 13: index 5 is outside the array, which has 2 item(s) (indexes 0 to 1)",
        ),
        (
            "ErrorStringBounds",
            "event.s[10]",
            "line 1, column 9: index 10 is outside the text, which has 2 character(s)",
        ),
        (
            "ErrorVariableNotFound",
            "fn f() { event } f()",
            "line 1, column 10: 'event' is not visible inside a fn: functions see only their \
             parameters; pass it in, e.g. f(event) (in function 'f' called at line 1, column 18)",
        ),
        (
            "ErrorArithmetic, division by zero",
            "event.n / 0",
            "line 1, column 9: division by zero: 5 / 0",
        ),
        (
            "ErrorArithmetic, remainder by zero",
            "event.n % 0",
            "line 1, column 9: division by zero: 5 % 0",
        ),
        (
            "ErrorArithmetic, overflow",
            "9223372036854775807 + event.n",
            "line 1, column 21: 9223372036854775807 + 5: the result does not fit in a 64-bit \
             integer",
        ),
    ];
    for (kind, source, expected) in cases {
        let message = runtime_error(source, event());
        assert!(
            message.contains(expected),
            "{kind}: {source}\n got: {message}\nwant: {expected}"
        );
        for rhai_words in [
            "getter",
            "registered",
            "Function not found",
            "'get'",
            "anon$",
        ] {
            assert!(!message.contains(rhai_words), "{kind}: {message}");
        }
    }
}

#[test]
fn reading_fields_of_an_event_that_arrived_as_text_says_so() {
    for (source, expected) in [
        (
            "event.id",
            "line 1, column 7: event.id: the event is text, not a JSON object",
        ),
        (
            "event?.k ?? event",
            "line 1, column 8: event?.k: the event is text, not a JSON object",
        ),
        (
            "event[\"id\"]",
            "line 1, column 7: the event is text, not a JSON object",
        ),
    ] {
        let message = runtime_error(source, json!("hello"));
        assert!(
            message.contains(expected),
            "{source}\n got: {message}\nwant: {expected}"
        );
    }
}

#[test]
fn a_filter_that_returns_no_bool_says_what_it_returned() {
    // ErrorMismatchOutputType's case for filters: the value is checked after the run.
    let script = engine().compile(ScriptKind::Filter, "event.items").unwrap();
    let (event, empty) = (event(), json!({}));
    let input = ScriptInput {
        event: &event,
        headers: &empty,
        meta: &empty,
    };
    assert_eq!(
        engine().eval_bool(&script, &input).unwrap_err().to_string(),
        "filter script must return a bool (true or false), got the array [1,2]"
    );
}

#[test]
fn each_common_parse_error_is_said_in_the_users_terms_at_its_place() {
    // (Rhai's ParseErrorType, script, line, column, what the message must contain)
    let cases = [
        (
            "VariableUndefined",
            "amount > 1",
            1,
            1,
            "undefined variable 'amount'",
        ),
        (
            "UnexpectedEOF",
            "event.n +",
            1,
            10,
            "the script ends too early",
        ),
        (
            "MissingToken )",
            "let x = (1;",
            1,
            11,
            "expected ')' for a matching (",
        ),
        (
            "MissingToken ;",
            "let x = 1\nlet y = 2",
            2,
            1,
            "expected ';' before this",
        ),
        (
            "UnterminatedString",
            "event.s == \"hi",
            1,
            12,
            "text in quotes is not closed",
        ),
        (
            "MalformedChar",
            "event.s == 'hi'",
            1,
            12,
            "single quotes hold one character",
        ),
        (
            "ImproperSymbol =",
            "let x = 1; if x = 1 { 1 }",
            1,
            17,
            "'=' assigns a value: to compare, write ==",
        ),
        (
            "ImproperSymbol ===",
            "event.n === 1",
            1,
            9,
            "'===' is not an operator: write ==",
        ),
        (
            "UnknownOperator",
            "event.n ++ 1",
            1,
            9,
            "'++' is not an operator",
        ),
        (
            "PropertyExpected",
            "event.",
            1,
            7,
            "expected the name of a field after '.'",
        ),
        ("Reserved $", "let x = ${event.n}; x", 1, 9, "back-ticks"),
        (
            "switch case literal",
            "switch event.n { 12591154125385152738 => 1 }",
            1,
            18,
            "cannot be a switch case; compare with == instead",
        ),
    ];
    for (kind, source, line, column, expected) in cases {
        let err = engine().compile(ScriptKind::Filter, source).unwrap_err();
        assert!(
            err.message.contains(expected) && (err.line, err.column) == (line, column),
            "{kind}: {source}\n got: {err}\nwant: line {line}, column {column}: {expected}"
        );
    }
    let undefined = engine()
        .compile(ScriptKind::Filter, "amount > 1")
        .unwrap_err();
    assert!(
        undefined.message.contains("did you mean event.amount?"),
        "{undefined}"
    );
}
