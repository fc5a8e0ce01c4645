//! Polls against a real local page server: items become events, one dedupe key across webhook
//! and poll, and failures are stored visibly while the schedule carries on.

use serde_json::json;
use switchyard::store::EventStatus;

use super::{DEADLINE, acted_on, app, events_of, let_poll_run, poll_recipe, received, wait_failed};
use crate::binary::Cli;
use crate::helpers::grace;
use crate::pages::Pages;
use crate::receiver::Receiver;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poll_items_at_the_pointer_become_poll_events_with_one_action_each() {
    let (app, pages, receiver) = (app().await, Pages::start().await, Receiver::start().await);
    let page = json!({ "data": [{ "id": "p1" }, { "id": "p2" }], "has_more": false });
    pages.set_json("/payments", &page);
    app.import(&poll_recipe(
        "pointer",
        &pages.url("/payments"),
        Some("/data"),
        &receiver.url("/a"),
    ))
    .await;

    receiver.wait_for(2, DEADLINE).await;
    let_poll_run(&app, &pages, "/payments", "pointer", 2).await;
    let mut got = received(&receiver);
    got.sort();
    assert_eq!(
        got,
        [("p1".into(), "poll".into()), ("p2".into(), "poll".into())]
    );
    let events = events_of(app.store.as_ref(), "pointer").await;
    assert!(events.iter().all(|e| e.trigger == "poll"), "{events:#?}");
    let done = events.iter().filter(|e| acted_on(e)).count();
    assert_eq!(done, 2, "{events:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_pointer_an_array_body_is_the_items_and_an_object_body_is_one_item() {
    let (app, pages, receiver) = (app().await, Pages::start().await, Receiver::start().await);
    pages.set_json("/list", &json!([{ "id": "x" }, { "id": "y" }]));
    pages.set_json("/status", &json!({ "id": "status-1", "status": "up" }));
    app.import(&poll_recipe(
        "array",
        &pages.url("/list"),
        None,
        &receiver.url("/array"),
    ))
    .await;
    app.import(&poll_recipe(
        "object",
        &pages.url("/status"),
        None,
        &receiver.url("/object"),
    ))
    .await;

    receiver.wait_for(3, DEADLINE).await;
    let_poll_run(&app, &pages, "/list", "array", 2).await;
    let_poll_run(&app, &pages, "/status", "object", 0).await;
    let requests = receiver.requests();
    let mut by_path: Vec<_> = requests
        .iter()
        .map(|r| (r.path.clone(), r.json()["id"].clone()))
        .collect();
    by_path.sort_by_key(|(path, id)| format!("{path} {id}"));
    assert_eq!(
        by_path,
        [
            ("/array".into(), json!("x")),
            ("/array".into(), json!("y")),
            ("/object".into(), json!("status-1")),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_and_poll_share_one_dedupe_key_so_each_payment_fires_once() {
    let (app, pages, receiver) = (app().await, Pages::start().await, Receiver::start().await);
    let payment = |id: &str| json!({ "type": "payment_intent.succeeded", "data": { "object": { "id": id } } });
    pages.set_json("/events", &json!({ "data": [] }));
    let recipe = app
        .import(&format!(
            r#"id = "payments"
name = "Payment succeeded, webhook + housekeeping poll"
dedupe = "event.data.object.id"
[trigger.webhook]
[trigger.schedule]
cron = "* * * * * *"
[trigger.schedule.poll]
url = "{}"
items = "/data"
[transform]
script = '#{{ id: event.data.object.id, trigger: meta.trigger }}'
[[action]]
name = "fulfil"
url = "{}"
"#,
            pages.url("/events"),
            receiver.url("/fulfil")
        ))
        .await;
    pages.wait_hits("/events", 1, DEADLINE).await;

    // The webhook for payment A: one action.
    let a = app.send_event(&recipe, &payment("pi_A")).await;
    app.wait_for_deliveries(&a).await;
    assert_eq!(received(&receiver), [("pi_A".into(), "webhook".into())]);

    // The poll then lists A and B: only B fires.
    pages.set_json(
        "/events",
        &json!({ "data": [payment("pi_A"), payment("pi_B")] }),
    );
    receiver.wait_for(2, DEADLINE).await;
    // The next polls list A and B again: nothing fires.
    let_poll_run(&app, &pages, "/events", "payments", 3).await;
    assert_eq!(
        received(&receiver),
        [
            ("pi_A".into(), "webhook".into()),
            ("pi_B".into(), "poll".into())
        ]
    );
    let events = events_of(app.store.as_ref(), "payments").await;
    let done: Vec<_> = events.iter().filter(|e| acted_on(e)).collect();
    assert_eq!(done.len(), 2, "one done event per payment: {events:#?}");
    // A's key was seen before the poll listed A, so the poll never even stored it.
    for event in events.iter().filter(|e| e.trigger == "poll") {
        let payload = app.event(&event.id).await.event.payload;
        assert_eq!(payload["data"]["object"]["id"], "pi_B", "{payload}");
    }

    // And the reverse: B's webhook, arriving after the poll acted on B, is a duplicate.
    let late = app.send_event(&recipe, &payment("pi_B")).await;
    let detail = app.wait_for_run(&late).await;
    assert_eq!(detail.event.status, EventStatus::Duplicate);
    grace().await;
    assert_eq!(receiver.requests().len(), 2, "{:?}", received(&receiver));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_polls_are_stored_with_their_message_and_the_schedule_carries_on() {
    let (app, pages, receiver) = (app().await, Pages::start().await, Receiver::start().await);
    pages.set("/feed", 500, "upstream is down");
    app.import(&poll_recipe(
        "flaky",
        &pages.url("/feed"),
        Some("/data"),
        &receiver.url("/ok"),
    ))
    .await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .unwrap();
    let nowhere = format!("http://{closed}/feed"); // the listener is dropped: connect refused
    app.import(&poll_recipe(
        "unreachable",
        &nowhere,
        Some("/data"),
        &receiver.url("/never"),
    ))
    .await;

    let failed = wait_failed(&app, "flaky", "HTTP 500").await;
    let detail = app.event(&failed.id).await;
    assert!(
        detail.event.payload.get("scheduled_for").is_some(),
        "{detail:#?}"
    );
    assert!(
        detail.deliveries.is_empty(),
        "a failed poll acts on nothing"
    );
    pages.set("/feed", 200, "<html>maintenance</html>");
    wait_failed(&app, "flaky", "not valid JSON").await;
    pages.set_json("/feed", &json!({ "items": [{ "id": "wrong-place" }] }));
    wait_failed(&app, "flaky", "nothing at `/data`").await;
    pages.set_json("/feed", &json!({ "data": { "id": "not-a-list" } }));
    wait_failed(&app, "flaky", "not an array").await;
    wait_failed(&app, "unreachable", "connection refused").await;

    // Fixed: the next tick produces events and acts on them.
    pages.set_json("/feed", &json!({ "data": [{ "id": "ok-1" }] }));
    receiver.wait_for(1, DEADLINE).await;
    assert_eq!(received(&receiver), [("ok-1".into(), "poll".into())]);

    // The operator's window shows the failures with their messages.
    let mut cli = Cli::new();
    cli.data_dir = app.data_dir.path().to_path_buf();
    let listed = cli.run(&["events", "--json", "--limit", "10000"]).json();
    let listed = listed.as_array().expect("a JSON array");
    for (recipe, needle) in [
        ("flaky", "HTTP 500"),
        ("flaky", "not valid JSON"),
        ("flaky", "nothing at `/data`"),
        ("unreachable", "connection refused"),
    ] {
        let shown = listed.iter().any(|e| {
            e["recipe_id"] == recipe
                && e["trigger"] == "poll"
                && e["status"] == "failed"
                && e["error"].as_str().is_some_and(|m| m.contains(needle))
        });
        assert!(
            shown,
            "`events --json` lacks the {recipe} failure {needle:?}: {listed:#?}"
        );
    }
    let text = cli.run(&["events", "--recipe", "unreachable"]);
    assert!(text.ok().contains("connection refused"), "{text:#?}");
}
