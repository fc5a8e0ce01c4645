//! Limits: wall time, operations, sizes, call depth and nesting.

use std::time::{Duration, Instant};

use serde_json::json;

use super::tests::{engine, limit_message, run_json};
use super::*;

/// Default limits but a wall time no loaded machine reaches: for tests of the other limits,
/// which a slow run must not turn into a wall-time stop.
fn roomy() -> ScriptEngine {
    ScriptEngine::new(ScriptLimits {
        wall_time: Duration::from_secs(60),
        ..ScriptLimits::default()
    })
}

#[test]
fn default_limits() {
    let limits = ScriptLimits::default();
    assert_eq!(limits.max_operations, 1_000_000);
    assert_eq!(limits.max_call_levels, 32);
    assert_eq!(limits.max_expr_depth, 64);
    assert_eq!(limits.max_string_size, 1_048_576);
    assert_eq!(
        (limits.max_array_size, limits.max_map_size),
        (10_000, 10_000)
    );
    assert_eq!(limits.wall_time, Duration::from_secs(1));
    assert_eq!(engine().limits(), &limits);
}

#[test]
fn endless_loop_hits_wall_time() {
    let limits = ScriptLimits {
        max_operations: 0, // unlimited
        wall_time: Duration::from_millis(200),
        ..ScriptLimits::default()
    };
    let engine = ScriptEngine::new(limits);
    let (sender, receiver) = std::sync::mpsc::channel();
    // On a thread of its own so that a broken deadline fails the test instead of hanging it.
    std::thread::spawn(move || {
        let started = Instant::now();
        let result = run_json(&engine, "loop {}", json!({}));
        let _ = sender.send((result, started.elapsed()));
    });
    let (result, elapsed) = receiver
        .recv_timeout(Duration::from_secs(10))
        .expect("loop stopped");
    let message = limit_message(result);
    assert!(
        message.starts_with("transform script stopped: exceeded the wall-time limit of 200ms"),
        "{message}"
    );
    assert!(
        elapsed >= Duration::from_millis(200) && elapsed < Duration::from_secs(2),
        "{elapsed:?}"
    );
}

#[test]
fn endless_loop_hits_operations() {
    let limits = ScriptLimits {
        max_operations: 10_000,
        ..ScriptLimits::default()
    };
    let message = limit_message(run_json(
        &ScriptEngine::new(limits),
        "let x = 0;\nloop { x += 1; }",
        json!({}),
    ));
    assert!(
        message.starts_with("transform script stopped: too many operations (limit 10000)"),
        "{message}"
    );
    assert!(!message.contains("wall-time"), "{message}");
}

#[test]
fn deadline_is_cleared_after_each_run() {
    let limits = ScriptLimits {
        wall_time: Duration::from_millis(50),
        ..ScriptLimits::default()
    };
    let engine = ScriptEngine::new(limits);
    limit_message(run_json(&engine, "loop {}", json!({})));
    std::thread::sleep(Duration::from_millis(60));
    // A stale deadline would stop this run at once.
    assert_eq!(
        run_json(
            &engine,
            "let s = 0; for i in 0..2000 { s += i; } s",
            json!({})
        ),
        Ok(json!(1_999_000))
    );
}

#[test]
fn string_doubling_hits_string_limit() {
    let message = limit_message(run_json(
        &roomy(),
        "let s = \"x\";\nloop { s += s; }",
        json!({}),
    ));
    assert!(
        message.contains("string too long (limit 1048576 bytes"),
        "{message}"
    );
    assert!(message.contains("line 2"), "{message}");
}

#[test]
fn growing_array_and_map_hit_limits() {
    let message = limit_message(run_json(
        &roomy(),
        "let a = []; loop { a.push(1); }",
        json!({}),
    ));
    assert!(
        message.contains("array too large (limit 10000"),
        "{message}"
    );
    let engine = ScriptEngine::new(ScriptLimits {
        max_map_size: 100,
        wall_time: Duration::from_secs(60),
        ..ScriptLimits::default()
    });
    let source = "let m = #{}; for i in 0..200 { m.set(`k${i}`, i); }";
    let message = limit_message(run_json(&engine, source, json!({})));
    assert!(
        message.contains("object map too large (limit 100"),
        "{message}"
    );
    // Rhai lets `m[key] = value` grow a map unchecked; the result is still measured.
    let source = "let m = #{}; for i in 0..200 { m[`k${i}`] = i; } m";
    let message = limit_message(run_json(&engine, source, json!({})));
    assert!(
        message.contains("its result is too large: object map too large (limit 100"),
        "{message}"
    );
}

#[test]
fn oversized_input_fails_when_used_whole() {
    let limits = ScriptLimits {
        max_array_size: 10,
        ..ScriptLimits::default()
    };
    let engine = ScriptEngine::new(limits);
    let event = json!({"items": (0..20).collect::<Vec<_>>(), "id": 5});
    assert_eq!(run_json(&engine, "event.id", event.clone()), Ok(json!(5)));
    let message = limit_message(run_json(&engine, "event.items.len()", event));
    assert!(
        message.contains("array too large (limit 10 items"),
        "{message}"
    );
}

#[test]
fn deep_recursion_hits_call_levels() {
    // Run on a thread with tokio's default blocking-thread stack (2 MiB) in a debug build.
    let handle = std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(|| run_json(&engine(), "fn f(x) { f(x + 1) }\nf(0)", json!({})))
        .unwrap();
    let message = limit_message(handle.join().expect("no crash"));
    assert!(
        message.contains("function calls nested too deeply (limit 32 levels)"),
        "{message}"
    );
}

/// The deepest `make(depth)` that compiles, and its source.
fn deepest(engine: &ScriptEngine, make: impl Fn(usize) -> String) -> (usize, String) {
    let mut last = (0, make(0));
    for depth in 1..300 {
        let source = make(depth);
        if engine.compile(ScriptKind::Transform, &source).is_err() {
            return last;
        }
        last = (depth, source);
    }
    panic!("no depth limit");
}

#[test]
fn deepest_allowed_nesting_runs_without_overflowing_the_stack() {
    // Worst case for the native stack: maximal expression nesting at every one of the
    // maximal call levels, on a thread with tokio's default blocking stack (2 MiB).
    let handle = std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(|| {
            let engine = engine();
            let parens = |n: usize| format!("{}1 + f(x - 1){}", "(".repeat(n), ")".repeat(n));
            let (_, recursive) = deepest(&engine, |n| {
                format!(
                    "fn f(x) {{ if x <= 0 {{ return 0; }} {} }}\nf(31)",
                    parens(n)
                )
            });
            let (depth, arrays) =
                deepest(&engine, |n| format!("{}1{}", "[".repeat(n), "]".repeat(n)));
            let too_deep = engine.compile(
                ScriptKind::Transform,
                &format!("{}1{}", "[".repeat(300), "]".repeat(300)),
            );
            (
                run_json(&engine, &recursive, json!({})),
                depth,
                run_json(&engine, &arrays, json!({})),
                too_deep,
            )
        })
        .unwrap();
    let (recursive, depth, arrays, too_deep) = handle.join().expect("no stack overflow");
    assert_eq!(recursive, Ok(json!(31)));
    assert!(depth >= 10, "{depth}");
    assert!(arrays.is_ok(), "{arrays:?}");
    let too_deep = too_deep.unwrap_err();
    assert_eq!(too_deep.message, "expressions are nested too deeply");
}
