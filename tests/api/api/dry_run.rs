//! `POST /api/recipes/{id}/test`: the dry run shows what would happen and does none of it.

use serde_json::{Value, json};

use super::spawn_api;
use crate::helpers::grace;
use crate::receiver::Receiver;

const API_KEY: &str = "sk_live_do_not_print_me_8c1f";
const SIGNING: &str = "whsec_c2VjcmV0IHNpZ25pbmcga2V5IDMyIGJ5dGVzIGxvbmch";

fn header<'a>(request: &'a Value, name: &str) -> Option<&'a str> {
    request["headers"]
        .as_array()
        .expect("headers as [name, value] pairs")
        .iter()
        .find(|h| h[0].as_str().is_some_and(|n| n.eq_ignore_ascii_case(name)))
        .map(|h| h[1].as_str().unwrap())
}

#[tokio::test]
async fn a_dry_run_shows_the_verdict_output_and_requests_with_secret_references_and_sends_nothing()
{
    let api = spawn_api().await;
    let receiver = Receiver::start().await;
    for (name, value) in [("API_KEY", API_KEY), ("SIGN", SIGNING)] {
        api.put_json(&format!("/api/secrets/{name}"), &json!({ "value": value }))
            .await
            .expect(204);
    }
    let toml = format!(
        r#"id = "orders"
name = "Orders"
dedupe = "event.order.id"

[trigger.webhook]

[filter]
script = 'event.order.total > 100'

[transform]
script = '#{{ id: event.order.id, total: event.order.total * 2 }}'

[[action]]
name = "crm"
method = "PUT"
url = "{base}/orders/{{{{ output.id }}}}"
headers = {{ Authorization = "Bearer {{{{ secrets.API_KEY }}}}", "X-Customer" = "{{{{ event.customer }}}}" }}
secret = "{{{{ secrets.SIGN }}}}"

[[action]]
name = "audit"
url = "{base}/audit"
body = "order {{{{ output.id }}}} key {{{{ secrets.API_KEY }}}}"
"#,
        base = receiver.base
    );
    let recipe = api.save(&toml, "created").await;

    let payload = json!({ "order": { "id": "ord_9", "total": 150 }, "customer": "Ada" });
    let reply = api
        .post_json("/api/recipes/orders/test", &payload)
        .await
        .expect(200);
    assert!(
        !reply.text.contains(API_KEY) && !reply.text.contains(SIGNING),
        "a secret value leaked: {}",
        reply.text
    );
    let report = reply.json();
    assert_eq!(report["filter"], true, "{report:#}");
    assert_eq!(report["error"], Value::Null, "{report:#}");
    assert_eq!(report["dedupe_key"], "ord_9", "{report:#}");
    assert_eq!(report["output"], json!({ "id": "ord_9", "total": 300 }));
    let requests = report["requests"].as_array().expect("requests");
    assert_eq!(requests.len(), 2, "{report:#}");

    assert_eq!(requests[0]["action"], "crm");
    let crm = &requests[0]["request"];
    assert_eq!(crm["method"], "PUT");
    assert_eq!(crm["url"], format!("{}/orders/ord_9", receiver.base));
    assert_eq!(
        header(crm, "authorization"),
        Some("Bearer {{ secrets.API_KEY }}")
    );
    assert_eq!(header(crm, "x-customer"), Some("Ada"));
    assert!(header(crm, "webhook-id").is_some(), "{crm:#}");
    let signature = header(crm, "webhook-signature").expect("signature shown");
    assert!(signature.contains("{{ secrets.SIGN }}"), "{signature}");
    let body: Value = serde_json::from_str(crm["body"].as_str().unwrap()).unwrap();
    assert_eq!(body, json!({ "id": "ord_9", "total": 300 }));

    assert_eq!(requests[1]["action"], "audit");
    let audit = &requests[1]["request"];
    assert_eq!(audit["method"], "POST");
    assert_eq!(audit["body"], "order ord_9 key {{ secrets.API_KEY }}");

    // A payload the filter rejects: verdict false, nothing planned.
    let rejected = api
        .post_json(
            "/api/recipes/orders/test",
            &json!({ "order": { "id": "ord_1", "total": 5 } }),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(rejected["filter"], false, "{rejected:#}");
    assert_eq!(rejected["output"], Value::Null);
    assert_eq!(rejected["requests"], json!([]));

    // A payload the scripts cannot handle: the error, as data.
    let broken = api
        .post_json("/api/recipes/orders/test", &json!({ "order": "nope" }))
        .await
        .expect(200)
        .json();
    assert!(broken["error"].is_string(), "{broken:#}");

    // Nothing was sent, nothing stored, and the dry runs did not use up the dedupe key.
    grace().await;
    assert!(receiver.requests().is_empty(), "{:#?}", receiver.requests());
    assert_eq!(
        api.get("/api/events").await.expect(200).json()["events"],
        json!([])
    );
    assert_eq!(api.app.event_count().await, 0);
    let event_id = api.send(&recipe, &payload).await;
    api.wait_for_status(&event_id, "delivered").await;
    let sent = receiver.wait_for(2, super::DEADLINE).await;
    let crm = sent.iter().find(|r| r.path == "/orders/ord_9").unwrap();
    assert_eq!(
        crm.header("authorization"),
        Some(format!("Bearer {API_KEY}").as_str()),
        "the real delivery uses the secret"
    );
}

#[tokio::test]
async fn a_dry_run_needs_a_json_payload() {
    let api = spawn_api().await;
    api.save(
        &super::recipe_toml("dry", "https://example.com/x", "event", r#"["0s"]"#),
        "created",
    )
    .await;
    let reply = api
        .call(
            reqwest::Method::POST,
            "/api/recipes/dry/test",
            Some(super::TOKEN),
            Some(("application/json", b"{not json".to_vec())),
        )
        .await;
    let message = reply.expect_error(400);
    assert!(!message.is_empty());
}
