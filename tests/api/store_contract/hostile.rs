//! Hostile strings: whatever one store keeps, the other keeps, byte for byte. Each string goes
//! through every column that can carry outside text (payload, headers, content type, raw body,
//! sender delivery id, dedupe key, run output (also as a delivery's output) and error, response snippet,
//! attempt error, last error, poll error, refusal reason) and must come back identical.

use chrono::Utc;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use switchyard::store::{
    DedupeClaim, DeliveryAction, DeliveryNext, EventPage, EventStatus, Inserted, NewAttempt,
    NewDelivery, NewEvent, RunOutcome, SenderDelivery, Store, TickClaim,
};

use super::Raw;
use super::contracts::{LEASE, event, run};
use crate::helpers::spawn_app_with;

/// Bytes that are not UTF-8 (a lone continuation byte, an overlong form, a cut-off sequence).
const NOT_UTF8: &[u8] = b"\xff\xfe \xc0\xaf \x80 \xe2\x82";

/// `(what, string)`: the strings no store may refuse or change.
pub(super) fn hostile_strings() -> Vec<(&'static str, String)> {
    vec![
        ("NUL inside", "ok\0done".into()),
        ("only NULs", "\0\0\0".into()),
        ("empty", String::new()),
        ("other controls", "\x01\x08\x1b[31m\x7f\r\n\t".into()),
        // JSON's escape for a lone surrogate, as text: no store may decode it.
        ("surrogate escape text", r#"\ud800 and "\udfff""#.into()),
        // How invalid UTF-8 reaches the store: decoded with replacement characters.
        (
            "lossy invalid UTF-8",
            String::from_utf8_lossy(NOT_UTF8).into_owned(),
        ),
        ("4-byte emoji", "😀 👩‍👩‍👧 🏳️‍🌈 𝔘𝔫𝔦".into()),
        (
            "RTL marks",
            "\u{202e}txt.exe\u{202c} \u{200f}שלום\u{200e}".into(),
        ),
        (
            "BOM and noncharacters",
            "\u{feff}\u{fffe}\u{ffff}\u{10ffff}".into(),
        ),
        ("backslashes", r"\x00 \\ \0 \u0000 \n".into()),
        ("SQL and LIKE", "'; DROP TABLE events; -- %_ $1 ?".into()),
        (
            "long with NUL",
            format!("{}\0{}", "x".repeat(70_000), "é".repeat(10_000)),
        ),
    ]
}

/// An event whose every outside field carries `s`.
fn hostile_event(recipe: &str, s: &str) -> NewEvent {
    let mut body = s.as_bytes().to_vec();
    body.extend_from_slice(NOT_UTF8);
    body.extend_from_slice(br#"{"a":"\ud800"}"#);
    NewEvent {
        content_type: Some(s.into()),
        headers: json!({ "x-hostile": s, "x-list": [s, s] }),
        body,
        payload: hostile_json(s),
        ..event(recipe, Utc::now())
    }
}

fn hostile_json(s: &str) -> Value {
    let mut map = serde_json::Map::new();
    map.insert("s".into(), json!(s));
    map.insert(format!("key:{s}"), json!([s, { "deep": s }]));
    Value::Object(map)
}

pub(super) async fn hostile_strings_come_back_identical_from_every_outside_text_column(
    store: Arc<dyn Store>,
    _raw: &Raw,
) {
    for (n, (what, s)) in hostile_strings().into_iter().enumerate() {
        let recipe = format!("r{n}");
        round_trip_ingest(&store, &recipe, what, &s).await;
        round_trip_run_and_delivery(&store, &recipe, what, &s).await;
        round_trip_failures(&store, &recipe, what, &s).await;
    }
}

/// Event fields and the sender delivery id.
async fn round_trip_ingest(store: &Arc<dyn Store>, recipe: &str, what: &str, s: &str) {
    let ev = hostile_event(recipe, s);
    let sender = |id: &str| SenderDelivery {
        id: id.into(),
        since: Utc::now() - chrono::Duration::hours(1),
    };
    let first = store
        .insert_events_once(&[(ev.clone(), Some(sender(s)))])
        .await
        .unwrap_or_else(|e| panic!("{what}: event refused: {e}"));
    assert_eq!(first, vec![Inserted::Stored], "{what}");
    let retry = hostile_event(recipe, s);
    let again = store
        .insert_events_once(&[(retry, Some(sender(s)))])
        .await
        .unwrap();
    assert_eq!(
        again,
        vec![Inserted::Duplicate {
            event_id: ev.id.clone()
        }],
        "{what}: the same sender delivery id is a retry"
    );
    let other = store
        .insert_events_once(&[(event(recipe, Utc::now()), Some(sender(&format!("{s}\0"))))])
        .await
        .unwrap();
    assert_eq!(
        other,
        vec![Inserted::Stored],
        "{what}: a longer id is another delivery"
    );

    let stored = store.get_event(&ev.id).await.unwrap().unwrap().event;
    assert_eq!(
        stored.content_type.as_deref(),
        Some(s),
        "{what}: content type"
    );
    assert_eq!(stored.headers, ev.headers, "{what}: headers");
    assert_eq!(stored.body, ev.body, "{what}: raw body");
    assert_eq!(stored.payload, ev.payload, "{what}: payload");
}

/// Dedupe key, run output, the action's version and index, attempts and the delivery's last error.
async fn round_trip_run_and_delivery(store: &Arc<dyn Store>, recipe: &str, what: &str, s: &str) {
    // The events of round_trip_ingest are taken here too; only this one gets a run with work.
    let claimed = store.claim_events("w", 100, LEASE).await.unwrap();
    let ev = claimed
        .iter()
        .find(|e| e.recipe_id == recipe && e.payload == hostile_json(s))
        .unwrap_or_else(|| panic!("{what}: hostile event claimed"));
    assert_eq!(ev.headers["x-hostile"], json!(s), "{what}: claimed headers");
    let done = RunOutcome::Done {
        output: hostile_json(s),
        dedupe: Some(DedupeClaim {
            key: s.into(),
            window: Duration::from_secs(3600),
            force: false,
        }),
        deliveries: vec![NewDelivery {
            action_index: 0,
            action_name: "a0".into(),
            start: switchyard::store::DeliveryStart::Due(chrono::Utc::now()),
            after: None,
            throttle: None,
        }],
    };
    let mut first = run(&ev.id, done.clone());
    first.recipe_id = recipe.into();
    let status = store.complete_run("w", first).await;
    assert_eq!(status.unwrap(), EventStatus::Done, "{what}: run with key");
    assert!(
        store
            .dedupe_key_seen(recipe, s, Utc::now() - chrono::Duration::hours(1))
            .await
            .unwrap(),
        "{what}: key seen"
    );
    let longer = format!("{s}\0");
    assert!(
        !store
            .dedupe_key_seen(recipe, &longer, Utc::now() - chrono::Duration::hours(1))
            .await
            .unwrap(),
        "{what}: another key unseen"
    );
    for other in claimed.iter().filter(|e| e.id != ev.id) {
        let mut second = run(&other.id, done.clone());
        second.recipe_id = other.recipe_id.clone();
        let status = store.complete_run("w", second).await.unwrap();
        if other.recipe_id == recipe {
            assert_eq!(status, EventStatus::Duplicate, "{what}: same key again");
        }
    }

    let deliveries = store.claim_deliveries("w", 100, LEASE).await.unwrap();
    let delivery = deliveries
        .iter()
        .find(|d| d.event_id == ev.id)
        .unwrap_or_else(|| panic!("{what}: delivery claimed"));
    assert_eq!(
        delivery.action,
        DeliveryAction::Version {
            version: 1,
            index: 0
        },
        "{what}: the run's version and the action's index"
    );
    assert_eq!(delivery.output, hostile_json(s), "{what}: delivery output");
    assert_eq!(
        delivery.event_payload,
        hostile_json(s),
        "{what}: event payload"
    );
    let attempt = |no: u32, status_code: Option<u16>, error: Option<&str>| NewAttempt {
        delivery_id: delivery.id.clone(),
        attempt_no: no,
        started_at: Utc::now(),
        duration: Duration::from_millis(3),
        status_code,
        response_snippet: Some(s.into()),
        error: error.map(str::to_owned),
        response: None,
    };
    let retry_at = DeliveryNext::RetryAt(Utc::now() - chrono::Duration::seconds(1));
    let mut batch = vec![(attempt(1, None, Some(s)), retry_at)];
    for d in deliveries.iter().filter(|d| d.id != delivery.id) {
        let mut done = attempt(1, Some(200), None);
        done.delivery_id = d.id.clone();
        batch.push((done, DeliveryNext::Delivered));
    }
    store
        .record_attempts("w", batch)
        .await
        .unwrap_or_else(|e| panic!("{what}: attempt refused: {e}"));

    let detail = store.get_event(&ev.id).await.unwrap().unwrap();
    let run_view = &detail.runs[0];
    assert_eq!(
        run_view.dedupe_key.as_deref(),
        Some(s),
        "{what}: run dedupe key"
    );
    assert_eq!(
        run_view.output.as_ref(),
        Some(&hostile_json(s)),
        "{what}: run output"
    );
    let seen = &detail.deliveries[0];
    assert_eq!(seen.last_error.as_deref(), Some(s), "{what}: last error");
    assert_eq!(
        seen.attempts[0].response_snippet.as_deref(),
        Some(s),
        "{what}: snippet"
    );
    assert_eq!(
        seen.attempts[0].error.as_deref(),
        Some(s),
        "{what}: attempt error"
    );
}

/// Run errors, poll errors (a failed tick) and refusal reasons, also as the event lists show them.
async fn round_trip_failures(store: &Arc<dyn Store>, recipe: &str, what: &str, s: &str) {
    let ev = event(recipe, Utc::now());
    store
        .insert_events(std::slice::from_ref(&ev))
        .await
        .unwrap();
    store.claim_events("w", 100, LEASE).await.unwrap();
    let mut failed = run(&ev.id, RunOutcome::Failed { error: s.into() });
    failed.recipe_id = recipe.into();
    store
        .complete_run("w", failed)
        .await
        .unwrap_or_else(|e| panic!("{what}: failed run refused: {e}"));
    let detail = store.get_event(&ev.id).await.unwrap().unwrap();
    assert_eq!(
        detail.event.error.as_deref(),
        Some(s),
        "{what}: event error"
    );
    assert_eq!(
        detail.runs[0].error.as_deref(),
        Some(s),
        "{what}: run error"
    );
    let page = EventPage {
        recipe_id: Some(recipe.into()),
        statuses: vec![EventStatus::Failed],
        before: None,
        limit: 10,
    };
    let listed = store.page_events(&page).await.unwrap();
    assert_eq!(listed[0].error.as_deref(), Some(s), "{what}: listed error");

    let tick = TickClaim {
        recipe_id: recipe.into(),
        scheduled_for: Utc::now(),
        owner: "p".into(),
        skipped: 0,
        lease: std::time::Duration::from_secs(60),
    };
    assert!(store.claim_tick(&tick).await.unwrap());
    let poll = hostile_event(recipe, s);
    store
        .complete_tick(&tick, &[], Some((&poll, s)))
        .await
        .unwrap_or_else(|e| panic!("{what}: poll error refused: {e}"));
    let polled = store.get_event(&poll.id).await.unwrap().unwrap().event;
    assert_eq!(polled.error.as_deref(), Some(s), "{what}: poll error");
    assert_eq!(polled.payload, poll.payload, "{what}: poll payload");

    store
        .record_refusal(recipe, s)
        .await
        .unwrap_or_else(|e| panic!("{what}: refusal refused: {e}"));
    let refusals = store.list_refusals().await.unwrap();
    let mine = refusals.iter().find(|r| r.recipe_id == recipe).unwrap();
    assert_eq!(mine.last_reason, s, "{what}: refusal reason");
}

/// A receiver that answers every call `200` with `body`.
async fn answering(body: &'static [u8]) -> String {
    let server = actix_web::HttpServer::new(move || {
        actix_web::App::new().default_service(actix_web::web::to(move || async move {
            actix_web::HttpResponse::Ok()
                .content_type("text/plain")
                .body(body)
        }))
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let port = server.addrs()[0].port();
    tokio::spawn(server.run());
    format!("http://127.0.0.1:{port}/hook")
}

/// The issue's own inputs, end to end: a receiver answering `ok\0done` plus bytes that are not
/// UTF-8, and a dedupe key holding U+0000. The attempt is recorded (once, not re-sent every
/// lease period) and the key dedupes, on either backend.
async fn a_nul_in_a_response_and_a_dedupe_key_is_recorded(database_url: Option<String>) {
    let app = spawn_app_with(|s| s.database_url = database_url).await;
    let url = answering(b"ok\0done \xff\xfe").await;
    let recipe = app
        .import(&format!(
            r#"
id = "nul"
name = "NUL"
dedupe = "event.key"
[trigger.webhook]
[[action]]
name = "notify"
url = "{url}"
timeout = "2s"
"#
        ))
        .await;
    let first = app.send_event(&recipe, &json!({ "key": "a\u{0}b" })).await;
    let detail = app.wait_for_deliveries(&first).await;
    assert_eq!(detail.event.status, EventStatus::Delivered, "{detail:#?}");
    assert_eq!(detail.runs[0].dedupe_key.as_deref(), Some("a\0b"));
    let attempts = &detail.deliveries[0].attempts;
    assert_eq!(attempts.len(), 1, "recorded once: {attempts:#?}");
    assert_eq!(
        attempts[0].response_snippet.as_deref(),
        Some("ok\0done \u{fffd}\u{fffd}")
    );

    let second = app.send_event(&recipe, &json!({ "key": "a\u{0}b" })).await;
    let duplicate = app.wait_for_run(&second).await;
    assert_eq!(
        duplicate.event.status,
        EventStatus::Duplicate,
        "{duplicate:#?}"
    );
    let other = app.send_event(&recipe, &json!({ "key": "a\u{0}c" })).await;
    let delivered = app.wait_for_deliveries(&other).await;
    assert_eq!(delivered.event.status, EventStatus::Delivered);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_records_a_nul_in_a_response_and_a_dedupe_key() {
    a_nul_in_a_response_and_a_dedupe_key_is_recorded(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_records_a_nul_in_a_response_and_a_dedupe_key() {
    let Some(db) = super::PgDatabase::create().await else {
        return;
    };
    a_nul_in_a_response_and_a_dedupe_key_is_recorded(Some(db.url.clone())).await;
}
