//! Secret values are cached by the delivery worker, and a change is used by the next attempt
//! whoever made it: this server's API, or another store handle on the same database (the CLI,
//! another node). On both backends.

use serde_json::json;
use switchyard::store::SyncMode;

use super::versions::spawn_on;
use crate::helpers::WAIT;
use crate::receiver::Receiver;

const API_TOKEN: &str = "delivery-secrets-token-77a1";

async fn a_changed_secret_is_used_by_the_next_attempt(postgres: bool) {
    let Some((app, db)) = spawn_on(postgres, |s| s.api_token = Some(API_TOKEN.into())).await else {
        return;
    };
    // A second handle on the same database, with the same key file: what the CLI opens.
    let other = switchyard::store::open(
        db.as_ref().map(|db| db.url.as_str()),
        app.data_dir.path(),
        SyncMode::Normal,
    )
    .await
    .expect("a second store handle opens");
    let receiver = Receiver::start().await;
    receiver.respond_with(&[500, 500]);
    app.set_secret("ROTATING", "first").await;
    let recipe = app
        .import(&format!(
            r#"
id = "rotating"
name = "Rotating key"
[trigger.webhook]
[[action]]
name = "notify"
url = "{}"
headers = {{ "X-Key" = "{{{{ secrets.ROTATING }}}}" }}
timeout = "2s"
retry = {{ schedule = ["0s", "1s", "1s", "1s"] }}
"#,
            receiver.url("/hook")
        ))
        .await;
    let secret_url = format!("{}/api/secrets/ROTATING", app.address);
    let event_id = app.send_event(&recipe, &json!({ "n": 1 })).await;
    receiver.wait_for(1, WAIT).await;

    // Each change lands while the attempt before it waits a second for its retry.
    let put = app
        .http
        .put(&secret_url)
        .bearer_auth(API_TOKEN)
        .json(&json!({ "value": "second" }))
        .send()
        .await
        .expect("PUT secret");
    assert!(put.status().is_success(), "{}", put.status());
    receiver.wait_for(2, WAIT).await;
    other
        .set_secret("ROTATING", "third")
        .await
        .expect("set through the other handle");
    let detail = app.wait_for_deliveries(&event_id).await;
    assert_eq!(detail.deliveries[0].status, "delivered", "{detail:#?}");
    let keys: Vec<Option<String>> = receiver
        .requests()
        .iter()
        .map(|r| r.header("x-key").map(str::to_owned))
        .collect();
    let expected = ["first", "second", "third"].map(|k| Some(k.to_owned()));
    assert_eq!(keys, expected);

    // Deleted through the API: the next attempt has no value to send.
    let deleted = app
        .http
        .delete(&secret_url)
        .bearer_auth(API_TOKEN)
        .send()
        .await
        .expect("DELETE secret");
    assert!(deleted.status().is_success(), "{}", deleted.status());
    let event_id = app.send_event(&recipe, &json!({ "n": 2 })).await;
    let detail = app
        .wait_for_event(&event_id, |d| {
            d.deliveries.first().is_some_and(|x| !x.attempts.is_empty())
        })
        .await;
    let error = detail.deliveries[0].attempts[0].error.as_deref();
    assert!(
        error.is_some_and(|e| e.contains("ROTATING")),
        "the attempt names the missing secret: {detail:#?}"
    );
    assert_eq!(receiver.requests().len(), 3, "nothing sent without it");
}

#[tokio::test]
async fn sqlite_a_changed_secret_is_used_by_the_next_attempt() {
    a_changed_secret_is_used_by_the_next_attempt(false).await;
}

#[tokio::test]
async fn postgres_a_changed_secret_is_used_by_the_next_attempt() {
    a_changed_secret_is_used_by_the_next_attempt(true).await;
}
