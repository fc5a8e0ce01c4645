//! `delay` and `delay_until`: a delayed delivery is an ordinary queued delivery due later, so
//! it survives a kill -9 of the server.

use std::time::{Duration, Instant};

use serde_json::json;
use switchyard::store::EventStatus;

use crate::binary::http;
use crate::crash::start_with;
use crate::delivery::versions::spawn_on;
use crate::helpers::{WAIT, grace};
use crate::receiver::Receiver;
use crate::store_contract::PgDatabase;
use crate::ui::logged_in_with;

fn delayed_recipe(id: &str, url: &str, delay: &str) -> String {
    format!(
        r#"
id = "{id}"
name = "Delayed"
[trigger.webhook]
[[action]]
name = "later"
url = "{url}"
{delay}
"#
    )
}

async fn a_delayed_action_is_scheduled_and_sent_once_due(postgres: bool) {
    let db = match postgres {
        false => None,
        true => match PgDatabase::create().await {
            Some(db) => Some(db),
            None => return,
        },
    };
    let url = db.as_ref().map(|db| db.url.clone());
    let (app, browser) = logged_in_with(|s| s.database_url = url).await;
    let receiver = Receiver::start().await;
    let recipe = app
        .import(&delayed_recipe(
            "delayed",
            &receiver.url("/later"),
            r#"delay = "1500ms""#,
        ))
        .await;
    let sent = chrono::Utc::now();
    let started = Instant::now();
    let id = app.send_event(&recipe, &json!({ "n": 1 })).await;
    let detail = app
        .wait_for_event(&id, |d| d.event.status == EventStatus::Done)
        .await;
    let delivery = &detail.deliveries[0];
    assert_eq!(
        (delivery.status.as_str(), delivery.attempt_count),
        ("pending", 0)
    );
    let due = delivery.next_attempt_at.expect("queued with its due time");
    assert!(
        due >= sent + chrono::Duration::milliseconds(1400),
        "due {due}, sent {sent}"
    );
    let page = browser.get(&format!("/events/{id}")).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Scheduled for"),
        "the event page says when: {html}"
    );
    assert!(receiver.requests().is_empty(), "not before it is due");

    receiver.wait_for(1, WAIT).await;
    assert!(
        started.elapsed() >= Duration::from_millis(1400),
        "sent after {:?}",
        started.elapsed()
    );
    let detail = app.wait_for_deliveries(&id).await;
    assert_eq!(detail.event.status, EventStatus::Delivered);
}

#[tokio::test]
async fn a_delayed_action_is_scheduled_and_sent_once_due_on_sqlite() {
    a_delayed_action_is_scheduled_and_sent_once_due(false).await;
}

#[tokio::test]
async fn a_delayed_action_is_scheduled_and_sent_once_due_on_postgres() {
    a_delayed_action_is_scheduled_and_sent_once_due(true).await;
}

#[tokio::test]
async fn delay_until_in_the_past_is_at_once_and_an_unparseable_or_too_distant_one_is_dead_without_a_call()
 {
    let Some((app, _db)) = spawn_on(false, |_| {}).await else {
        return;
    };
    let receiver = Receiver::start().await;
    let recipe = app
        .import(&delayed_recipe(
            "remind",
            &receiver.url("/remind"),
            r#"delay_until = "{{ event.remind_at }}""#,
        ))
        .await;
    let past = app
        .send_event(&recipe, &json!({ "remind_at": 1_000_000_000 }))
        .await;
    receiver.wait_for(1, WAIT).await;
    assert_eq!(
        app.wait_for_deliveries(&past).await.event.status,
        EventStatus::Delivered
    );

    let bad = app
        .send_event(&recipe, &json!({ "remind_at": "next tuesday" }))
        .await;
    let detail = app
        .wait_for_event(&bad, |d| d.event.status == EventStatus::Dead)
        .await;
    let delivery = &detail.deliveries[0];
    assert_eq!(
        (delivery.status.as_str(), delivery.attempt_count),
        ("dead", 0)
    );
    let error = delivery.last_error.as_deref().unwrap_or_default();
    assert!(
        error.contains("delay_until") && error.contains("`next tuesday` is not an instant"),
        "{error}"
    );
    // Unix milliseconds read as seconds would be tens of thousands of years ahead: refused
    // (dead, saying so) rather than queued for ever.
    let millis = app
        .send_event(&recipe, &json!({ "remind_at": 1_714_554_000_000_i64 }))
        .await;
    let detail = app
        .wait_for_event(&millis, |d| d.event.status == EventStatus::Dead)
        .await;
    let error = detail.deliveries[0]
        .last_error
        .as_deref()
        .unwrap_or_default();
    assert!(
        error.contains("more than 366 days ahead") && error.contains("Unix milliseconds?"),
        "{error}"
    );
    grace().await;
    assert_eq!(
        receiver.requests().len(),
        1,
        "no call for the unparseable one"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_2s_delay_survives_a_kill_9_of_the_server_in_the_middle() {
    let receiver = Receiver::start().await;
    let recipe = delayed_recipe("crash", &receiver.url("/later"), r#"delay = "2s""#);
    let (cli, mut server, url) = start_with(&recipe).await;
    let started = Instant::now();
    let response = http()
        .post(&url)
        .json(&json!({ "id": "late" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    // The run is written (the delivery queued, due in 2 s) before the kill.
    let deadline = Instant::now() + WAIT;
    loop {
        let events = cli.run(&["events", "--json"]).json();
        if events[0]["status"] == "done" {
            break;
        }
        assert!(Instant::now() < deadline, "never run: {events}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.kill9();
    assert!(receiver.requests().is_empty());
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "killed before due"
    );

    let _restarted = crate::binary::Server::start(&cli, &[]).await;
    let requests = receiver.wait_for(1, Duration::from_secs(30)).await;
    assert_eq!(requests[0].json(), json!({ "id": "late" }));
    assert!(started.elapsed() >= Duration::from_secs(2));
    grace().await;
    assert_eq!(receiver.requests().len(), 1, "sent once");
}
