//! Durable accept, end to end: the real binary is `kill -9`ed right after the last 202 of a
//! concurrent burst, restarted on the same data directory, and every accepted event is still
//! delivered at least once.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::binary::{Cli, Server, http};
use crate::receiver::Receiver;

const EVENTS: usize = 200;
/// Generous: the restarted server must first wait out the dead process's 2 s leases.
const RECOVERY_DEADLINE: Duration = Duration::from_secs(60);

pub(crate) fn recipe(url: &str) -> String {
    format!(
        r#"id = "crash"
name = "Crash test"

[trigger.webhook]

# Busy work (well inside the script limits) keeps most events unprocessed when the kill lands.
[transform]
script = '''
let n = 0;
for i in 0..20000 {{ n += i; }}
#{{ id: event.id, n: n }}
'''

[[action]]
name = "receiver"
url = "{url}"
timeout = "5s"
# Long enough never to go dead within the test, short enough to retry while it runs.
retry = {{ schedule = ["0s", "1s", "2s", "3s", "5s", "10s", "30s", "60s", "60s"] }}
"#
    )
}

pub(crate) fn delivered_ids(receiver: &Receiver) -> BTreeSet<String> {
    receiver
        .requests()
        .iter()
        .filter_map(|r| serde_json::from_slice::<Value>(&r.body).ok())
        .filter_map(|body| body["id"].as_str().map(str::to_owned))
        .collect()
}

/// A server (2 s leases) with the crash recipe imported; returns it and the webhook URL.
pub(crate) async fn start(receiver: &Receiver) -> (Cli, Server, String) {
    start_with(&recipe(&receiver.url("/crash"))).await
}

/// [`start`] with another recipe file.
pub(crate) async fn start_with(recipe: &str) -> (Cli, Server, String) {
    let cli = Cli::new()
        .with_env("SWITCHYARD_ALLOW_PRIVATE_TARGETS", "true")
        .with_env("SWITCHYARD_LEASE", "2s")
        .with_env("SWITCHYARD_IDLE_POLL", "50ms");
    let server = Server::start(&cli, &[]).await;
    let file = cli.write("crash.toml", recipe);
    let (_, _, url) = cli
        .with_env("SWITCHYARD_BIND", &server.bind)
        .import(&file)
        .remove(0);
    let url = server.hook_url(&url);
    (cli, server, url)
}

/// Posts `count` events concurrently, each with its own body id; all must get a 202.
async fn send_burst(url: &str, count: usize) -> BTreeSet<String> {
    let http = http();
    let tasks: Vec<_> = (0..count)
        .map(|i| {
            let (http, url) = (http.clone(), url.to_owned());
            tokio::spawn(async move {
                let id = format!("crash-{i:03}");
                match http.post(&url).json(&json!({ "id": id })).send().await {
                    Ok(r) if r.status() == 202 => Ok(id),
                    Ok(r) => Err(format!("{id}: {}", r.status())),
                    Err(e) => Err(format!("{id}: {e}")),
                }
            })
        })
        .collect();
    let mut accepted = BTreeSet::new();
    let mut refused = Vec::new();
    for task in tasks {
        match task.await.expect("task") {
            Ok(id) => accepted.insert(id),
            Err(e) => {
                refused.push(e);
                false
            }
        };
    }
    assert!(
        refused.is_empty(),
        "a healthy server refused webhooks: {refused:?}"
    );
    accepted
}

/// Event statuses as the CLI reads them from the store.
fn statuses(cli: &Cli) -> Vec<String> {
    let events = cli.run(&["events", "--json", "--limit", "1000"]).json();
    events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].as_str().unwrap().to_owned())
        .collect()
}

/// Restarts on the same data directory and waits until every accepted id was delivered.
pub(crate) async fn restart_and_expect_all(
    cli: &Cli,
    receiver: &Receiver,
    accepted: &BTreeSet<String>,
) -> Duration {
    let started = Instant::now();
    let restarted = Server::start(cli, &[]).await;
    let deadline = started + RECOVERY_DEADLINE;
    loop {
        let delivered = delivered_ids(receiver);
        let missing: Vec<_> = accepted.difference(&delivered).collect();
        if missing.is_empty() {
            return started.elapsed();
        }
        assert!(
            Instant::now() < deadline,
            "{} accepted events never delivered after the restart (first: {:?}); event statuses: {:?}\n\
             server log:\n{}",
            missing.len(),
            &missing[..missing.len().min(10)],
            statuses(cli).iter().fold(BTreeMap::new(), |mut counts, s| {
                *counts.entry(s.clone()).or_insert(0) += 1;
                counts
            }),
            restarted.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_accepted_event_is_delivered_after_kill_9_and_restart() {
    let receiver = Receiver::start().await;
    // The first attempts fail, so deliveries are still queued for retry when the process dies.
    receiver.respond_with(&[500; 50]);
    let (cli, mut server, url) = start(&receiver).await;

    let accepted = send_burst(&url, EVENTS).await;
    server.kill9();
    assert_eq!(accepted.len(), EVENTS);
    let delivered = delivered_ids(&receiver).len();
    let unprocessed = statuses(&cli).iter().filter(|s| *s == "pending").count();

    let took = restart_and_expect_all(&cli, &receiver, &accepted).await;
    eprintln!(
        "crash: at kill -9 {unprocessed} of {EVENTS} events unprocessed, {delivered} delivered; \
         all delivered {took:?} after restart"
    );
}

/// The burst above usually dies before the engine claims anything; this one is killed in the
/// middle of a claimed batch, so the restarted server must wait out the dead worker's lease.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn events_claimed_by_a_killed_server_are_taken_over_after_the_lease() {
    let receiver = Receiver::start().await;
    let (cli, mut server, url) = start(&receiver).await;
    let accepted = send_burst(&url, 60).await;

    let deadline = Instant::now() + Duration::from_secs(30);
    let processed = loop {
        let statuses = statuses(&cli);
        let done = statuses.iter().filter(|s| *s != "pending").count();
        if done > 0 {
            break done;
        }
        assert!(
            Instant::now() < deadline,
            "the engine never processed an event: {statuses:?}"
        );
    };
    server.kill9();
    assert!(
        processed < accepted.len(),
        "the kill came too late: all {processed} were processed"
    );

    let took = restart_and_expect_all(&cli, &receiver, &accepted).await;
    eprintln!(
        "crash mid-batch: {processed} of 60 processed at kill -9, all delivered {took:?} after restart"
    );
}

/// Calls in flight when the process is killed: their claims were renewed by the heartbeat, and
/// with the default lease (10 s) the next process takes them over within seconds.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn deliveries_in_flight_at_kill_9_are_taken_over_within_the_default_lease() {
    const IN_FLIGHT: usize = 5;
    let receiver = crate::held::HeldReceiver::start().await;
    // Default lease; only the idle poll is shortened.
    let cli = Cli::new()
        .with_env("SWITCHYARD_ALLOW_PRIVATE_TARGETS", "true")
        .with_env("SWITCHYARD_IDLE_POLL", "50ms");
    let mut server = Server::start(&cli, &[]).await;
    let file = cli.write(
        "held.toml",
        &format!(
            "id = \"held\"\nname = \"Held\"\n[trigger.webhook]\n[[action]]\nname = \"notify\"\n\
             url = \"{}\"\ntimeout = \"60s\"\n",
            receiver.url("/held")
        ),
    );
    let (_, _, url) = cli
        .with_env("SWITCHYARD_BIND", &server.bind)
        .import(&file)
        .remove(0);
    send_burst(&server.hook_url(&url), IN_FLIGHT).await;
    receiver.wait_for(IN_FLIGHT, Duration::from_secs(30)).await;

    let killed = Instant::now();
    server.kill9();
    receiver.release();
    let _restarted = Server::start(&cli, &[]).await;
    receiver
        .wait_for(2 * IN_FLIGHT, Duration::from_secs(10 + 10))
        .await;
    let took = killed.elapsed();
    eprintln!("crash in flight: {IN_FLIGHT} calls taken over {took:?} after kill -9 (lease 10s)");
}
