//! Tick claims are leases renewed while the tick runs: a tick whose process died mid-tick is
//! run by another process once that lease runs out (not minutes later), and a live process's
//! slow poll keeps its tick (it is not run twice). In process with a hand-set schedule clock on
//! both backends, and with the real binary killed (`kill -9`) during a hanging poll.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use switchyard::schedule::clock::ManualClock;
use switchyard::store::{Store, SyncMode, TickClaim};

use super::dst::{Backend, at, import, import_toml, postgres, scheduler_leased, sqlite};
use super::poll_server::{HANG, PollServer};
use super::{DEADLINE, events_of, ticks};
use crate::binary::{Cli, Server};

/// The lease of the schedulers under test (the smallest `SWITCHYARD_LEASE` allows).
const LEASE: Duration = Duration::from_millis(400);
/// The lease of the claim a dead process left behind.
const DEAD_LEASE: Duration = Duration::from_secs(1);

/// An hourly poll of `server`, keyed by item id.
fn poll_recipe(id: &str, cron: &str, server: &PollServer) -> String {
    format!(
        r#"id = "{id}"
name = "{id}"
dedupe = "event.id"
[trigger.schedule]
cron = "{cron}"
[trigger.schedule.poll]
url = "{url}"
items = "/data"
[[action]]
name = "notify"
url = "http://127.0.0.1:9/unused"
"#,
        url = server.url()
    )
}

/// Claims `tick` as a process that then died: never renewed, never completed. Returns when
/// its lease runs out.
async fn dead_claim(store: &dyn Store, recipe: &str, tick: DateTime<Utc>) -> DateTime<Utc> {
    let claim = TickClaim {
        recipe_id: recipe.into(),
        scheduled_for: tick,
        owner: "dead".into(),
        skipped: 0,
        lease: DEAD_LEASE,
    };
    assert!(store.claim_tick(&claim).await.expect("store"));
    store
        .tick_lease_until(recipe, tick)
        .await
        .expect("store")
        .expect("the claim holds")
}

/// Waits (wall clock) until `until` has passed, plus a margin for the scheduler's retry.
async fn sleep_past(until: DateTime<Utc>) {
    let left = (until - Utc::now()).to_std().unwrap_or_default();
    tokio::time::sleep(left + Duration::from_millis(200)).await;
}

/// The recipe's tick `tick` ran once, as an event stored after `lease_end`, and is complete.
async fn ran_once_after(
    store: &dyn Store,
    recipe: &str,
    tick: DateTime<Utc>,
    lease_end: DateTime<Utc>,
) {
    let ticks = ticks(store, recipe).await;
    let times: Vec<_> = ticks.iter().map(|t| t.scheduled_for).collect();
    assert_eq!(times, [tick], "{recipe}: the dead process's tick, once");
    let events = events_of(store, recipe).await;
    assert!(
        events[0].received_at > lease_end,
        "{recipe}: run at {} while the dead claim held (until {lease_end})",
        events[0].received_at
    );
    assert_eq!(
        store.tick_lease_until(recipe, tick).await.expect("store"),
        None
    );
    assert_eq!(store.last_tick(recipe).await.expect("store"), Some(tick));
}

/// A running scheduler fires a tick a dead process still holds: it is not run then, but once
/// that process's lease runs out.
async fn held_tick_is_retried_by_a_running_scheduler(backend: Backend) {
    let store = &backend.store;
    import(store.as_ref(), "hourly", "0 0 * * * *", "UTC").await;
    let clock = Arc::new(ManualClock::new(at("2026-06-01T09:59:59.250Z")));
    let mut live = scheduler_leased(store, &clock, "live", LEASE);
    assert!(live.run_once().await.expect("store").is_empty());

    let tick = at("2026-06-01T10:00:00Z");
    let lease_end = dead_claim(store.as_ref(), "hourly", tick).await;
    clock.set(at("2026-06-01T10:00:00.250Z"));
    let mut ran = live.run_once().await.expect("store");
    sleep_past(lease_end).await;
    ran.extend(live.run_once().await.expect("store"));
    assert_eq!(ran.len(), 1, "{ran:?}");
    ran_once_after(store.as_ref(), "hourly", tick, lease_end).await;
}

#[tokio::test]
async fn a_running_scheduler_runs_a_tick_held_by_a_dead_process_once_its_lease_runs_out_on_sqlite()
{
    held_tick_is_retried_by_a_running_scheduler(sqlite().await).await;
}

#[tokio::test]
async fn a_running_scheduler_runs_a_tick_held_by_a_dead_process_once_its_lease_runs_out_on_postgres()
 {
    if let Some(backend) = postgres().await {
        held_tick_is_retried_by_a_running_scheduler(backend).await;
    }
}

/// A scheduler starting while a dead process's claim on the latest tick still holds: that
/// tick is its latest recorded one (no catch-up), and runs once the lease runs out.
async fn held_tick_at_start_is_run_when_its_lease_runs_out(backend: Backend) {
    let store = &backend.store;
    import(store.as_ref(), "hourly", "0 0 * * * *", "UTC").await;
    let tick = at("2026-06-01T10:00:00Z");
    let lease_end = dead_claim(store.as_ref(), "hourly", tick).await;
    assert_eq!(store.last_tick("hourly").await.expect("store"), Some(tick));

    let clock = Arc::new(ManualClock::new(at("2026-06-01T10:00:05.250Z")));
    let mut next = scheduler_leased(store, &clock, "next", LEASE);
    let mut ran = next.run_once().await.expect("store");
    sleep_past(lease_end).await;
    ran.extend(next.run_once().await.expect("store"));
    assert_eq!(ran.len(), 1, "{ran:?}");
    ran_once_after(store.as_ref(), "hourly", tick, lease_end).await;
}

#[tokio::test]
async fn a_scheduler_started_while_a_dead_claim_holds_runs_that_tick_when_the_lease_runs_out_on_sqlite()
 {
    held_tick_at_start_is_run_when_its_lease_runs_out(sqlite().await).await;
}

#[tokio::test]
async fn a_scheduler_started_while_a_dead_claim_holds_runs_that_tick_when_the_lease_runs_out_on_postgres()
 {
    if let Some(backend) = postgres().await {
        held_tick_at_start_is_run_when_its_lease_runs_out(backend).await;
    }
}

/// One process's poll takes five leases; its heartbeat keeps the claim, so the other process,
/// retrying whenever the lease it saw ran out, never polls the tick again.
async fn slow_poll_keeps_its_claim(backend: Backend) {
    let store = &backend.store;
    let server = PollServer::start(&[LEASE * 5]).await;
    import_toml(store.as_ref(), &poll_recipe("slow", "0 0 * * * *", &server)).await;
    let clock = Arc::new(ManualClock::new(at("2026-06-01T09:59:59.250Z")));
    let mut slow = scheduler_leased(store, &clock, "slow", LEASE);
    let mut other = scheduler_leased(store, &clock, "other", LEASE);
    slow.run_once().await.expect("store");
    other.run_once().await.expect("store");
    clock.set(at("2026-06-01T10:00:00.250Z"));

    let running = tokio::spawn(async move { slow.run_once().await.expect("store") });
    server.wait_hits(1, DEADLINE).await;
    let mut other_ran = other.run_once().await.expect("store");
    // Twice the lease into the poll: the other process's retry finds the claim renewed.
    tokio::time::sleep(LEASE * 2).await;
    other_ran.extend(other.run_once().await.expect("store"));
    let slow_ran = running.await.expect("slow scheduler");
    tokio::time::sleep(LEASE + Duration::from_millis(100)).await;
    other_ran.extend(other.run_once().await.expect("store"));

    assert_eq!(slow_ran.len(), 1, "the slow process ran its tick");
    assert!(other_ran.is_empty(), "ran twice: {other_ran:?}");
    let hits = server.hits();
    assert_eq!(hits.len(), 1, "polled twice: {hits:?}");
    let events = events_of(store.as_ref(), "slow").await;
    assert_eq!(events.len(), 1, "{events:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poll_slower_than_the_lease_keeps_its_claim_and_is_not_run_twice_on_sqlite() {
    slow_poll_keeps_its_claim(sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poll_slower_than_the_lease_keeps_its_claim_and_is_not_run_twice_on_postgres() {
    if let Some(backend) = postgres().await {
        slow_poll_keeps_its_claim(backend).await;
    }
}

/// The real binary (2 s leases): one tick's poll answers, the next one's hangs and the process
/// is killed with `kill -9`; the next process runs that tick (taking over the dead claim, or as
/// the catch-up tick) before the schedule's following tick, 10 s on, would stand in for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tick_whose_process_was_killed_mid_poll_is_run_by_the_next_process_after_the_lease() {
    let server = PollServer::start(&[Duration::ZERO, HANG]).await;
    let cli = Cli::new()
        .with_env("SWITCHYARD_ALLOW_PRIVATE_TARGETS", "true")
        .with_env("SWITCHYARD_LEASE", "2s");
    let file = cli.write(
        "slow.toml",
        &poll_recipe("hangs", "*/10 * * * * *", &server),
    );
    cli.import(&file);
    let mut first = Server::start(&cli, &[]).await;
    let hung = server.wait_hits(2, DEADLINE * 2).await[1].clone();
    first.kill9();
    let killed = Instant::now();

    let next = Server::start(&cli, &[]).await;
    let deadline = killed + DEADLINE;
    let rerun = loop {
        if let Some(hit) = server
            .hits()
            .into_iter()
            .find(|h| h.n > 2 && h.tick == hung.tick)
        {
            break hit;
        }
        assert!(
            Instant::now() < deadline,
            "tick {} never polled again: {:?}\n{}",
            hung.tick,
            server.hits(),
            next.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    eprintln!(
        "tick {} polled again {:?} after the kill (lease 2 s)",
        hung.tick,
        rerun.at - killed
    );

    let store = switchyard::store::open(None, &cli.data_dir, SyncMode::Normal)
        .await
        .expect("store opens");
    let item = format!("hit-{}", rerun.n);
    let deadline = Instant::now() + DEADLINE;
    loop {
        let events = events_of(store.as_ref(), "hangs").await;
        let mut ids = Vec::new();
        for summary in &events {
            let detail = store.get_event(&summary.id).await.expect("store");
            ids.extend(detail.and_then(|d| d.event.payload["id"].as_str().map(str::to_owned)));
        }
        if ids.contains(&item) {
            assert!(!ids.contains(&format!("hit-{}", hung.n)), "{ids:?}");
            let again = server.hits().iter().filter(|h| h.tick == hung.tick).count();
            assert_eq!(
                again, 2,
                "the hung tick, polled by the dead and the next process"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{item} never stored: {ids:?}\n{}",
            next.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
