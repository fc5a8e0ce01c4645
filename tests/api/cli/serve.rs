//! `switchyard serve` as a process: provisioning, live imports, refusing bad files, SIGTERM,
//! a plain log with the setup link on its own line.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{MINIMAL_HEAD, WEBHOOK_ACTION, recipe};
use crate::binary::{Cli, Server, http};
use crate::receiver::Receiver;

const DELIVERY_WAIT: Duration = Duration::from_secs(30);

/// Posts until the hook answers 202 (a freshly imported recipe must be live within seconds).
async fn post_until_accepted(url: &str, body: &Value) -> String {
    let http = http();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let response = http
            .post(url)
            .json(body)
            .send()
            .await
            .expect("webhook request");
        let status = response.status();
        if status == 202 {
            let answer: Value = response.json().await.unwrap();
            return answer["event_id"].as_str().expect("event_id").to_owned();
        }
        assert!(Instant::now() < deadline, "hook still answers {status}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_provisions_recipes_at_start_and_picks_up_live_imports() {
    let receiver = Receiver::start().await;
    let cli = Cli::new()
        .with_env("SWITCHYARD_ALLOW_PRIVATE_TARGETS", "true")
        .with_env("SWITCHYARD_IDLE_POLL", "50ms");
    let dir = cli.scratch().join("provision");
    cli.write(
        "provision/first.toml",
        &recipe("first", "First", &receiver.url("/first")),
    );
    cli.run_with_stdin(&["secrets", "set", "NOTIFY_TOKEN"], "tok-123")
        .ok();
    let server = Server::start(&cli, &["--recipes", dir.to_str().unwrap()]).await;
    let live = cli.with_env("SWITCHYARD_BIND", &server.bind);

    let listed = live.run(&["recipes", "--json"]).json();
    assert_eq!(listed[0]["id"], "first", "{listed:#}");
    let first_url = listed[0]["webhook_url"].as_str().unwrap().to_owned();
    post_until_accepted(&first_url, &json!({ "id": "p-1", "amount": 50 })).await;
    let got = receiver.wait_for(1, DELIVERY_WAIT).await;
    assert_eq!(
        (got[0].path.as_str(), got[0].json()),
        ("/first", json!({ "id": "p-1", "text": "paid 50" }))
    );
    assert_eq!(got[0].header("authorization"), Some("Bearer tok-123"));

    // Imported with the CLI while serve runs: live within seconds.
    let second = cli.write(
        "second.toml",
        &recipe("second", "Second", &receiver.url("/second")),
    );
    let (_, kind, url) = live.import(&second).remove(0);
    assert_eq!(kind, "created");
    post_until_accepted(&url, &json!({ "id": "s-1", "amount": 11 })).await;
    let got = receiver.wait_for(2, DELIVERY_WAIT).await;
    assert_eq!(
        (got[1].path.as_str(), got[1].json()["id"].clone()),
        ("/second", json!("s-1"))
    );

    // An update while it runs: the next event uses the new version.
    let changed =
        recipe("second", "Second", &receiver.url("/second-v2")).replace("paid", "received");
    std::fs::write(&second, changed).unwrap();
    assert_eq!(live.import(&second)[0].1, "updated");
    post_until_accepted(&url, &json!({ "id": "s-2", "amount": 12 })).await;
    let got = receiver.wait_for(3, DELIVERY_WAIT).await;
    assert_eq!(
        (got[2].path.as_str(), got[2].json()),
        ("/second-v2", json!({ "id": "s-2", "text": "received 12" }))
    );

    let events = live.run(&["events", "--recipe", "second", "--json"]).json();
    assert_eq!(events.as_array().unwrap().len(), 2, "{events:#}");
    assert!(
        events
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["recipe_id"] == "second"),
        "{events:#}"
    );
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_refuses_to_start_with_an_invalid_recipes_dir_file() {
    let cli = Cli::new();
    let dir = cli.scratch().join("provision");
    cli.write(
        "provision/broken.toml",
        &format!("{MINIMAL_HEAD}{WEBHOOK_ACTION}bogus = 1\n"),
    );
    let out = cli.run(&[
        "serve",
        "--bind",
        "127.0.0.1:0",
        "--recipes",
        dir.to_str().unwrap(),
    ]);
    assert!(out.fails().contains("broken.toml"), "{out:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_serve_with_exit_code_zero() {
    let cli = Cli::new();
    let mut server = Server::start(&cli, &[]).await;
    // A kept-alive client connection must not hold the shutdown up.
    let http = http();
    assert!(
        http.get(format!("{}/readyz", server.address))
            .send()
            .await
            .unwrap()
            .status()
            .is_success()
    );
    server.terminate();
    let status = server.wait_exit(Duration::from_secs(15)).await;
    assert_eq!(
        status.code(),
        Some(0),
        "serve exited with {status}:\n{}",
        server.log()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_an_in_flight_delivery_finish_and_records_it() {
    let receiver = Receiver::start().await;
    receiver.delay_responses(Duration::from_secs(2));
    let cli = Cli::new()
        .with_env("SWITCHYARD_ALLOW_PRIVATE_TARGETS", "true")
        .with_env("SWITCHYARD_IDLE_POLL", "50ms");
    cli.run_with_stdin(&["secrets", "set", "NOTIFY_TOKEN"], "tok-123")
        .ok();
    let file = cli.write("slow.toml", &recipe("slow", "Slow", &receiver.url("/slow")));
    let mut server = Server::start(&cli, &[]).await;
    let live = cli.with_env("SWITCHYARD_BIND", &server.bind);
    let (_, _, url) = live.import(&file).remove(0);
    let event_id = post_until_accepted(&url, &json!({ "id": "t-1", "amount": 50 })).await;

    // The receiver has the request and holds its answer; stop the server now.
    receiver.wait_for(1, DELIVERY_WAIT).await;
    server.terminate();
    let status = server.wait_exit(Duration::from_secs(20)).await;
    assert_eq!(
        status.code(),
        Some(0),
        "serve exited with {status}:\n{}",
        server.log()
    );

    // The attempt finished before the process ended: recorded as delivered, not retried.
    let events = cli.run(&["events", "--json"]).json();
    let event = events
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == event_id.as_str())
        .unwrap_or_else(|| panic!("event {event_id} listed: {events:#}"));
    assert_eq!(event["status"], "delivered", "{event:#}");
    assert_eq!(
        receiver.requests().len(),
        1,
        "delivered once, not again after the stop"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_logs_to_a_pipe_without_colour_and_prints_the_setup_link_on_its_own_line() {
    // An empty NO_COLOR counts as unset (no-color.org): the pipe alone turns colours off.
    let cli = Cli::new().with_env("NO_COLOR", "");
    let server = Server::start(&cli, &[]).await;
    let prefix = format!("{}/setup?token=", server.address);
    let deadline = Instant::now() + Duration::from_secs(10);
    let link = loop {
        let log = server.log();
        if let Some(line) = log.lines().find(|line| line.starts_with(&prefix)) {
            break line.to_owned();
        }
        assert!(
            Instant::now() < deadline,
            "no setup link on a line of its own:\n{log}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(!link.contains(char::is_whitespace), "{link:?}");
    let log = server.log();
    assert!(log.contains("switchyard listening"), "{log}");
    assert!(
        !log.contains('\x1b'),
        "escape codes in a piped log: {log:?}"
    );

    // The printed link is the working one.
    let page = http().get(&link).send().await.unwrap();
    assert_eq!(page.status(), 200, "{link}");
    drop(server);
}
