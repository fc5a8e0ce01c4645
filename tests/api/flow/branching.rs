//! `[[action.when]]`: an action whose condition is false is skipped with the reason.

use serde_json::json;
use switchyard::store::EventStatus;

use crate::helpers::{WAIT, grace, spawn_app};
use crate::receiver::Receiver;

fn branching_recipe(big: &str, small: &str) -> String {
    format!(
        r#"
id = "branching"
name = "Big payments to sales, the rest to the log"
[trigger.webhook]

[[action]]
name = "sales"
url = "{big}"
[[action.when]]
field = "data.amount"
op = "gt"
value = 1000

[[action]]
name = "log"
url = "{small}"
when_match = "any"
[[action.when]]
field = "data.amount"
op = "lte"
value = 1000
"#
    )
}

#[tokio::test]
async fn branching_sends_to_exactly_one_of_two_receivers_both_ways() {
    let app = spawn_app().await;
    let (sales, log) = (Receiver::start().await, Receiver::start().await);
    let recipe = app
        .import(&branching_recipe(&sales.url("/sales"), &log.url("/log")))
        .await;

    let big = app
        .send_event(&recipe, &json!({ "data": { "amount": 5000 } }))
        .await;
    let detail = app.wait_for_deliveries(&big).await;
    sales.wait_for(1, WAIT).await;
    let status = |name: &str| {
        let d = detail.deliveries.iter().find(|d| d.action_name == name);
        d.map(|d| (d.status.clone(), d.attempt_count, d.last_error.clone()))
            .unwrap()
    };
    assert_eq!(status("sales").0, "delivered");
    let (log_status, attempts, reason) = status("log");
    assert_eq!((log_status.as_str(), attempts), ("skipped", 0));
    let reason = reason.expect("a skipped delivery says why");
    assert!(
        reason.contains("action[1].when[0]: data.amount = 5000 is greater than 1000"),
        "{reason}"
    );
    assert_eq!(detail.event.status, EventStatus::Delivered);

    let small = app
        .send_event(&recipe, &json!({ "data": { "amount": 12 } }))
        .await;
    let detail = app.wait_for_deliveries(&small).await;
    log.wait_for(1, WAIT).await;
    grace().await;
    assert_eq!(
        sales.requests().len(),
        1,
        "only the big payment went to sales"
    );
    assert_eq!(
        log.requests().len(),
        1,
        "only the small payment went to the log"
    );
    assert_eq!(
        log.requests()[0].json(),
        json!({ "data": { "amount": 12 } })
    );
    let sales_delivery = detail
        .deliveries
        .iter()
        .find(|d| d.action_name == "sales")
        .unwrap();
    assert_eq!(sales_delivery.status, "skipped");
    assert!(
        sales_delivery
            .last_error
            .as_deref()
            .unwrap()
            .contains("data.amount = 12 is not greater than 1000"),
        "{sales_delivery:#?}"
    );
    assert_eq!(app.event(&small).await.event.status, EventStatus::Delivered);
}

#[tokio::test]
async fn an_event_whose_actions_are_all_skipped_is_delivered_without_a_call() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    let recipe = app
        .import(&format!(
            r#"
id = "all-skipped"
name = "Nothing to do"
[trigger.webhook]
[transform]
script = '#{{ vip: event.vip }}'
[[action]]
name = "vip"
url = "{}"
when_script = "output.vip == true"
"#,
            receiver.url("/vip")
        ))
        .await;
    let id = app.send_event(&recipe, &json!({ "vip": false })).await;
    let detail = app
        .wait_for_event(&id, |d| d.event.status == EventStatus::Delivered)
        .await;
    assert_eq!(detail.deliveries[0].status, "skipped");
    assert_eq!(
        detail.deliveries[0].last_error.as_deref(),
        Some("when_script returned false")
    );
    grace().await;
    assert!(receiver.requests().is_empty());
}

#[tokio::test]
async fn a_condition_that_cannot_be_decided_fails_the_run_naming_the_action_and_row() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    let recipe = app
        .import(&branching_recipe(&receiver.url("/a"), &receiver.url("/b")))
        .await;
    let id = app
        .send_event(&recipe, &json!({ "data": { "amount": "lots" } }))
        .await;
    let detail = app.wait_for_run(&id).await;
    assert_eq!(detail.event.status, EventStatus::Failed);
    let error = detail.event.error.unwrap_or_default();
    assert!(
        error.contains("action `sales`: when:") && error.contains("action[0].when[0]"),
        "{error}"
    );
    assert!(detail.deliveries.is_empty());
}
