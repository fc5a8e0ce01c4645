//! Filters and transforms: verdicts, wrong results, failures and limits, and isolation between
//! recipes.

mod literals;

use std::time::Duration;

use serde_json::json;
use switchyard::store::EventStatus;

use crate::helpers::{TestApp, WAIT, grace, spawn_app, spawn_app_with};
use crate::receiver::Receiver;

/// A recipe with the given filter and transform (either may be empty) and one action to `url`.
pub(crate) fn recipe(id: &str, filter: &str, transform: &str, url: &str) -> String {
    let mut text = format!("id = \"{id}\"\nname = \"{id}\"\n[trigger.webhook]\n");
    if !filter.is_empty() {
        text.push_str(&format!("[filter]\nscript = '''\n{filter}\n'''\n"));
    }
    if !transform.is_empty() {
        text.push_str(&format!("[transform]\nscript = '''\n{transform}\n'''\n"));
    }
    text.push_str(&format!(
        "[[action]]\nname = \"notify\"\nurl = \"{url}\"\nretry = {{ schedule = [\"0s\", \"200ms\"] }}\n"
    ));
    text
}

/// Asserts the server still answers: liveness, and a healthy recipe still delivers.
async fn assert_server_still_works(app: &TestApp, receiver: &Receiver) {
    let health = app.get("/healthz").await;
    assert_eq!(health.status(), 200);
    let healthy = app
        .import(&recipe("healthy", "", "", &receiver.url("/healthy")))
        .await;
    let event_id = app.send_event(&healthy, &json!({ "still": "alive" })).await;
    let detail = app.wait_for_deliveries(&event_id).await;
    assert_eq!(detail.deliveries[0].status, "delivered");
    let requests = receiver.wait_for(1, WAIT).await;
    assert_eq!(requests[0].path, "/healthy");
}

#[tokio::test]
async fn filter_returning_false_causes_no_call() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    let big_only = app
        .import(&recipe(
            "big-only",
            "event.amount > 100",
            "",
            &receiver.url("/hook"),
        ))
        .await;

    let small = app.send_event(&big_only, &json!({ "amount": 5 })).await;
    let detail = app.wait_for_run(&small).await;
    assert_eq!(detail.event.status, EventStatus::Filtered);
    assert_eq!(detail.runs.len(), 1);
    assert_eq!(detail.runs[0].status, EventStatus::Filtered);
    assert!(
        detail.deliveries.is_empty(),
        "a filtered event plans no delivery"
    );

    // The same recipe does call out when the filter passes, so the silence above is the filter.
    let big = app.send_event(&big_only, &json!({ "amount": 500 })).await;
    app.wait_for_deliveries(&big).await;
    receiver.wait_for(1, WAIT).await;
    grace().await;
    let requests = receiver.requests();
    assert_eq!(requests.len(), 1, "only the passing event was sent");
    assert_eq!(requests[0].json(), json!({ "amount": 500 }));
}

#[tokio::test]
async fn filter_returning_a_non_bool_fails_the_run_with_a_message_naming_the_bool_requirement() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    let sloppy = app
        .import(&recipe("sloppy", "\"yes\"", "", &receiver.url("/hook")))
        .await;

    let event_id = app.send_event(&sloppy, &json!({ "amount": 5 })).await;
    let detail = app.wait_for_run(&event_id).await;
    assert_eq!(detail.event.status, EventStatus::Failed);
    let error = detail.event.error.as_deref().expect("event error stored");
    assert!(error.contains("must return a bool"), "{error}");
    assert!(
        error.contains("got the text \"yes\""),
        "names what it got: {error}"
    );
    assert_eq!(detail.runs[0].status, EventStatus::Failed);
    assert_eq!(detail.runs[0].error.as_deref(), Some(error));
    assert!(detail.deliveries.is_empty());
    grace().await;
    assert!(receiver.requests().is_empty());
}

#[tokio::test]
async fn endless_loop_in_a_filter_is_stopped_by_the_wall_time_limit_and_the_server_still_answers() {
    let app = spawn_app_with(|s| {
        s.script_limits.wall_time = Duration::from_millis(300);
        s.script_limits.max_operations = 0; // unlimited: only the wall time can stop it
    })
    .await;
    let receiver = Receiver::start().await;
    let spinning = app
        .import(&recipe(
            "spinning",
            "loop {}\ntrue",
            "",
            &receiver.url("/hook"),
        ))
        .await;

    let event_id = app.send_event(&spinning, &json!({})).await;
    let detail = app.wait_for_run(&event_id).await;
    assert_eq!(detail.event.status, EventStatus::Failed);
    let error = detail.runs[0].error.as_deref().expect("run error stored");
    assert!(error.contains("filter script stopped"), "{error}");
    assert!(error.contains("wall-time limit of 300ms"), "{error}");
    assert_eq!(detail.event.error.as_deref(), Some(error));
    assert!(detail.deliveries.is_empty());

    assert_server_still_works(&app, &receiver).await;
    assert_eq!(
        receiver.requests().len(),
        1,
        "only the healthy recipe called out"
    );
}

#[tokio::test]
async fn endless_loop_in_a_transform_is_stopped_by_a_limit_and_the_server_still_answers() {
    let app = spawn_app_with(|s| s.script_limits.wall_time = Duration::from_millis(300)).await;
    let receiver = Receiver::start().await;
    let spinning = app
        .import(&recipe(
            "spinning",
            "",
            "let n = 0;\nloop { n += 1; }\nn",
            &receiver.url("/hook"),
        ))
        .await;

    // Webhooks are accepted while the script spins: scripts run off the request path.
    let first = app.send_event(&spinning, &json!({})).await;
    let second = app.send_event(&spinning, &json!({})).await;
    for event_id in [first, second] {
        let detail = app.wait_for_run(&event_id).await;
        assert_eq!(detail.event.status, EventStatus::Failed);
        let error = detail.event.error.as_deref().expect("event error stored");
        assert!(error.contains("transform script stopped"), "{error}");
        assert!(
            error.contains("too many operations") || error.contains("wall-time limit"),
            "names the limit: {error}"
        );
        assert_eq!(detail.runs[0].error.as_deref(), Some(error));
    }

    assert_server_still_works(&app, &receiver).await;
}

#[tokio::test]
async fn transform_that_throws_fails_the_run_with_its_message() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    let picky = app
        .import(&recipe(
            "picky",
            "",
            "if event?.customer == () { throw \"no customer in this event\"; }\nevent",
            &receiver.url("/hook"),
        ))
        .await;

    let event_id = app.send_event(&picky, &json!({ "amount": 1 })).await;
    let detail = app.wait_for_run(&event_id).await;
    assert_eq!(detail.event.status, EventStatus::Failed);
    let error = detail.event.error.as_deref().unwrap_or_default();
    assert!(error.contains("no customer in this event"), "{error}");
    assert!(
        error.contains("transform"),
        "says which script failed: {error}"
    );
    assert!(detail.deliveries.is_empty());
    grace().await;
    assert!(receiver.requests().is_empty());
}

#[tokio::test]
async fn transform_output_is_what_the_action_sends_and_scripts_see_headers_and_meta() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    let shaper = app
        .import(&recipe(
            "shaper",
            "headers[\"x-source\"] == \"shop\"",
            "#{ text: `Order ${event.id}: ${event.cents / 100.0}`, recipe: meta.recipe, \
             trigger: meta.trigger, source: headers[\"x-source\"] }",
            &receiver.url("/hook"),
        ))
        .await;

    let response = app
        .http
        .post(app.hook_url(&shaper))
        .header("X-Source", "shop")
        .json(&json!({ "id": "o9", "cents": 1250 }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let event_id = response.json::<serde_json::Value>().await.unwrap()["event_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let detail = app.wait_for_deliveries(&event_id).await;
    let expected = json!({
        "text": "Order o9: 12.5",
        "recipe": "shaper",
        "trigger": "webhook",
        "source": "shop",
    });
    assert_eq!(detail.runs[0].status, EventStatus::Done);
    assert_eq!(detail.runs[0].output.as_ref(), Some(&expected));
    let requests = receiver.wait_for(1, WAIT).await;
    assert_eq!(requests[0].json(), expected);
}

#[tokio::test]
async fn a_failing_script_in_one_recipe_does_not_stop_another_from_delivering() {
    let app = spawn_app_with(|s| s.script_limits.wall_time = Duration::from_millis(300)).await;
    let receiver = Receiver::start().await;
    let broken = app
        .import(&recipe(
            "broken",
            "",
            "throw \"broken on purpose\"",
            &receiver.url("/broken"),
        ))
        .await;
    let spinning = app
        .import(&recipe(
            "spinning",
            "loop {}",
            "",
            &receiver.url("/spinning"),
        ))
        .await;
    let good = app
        .import(&recipe(
            "good",
            "",
            "#{ ok: event.n }",
            &receiver.url("/good"),
        ))
        .await;

    let broken_id = app.send_event(&broken, &json!({ "n": 1 })).await;
    let spinning_id = app.send_event(&spinning, &json!({ "n": 2 })).await;
    let good_id = app.send_event(&good, &json!({ "n": 3 })).await;

    let detail = app.wait_for_deliveries(&good_id).await;
    assert_eq!(detail.deliveries[0].status, "delivered");
    for id in [broken_id, spinning_id] {
        let detail = app.wait_for_run(&id).await;
        assert_eq!(detail.event.status, EventStatus::Failed, "{detail:#?}");
    }
    grace().await;
    let requests = receiver.requests();
    assert_eq!(requests.len(), 1, "{requests:#?}");
    assert_eq!(requests[0].path, "/good");
    assert_eq!(requests[0].json(), json!({ "ok": 3 }));
}

#[tokio::test]
async fn a_filter_reading_a_field_the_event_lacks_fails_the_run_naming_the_field_and_those_it_has()
{
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    let typo = app
        .import(&recipe(
            "typo",
            "event.amout > 10",
            "",
            &receiver.url("/hook"),
        ))
        .await;

    let event_id = app
        .send_event(&typo, &json!({ "amount": 49, "currency": "eur" }))
        .await;
    let detail = app.wait_for_run(&event_id).await;
    assert_eq!(
        detail.event.status,
        EventStatus::Failed,
        "not quietly filtered"
    );
    let error = detail.runs[0].error.as_deref().expect("run error stored");
    assert!(
        error.contains("filter script, line 1, column 7: event.amout: the event has no field \"amout\" (fields: amount, currency)"),
        "{error}"
    );
    assert!(
        error.contains("event?.amout"),
        "says how to read an optional field: {error}"
    );
    grace().await;
    assert!(receiver.requests().is_empty());
}

#[tokio::test]
async fn a_filter_comparing_an_amount_sent_as_text_with_a_number_fails_the_run_naming_both() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    let payments = app
        .import(&recipe(
            "payments",
            "event.payment.amount > 10",
            "",
            &receiver.url("/hook"),
        ))
        .await;

    let event_id = app
        .send_event(&payments, &json!({ "payment": { "amount": "49.00" } }))
        .await;
    let detail = app.wait_for_run(&event_id).await;
    assert_eq!(detail.event.status, EventStatus::Failed);
    let error = detail.runs[0].error.as_deref().expect("run error stored");
    assert!(
        error.contains("cannot compare the text \"49.00\" > the number 10"),
        "{error}"
    );

    // Optional fields read with ?. and tested with `in` are not errors.
    let optional = app
        .import(&recipe(
            "optional",
            "\"note\" in event || event?.priority == ()",
            "#{ note: event?.note }",
            &receiver.url("/optional"),
        ))
        .await;
    let event_id = app.send_event(&optional, &json!({ "id": 1 })).await;
    let detail = app.wait_for_deliveries(&event_id).await;
    assert_eq!(detail.event.status, EventStatus::Delivered);
    let requests = receiver.wait_for(1, WAIT).await;
    assert_eq!(requests[0].json(), json!({ "note": null }));
}
