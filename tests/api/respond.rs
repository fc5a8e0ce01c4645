//! `respond = "result"` through the real server, on SQLite and on PostgreSQL: the request's
//! evaluation is the event's run. What the caller reads is what the actions receive (one
//! evaluation, one run); a duplicate (dedupe key or sender retry) answers with the first
//! event's output, says so in a header, and delivers nothing.

use serde_json::{Value, json};
use switchyard::store::{EventQuery, EventStatus};

use crate::api::{Api, spawn_api_with};
use crate::helpers::{WAIT, grace};
use crate::receiver::Receiver;
use crate::verify::sign::github;

const DUPLICATE: &str = "switchyard-duplicate";
const EVENT_ID: &str = "switchyard-event-id";
const SECRET: &str = "respond-signing-secret-41c9";

// Each test runs as `sqlite::NAME` and `postgres::NAME` (see `on_both_backends!` in main.rs).
on_both_backends!(
    the_answer_is_the_one_run_and_the_delivered_body,
    a_dedupe_duplicate_answers_the_first_output_and_delivers_nothing,
    a_sender_retry_answers_the_first_output_and_stores_nothing,
    a_filtered_event_answers_204_and_delivers_nothing,
);

async fn spawn(database_url: Option<String>) -> Api {
    spawn_api_with(|settings| settings.database_url = database_url).await
}

/// A transform whose output differs on every evaluation: two timings taken while it runs
/// (nanosecond clock), so two evaluations of one event cannot give the same output.
const UNREPEATABLE: &str = r#"
let started = timestamp();
let spins = 0;
while spins < 300 { spins += 1; }
let first = timestamp() - started;
while spins < 600 { spins += 1; }
#{ amount: event.amount, first: first, second: timestamp() - started }
"#;

fn recipe(id: &str, top: &str, webhook: &str, url: &str) -> String {
    format!(
        r#"
id = "{id}"
name = "{id}"
{top}
[trigger.webhook]
respond = "result"
{webhook}
[filter]
script = 'event.amount > 0'
[transform]
script = '''{UNREPEATABLE}'''
[[action]]
name = "notify"
url = "{url}"
"#
    )
}

async fn save(api: &Api, toml: &str) -> String {
    let saved = api.save(toml, "created").await;
    saved["webhook_url"]
        .as_str()
        .expect("webhook_url")
        .to_owned()
}

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .map(|value| value.to_str().expect("ASCII header").to_owned())
}

/// Status, event id header, duplicate header and JSON body (null when empty).
async fn read(response: reqwest::Response) -> (u16, String, Option<String>, Value) {
    let status = response.status().as_u16();
    let event_id = header(&response, EVENT_ID).expect("event id header");
    let duplicate = header(&response, DUPLICATE);
    let text = response.text().await.expect("answer body");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).expect("JSON answer")
    };
    (status, event_id, duplicate, body)
}

async fn all_events(api: &Api) -> Vec<(String, EventStatus)> {
    let query = EventQuery {
        limit: 100,
        ..EventQuery::default()
    };
    let events = api.app.store.list_events(&query).await.expect("store");
    events.into_iter().map(|e| (e.id, e.status)).collect()
}

async fn the_answer_is_the_one_run_and_the_delivered_body(api: Api) {
    let receiver = Receiver::start().await;
    let url = save(&api, &recipe("once", "", "", &receiver.url("/once"))).await;

    let (status, event_id, duplicate, answer) =
        read(api.hook(&url, &json!({ "amount": 7 })).await).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(duplicate, None);
    assert_eq!(answer["amount"], 7, "{answer}");

    let delivered = receiver.wait_for(1, WAIT).await;
    assert_eq!(
        delivered[0].json(),
        answer,
        "the actions receive what the caller read"
    );
    let detail = api
        .wait_for_event(&event_id, |d| d["event"]["status"] == "delivered")
        .await;
    let runs = detail["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 1, "one evaluation, one run: {detail:#}");
    assert_eq!(runs[0]["status"], "done");
    assert_eq!(runs[0]["output"], answer);
    assert_eq!(detail["deliveries"].as_array().map(Vec::len), Some(1));
    grace().await;
    assert_eq!(receiver.requests().len(), 1);
    assert_eq!(
        api.event(&event_id).await["runs"].as_array().map(Vec::len),
        Some(1),
        "the engine never runs it again"
    );
}

async fn a_dedupe_duplicate_answers_the_first_output_and_delivers_nothing(api: Api) {
    let receiver = Receiver::start().await;
    let url = save(
        &api,
        &recipe(
            "keyed",
            "dedupe = \"event.order\"",
            "",
            &receiver.url("/keyed"),
        ),
    )
    .await;
    let (status, first_id, _, first) = read(
        api.hook(&url, &json!({ "order": "o-1", "amount": 5 }))
            .await,
    )
    .await;
    assert_eq!(status, 200, "{first}");

    let (status, event_id, duplicate, answer) = read(
        api.hook(&url, &json!({ "order": "o-1", "amount": 9 }))
            .await,
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(duplicate.as_deref(), Some("true"));
    assert_eq!(event_id, first_id, "the first event's id");
    assert_eq!(answer, first, "the first event's recorded output");

    receiver.wait_for(1, WAIT).await;
    grace().await;
    assert_eq!(receiver.requests().len(), 1, "the duplicate starts nothing");
    let events = all_events(&api).await;
    assert_eq!(events.len(), 2, "{events:?}");
    let (second_id, _) = events
        .iter()
        .find(|(id, _)| *id != first_id)
        .expect("the duplicate is stored");
    let detail = api.event(second_id).await;
    assert_eq!(detail["event"]["status"], "duplicate", "{detail:#}");
    let runs = detail["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 1, "{detail:#}");
    assert_eq!(runs[0]["status"], "duplicate");
    assert_eq!(
        runs[0]["output"],
        Value::Null,
        "filter and transform did not run"
    );
    assert_eq!(detail["deliveries"], json!([]));
}

async fn a_sender_retry_answers_the_first_output_and_stores_nothing(api: Api) {
    let receiver = Receiver::start().await;
    api.app.set_secret("SIGNING", SECRET).await;
    let webhook = "verify = \"github\"\nsecret = \"{{ secrets.SIGNING }}\"";
    let url = save(
        &api,
        &recipe("retried", "", webhook, &receiver.url("/retried")),
    )
    .await;
    let body = r#"{"amount": 12}"#;
    let signed = github(SECRET, body);
    let send = || {
        signed
            .iter()
            .fold(api.app.http.post(&url), |request, (name, value)| {
                request.header(name, value)
            })
            .header("content-type", "application/json")
            .body(body)
            .send()
    };

    let (status, first_id, _, first) = read(send().await.expect("request")).await;
    assert_eq!(status, 200, "{first}");
    let (status, event_id, duplicate, answer) = read(send().await.expect("request")).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(duplicate.as_deref(), Some("true"));
    assert_eq!(event_id, first_id);
    assert_eq!(answer, first);

    receiver.wait_for(1, WAIT).await;
    grace().await;
    assert_eq!(receiver.requests().len(), 1);
    assert_eq!(all_events(&api).await.len(), 1, "a retry stores nothing");
}

async fn a_filtered_event_answers_204_and_delivers_nothing(api: Api) {
    let receiver = Receiver::start().await;
    let url = save(
        &api,
        &recipe(
            "filtered",
            "dedupe = \"event.order\"",
            "",
            &receiver.url("/f"),
        ),
    )
    .await;
    let (status, event_id, duplicate, answer) = read(
        api.hook(&url, &json!({ "order": "o-2", "amount": 0 }))
            .await,
    )
    .await;
    assert_eq!(status, 204, "{answer}");
    assert_eq!(duplicate, None);
    let detail = api.event(&event_id).await;
    assert_eq!(detail["event"]["status"], "filtered", "{detail:#}");
    let runs = detail["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 1, "{detail:#}");
    assert_eq!(runs[0]["status"], "filtered");
    assert_eq!(detail["deliveries"], json!([]));

    // A filtered event takes no key: the same order passing later acts.
    let (status, _, duplicate, _) = read(
        api.hook(&url, &json!({ "order": "o-2", "amount": 3 }))
            .await,
    )
    .await;
    assert_eq!((status, duplicate), (200, None));
    receiver.wait_for(1, WAIT).await;
    grace().await;
    assert_eq!(receiver.requests().len(), 1);
}
