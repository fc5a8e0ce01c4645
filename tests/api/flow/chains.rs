//! `after`: an action runs once another succeeded and reads its response; when that one goes
//! dead the later one is skipped, and runs once the dead one is retried to success. On both
//! backends.

use serde_json::json;
use switchyard::store::EventStatus;

use crate::delivery::versions::spawn_on;
use crate::helpers::{WAIT, grace};
use crate::receiver::Receiver;

fn chain_recipe(crm: &str, chat: &str, crm_retry: &str) -> String {
    format!(
        r#"
id = "chain"
name = "Create a customer, then post its id"
[trigger.webhook]

[[action]]
name = "create_customer"
url = "{crm}"
retry = {{ schedule = {crm_retry} }}

[[action]]
name = "post_id"
url = "{chat}"
after = "create_customer"
headers = {{ "X-Status" = "{{{{ responses.create_customer.status }}}}" }}
fields = {{ customer = "{{{{ responses.create_customer.body.id }}}}", email = "{{{{ event.email }}}}" }}
"#
    )
}

async fn the_second_call_carries_the_id_the_first_returned(postgres: bool) {
    let Some((app, _db)) = spawn_on(postgres, |_| {}).await else {
        return;
    };
    let (crm, chat) = (Receiver::start().await, Receiver::start().await);
    crm.answer_json(&json!({ "id": "cus_1" }));
    let recipe = app
        .import(&chain_recipe(
            &crm.url("/customers"),
            &chat.url("/chat"),
            r#"["0s"]"#,
        ))
        .await;
    let id = app
        .send_event(&recipe, &json!({ "email": "ada@example.com" }))
        .await;
    let posted = chat.wait_for(1, WAIT).await;
    assert_eq!(crm.requests().len(), 1);
    assert!(
        crm.requests()[0].at <= posted[0].at,
        "the chain keeps its order"
    );
    assert_eq!(
        posted[0].json(),
        json!({ "customer": "cus_1", "email": "ada@example.com" })
    );
    assert_eq!(posted[0].header("x-status"), Some("200"));
    let detail = app
        .wait_for_event(&id, |d| d.event.status == EventStatus::Delivered)
        .await;
    assert!(detail.deliveries.iter().all(|d| d.status == "delivered"));
}

#[tokio::test]
async fn the_second_call_carries_the_id_the_first_returned_on_sqlite() {
    the_second_call_carries_the_id_the_first_returned(false).await;
}

#[tokio::test]
async fn the_second_call_carries_the_id_the_first_returned_on_postgres() {
    the_second_call_carries_the_id_the_first_returned(true).await;
}

async fn a_dead_first_skips_the_second_until_it_is_retried_to_success(postgres: bool) {
    let Some((app, _db)) = spawn_on(postgres, |_| {}).await else {
        return;
    };
    let (crm, chat) = (Receiver::start().await, Receiver::start().await);
    crm.answer_json(&json!({ "id": "cus_2" }));
    crm.respond_with(&[500]);
    let recipe = app
        .import(&chain_recipe(
            &crm.url("/customers"),
            &chat.url("/chat"),
            r#"["0s"]"#,
        ))
        .await;
    let id = app
        .send_event(&recipe, &json!({ "email": "bo@example.com" }))
        .await;
    let detail = app
        .wait_for_event(&id, |d| d.event.status == EventStatus::Dead)
        .await;
    let second = detail
        .deliveries
        .iter()
        .find(|d| d.action_name == "post_id")
        .unwrap();
    assert_eq!(
        (second.status.as_str(), second.attempt_count),
        ("skipped", 0)
    );
    assert_eq!(
        second.last_error.as_deref(),
        Some("after: `create_customer` did not succeed")
    );
    grace().await;
    assert!(
        chat.requests().is_empty(),
        "nothing posted after a dead first call"
    );

    let first = detail
        .deliveries
        .iter()
        .find(|d| d.action_name == "create_customer")
        .unwrap();
    assert!(app.store.retry_delivery(&first.id).await.unwrap());
    let posted = chat.wait_for(1, WAIT).await;
    assert_eq!(posted[0].json()["customer"], "cus_2");
    let detail = app
        .wait_for_event(&id, |d| d.event.status == EventStatus::Delivered)
        .await;
    assert!(
        detail.deliveries.iter().all(|d| d.status == "delivered"),
        "{detail:#?}"
    );
}

#[tokio::test]
async fn a_dead_first_skips_the_second_until_it_is_retried_to_success_on_sqlite() {
    a_dead_first_skips_the_second_until_it_is_retried_to_success(false).await;
}

#[tokio::test]
async fn a_dead_first_skips_the_second_until_it_is_retried_to_success_on_postgres() {
    a_dead_first_skips_the_second_until_it_is_retried_to_success(true).await;
}
