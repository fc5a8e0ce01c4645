use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::*;

pub(super) fn engine() -> ScriptEngine {
    ScriptEngine::new(ScriptLimits::default())
}

pub(super) fn run_json(
    engine: &ScriptEngine,
    source: &str,
    event: Value,
) -> Result<Value, ScriptError> {
    let script = engine
        .compile(ScriptKind::Transform, source)
        .expect("compiles");
    let headers = json!({"content-type": "application/json"});
    let meta = json!({"recipe": "r1", "trigger": "webhook", "received_at": "2024-01-01T00:00:00Z"});
    let input = ScriptInput {
        event: &event,
        headers: &headers,
        meta: &meta,
    };
    engine.eval_json(&script, &input)
}

fn run_filter(engine: &ScriptEngine, source: &str, event: Value) -> Result<bool, ScriptError> {
    let script = engine
        .compile(ScriptKind::Filter, source)
        .expect("compiles");
    let empty = json!({});
    let input = ScriptInput {
        event: &event,
        headers: &empty,
        meta: &empty,
    };
    engine.eval_bool(&script, &input)
}

pub(super) fn limit_message(result: Result<Value, ScriptError>) -> String {
    match result {
        Err(ScriptError::Limit(message)) => message,
        other => panic!("expected a limit error, got {other:?}"),
    }
}

#[test]
fn filter_true_and_false() {
    let engine = engine();
    let source = r#"event.type == "payment_intent.succeeded" && event.data.object.amount > 1000"#;
    let paid = |amount: i64| json!({"type": "payment_intent.succeeded", "data": {"object": {"amount": amount}}});
    assert_eq!(run_filter(&engine, source, paid(2000)), Ok(true));
    assert_eq!(run_filter(&engine, source, paid(500)), Ok(false));
}

#[test]
fn filter_must_return_bool() {
    let engine = engine();
    let err = run_filter(&engine, r#""yes""#, json!({})).unwrap_err();
    assert_eq!(
        err,
        ScriptError::WrongType(
            "filter script must return a bool (true or false), got the text \"yes\"".into()
        )
    );
    let err = run_filter(&engine, "event?.missing", json!({})).unwrap_err();
    assert_eq!(
        err.to_string(),
        "filter script must return a bool (true or false), got nothing (())"
    );
    let err = run_filter(&engine, "1", json!({})).unwrap_err();
    assert_eq!(
        err.to_string(),
        "filter script must return a bool (true or false), got the number 1"
    );
}

#[test]
fn example_transform() {
    let source = "let p = event.data.object;\n\
                  #{ text: `Payment ${p.id}: ${p.amount / 100.0} ${p.currency.to_upper()}` }";
    let event = json!({"data": {"object": {"id": "pi_1", "amount": 2000, "currency": "usd"}}});
    assert_eq!(
        run_json(&engine(), source, event),
        Ok(json!({"text": "Payment pi_1: 20.0 USD"}))
    );
}

#[test]
fn json_round_trip_keeps_integers_and_floats() {
    let engine = engine();
    let event = json!({"i": 7, "f": 1.5, "n": null, "a": [1, "x", true], "big": 9_999_999_999_999_999_999u64});
    let out = run_json(
        &engine,
        "#{ i: event.i + 1, f: event.f * 2, n: event.n, a: event.a, big: event.big, \
                                  t: type_of(event.i), u: type_of(event.n) }",
        event,
    );
    // A u64 beyond i64 keeps its digits (an exact number), not the float 1e19.
    let expected = json!({"i": 8, "f": 3.0, "n": null, "a": [1, "x", true], "big": 9_999_999_999_999_999_999u64, "t": "i64", "u": "()"});
    assert_eq!(out, Ok(expected));
    assert_eq!(run_json(&engine, "let x = 1;", json!({})), Ok(Value::Null));
    assert_eq!(
        run_json(&engine, "event?.nope", json!({"a": 1})),
        Ok(Value::Null)
    );
}

#[test]
fn headers_and_meta_are_visible() {
    let out = run_json(
        &engine(),
        r#"[headers["content-type"], meta.recipe, meta.trigger]"#,
        json!(null),
    );
    assert_eq!(out, Ok(json!(["application/json", "r1", "webhook"])));
}

#[test]
fn non_json_result_is_wrong_type() {
    let err = run_json(&engine(), r#"#{ f: Fn("to_upper") }"#, json!({})).unwrap_err();
    match err {
        ScriptError::WrongType(message) => assert!(message.contains("Fn"), "{message}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn syntax_error_has_line_and_column() {
    let err = engine()
        .compile(ScriptKind::Filter, "let a = 1;\nlet b = ;")
        .unwrap_err();
    assert_eq!((err.kind, err.line, err.column), (ScriptKind::Filter, 2, 9));
    assert!(
        err.to_string()
            .starts_with("filter script, line 2, column 9: "),
        "{err}"
    );
}

#[test]
fn unknown_variable_is_compile_error() {
    let err = engine()
        .compile(ScriptKind::Dedupe, "event.id +\n  evnt.x")
        .unwrap_err();
    assert_eq!((err.line, err.column), (2, 3));
    assert!(
        err.message.contains("undefined variable 'evnt'"),
        "{}",
        err.message
    );
    assert!(
        err.to_string()
            .starts_with("dedupe expression, line 2, column 3"),
        "{err}"
    );
}

#[test]
fn eval_is_refused() {
    let engine = engine();
    let err = engine
        .compile(ScriptKind::Transform, r#"eval("1 + 1")"#)
        .unwrap_err();
    assert_eq!(err.message, "'eval' is not allowed in scripts");
    let err = run_json(&engine, r#"Fn("eval").call("1 + 1")"#, json!({})).unwrap_err();
    assert!(
        matches!(&err, ScriptError::Runtime(m) if m.contains("'eval' is not allowed")),
        "{err:?}"
    );
}

#[test]
fn import_is_refused() {
    let err = engine()
        .compile(ScriptKind::Transform, "import \"/etc/passwd\" as m;\n1")
        .unwrap_err();
    assert_eq!((err.line, err.column), (1, 1));
    assert!(
        err.message.contains("'import' is not allowed"),
        "{}",
        err.message
    );
}

#[test]
fn sleep_is_refused() {
    let started = Instant::now();
    for source in ["sleep(5)", "sleep(5.0)", r#"call(Fn("sleep"), 5)"#] {
        let err = run_json(&engine(), source, json!({})).unwrap_err();
        assert!(
            matches!(&err, ScriptError::Runtime(m) if m.contains("sleep is not available")),
            "{err:?}"
        );
    }
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[test]
fn print_and_debug_are_silent_and_harmless() {
    assert_eq!(
        run_json(&engine(), r#"print("hi"); debug(1); 3"#, json!({})),
        Ok(json!(3))
    );
}

#[test]
fn runtime_error_has_position_and_function() {
    let engine = engine();
    let err = run_json(&engine, "let a = 1;\n  throw \"boom\";", json!({})).unwrap_err();
    assert_eq!(
        err,
        ScriptError::Runtime("transform script, line 2, column 3: Runtime error: boom".into())
    );
    let err = run_json(&engine, "fn g() {\n  throw \"inner\"\n}\ng()", json!({})).unwrap_err();
    assert_eq!(
        err.to_string(),
        "transform script, line 2, column 3: Runtime error: inner (in function 'g' called at line 4, column 1)"
    );
}

#[test]
fn compiled_scripts_and_engine_are_shareable() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<CompiledScript>();
    assert_send_sync::<ScriptEngine>();
    let engine = engine();
    let script = engine.compile(ScriptKind::Dedupe, "event.id").unwrap();
    assert_eq!(script.kind(), ScriptKind::Dedupe);
    let threads: Vec<_> = (0..4)
        .map(|i| {
            let (engine, script) = (engine.clone(), script.clone());
            std::thread::spawn(move || {
                let (event, empty) = (json!({"id": i}), json!({}));
                engine.eval_json(
                    &script,
                    &ScriptInput {
                        event: &event,
                        headers: &empty,
                        meta: &empty,
                    },
                )
            })
        })
        .collect();
    for (i, thread) in threads.into_iter().enumerate() {
        assert_eq!(thread.join().unwrap(), Ok(json!(i)));
    }
}

#[test]
fn kind_display() {
    assert_eq!(ScriptKind::Dedupe.to_string(), "dedupe expression");
    assert_eq!(ScriptKind::Filter.to_string(), "filter script");
    assert_eq!(ScriptKind::Transform.to_string(), "transform script");
}
