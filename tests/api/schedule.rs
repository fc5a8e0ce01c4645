//! Scheduled triggers and polls, in process: per-second cron ticks, poll pages on a real local
//! server, one dedupe key across webhook and poll, visible poll failures, live rescheduling.
//! Submodules: `polls` (items, shared dedupe, failures), `live` (rescheduling without a restart),
//! `dst` (a hand-set clock through daylight-saving changes, restarts and two schedulers),
//! `processes` (the real binary: two servers on one store, restart after a pause, `check`),
//! `takeover` (tick claims are leases: a dead process's tick moves on, a slow poll keeps its own).

mod dst;
mod live;
mod poll_server;
mod polls;
mod processes;
mod takeover;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use chrono::{DateTime, Timelike, Utc};
use serde_json::Value;
use switchyard::store::{EventQuery, EventStatus, EventSummary, Store};

use crate::helpers::{TestApp, grace, spawn_app_with};
use crate::pages::Pages;
use crate::receiver::Receiver;

/// Generous: per-second cron on a small, busy machine, tests running in parallel.
pub const DEADLINE: Duration = Duration::from_secs(30);

pub async fn app() -> TestApp {
    spawn_app_with(|s| s.workers.schedule_refresh = Duration::from_millis(200)).await
}

/// A plain schedule whose action receives `{trigger, scheduled_for}`.
pub fn tick_recipe(id: &str, cron: &str, enabled: bool, url: &str) -> String {
    format!(
        r#"id = "{id}"
name = "{id}"
enabled = {enabled}
[trigger.schedule]
cron = "{cron}"
[transform]
script = '#{{ trigger: meta.trigger, scheduled_for: event.scheduled_for }}'
[[action]]
name = "notify"
url = "{url}"
"#
    )
}

/// A per-second poll of `page` keyed by `event.id`; its action receives `{id, trigger}`.
pub fn poll_recipe(id: &str, page: &str, items: Option<&str>, url: &str) -> String {
    let items = items
        .map(|p| format!("items = \"{p}\"\n"))
        .unwrap_or_default();
    format!(
        r#"id = "{id}"
name = "{id}"
dedupe = "event.id"
[trigger.schedule]
cron = "* * * * * *"
[trigger.schedule.poll]
url = "{page}"
{items}[transform]
script = '#{{ id: event.id, trigger: meta.trigger }}'
[[action]]
name = "notify"
url = "{url}"
"#
    )
}

pub async fn events_of(store: &dyn Store, recipe: &str) -> Vec<EventSummary> {
    let query = EventQuery {
        recipe_id: Some(recipe.into()),
        limit: 10_000,
        ..EventQuery::default()
    };
    store.list_events(&query).await.expect("store")
}

/// Polls the recipe's events until `done` holds; panics with them after `DEADLINE`.
pub async fn wait_events(
    store: &dyn Store,
    recipe: &str,
    what: &str,
    done: impl Fn(&[EventSummary]) -> bool,
) -> Vec<EventSummary> {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let events = events_of(store, recipe).await;
        if done(&events) {
            return events;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: never happened; events: {events:#?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// One tick event's payload, with `scheduled_for` parsed.
pub struct Tick {
    pub scheduled_for: DateTime<Utc>,
    pub payload: Value,
}

pub fn time(value: &Value) -> DateTime<Utc> {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("not a timestamp: {value}"));
    DateTime::parse_from_rfc3339(text)
        .expect("RFC 3339")
        .to_utc()
}

/// The recipe's tick events (trigger `schedule`), sorted by `scheduled_for`.
pub async fn ticks(store: &dyn Store, recipe: &str) -> Vec<Tick> {
    let mut ticks = Vec::new();
    for summary in events_of(store, recipe).await {
        assert_eq!(summary.trigger, "schedule", "{summary:?}");
        let detail = store
            .get_event(&summary.id)
            .await
            .expect("store")
            .expect("event");
        let payload = detail.event.payload;
        ticks.push(Tick {
            scheduled_for: time(&payload["scheduled_for"]),
            payload,
        });
    }
    ticks.sort_by_key(|t| t.scheduled_for);
    ticks
}

/// Waits for a failed poll event of the recipe whose error contains `needle`.
pub async fn wait_failed(app: &TestApp, recipe: &str, needle: &str) -> EventSummary {
    let events = wait_events(app.store.as_ref(), recipe, needle, |events| {
        events
            .iter()
            .any(|e| e.error.as_deref().is_some_and(|m| m.contains(needle)))
    })
    .await;
    let failed = events
        .into_iter()
        .find(|e| e.error.as_deref().is_some_and(|m| m.contains(needle)))
        .expect("found above");
    assert_eq!(
        (failed.trigger.as_str(), failed.status),
        ("poll", EventStatus::Failed)
    );
    failed
}

/// The run passed and planned its actions (delivered or still delivering).
pub fn acted_on(event: &EventSummary) -> bool {
    matches!(
        event.status,
        EventStatus::Done | EventStatus::Delivered | EventStatus::Dead
    )
}

/// Ids and triggers the receiver got, in arrival order.
pub fn received(receiver: &Receiver) -> Vec<(String, String)> {
    let bodies = receiver
        .requests()
        .iter()
        .map(|r| r.json())
        .collect::<Vec<_>>();
    bodies
        .iter()
        .map(|b| {
            (
                b["id"].as_str().unwrap_or("?").into(),
                b["trigger"].as_str().unwrap_or("?").into(),
            )
        })
        .collect()
}

/// Waits until the poll ran `cycles` more times and what those polls produced was processed.
pub async fn let_poll_run(app: &TestApp, pages: &Pages, path: &str, recipe: &str, cycles: usize) {
    pages
        .wait_hits(path, pages.hits(path) + cycles, DEADLINE)
        .await;
    wait_events(
        app.store.as_ref(),
        recipe,
        "all events processed",
        |events| events.iter().all(|e| e.status != EventStatus::Pending),
    )
    .await;
    grace().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_per_second_schedule_fires_whole_second_ticks_and_delivers_its_action() {
    let app = app().await;
    let receiver = Receiver::start().await;
    app.import(&tick_recipe(
        "every-second",
        "* * * * * *",
        true,
        &receiver.url("/tick"),
    ))
    .await;

    let requests = receiver.wait_for(3, DEADLINE).await;
    for request in &requests {
        let body = request.json();
        assert_eq!(body["trigger"], "schedule", "{body}");
        assert_eq!(time(&body["scheduled_for"]).nanosecond(), 0, "{body}");
    }
    let store = app.store.as_ref();
    wait_events(store, "every-second", "3 ticks processed", |events| {
        events.iter().filter(|e| acted_on(e)).count() >= 3
    })
    .await;
    let ticks = ticks(store, "every-second").await;
    let distinct: BTreeSet<_> = ticks.iter().map(|t| t.scheduled_for).collect();
    assert_eq!(distinct.len(), ticks.len(), "one event per tick");
    for tick in &ticks {
        assert_eq!(tick.scheduled_for.nanosecond(), 0, "{}", tick.payload);
        let late = time(&tick.payload["fired_at"]) - tick.scheduled_for;
        assert!(late.num_milliseconds().abs() < 5_000, "{}", tick.payload);
        assert!(
            tick.payload.get("missed_ticks_skipped").is_none(),
            "{}",
            tick.payload
        );
    }
}
