//! `allow_from` through the real server (which the tests reach from 127.0.0.1): an allowed
//! peer is accepted; any other gets 403, counted as a refusal, storing nothing; behind a
//! trusted proxy (`SWITCHYARD_TRUSTED_PROXIES`) the rightmost untrusted `X-Forwarded-For` /
//! `Forwarded` hop is judged; from an untrusted peer those headers are ignored.

use std::path::Path;

use reqwest::RequestBuilder;
use serde_json::Value;
use switchyard::store::StoredRecipe;

use crate::binary::Cli;
use crate::helpers::{TestApp, spawn_app, spawn_app_with};

const API_TOKEN: &str = "allow-from-test-token";

fn recipe(allow_from: &str, extra: &str) -> String {
    format!(
        "id = \"guarded\"\nname = \"Guarded\"\n[trigger.webhook]\nallow_from = {allow_from}\n{extra}\n\
         [[action]]\nname = \"a\"\nurl = \"http://127.0.0.1:9/\"\n"
    )
}

async fn guarded(app: &TestApp, allow_from: &str) -> StoredRecipe {
    app.import(&recipe(allow_from, "")).await
}

fn post(app: &TestApp, recipe: &StoredRecipe) -> RequestBuilder {
    app.http
        .post(app.hook_url(recipe))
        .json(&serde_json::json!({ "id": 1 }))
}

/// Sends, expects `status`, returns the answer's `error` (or "" when accepted).
async fn answer(request: RequestBuilder, status: u16) -> String {
    let response = request.send().await.expect("webhook request");
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.expect("json answer");
    body["error"].as_str().unwrap_or_default().to_owned()
}

async fn refusals(app: &TestApp) -> (u64, String) {
    let all = app.store.list_refusals().await.unwrap();
    all.first()
        .map_or((0, String::new()), |r| (r.count, r.last_reason.clone()))
}

async fn proxied_app() -> TestApp {
    spawn_app_with(|s| s.trusted_proxies = "127.0.0.1/32".parse().unwrap()).await
}

#[tokio::test]
async fn a_peer_inside_allow_from_is_accepted() {
    let app = spawn_app().await;
    let recipe = guarded(&app, r#"["192.0.2.0/24", "127.0.0.1/32"]"#).await;
    answer(post(&app, &recipe), 202).await;
    assert_eq!(app.event_count().await, 1);
    assert_eq!(refusals(&app).await.0, 0);
}

#[tokio::test]
async fn a_peer_outside_allow_from_gets_403_is_counted_and_nothing_is_stored() {
    let app = spawn_app_with(|s| s.api_token = Some(API_TOKEN.into())).await;
    let recipe = guarded(&app, r#"["192.0.2.0/24"]"#).await;
    let error = answer(post(&app, &recipe), 403).await;
    assert!(
        error.contains("calls from 127.0.0.1 are not accepted"),
        "{error}"
    );
    assert!(
        !error.contains("192.0.2.0"),
        "the allowlist stays private: {error}"
    );
    assert_eq!(app.event_count().await, 0);
    let (count, reason) = refusals(&app).await;
    assert_eq!((count, reason.as_str()), (1, error.as_str()));
    let metrics = app
        .http
        .get(format!("{}/metrics", app.address))
        .bearer_auth(API_TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let line =
        r#"switchyard_webhooks_refused_total{reason="address_not_allowed",recipe="guarded"} 1"#;
    assert!(metrics.contains(line), "{metrics}");
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_rightmost_untrusted_forwarded_hop_is_judged() {
    let app = proxied_app().await;
    let recipe = guarded(&app, r#"["192.0.2.0/24"]"#).await;
    // The proxy appended 192.0.2.5, the address that connected to it; the left part is the
    // sender's own claim.
    let xff = "198.51.100.9, 192.0.2.5";
    answer(post(&app, &recipe).header("x-forwarded-for", xff), 202).await;
    // A client that writes an allowed address first is judged by where it really came from.
    let forged = "192.0.2.5, 198.51.100.9";
    let error = answer(post(&app, &recipe).header("x-forwarded-for", forged), 403).await;
    assert!(error.contains("calls from 198.51.100.9"), "{error}");

    let fwd = "for=198.51.100.9, for=\"192.0.2.5:4711\";proto=https";
    answer(post(&app, &recipe).header("forwarded", fwd), 202).await;
    let error = answer(post(&app, &recipe).header("forwarded", "for=unknown"), 403).await;
    assert!(
        error.contains("the client address is not known (unknown)"),
        "{error}"
    );
    // Without forwarding headers the trusted proxy itself is the client.
    answer(post(&app, &recipe), 403).await;
    assert_eq!(app.event_count().await, 2);
    assert_eq!(refusals(&app).await.0, 3);
}

#[tokio::test]
async fn an_unreadable_forwarding_header_from_a_trusted_proxy_is_refused_with_400_naming_it() {
    let app = proxied_app().await;
    let recipe = guarded(&app, r#"["192.0.2.0/24"]"#).await;
    let cases = [
        (
            "x-forwarded-for",
            "192.0.2.5, not-an-address",
            "X-Forwarded-For from a trusted proxy",
        ),
        (
            "forwarded",
            "for=2001:db8::1",
            "Forwarded from a trusted proxy",
        ),
    ];
    for (name, value, expected) in cases {
        let error = answer(post(&app, &recipe).header(name, value), 400).await;
        assert!(error.starts_with(expected), "{value}: {error}");
    }
    // Both headers naming different clients: one of them was passed through from the sender.
    let both = post(&app, &recipe)
        .header("x-forwarded-for", "198.51.100.9")
        .header("forwarded", "for=192.0.2.5");
    let error = answer(both, 400).await;
    assert!(
        error.contains("X-Forwarded-For names 198.51.100.9"),
        "{error}"
    );
    assert_eq!(app.event_count().await, 0);
    assert_eq!(refusals(&app).await.0, 3, "each 400 counted");
}

#[tokio::test]
async fn forwarding_headers_from_an_untrusted_peer_are_ignored() {
    // Not configured at all, and configured for another range: 127.0.0.1 is not a proxy.
    for proxies in ["", "10.0.0.0/8"] {
        let app = spawn_app_with(|s| s.trusted_proxies = proxies.parse().unwrap()).await;
        let recipe = guarded(&app, r#"["192.0.2.0/24"]"#).await;
        let forged = [
            ("x-forwarded-for", "192.0.2.5"),
            ("forwarded", "for=192.0.2.5"),
            ("forwarded", "for"),
        ];
        for (name, value) in forged {
            let error = answer(post(&app, &recipe).header(name, value), 403).await;
            assert!(
                error.contains("calls from 127.0.0.1"),
                "{proxies} {value}: {error}"
            );
        }
        assert_eq!(app.event_count().await, 0);
        assert_eq!(refusals(&app).await.0, 3);
    }
}

#[tokio::test]
async fn a_handshake_from_outside_allow_from_is_refused_too() {
    let app = spawn_app().await;
    let outside = app
        .import(&recipe(r#"["192.0.2.0/24"]"#, "handshake = \"dropbox\""))
        .await;
    let url = format!("{}?challenge=abc123", app.hook_url(&outside));
    answer(app.http.get(&url), 403).await;
    let inside = app
        .import(&recipe(r#"["127.0.0.1"]"#, "handshake = \"dropbox\"").replace("guarded", "inside"))
        .await;
    let url = format!("{}?challenge=abc123", app.hook_url(&inside));
    let response = app.http.get(&url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "abc123");
}

#[test]
fn check_refuses_an_empty_or_malformed_allow_from_naming_file_key_and_entry() {
    let cli = Cli::without_store();
    let cases = [
        ("empty.toml", "[]", "trigger.webhook.allow_from: is empty"),
        (
            "bad-prefix.toml",
            r#"["192.0.2.0/24", "2001:db8::/129"]"#,
            "trigger.webhook.allow_from[1]: `2001:db8::/129`: the prefix length must be 0 to 128",
        ),
        (
            "host-bits.toml",
            r#"["192.0.2.5/24"]"#,
            "trigger.webhook.allow_from[0]: `192.0.2.5/24`: host bits are set",
        ),
    ];
    for (name, list, expected) in cases {
        let file = cli.write(name, &recipe(list, ""));
        let stderr = cli.run(&[Path::new("check"), &file]).fails().to_owned();
        assert!(stderr.contains(name), "{name}: {stderr}");
        assert!(stderr.contains(expected), "{name}: {stderr}");
    }
}

#[test]
fn an_invalid_trusted_proxies_entry_stops_the_server_naming_it() {
    let out = Cli::new()
        .with_env("SWITCHYARD_TRUSTED_PROXIES", "10.0.0.0/8,proxy.internal")
        .run(&["serve", "--bind", "127.0.0.1:0"]);
    assert_ne!(out.code, Some(0), "{out:#?}");
    assert!(
        out.stderr
            .contains("invalid SWITCHYARD_TRUSTED_PROXIES entry `proxy.internal`"),
        "{out:#?}"
    );
}
