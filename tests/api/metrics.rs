//! `/metrics` (Prometheus text, bearer token) counts accepted and refused webhooks per recipe,
//! runs by status, attempts by outcome with their durations, and the pending backlog; refused
//! calls are also shown on the recipe's UI page and in the API — never with the secret.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::hardening::{API_TOKEN, spawn_logged_in};
use crate::helpers::TestApp;
use crate::receiver::Receiver;

const SECRET: &str = "hook-secret-9a7c1e55b2";
const WAIT: Duration = Duration::from_secs(30);

fn recipe(id: &str, url: &str, retry: &str) -> String {
    format!(
        r#"
id = "{id}"
name = "Metered {id}"
[trigger.webhook]
verify = "token"
secret = "{{{{ secrets.HOOK_TOKEN }}}}"
[[action]]
name = "notify"
url = "{url}"
retry = {{ schedule = {retry} }}
"#
    )
}

async fn call(app: &TestApp, token: &str, path: &str) -> reqwest::Response {
    app.http
        .get(format!("{}{path}", app.address))
        .bearer_auth(token)
        .send()
        .await
        .expect("request")
}

async fn scrape(app: &TestApp) -> String {
    let response = call(app, API_TOKEN, "/metrics").await;
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    response.text().await.unwrap()
}

/// Scrapes until every line is there (workers count just before they commit).
async fn scrape_until(app: &TestApp, lines: &[&str]) -> String {
    let deadline = Instant::now() + WAIT;
    loop {
        let text = scrape(app).await;
        let missing: Vec<_> = lines.iter().filter(|l| !text.contains(**l)).collect();
        if missing.is_empty() {
            return text;
        }
        assert!(Instant::now() < deadline, "missing {missing:?} in:\n{text}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn hook(app: &TestApp, id: &str, token: Option<&str>) -> reqwest::Response {
    let stored = app.store.get_recipe(id).await.unwrap().expect("recipe");
    let mut request = app.http.post(app.hook_url(&stored)).json(&json!({"n": 1}));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("webhook request")
}

#[tokio::test]
async fn metrics_count_a_delivered_webhook_and_refused_ones_per_recipe() {
    let (app, _) = spawn_logged_in().await;
    let receiver = Receiver::start().await;
    app.set_secret("HOOK_TOKEN", SECRET).await;
    app.import(&recipe("metered", &receiver.url("/in"), r#"["0s"]"#))
        .await;

    assert_eq!(hook(&app, "metered", Some(SECRET)).await.status(), 202);
    receiver.wait_for(1, WAIT).await;
    assert_eq!(hook(&app, "metered", Some("wrong")).await.status(), 401);
    assert_eq!(hook(&app, "metered", None).await.status(), 401);

    let unauthorized = app
        .http
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(unauthorized.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        call(&app, "not-a-token", "/metrics").await.status(),
        StatusCode::UNAUTHORIZED
    );

    let text = scrape_until(
        &app,
        &[
            r#"switchyard_webhooks_accepted_total{recipe="metered"} 1"#,
            r#"switchyard_webhooks_refused_total{reason="bad_token",recipe="metered"} 1"#,
            r#"switchyard_webhooks_refused_total{reason="missing_token",recipe="metered"} 1"#,
            r#"switchyard_events_processed_total{recipe="metered",status="done"} 1"#,
            r#"switchyard_delivery_attempts_total{outcome="delivered",recipe="metered"} 1"#,
            r#"switchyard_delivery_attempt_duration_seconds_count{outcome="delivered"} 1"#,
            "switchyard_deliveries_pending 0",
            "switchyard_events_pending 0",
        ],
    )
    .await;
    assert!(text.contains("# TYPE switchyard_delivery_attempt_duration_seconds histogram"));
    assert!(text.contains("switchyard_build_info{version="));
    assert!(!text.contains(SECRET), "the secret never shows");
    assert!(!text.contains("wrong"), "nor what a caller presented");
}

#[tokio::test]
async fn a_failed_attempt_counts_as_retry_and_leaves_a_pending_delivery() {
    let (app, _) = spawn_logged_in().await;
    let receiver = Receiver::start().await;
    receiver.always(500);
    app.set_secret("HOOK_TOKEN", SECRET).await;
    app.import(&recipe("flaky", &receiver.url("/in"), r#"["0s", "1h"]"#))
        .await;
    assert_eq!(hook(&app, "flaky", Some(SECRET)).await.status(), 202);

    scrape_until(
        &app,
        &[
            r#"switchyard_delivery_attempts_total{outcome="retry",recipe="flaky"} 1"#,
            r#"switchyard_delivery_attempt_duration_seconds_count{outcome="retry"} 1"#,
            "switchyard_deliveries_pending 1",
        ],
    )
    .await;
}

#[tokio::test]
async fn refused_calls_show_on_the_recipe_page_and_in_the_api_without_the_secret() {
    let (app, browser) = spawn_logged_in().await;
    app.set_secret("HOOK_TOKEN", SECRET).await;
    app.import(&recipe(
        "guarded",
        "https://crm.example.com/in",
        r#"["0s"]"#,
    ))
    .await;

    let detail: Value = call(&app, API_TOKEN, "/api/recipes/guarded")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        detail["refusals"],
        json!({"count": 0, "last_reason": null, "last_at": null})
    );
    assert_eq!(
        detail["id"], "guarded",
        "the recipe's own fields stay at the top"
    );
    let page = browser.text("/recipes/guarded").await;
    assert!(!page.contains("refused call"), "nothing to report yet");

    assert_eq!(hook(&app, "guarded", None).await.status(), 401);
    assert_eq!(hook(&app, "guarded", Some("guess")).await.status(), 401);

    let detail: Value = call(&app, API_TOKEN, "/api/recipes/guarded")
        .await
        .json()
        .await
        .unwrap();
    let refusals = &detail["refusals"];
    assert_eq!(refusals["count"], 2, "{detail:#}");
    assert_eq!(refusals["last_reason"], "invalid token");
    let last_at = refusals["last_at"].as_str().expect("a time");
    let at = chrono::DateTime::parse_from_rfc3339(last_at).expect("RFC 3339");
    assert!((chrono::Utc::now() - at.to_utc()).num_seconds() < 60);
    let list: Value = call(&app, API_TOKEN, "/api/recipes")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list[0]["refusals"]["count"], 2, "{list:#}");

    let page = browser.text("/recipes/guarded").await;
    assert!(
        page.contains("<strong>2 refused calls</strong>, last: invalid token at"),
        "{page}"
    );
    let list_page = browser.text("/").await;
    assert!(list_page.contains("2 refused</a>"), "the list flags it");

    for (what, text) in [
        ("API", detail.to_string()),
        ("API list", list.to_string()),
        ("UI page", page),
        ("UI list", list_page),
        ("metrics", scrape(&app).await),
    ] {
        assert!(!text.contains(SECRET), "the secret shows in the {what}");
        assert!(
            !text.contains("guess"),
            "the presented token shows in the {what}"
        );
    }
}
