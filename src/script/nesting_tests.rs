//! Nesting and growth: deep source, deep recursion, deep and doubling values. Each must fail
//! the run with a clear message and never abort the process (rhai issue #880). The deep cases
//! run in a child process of this test binary, so that a stack overflow fails the test with
//! the child's signal instead of killing the whole test run.

use std::process::Command;
use std::time::Duration;

use serde_json::json;

use super::tests::{limit_message, run_json};
use super::*;

const CHILD_VAR: &str = "SWITCHYARD_NESTING_TEST";

/// Runs `body` in a child process that runs only this test (`name`, this module's test fn).
fn in_child_process(name: &str, body: impl FnOnce()) {
    if std::env::var(CHILD_VAR).as_deref() == Ok(name) {
        body();
        return;
    }
    let module = module_path!()
        .split_once("::")
        .map_or(module_path!(), |(_, rest)| rest);
    let output = Command::new(std::env::current_exe().expect("test binary"))
        .args([&format!("{module}::{name}"), "--exact", "--test-threads=1"])
        .env(CHILD_VAR, name)
        .output()
        .expect("child test starts");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "child test failed with {} (a signal means the process aborted)\nstdout:\n{stdout}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Limits that ask for no nesting limit at all: the ceilings must still hold.
fn unlimited_nesting() -> ScriptEngine {
    ScriptEngine::new(ScriptLimits {
        max_expr_depth: 0,
        max_call_levels: usize::MAX,
        ..ScriptLimits::default()
    })
}

/// `open` × n, then `middle`, then `close` × n.
fn nested(open: &str, middle: &str, close: &str, n: usize) -> String {
    format!("{}{middle}{}", open.repeat(n), close.repeat(n))
}

#[test]
fn ten_thousand_nested_levels_are_compile_errors() {
    in_child_process("ten_thousand_nested_levels_are_compile_errors", || {
        let shapes = [
            ("(", "1", ")"),
            ("[", "1", "]"),
            ("#{a: ", "1", "}"),
            ("{", "1", "}"),
            ("if true {", "1", "}"),
            ("!", "true", ""),
            ("-(", "1", ")"),
            ("1 + ", "1", ""),
            ("2 ** ", "1", ""),
            ("abs(", "1", ")"),
            ("|| ", "1", ""),
            ("", "event", ".a"),
            ("", "event", "[0]"),
        ];
        for engine in [engine_with_defaults(), unlimited_nesting()] {
            for (open, middle, close) in shapes {
                let source = nested(open, middle, close, 10_000);
                let error = engine
                    .compile(ScriptKind::Transform, &source)
                    .expect_err(open);
                assert_eq!(error.message, "expressions are nested too deeply", "{open}");
                assert_eq!(error.line, 1, "{open}");
            }
        }
        // Inside a function body, too.
        let source = format!("fn f() {{ {} }}\nf()", nested("(", "1", ")", 10_000));
        let error = unlimited_nesting()
            .compile(ScriptKind::Filter, &source)
            .unwrap_err();
        assert_eq!(error.message, "expressions are nested too deeply");
    });
}

fn engine_with_defaults() -> ScriptEngine {
    ScriptEngine::new(ScriptLimits::default())
}

#[test]
fn endless_recursion_stops_at_the_call_ceiling() {
    in_child_process("endless_recursion_stops_at_the_call_ceiling", || {
        let message = limit_message(run_json(
            &unlimited_nesting(),
            "fn f(x) { f(x + 1) }\nf(0)",
            json!({}),
        ));
        assert!(
            message.contains(&format!(
                "function calls nested too deeply (limit {MAX_CALL_LEVELS} levels)"
            )),
            "{message}"
        );
    });
}

#[test]
fn deepest_nesting_the_ceilings_allow_runs() {
    // The worst case for the native stack: every call level at the ceiling, each nested as
    // deep as a function body may be, through native calls (the most stack per level).
    in_child_process("deepest_nesting_the_ceilings_allow_runs", || {
        let engine = unlimited_nesting();
        let body = |n: usize| nested("abs(", "f(x - 1)", ")", n);
        let source = move |n: usize| {
            format!(
                "fn f(x) {{ if x <= 0 {{ return 0; }} {} }}\nf({})",
                body(n),
                MAX_CALL_LEVELS - 1
            )
        };
        let deepest = (1..MAX_EXPR_DEPTH)
            .take_while(|&n| engine.compile(ScriptKind::Transform, &source(n)).is_ok())
            .last()
            .expect("some nesting compiles");
        assert!(deepest >= 20, "{deepest}");
        assert_eq!(run_json(&engine, &source(deepest), json!({})), Ok(json!(0)));
        // And from a caller with a small stack: the script does not run on it.
        let small = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || run_json(&engine, &source(deepest), json!({})))
            .unwrap();
        assert_eq!(small.join().expect("no overflow"), Ok(json!(0)));
    });
}

#[test]
fn deeply_nested_values_fail_cleanly() {
    in_child_process("deeply_nested_values_fail_cleanly", || {
        let engine = engine_with_defaults();
        // Wrapping an array in itself: stopped by the array limit (or the wall time).
        let message = limit_message(run_json(&engine, "let x = 1; loop { x = [x]; }", json!({})));
        assert!(
            message.contains("array too large") || message.contains("wall-time"),
            "{message}"
        );
        // Rhai does not size-check `m[key] = value`: only the wall time stops this one.
        let fast = ScriptEngine::new(ScriptLimits {
            wall_time: Duration::from_millis(500),
            ..ScriptLimits::default()
        });
        let source = "let m = #{}; loop { let k = #{}; k[\"a\"] = m; m = k; }";
        let message = limit_message(run_json(&fast, source, json!({})));
        assert!(message.contains("wall-time"), "{message}");
        // A result deeper than JSON readers accept is refused, not stored.
        let source = "let x = 1; for i in 0..500 { x = [x]; } x";
        let message = limit_message(run_json(&engine, source, json!({})));
        assert_eq!(
            message,
            format!(
                "transform script stopped: its result is nested more than {MAX_RESULT_DEPTH} levels deep"
            )
        );
        let source = format!("let x = 1; for i in 0..{MAX_RESULT_DEPTH} {{ x = [x]; }} x");
        assert!(run_json(&engine, &source, json!({})).is_ok());
    });
}

#[test]
fn doubling_strings_arrays_and_maps_hit_size_limits() {
    let engine = engine_with_defaults();
    let cases = [
        ("let s = \"x\"; loop { s += s; }", "string too long"),
        ("let a = [1]; loop { a += a; }", "array too large"),
        (
            "let m = #{a: 1}; loop { m = #{a: m, b: m}; }",
            "object map too large",
        ),
        (
            "let m = #{a: 1}; loop { m.mixin(#{b: m, c: m}); }",
            "object map too large",
        ),
    ];
    for (source, expected) in cases {
        let message = limit_message(run_json(&engine, source, json!({})));
        assert!(message.contains(expected), "{source}: {message}");
    }
    // Merging a map into itself adds nothing: the operations limit ends the loop.
    let message = limit_message(run_json(
        &engine,
        "let m = #{a: 1}; loop { m += m; }",
        json!({}),
    ));
    assert!(
        message.contains("too many operations") || message.contains("wall-time"),
        "{message}"
    );
}

#[test]
fn ceilings_lower_the_settings() {
    let limits = ScriptLimits {
        max_call_levels: 10_000,
        max_expr_depth: 10_000,
        ..ScriptLimits::default()
    };
    assert_eq!(limits.effective_call_levels(), MAX_CALL_LEVELS);
    assert_eq!(limits.effective_expr_depth(), MAX_EXPR_DEPTH);
    let defaults = ScriptLimits::default();
    assert_eq!(defaults.effective_call_levels(), 32);
    assert_eq!(defaults.effective_expr_depth(), 64);
    let zero = ScriptLimits {
        max_expr_depth: 0,
        ..ScriptLimits::default()
    };
    assert_eq!(zero.effective_expr_depth(), MAX_EXPR_DEPTH);
}
