//! Pause that holds (issue 11, item 8): a paused recipe answers 202 and stores every webhook,
//! runs and sends nothing, holds deliveries waiting to retry, records schedule ticks as
//! skipped; a resume runs what it held in order of arrival. Over the API on SQLite and
//! PostgreSQL (without `SWITCHYARD_TEST_POSTGRES` the PostgreSQL tests print their skip line
//! and pass); the CLI and re-imports in `pause/cli.rs`, the UI button in `ui/pause.rs`.

mod cli;
mod races;

#[allow(clippy::wildcard_imports)]
use races::*;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use switchyard::store::EventStatus;

use crate::api::{Api, DEADLINE, spawn_api_with};
use crate::helpers::grace;
use crate::receiver::Receiver;

on_both_backends!(
    paused_recipe_stores_twenty_webhooks_and_resume_delivers_them_in_order_of_arrival,
    a_delivery_waiting_to_retry_is_held_while_paused_and_attempted_after_resume,
    a_schedule_tick_while_paused_is_recorded_as_skipped_and_runs_nothing,
    pausing_during_a_flood_loses_nothing_and_resume_runs_each_event_once,
    a_replay_while_paused_is_held_until_resume,
    pause_and_resume_toggled_during_a_flood_answer_200_and_deliver_each_event_once,
);

/// One outbound call at a time, so the receiver sees the order the deliveries were released in
/// (the delivery pool is concurrent otherwise).
async fn spawn(database_url: Option<String>) -> Api {
    spawn_api_with(|settings| {
        settings.database_url = database_url;
        settings.workers.delivery_concurrency = 1;
    })
    .await
}

/// A webhook recipe posting `{ n }` to `url`.
pub fn forwarder(id: &str, url: &str, retry: &str) -> String {
    format!(
        r#"
id = "{id}"
name = "Forward {id}"
[trigger.webhook]
[transform]
script = '#{{ n: event.n }}'
[[action]]
name = "forward"
url = "{url}"
timeout = "2s"
retry = {{ schedule = [{retry}] }}
"#
    )
}

/// The recipe as `GET /api/recipes` lists it.
async fn listed(api: &Api, id: &str) -> Value {
    let list = api.get("/api/recipes").await.expect(200).json();
    list.as_array()
        .expect("a list")
        .iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("{id} not listed: {list}"))
        .clone()
}

async fn paused_recipe_stores_twenty_webhooks_and_resume_delivers_them_in_order_of_arrival(
    api: Api,
) {
    let receiver = Receiver::start().await;
    let recipe = api
        .app
        .import(&forwarder("held", &receiver.url("/in"), "\"0s\""))
        .await;
    let paused = api.post("/api/recipes/held/pause").await.expect(200).json();
    assert_eq!(paused["changed"], true, "{paused}");
    assert_eq!(paused["recipe"]["state"], "paused", "{paused}");

    let mut ids = Vec::new();
    for n in 0..20 {
        ids.push(api.app.send_event(&recipe, &json!({ "n": n })).await);
    }
    grace().await;
    for id in &ids {
        let detail = api.app.event(id).await;
        assert_eq!(detail.event.status, EventStatus::Pending, "stored, not run");
        assert!(detail.runs.is_empty(), "no run while paused: {detail:#?}");
    }
    assert!(receiver.requests().is_empty(), "nothing sent while paused");
    let row = listed(&api, "held").await;
    assert_eq!(row["state"], "paused", "{row}");
    assert_eq!(
        row["held"],
        json!({ "events": 20, "deliveries": 0 }),
        "{row}"
    );

    let resumed = api
        .post("/api/recipes/held/resume")
        .await
        .expect(200)
        .json();
    assert_eq!(resumed["changed"], true, "{resumed}");
    assert_eq!(resumed["released"]["events"], 20, "{resumed}");
    assert_eq!(resumed["recipe"]["state"], "enabled", "{resumed}");

    let requests = receiver.wait_for(20, DEADLINE).await;
    let order: Vec<i64> = requests
        .iter()
        .map(|r| r.json()["n"].as_i64().unwrap())
        .collect();
    assert_eq!(order, (0..20).collect::<Vec<_>>(), "in order of arrival");
    for id in &ids {
        let detail = api.app.wait_for_deliveries(id).await;
        assert_eq!(detail.event.status, EventStatus::Delivered, "{detail:#?}");
    }
    assert_eq!(listed(&api, "held").await["held"]["events"], 0);
}

async fn a_delivery_waiting_to_retry_is_held_while_paused_and_attempted_after_resume(api: Api) {
    let receiver = Receiver::start().await;
    receiver.respond_with(&[500]);
    let recipe = api
        .app
        .import(&forwarder(
            "retrying",
            &receiver.url("/in"),
            "\"0s\", \"1s\"",
        ))
        .await;
    let id = api.app.send_event(&recipe, &json!({ "n": 1 })).await;
    receiver.wait_for(1, DEADLINE).await;
    let paused = api
        .post("/api/recipes/retrying/pause")
        .await
        .expect(200)
        .json();
    assert_eq!(paused["held"]["deliveries"], 1, "{paused}");

    // Well past the 1 s retry: still held, not attempted.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(receiver.requests().len(), 1, "no attempt while paused");
    let detail = api.app.event(&id).await;
    assert_eq!(detail.deliveries[0].status, "pending", "{detail:#?}");
    assert_eq!(listed(&api, "retrying").await["held"]["deliveries"], 1);

    let resumed = api
        .post("/api/recipes/retrying/resume")
        .await
        .expect(200)
        .json();
    assert_eq!(resumed["released"]["deliveries"], 1, "{resumed}");
    receiver.wait_for(2, DEADLINE).await;
    let detail = api.app.wait_for_deliveries(&id).await;
    assert_eq!(detail.deliveries[0].status, "delivered", "{detail:#?}");
}

async fn a_schedule_tick_while_paused_is_recorded_as_skipped_and_runs_nothing(api: Api) {
    api.app
        .import(
            r#"
id = "ticking"
name = "Every second"
[trigger.schedule]
cron = "* * * * * *"
[[action]]
name = "log"
url = "http://127.0.0.1:9/never"
"#,
        )
        .await;
    api.post("/api/recipes/ticking/pause").await.expect(200);
    // A tick that read the recipe just before the pause may still complete: let it.
    grace().await;
    let before = api.app.event_count().await;
    let deadline = Instant::now() + DEADLINE;
    let ticks = loop {
        let detail = api.get("/api/recipes/ticking").await.expect(200).json();
        if detail["paused_ticks"]["count"].as_u64().unwrap_or(0) >= 2 {
            break detail["paused_ticks"].clone();
        }
        assert!(
            Instant::now() < deadline,
            "no paused tick recorded: {detail}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(ticks["last"].is_string(), "{ticks}");
    assert_eq!(
        api.app.event_count().await,
        before,
        "a paused tick stores no event"
    );

    api.post("/api/recipes/ticking/resume").await.expect(200);
    let deadline = Instant::now() + DEADLINE;
    while api.app.event_count().await == before {
        assert!(
            Instant::now() < deadline,
            "ticks did not run again after the resume"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn pausing_an_unknown_recipe_is_404_naming_it_and_repeats_change_nothing() {
    let api = spawn(None).await;
    let error = api.post("/api/recipes/nope/pause").await.expect_error(404);
    assert!(error.contains("`nope`"), "{error}");
    let error = api.post("/api/recipes/nope/resume").await.expect_error(404);
    assert!(error.contains("`nope`"), "{error}");

    api.app
        .import(&forwarder("twice", "http://127.0.0.1:9/x", "\"0s\""))
        .await;
    let first = api
        .post("/api/recipes/twice/pause")
        .await
        .expect(200)
        .json();
    let second = api
        .post("/api/recipes/twice/pause")
        .await
        .expect(200)
        .json();
    assert_eq!(
        (first["changed"].clone(), second["changed"].clone()),
        (json!(true), json!(false))
    );
    assert_eq!(
        second["recipe"]["paused_at"], first["recipe"]["paused_at"],
        "kept"
    );
    api.post("/api/recipes/twice/resume").await.expect(200);
    let again = api
        .post("/api/recipes/twice/resume")
        .await
        .expect(200)
        .json();
    assert_eq!(again["changed"], false, "{again}");
    assert_eq!(again["recipe"]["state"], "enabled", "{again}");
}

#[tokio::test]
async fn a_paused_respond_result_recipe_answers_202_and_holds_its_run() {
    let api = spawn(None).await;
    let receiver = Receiver::start().await;
    let source = forwarder("answering", &receiver.url("/in"), "\"0s\"").replace(
        "[trigger.webhook]",
        "[trigger.webhook]\nrespond = \"result\"",
    );
    let recipe = api.app.import(&source).await;
    api.post("/api/recipes/answering/pause").await.expect(200);
    let id = api.app.send_event(&recipe, &json!({ "n": 7 })).await;
    grace().await;
    assert!(receiver.requests().is_empty(), "nothing sent while paused");
    assert!(
        api.app.event(&id).await.runs.is_empty(),
        "no run in the request"
    );
    api.post("/api/recipes/answering/resume").await.expect(200);
    assert_eq!(
        receiver.wait_for(1, DEADLINE).await[0].json(),
        json!({ "n": 7 })
    );
}

async fn a_replay_while_paused_is_held_until_resume(api: Api) {
    let receiver = Receiver::start().await;
    let recipe = api
        .app
        .import(&forwarder("replayed", &receiver.url("/in"), "\"0s\""))
        .await;
    let id = api.app.send_event(&recipe, &json!({ "n": 5 })).await;
    api.app.wait_for_deliveries(&id).await;
    api.post("/api/recipes/replayed/pause").await.expect(200);
    let replay = api.post(&format!("/api/events/{id}/replay")).await;
    assert!(replay.status < 300, "replay queued: {replay:?}");
    assert_eq!(
        listed(&api, "replayed").await["held"]["events"],
        1,
        "the replay is held"
    );
    grace().await;
    assert_eq!(
        receiver.requests().len(),
        1,
        "the replay waits for the resume"
    );
    api.post("/api/recipes/replayed/resume").await.expect(200);
    assert_eq!(
        receiver.wait_for(2, DEADLINE).await[1].json(),
        json!({ "n": 5 })
    );
}
