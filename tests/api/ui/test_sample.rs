//! The recipe page's test panel starts from a payload of the shape the recipe gets, so a dry run
//! under strict field reads means something before the first event arrives.

use super::form_post::{ok_html, unescape};
#[allow(clippy::wildcard_imports)]
use super::*;

const STRIPE_VERIFIED: &str = r#"id = "paid"
name = "Paid"

[trigger.webhook]
verify = "stripe"
secret = "{{ secrets.STRIPE_SIGNING_SECRET }}"

[[action]]
name = "a"
url = "https://hooks.example.com/a"
"#;

#[tokio::test]
async fn before_any_event_the_test_panel_starts_from_the_example_or_trigger_preset_sample() {
    let (app, browser) = logged_in().await;
    let engine = ScriptEngine::new(ScriptLimits::default());
    let example = std::fs::read_to_string("recipes/stripe-payment-to-slack.toml").unwrap();
    import_source(app.store.as_ref(), &engine, &example, None, "test")
        .await
        .expect("imports the example");
    import_source(app.store.as_ref(), &engine, STRIPE_VERIFIED, None, "test")
        .await
        .expect("imports");

    let html = ok_html(browser.get("/recipes/stripe-payment-to-slack").await).await;
    let payload = test_payload(&html);
    assert!(
        payload.contains("pi_3Pq"),
        "the example's own sample payload: {payload}"
    );
    let html = ok_html(browser.get("/recipes/paid").await).await;
    let payload = test_payload(&html);
    assert!(
        payload.contains("payment_intent.succeeded"),
        "the stripe trigger preset's sample: {payload}"
    );
    assert!(!payload.contains("hello"), "no made-up payload: {payload}");
}

const GITHUB_PUSH: &str = r#"id = "gh-push"
name = "GitHub push"
dedupe = 'headers["x-github-delivery"]'

[trigger.webhook]
verify = "github"
secret = "{{ secrets.GITHUB_WEBHOOK_SECRET }}"

[[filter.when]]
field = "headers.x-github-event"
op = "eq"
value = "push"

[[action]]
name = "a"
url = "https://hooks.example.com/a"
"#;

#[tokio::test]
async fn the_test_panel_starts_with_the_trigger_presets_sample_headers_so_header_rows_decide() {
    let (app, browser) = logged_in().await;
    let engine = ScriptEngine::new(ScriptLimits::default());
    import_source(app.store.as_ref(), &engine, GITHUB_PUSH, None, "test")
        .await
        .expect("imports");
    let html = ok_html(browser.get("/recipes/gh-push").await).await;
    let headers = unescape(textarea(&html, "headers"));
    assert!(headers.contains("x-github-delivery"), "{headers}");
    let payload = unescape(textarea(&html, "payload"));
    let csrf = browser.csrf("/recipes/gh-push").await;
    let form = [
        ("csrf", csrf.as_str()),
        ("payload", payload.as_str()),
        ("headers", headers.as_str()),
        ("op", "dry_run"),
    ];
    let html = ok_html(browser.post("/recipes/gh-push/test", &form).await).await;
    assert!(html.contains("passed the filter"), "{html}");
}

/// The text of the test panel's payload box.
fn test_payload(html: &str) -> &str {
    textarea(html, "payload")
}

/// The text of a textarea by name.
fn textarea<'a>(html: &'a str, name: &str) -> &'a str {
    let start = html
        .find(&format!("<textarea name=\"{name}\""))
        .expect("the test panel's box");
    let body = &html[start..];
    let body = &body[body.find('>').unwrap() + 1..];
    &body[..body.find("</textarea>").unwrap()]
}
