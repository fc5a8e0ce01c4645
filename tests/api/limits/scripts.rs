//! Scripts that try to exhaust the stack or memory, run by the real binary in a child process:
//! `check`, `test --payload` and `serve` must fail the script with a clear message and exit
//! (or answer) normally. Killed by a signal would mean the process aborted (rhai issue #880).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::binary::{Cli, Output, Server, http};

fn nested_parens(n: usize) -> String {
    format!("{}1{}", "(".repeat(n), ")".repeat(n))
}

const RECURSION: &str = "fn f(x) { f(x + 1) }\nf(0)";
const DEEP_VALUE: &str = "let x = 1; for i in 0..500 { x = [x]; } x";

/// A recipe with `transform` and webhook settings `webhook`.
fn recipe(id: &str, webhook: &str, transform: &str) -> String {
    format!(
        "id = \"{id}\"\nname = \"{id}\"\n[trigger.webhook]\n{webhook}\n\
         [transform]\nscript = '''\n{transform}\n'''\n\
         [[action]]\nname = \"a\"\nurl = \"http://127.0.0.1:9/x\"\n"
    )
}

/// Asserts a normal exit with code 1 (not a signal) and returns what it printed (the dry
/// run reports a failed script on stdout, other errors go to stderr).
#[track_caller]
fn fails_cleanly(out: &Output) -> String {
    assert!(
        out.code.is_some(),
        "killed by a signal (the process aborted): {out:#?}"
    );
    format!("{}{}", out.stdout, out.fails())
}

fn files(cli: &Cli, id: &str, transform: &str) -> (PathBuf, PathBuf) {
    let file = cli.write(&format!("{id}.toml"), &recipe(id, "", transform));
    let payload = cli.write("payload.json", r#"{"amount": 5}"#);
    (file, payload)
}

#[test]
fn check_and_dry_run_fail_cleanly_on_ten_thousand_nested_parentheses() {
    let cli = Cli::new();
    let (file, payload) = files(&cli, "parens", &nested_parens(10_000));
    let file = file.to_str().unwrap();
    let stderr = fails_cleanly(&cli.run(&["check", file]));
    assert!(
        stderr.contains("transform script, line 1") && stderr.contains("nested too deeply"),
        "{stderr}"
    );
    let out = cli.run(&["test", file, "--payload", payload.to_str().unwrap()]);
    assert!(fails_cleanly(&out).contains("expressions are nested too deeply"));
}

#[test]
fn dry_run_fails_cleanly_on_endless_recursion_and_deep_values() {
    let cli = Cli::new();
    let (file, payload) = files(&cli, "recursion", RECURSION);
    let args = [
        "test",
        file.to_str().unwrap(),
        "--payload",
        payload.to_str().unwrap(),
    ];
    let out = cli.run(&args);
    assert!(
        fails_cleanly(&out).contains("function calls nested too deeply (limit 32 levels)"),
        "{out:#?}"
    );
    // The deepest call depth that can be configured is still safe...
    let deepest = cli.with_env("SWITCHYARD_SCRIPT_MAX_CALL_DEPTH", "64");
    let out = deepest.run(&args);
    assert!(
        fails_cleanly(&out).contains("function calls nested too deeply (limit 64 levels)"),
        "{out:#?}"
    );
    // ...and a deeper one is refused as a setting.
    let out = cli
        .with_env("SWITCHYARD_SCRIPT_MAX_CALL_DEPTH", "100000")
        .run(&args);
    assert_eq!(out.code, Some(2), "{out:#?}");
    assert!(out.stderr.contains("at most 64"), "{out:#?}");

    let (file, payload) = files(&cli, "deep-value", DEEP_VALUE);
    let out = cli.run(&[
        "test",
        file.to_str().unwrap(),
        "--payload",
        payload.to_str().unwrap(),
    ]);
    assert!(
        fails_cleanly(&out).contains("its result is nested more than 100 levels deep"),
        "{out:#?}"
    );
}

/// Posts `body` to a webhook URL; returns status and JSON answer (null when empty).
async fn post(url: &str, body: &Value) -> (u16, Value) {
    let response = http().post(url).json(body).send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_serving_process_fails_the_run_and_keeps_serving() {
    let cli = Cli::new();
    let server = Server::start(&cli, &[]).await;
    let live = cli.with_env("SWITCHYARD_BIND", &server.bind);

    // Refused at import, with the reason.
    let parens = cli.write("parens.toml", &recipe("parens", "", &nested_parens(10_000)));
    let out = live.run(&[Path::new("import"), parens.as_path()]);
    assert!(
        fails_cleanly(&out).contains("expressions are nested too deeply"),
        "{out:#?}"
    );

    // Answered in the request: `respond = "result"` runs the transform before answering.
    let result = cli.write(
        "result.toml",
        &recipe("result", "respond = \"result\"", RECURSION),
    );
    let (_, _, url) = live.import(&result).remove(0);
    let (status, answer) = post(&server.hook_url(&url), &json!({ "go": 1 })).await;
    assert_eq!(status, 422, "{answer}");
    let error = answer["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("function calls nested too deeply"),
        "{answer}"
    );

    // Run by the engine worker: the event fails with the message.
    let deep = cli.write("deep.toml", &recipe("deep", "", DEEP_VALUE));
    let (_, _, url) = live.import(&deep).remove(0);
    let (status, answer) = post(&server.hook_url(&url), &json!({ "go": 2 })).await;
    assert_eq!(status, 202, "{answer}");
    let event_id = answer["event_id"].as_str().expect("event id").to_owned();
    let deadline = Instant::now() + Duration::from_secs(30);
    let event = loop {
        let events = live.run(&["events", "--json"]).json();
        let event = events
            .as_array()
            .and_then(|list| list.iter().find(|e| e["id"] == event_id.as_str()))
            .cloned();
        if let Some(event) = event.filter(|e| e["status"] != "pending") {
            break event;
        }
        assert!(Instant::now() < deadline, "run never finished: {events:#}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(event["status"], "failed", "{event:#}");
    let error = event["error"].as_str().unwrap_or_default();
    assert!(error.contains("nested more than 100 levels"), "{event:#}");

    let health = http()
        .get(format!("{}/healthz", server.address))
        .send()
        .await
        .expect("healthz");
    assert_eq!(health.status(), 200, "{}", server.log());
}
