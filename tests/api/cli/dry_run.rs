//! `switchyard test`: the dry run of every shipped example, and a dry run that sends nothing.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};

use super::recipe;
use crate::binary::Cli;
use crate::receiver::Receiver;

/// Names in `{{ secrets.NAME }}` references.
fn secret_refs(text: &str) -> Vec<String> {
    text.split("secrets.")
        .skip(1)
        .map(|rest| {
            rest.chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect()
        })
        .collect()
}

fn shipped_recipes() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("recipes");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("recipes/ exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 3,
        "recipes/ ships at least three examples: {files:?}"
    );
    files
}

#[test]
fn every_shipped_recipe_checks_and_dry_runs_with_secrets_by_reference() {
    let cli = Cli::new();
    for file in shipped_recipes() {
        let payload = file.with_extension("payload.json");
        assert!(
            payload.exists(),
            "{} has no sample payload {}",
            file.display(),
            payload.display()
        );
        let source = std::fs::read_to_string(&file).unwrap();
        // Secrets set in the store must still never show up in a dry run.
        let names = secret_refs(&source);
        for name in &names {
            cli.run_with_stdin(&["secrets", "set", name], &format!("value-of-{name}"))
                .ok();
        }

        cli.run(&[Path::new("check"), &file]).ok();
        let out = cli.run(&[
            Path::new("test"),
            &file,
            Path::new("--payload"),
            &payload,
            Path::new("--json"),
        ]);
        out.ok();
        let report = out.json();
        let path = file;
        let file = path.display();
        assert_eq!(report["error"], Value::Null, "{file}: {report:#}");
        assert_eq!(
            report["filter"], true,
            "{file}: the sample passes the filter: {report:#}"
        );
        let requests = report["requests"].as_array().expect("requests");
        assert!(
            !requests.is_empty(),
            "{file}: plans at least one request: {report:#}"
        );
        let actions: toml::Table = toml::from_str(&source).unwrap();
        let action_refs = secret_refs(&actions["action"].to_string());
        let planned = serde_json::to_string(requests).unwrap();
        for name in &action_refs {
            assert!(
                planned.contains(&format!("{{{{ secrets.{name} }}}}")),
                "{file}: {name} by reference: {planned}"
            );
        }
        for name in &names {
            assert!(
                !out.stdout.contains(&format!("value-of-{name}")),
                "{file}: secret {name} leaked"
            );
        }
        let text = cli.run(&[Path::new("test"), &path, Path::new("--payload"), &payload]);
        assert!(text.ok().contains("filter: true"), "{file}: {text:#?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_reports_the_exact_request_and_sends_nothing() {
    let receiver = Receiver::start().await;
    let cli = Cli::without_store();
    let url = receiver.url("/notify");
    let file = cli.write("r.toml", &recipe("dry", "Dry", &url));
    let pass = cli.write("pass.json", r#"{"id": "ev-1", "amount": 42}"#);
    let out = cli.run(&[
        Path::new("test"),
        &file,
        Path::new("--payload"),
        &pass,
        Path::new("--json"),
    ]);
    out.ok();
    let report = out.json();
    assert_eq!(report["output"], json!({ "id": "ev-1", "text": "paid 42" }));
    let request = &report["requests"][0]["request"];
    assert_eq!(request["method"], "POST");
    assert_eq!(request["url"], url.as_str());
    assert_eq!(
        serde_json::from_str::<Value>(request["body"].as_str().unwrap()).unwrap(),
        report["output"]
    );
    let headers = request["headers"].as_array().unwrap();
    assert!(
        headers.contains(&json!([
            "Authorization",
            "Bearer {{ secrets.NOTIFY_TOKEN }}"
        ])),
        "{headers:?}"
    );

    let drop = cli.write("drop.json", r#"{"id": "ev-2", "amount": 1}"#);
    let out = cli.run(&[
        Path::new("test"),
        &file,
        Path::new("--payload"),
        &drop,
        Path::new("--json"),
    ]);
    out.ok();
    assert_eq!(
        (out.json()["filter"].clone(), out.json()["requests"].clone()),
        (json!(false), json!([]))
    );

    // Both processes have exited; anything they sent would have arrived by now (grace period
    // for a negative assertion only).
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        receiver.requests().is_empty(),
        "a dry run sent {:?}",
        receiver.requests()
    );
}
