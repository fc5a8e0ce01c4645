//! Outbound actions: what is sent, how it is signed, how failures are retried and recorded.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;
use switchyard::store::EventStatus;

use crate::helpers::{WAIT, grace, spawn_app, spawn_app_with};
use crate::receiver::{Receiver, Recorded};

mod legacy;
mod secrets;
pub(crate) mod versions;

const SIGNING_KEY: &[u8] = b"test signing key, 32 bytes long!";

fn signing_secret() -> String {
    format!("whsec_{}", STANDARD.encode(SIGNING_KEY))
}

/// Checks `webhook-signature` against the Standard Webhooks rule, independently of the server.
fn assert_signature_verifies(request: &Recorded) {
    let id = request.header("webhook-id").expect("webhook-id");
    let ts = request
        .header("webhook-timestamp")
        .expect("webhook-timestamp");
    let signature = request
        .header("webhook-signature")
        .expect("webhook-signature");
    let mut mac = Hmac::<Sha256>::new_from_slice(SIGNING_KEY).unwrap();
    mac.update(format!("{id}.{ts}.").as_bytes());
    mac.update(&request.body);
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    assert!(
        signature.split(' ').any(|s| s == expected),
        "signature {signature} does not verify (expected {expected})"
    );
}

fn assert_timestamp_is_recent(request: &Recorded) {
    let ts: i64 = request
        .header("webhook-timestamp")
        .expect("webhook-timestamp")
        .parse()
        .expect("webhook-timestamp is unix seconds");
    let now = chrono::Utc::now().timestamp();
    assert!(
        (now - ts).abs() < 120,
        "timestamp {ts} is far from now {now}"
    );
}

fn one_action_recipe(id: &str, url: &str, schedule: &str) -> String {
    format!(
        r#"
id = "{id}"
name = "One action"
[trigger.webhook]
[transform]
script = '#{{ order: event.order, total: event?.total }}'
[[action]]
name = "notify"
url = "{url}"
timeout = "2s"
retry = {{ schedule = {schedule} }}
"#
    )
}

#[tokio::test]
async fn delivered_requests_have_the_method_path_headers_and_body_the_recipe_says() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    app.set_secret("API_KEY", "key-123").await;
    app.set_secret("SIGN", &signing_secret()).await;
    let recipe = app
        .import(&format!(
            r#"
id = "shape"
name = "Request shape"
[trigger.webhook]
[transform]
script = '#{{ order_id: event.order.id, amount: event.order.amount * 2 }}'

[[action]]
name = "templated"
method = "PUT"
url = "{base}/orders/{{{{ output.order_id }}}}"
headers = {{ "X-Order" = "{{{{ output.order_id }}}}", "X-Customer" = "{{{{ event.customer.name }}}}", "Authorization" = "Bearer {{{{ secrets.API_KEY }}}}", "Content-Type" = "text/plain" }}
body = "order {{{{ output.order_id }}}} for {{{{ event.customer.name }}}}: {{{{ output.amount }}}}"
secret = "{{{{ secrets.SIGN }}}}"

[[action]]
name = "default-body"
url = "{base}/default"
"#,
            base = receiver.base
        ))
        .await;

    let payload =
        json!({ "order": { "id": "ord_7", "amount": 21 }, "customer": { "name": "Ada" } });
    let event_id = app.send_event(&recipe, &payload).await;
    let detail = app.wait_for_deliveries(&event_id).await;
    let requests = receiver.wait_for(2, WAIT).await;
    let by_path = |path: &str| {
        requests
            .iter()
            .find(|r| r.path == path)
            .unwrap_or_else(|| panic!("no request to {path}: {requests:#?}"))
    };
    let delivery_id = |name: &str| {
        let d = detail
            .deliveries
            .iter()
            .find(|d| d.action_name == name)
            .unwrap();
        assert_eq!(d.status, "delivered", "{d:#?}");
        d.id.clone()
    };

    let templated = by_path("/orders/ord_7");
    assert_eq!(templated.method, "PUT");
    assert_eq!(templated.header("x-order"), Some("ord_7"));
    assert_eq!(templated.header("x-customer"), Some("Ada"));
    assert_eq!(templated.header("authorization"), Some("Bearer key-123"));
    assert_eq!(templated.header("content-type"), Some("text/plain"));
    assert_eq!(templated.body, b"order ord_7 for Ada: 42");
    assert_eq!(
        templated.header("webhook-id"),
        Some(delivery_id("templated").as_str())
    );
    assert_timestamp_is_recent(templated);
    assert_signature_verifies(templated);

    let default = by_path("/default");
    assert_eq!(default.method, "POST");
    assert_eq!(default.header("content-type"), Some("application/json"));
    assert_eq!(default.json(), json!({ "order_id": "ord_7", "amount": 42 }));
    assert_eq!(
        default.header("webhook-id"),
        Some(delivery_id("default-body").as_str())
    );
    assert_timestamp_is_recent(default);
    assert_eq!(default.header("webhook-signature"), None, "unsigned action");
}

#[tokio::test]
async fn webhook_id_is_stable_across_retries_of_one_delivery() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    receiver.respond_with(&[500]);
    app.set_secret("SIGN", &signing_secret()).await;
    let recipe = app
        .import(&format!(
            r#"
id = "stable-id"
name = "Stable id"
[trigger.webhook]
[[action]]
name = "notify"
url = "{}"
retry = {{ schedule = ["0s", "200ms", "200ms"] }}
secret = "{{{{ secrets.SIGN }}}}"
"#,
            receiver.url("/hook")
        ))
        .await;

    let event_id = app.send_event(&recipe, &json!({ "n": 1 })).await;
    let detail = app.wait_for_deliveries(&event_id).await;
    let requests = receiver.wait_for(2, WAIT).await;
    assert_eq!(requests.len(), 2, "one failure, one success: {requests:#?}");
    let gap = requests[1].at - requests[0].at;
    assert!(
        gap >= std::time::Duration::from_millis(150),
        "the retry waited its 200ms (±20%) delay, not {gap:?}"
    );
    let delivery = &detail.deliveries[0];
    assert_eq!(delivery.status, "delivered");
    for request in &requests {
        assert_eq!(request.header("webhook-id"), Some(delivery.id.as_str()));
        assert_timestamp_is_recent(request);
        assert_signature_verifies(request);
        assert_eq!(
            request.json(),
            json!({ "n": 1 }),
            "no transform: the event is sent"
        );
    }
}

#[tokio::test]
async fn receiver_failing_twice_then_succeeding_is_delivered_on_the_third_attempt_with_all_attempts_recorded()
 {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    receiver.respond_with(&[500, 500]);
    let recipe = app
        .import(&one_action_recipe(
            "third-time",
            &receiver.url("/hook"),
            r#"["0s", "200ms", "200ms"]"#,
        ))
        .await;

    let event_id = app
        .send_event(&recipe, &json!({ "order": "o1", "total": 3 }))
        .await;
    let detail = app.wait_for_deliveries(&event_id).await;
    let delivery = &detail.deliveries[0];
    assert_eq!(delivery.status, "delivered", "{delivery:#?}");
    assert_eq!(detail.event.status, EventStatus::Delivered);
    assert_eq!(delivery.attempt_count, 3);
    let attempts = &delivery.attempts;
    assert_eq!(attempts.len(), 3, "{attempts:#?}");
    let numbers: Vec<u32> = attempts.iter().map(|a| a.attempt_no).collect();
    assert_eq!(numbers, [1, 2, 3]);
    let statuses: Vec<Option<u16>> = attempts.iter().map(|a| a.status_code).collect();
    assert_eq!(statuses, [Some(500), Some(500), Some(200)]);
    for attempt in attempts {
        let status = attempt.status_code.unwrap();
        let snippet = format!("receiver says {status}");
        assert_eq!(attempt.response_snippet.as_deref(), Some(snippet.as_str()));
        assert!(
            attempt.duration_ms >= 0 && attempt.duration_ms < 10_000,
            "{attempt:#?}"
        );
        assert_eq!(attempt.error, None);
    }
    assert!(attempts[0].started_at < attempts[1].started_at);
    assert!(attempts[1].started_at < attempts[2].started_at);

    grace().await;
    let requests = receiver.requests();
    assert_eq!(requests.len(), 3, "no call after the successful one");
    assert!(
        requests
            .iter()
            .all(|r| r.json() == json!({ "order": "o1", "total": 3 }))
    );
}

#[tokio::test]
async fn receiver_always_failing_makes_the_delivery_dead_after_the_whole_schedule() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    receiver.always(500);
    let recipe = app
        .import(&one_action_recipe(
            "always-500",
            &receiver.url("/hook"),
            r#"["0s", "200ms", "200ms"]"#,
        ))
        .await;

    let event_id = app.send_event(&recipe, &json!({ "order": "o2" })).await;
    let detail = app.wait_for_deliveries(&event_id).await;
    let delivery = &detail.deliveries[0];
    assert_eq!(delivery.status, "dead", "{delivery:#?}");
    assert_eq!(
        detail.event.status,
        EventStatus::Dead,
        "the event shows it gave up"
    );
    assert_eq!(delivery.attempt_count, 3);
    assert_eq!(
        delivery.next_attempt_at, None,
        "a dead delivery is not scheduled"
    );
    let statuses: Vec<Option<u16>> = delivery.attempts.iter().map(|a| a.status_code).collect();
    assert_eq!(statuses, [Some(500); 3]);
    assert!(
        delivery
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("500")),
        "last error names the status: {delivery:#?}"
    );

    grace().await;
    assert_eq!(
        receiver.requests().len(),
        3,
        "no attempt after the schedule ends"
    );
}

#[tokio::test]
async fn missing_secret_fails_the_attempt_naming_it_and_a_retry_delivers_once_it_is_set() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    let recipe = app
        .import(&format!(
            r#"
id = "needs-secret"
name = "Needs a secret"
[trigger.webhook]
[[action]]
name = "notify"
url = "{}"
headers = {{ "X-Api-Key" = "{{{{ secrets.LATE_KEY }}}}" }}
retry = {{ schedule = ["0s", "1s", "1s", "1s"] }}
"#,
            receiver.url("/hook")
        ))
        .await;

    let event_id = app.send_event(&recipe, &json!({ "n": 1 })).await;
    let detail = app
        .wait_for_event(&event_id, |d| {
            d.deliveries.first().is_some_and(|x| !x.attempts.is_empty())
        })
        .await;
    let first = &detail.deliveries[0].attempts[0];
    let error = first
        .error
        .as_deref()
        .expect("first attempt failed with an error");
    assert!(
        error.contains("LATE_KEY"),
        "error names the secret: {error}"
    );
    assert_eq!(first.status_code, None, "nothing was sent");
    assert!(receiver.requests().is_empty(), "no call without the secret");

    app.set_secret("LATE_KEY", "now-set").await;
    let detail = app.wait_for_deliveries(&event_id).await;
    let delivery = &detail.deliveries[0];
    assert_eq!(delivery.status, "delivered", "{delivery:#?}");
    assert!(delivery.attempts.len() >= 2);
    let requests = receiver.wait_for(1, WAIT).await;
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].header("x-api-key"), Some("now-set"));
}

#[tokio::test]
async fn calls_to_private_addresses_are_refused_unless_allowed() {
    let app = spawn_app_with(|s| s.allow_private_targets = false).await;
    let receiver = Receiver::start().await;
    let recipe = app
        .import(&one_action_recipe(
            "private",
            &receiver.url("/hook"),
            r#"["0s", "200ms", "200ms"]"#,
        ))
        .await;

    let event_id = app.send_event(&recipe, &json!({ "order": "o3" })).await;
    let detail = app.wait_for_deliveries(&event_id).await;
    let delivery = &detail.deliveries[0];
    assert_eq!(
        delivery.status, "dead",
        "refusals are not retried: {delivery:#?}"
    );
    assert_eq!(delivery.attempts.len(), 1);
    let error = delivery.attempts[0].error.as_deref().unwrap_or_default();
    assert!(error.contains("refused"), "{error}");
    assert!(
        error.contains("SWITCHYARD_ALLOW_PRIVATE_TARGETS"),
        "{error}"
    );

    grace().await;
    assert!(
        receiver.requests().is_empty(),
        "nothing reached the receiver"
    );
}
