//! Schedules across real `switchyard serve` processes sharing one SQLite data directory: a tick
//! runs once however many processes there are, and a restart after a pause runs at most one
//! catch-up tick. Plus `check` on a poll without dedupe.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use switchyard::store::{Store, SyncMode};

use super::{DEADLINE, Tick, tick_recipe, ticks};
use crate::binary::{Cli, Server, http};
use crate::receiver::Receiver;

const RECIPE: &str = "heartbeat";

/// A data directory with a per-second heartbeat recipe imported, and the CLI to serve it.
async fn setup() -> (Cli, Receiver) {
    let receiver = Receiver::start().await;
    let cli = Cli::new()
        .with_env("SWITCHYARD_ALLOW_PRIVATE_TARGETS", "true")
        .with_env("SWITCHYARD_IDLE_POLL", "50ms");
    let file = cli.write(
        "heartbeat.toml",
        &tick_recipe(RECIPE, "* * * * * *", true, &receiver.url("/beat")),
    );
    cli.import(&file);
    (cli, receiver)
}

/// The test's own connection to the store the servers share.
async fn open_store(cli: &Cli) -> Arc<dyn Store> {
    switchyard::store::open(None, &cli.data_dir, SyncMode::Normal)
        .await
        .expect("store opens")
}

/// Waits until `done` holds for the recipe's ticks; panics with them and the logs on timeout.
async fn wait_ticks(
    store: &dyn Store,
    servers: &[&Server],
    what: &str,
    done: impl Fn(&[Tick]) -> bool,
) -> Vec<Tick> {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let ticks = ticks(store, RECIPE).await;
        if done(&ticks) {
            return ticks;
        }
        if Instant::now() > deadline {
            let times: Vec<_> = ticks.iter().map(|t| t.scheduled_for).collect();
            let logs: Vec<_> = servers.iter().map(|s| s.log()).collect();
            panic!(
                "{what}: never happened; ticks: {times:?}\nlogs:\n{}",
                logs.join("\n---\n")
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn assert_healthy(server: &Server) {
    let health = http()
        .get(format!("{}/healthz", server.address))
        .send()
        .await;
    assert!(
        health.is_ok_and(|r| r.status().is_success()),
        "server stopped:\n{}",
        server.log()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_serve_processes_on_one_sqlite_store_run_each_tick_once() {
    let (cli, _receiver) = setup().await;
    let first = Server::start(&cli, &[]).await;
    let second = Server::start(&cli, &[]).await;
    let both_up = Utc::now();
    let store = open_store(&cli).await;

    let servers = [&first, &second];
    // Distinct ticks scheduled while both processes were up.
    let after = |ticks: &[Tick]| {
        let times: BTreeSet<_> = ticks.iter().map(|t| t.scheduled_for).collect();
        times.range(both_up..).count()
    };
    let ticks = wait_ticks(store.as_ref(), &servers, "5 ticks with both up", |t| {
        after(t) >= 5
    })
    .await;
    assert_healthy(&first).await;
    assert_healthy(&second).await;

    let mut per_tick: BTreeMap<DateTime<Utc>, usize> = BTreeMap::new();
    for tick in &ticks {
        *per_tick.entry(tick.scheduled_for).or_default() += 1;
    }
    let doubled: Vec<_> = per_tick.iter().filter(|(_, n)| **n > 1).collect();
    assert!(doubled.is_empty(), "ticks run more than once: {doubled:?}");
    for server in servers {
        assert!(
            server.log().contains("scheduled"),
            "a server never scheduled:\n{}",
            server.log()
        );
    }
    let owners: Vec<(String, i64)> = sqlx::query_as(
        "SELECT claimed_by, COUNT(*) FROM schedule_ticks GROUP BY claimed_by ORDER BY claimed_by",
    )
    .fetch_all(&sqlite(&cli).await)
    .await
    .expect("query");
    eprintln!(
        "two processes: {} ticks, claims by owner: {owners:?}",
        per_tick.len()
    );
}

async fn sqlite(cli: &Cli) -> sqlx::SqlitePool {
    let path = cli.data_dir.join("switchyard.db");
    sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
        .await
        .expect("sqlite opens")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_after_a_pause_runs_one_catch_up_tick_and_records_what_it_skipped() {
    let (cli, _receiver) = setup().await;
    let mut server = Server::start(&cli, &[]).await;
    let store = open_store(&cli).await;
    wait_ticks(store.as_ref(), &[&server], "2 ticks", |t| t.len() >= 2).await;

    server.kill9();
    let last = store
        .last_tick(RECIPE)
        .await
        .expect("store")
        .expect("a tick ran");
    // Downtime: a sleep is the point here, several per-second ticks go by unserved.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let restarted_at = Utc::now();
    let server = Server::start(&cli, &[]).await;

    let after_last = |ticks: &[Tick]| ticks.iter().filter(|t| t.scheduled_for > last).count();
    let ticks = wait_ticks(store.as_ref(), &[&server], "2 ticks after restart", |t| {
        after_last(t) >= 2
    })
    .await;
    let resumed: Vec<&Tick> = ticks.iter().filter(|t| t.scheduled_for > last).collect();
    let catch_up = resumed[0];
    let gap = (catch_up.scheduled_for - last).num_seconds();
    // Every tick strictly between `last` and the catch-up tick was skipped, and counted.
    let skipped = gap as u64 - 1;
    let recorded = catch_up.payload["missed_ticks_skipped"].as_u64();
    assert_eq!(recorded, Some(skipped), "catch-up: {}", catch_up.payload);
    assert!(skipped >= 2, "a pause of ≥ 4 s skips ≥ 2 ticks: {skipped}");
    assert_eq!(store.skipped_ticks(RECIPE).await.expect("store"), skipped);
    for tick in &resumed[1..] {
        assert!(
            tick.payload.get("missed_ticks_skipped").is_none(),
            "{}",
            tick.payload
        );
    }
    // No flood: at most one event is scheduled inside the downtime.
    let in_gap = resumed
        .iter()
        .filter(|t| t.scheduled_for < restarted_at)
        .count();
    assert!(
        in_gap <= 1,
        "missed ticks replayed: {:?}",
        resumed.iter().map(|t| t.scheduled_for).collect::<Vec<_>>()
    );
    let distinct: BTreeSet<_> = ticks.iter().map(|t| t.scheduled_for).collect();
    assert_eq!(distinct.len(), ticks.len(), "a tick ran twice");
}

#[test]
fn check_refuses_a_poll_without_dedupe_and_says_why() {
    let cli = Cli::new();
    let file = cli.write(
        "poll.toml",
        r#"id = "no-dedupe"
name = "Poll without dedupe"
[trigger.schedule]
cron = "0 0 * * * *"
[trigger.schedule.poll]
url = "https://api.example.com/items"
items = "/data"
[[action]]
name = "notify"
url = "https://hooks.example.com/x"
"#,
    );
    let check = cli.run(&[std::path::Path::new("check"), &file]);
    let stderr = check.fails();
    assert!(stderr.contains("trigger.schedule.poll"), "{stderr}");
    assert!(stderr.contains("`dedupe`"), "{stderr}");
    assert!(stderr.contains("act again on every item"), "{stderr}");
    let import = cli.run(&[std::path::Path::new("import"), &file]);
    assert!(import.fails().contains("`dedupe`"), "{import:#?}");
}
