//! The SSRF guard through the real server (refused, dead after one attempt, the rule named;
//! allowlisted ranges and host names delivered) and secrets at rest (the database files never
//! hold a secret's plaintext, even when a receiver echoes it back).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::json;
use switchyard::startup::Application;
use switchyard::store::SyncMode;
use switchyard::store::crypto::SecretKey;

use crate::binary::Cli;
use crate::helpers::{TestApp, WAIT, grace, spawn_app_with, test_settings};
use crate::receiver::Receiver;

const API_TOKEN: &str = "security-test-token-5d1e";
const SECRET: &str = "sk_live_9f2c7e41b8d3a6e5";

fn recipe(id: &str, url: &str, extra: &str) -> String {
    format!(
        r#"
id = "{id}"
name = "Security"
[trigger.webhook]
[[action]]
name = "call"
url = "{url}"
timeout = "2s"
retry = {{ schedule = ["0s", "100ms", "100ms"] }}
{extra}
"#
    )
}

async fn deliver_once(app: &TestApp, url: &str) -> switchyard::store::DeliveryView {
    let recipe = app.import(&recipe("guarded", url, "")).await;
    let event_id = app.send_event(&recipe, &json!({ "n": 1 })).await;
    let detail = app.wait_for_deliveries(&event_id).await;
    detail.deliveries[0].clone()
}

#[tokio::test]
async fn a_call_to_a_private_address_is_refused_dead_after_one_attempt_and_names_the_rule() {
    let app = spawn_app_with(|s| s.allow_private_targets = false).await;
    let receiver = Receiver::start().await;
    let delivery = deliver_once(&app, &receiver.url("/hook")).await;
    assert_eq!(delivery.status, "dead", "not retried: {delivery:#?}");
    assert_eq!(delivery.attempts.len(), 1);
    let error = delivery.attempts[0].error.as_deref().unwrap_or_default();
    assert!(
        error.starts_with("refused: 127.0.0.1 is in the loopback range (127.0.0.0/8)"),
        "{error}"
    );
    assert!(error.contains("SWITCHYARD_OUTBOUND_ALLOW"), "{error}");
    grace().await;
    assert!(
        receiver.requests().is_empty(),
        "nothing reached the receiver"
    );
}

#[tokio::test]
async fn an_allowlisted_range_or_host_name_is_delivered() {
    for allow in ["127.0.0.1/32", "10.0.0.0/8,localhost"] {
        let app = spawn_app_with(|s| {
            s.allow_private_targets = false;
            s.outbound_allow = allow.parse().expect("valid allowlist");
        })
        .await;
        let receiver = Receiver::start().await;
        let url = if allow.contains("localhost") {
            receiver.url("/hook").replace("127.0.0.1", "localhost")
        } else {
            receiver.url("/hook")
        };
        let delivery = deliver_once(&app, &url).await;
        assert_eq!(delivery.status, "delivered", "{allow}: {delivery:#?}");
        assert_eq!(receiver.wait_for(1, WAIT).await.len(), 1);
    }
}

#[test]
fn an_invalid_allowlist_entry_stops_the_server_naming_it() {
    let out = Cli::new()
        .with_env("SWITCHYARD_OUTBOUND_ALLOW", "10.1.2.0/24,10.0.0.0/33")
        .run(&["serve", "--bind", "127.0.0.1:0"]);
    assert_ne!(out.code, Some(0), "{out:#?}");
    assert!(
        out.stderr
            .contains("invalid SWITCHYARD_OUTBOUND_ALLOW entry `10.0.0.0/33`"),
        "{out:#?}"
    );
}

/// Answers 500 to the first call and 200 after, echoing the request's Authorization header and
/// body back, like a debugging endpoint would.
async fn start_echo() -> (String, Arc<std::sync::Mutex<Vec<String>>>) {
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let calls = Arc::new(AtomicUsize::new(0));
    let state = (seen.clone(), calls);
    let server = HttpServer::new(move || {
        let (seen, calls) = state.clone();
        App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
            let (seen, calls) = (seen.clone(), calls.clone());
            async move {
                let auth = req
                    .headers()
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                seen.lock().unwrap().push(auth.clone());
                let echo = format!("you sent {auth} and {}", String::from_utf8_lossy(&body));
                if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                    HttpResponse::InternalServerError().body(echo)
                } else {
                    HttpResponse::Ok().body(echo)
                }
            }
        }))
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .expect("echo binds");
    let url = format!("http://127.0.0.1:{}/echo", server.addrs()[0].port());
    tokio::spawn(server.run());
    (url, seen)
}

fn database_files(app: &TestApp) -> Vec<(String, Vec<u8>)> {
    ["switchyard.db", "switchyard.db-wal", "switchyard.db-shm"]
        .iter()
        .filter_map(|name| {
            let bytes = std::fs::read(app.data_dir.path().join(name)).ok()?;
            Some((name.to_string(), bytes))
        })
        .collect()
}

#[tokio::test]
async fn a_secret_is_never_in_the_database_files_even_when_a_receiver_echoes_it() {
    let app = spawn_app_with(|s| s.api_token = Some(API_TOKEN.into())).await;
    let (echo_url, seen) = start_echo().await;
    let put = app
        .http
        .put(format!("{}/api/secrets/ECHO_TOKEN", app.address))
        .bearer_auth(API_TOKEN)
        .json(&json!({ "value": SECRET }))
        .send()
        .await
        .expect("PUT secret");
    assert!(put.status().is_success(), "{}", put.status());
    let extra = "headers = { Authorization = \"Bearer {{ secrets.ECHO_TOKEN }}\" }\n\
                 body = '{\"key\": \"{{ secrets.ECHO_TOKEN }}\"}'";
    let recipe = app.import(&recipe("echoes", &echo_url, extra)).await;
    let event_id = app.send_event(&recipe, &json!({ "n": 1 })).await;
    let detail = app.wait_for_deliveries(&event_id).await;
    let delivery = &detail.deliveries[0];

    // The secret works: the receiver got the right value, twice (500 then 200).
    assert_eq!(delivery.status, "delivered", "{delivery:#?}");
    let expected = format!("Bearer {SECRET}");
    assert_eq!(*seen.lock().unwrap(), vec![expected.clone(), expected]);
    assert_eq!(delivery.attempts.len(), 2);
    for attempt in &delivery.attempts {
        let snippet = attempt.response_snippet.as_deref().unwrap_or_default();
        assert_eq!(
            snippet,
            "you sent Bearer [redacted secret ECHO_TOKEN] and {\"key\": \"[redacted secret ECHO_TOKEN]\"}"
        );
    }

    let files = database_files(&app);
    assert!(files.iter().any(|(name, _)| name == "switchyard.db"));
    assert!(
        files.iter().any(|(name, _)| name == "switchyard.db-wal"),
        "WAL mode"
    );
    for (name, bytes) in &files {
        let found = bytes.windows(SECRET.len()).any(|w| w == SECRET.as_bytes());
        assert!(!found, "{name} holds the secret's plaintext");
    }
    let key_file = app.data_dir.path().join("secret.key");
    assert_eq!(std::fs::read(&key_file).expect("key file").len(), 32);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // Another key cannot read it, and says which secret.
    let other = switchyard::store::open_with_key(
        None,
        app.data_dir.path(),
        SyncMode::Normal,
        SecretKey::from_bytes([9; 32]),
    )
    .await
    .expect("store opens");
    let error = other
        .get_secret("ECHO_TOKEN")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("secret `ECHO_TOKEN` cannot be decrypted"),
        "{error}"
    );
}

#[tokio::test]
async fn a_configured_key_is_used_instead_of_a_key_file_and_a_bad_one_stops_the_server() {
    use base64::Engine;
    let key = base64::engine::general_purpose::STANDARD.encode([5u8; 32]);
    let app = spawn_app_with(|s| s.secret_key = Some(key.clone())).await;
    app.set_secret("CONFIGURED", SECRET).await;
    assert!(!app.data_dir.path().join("secret.key").exists());
    let same = switchyard::store::open_with_key(
        None,
        app.data_dir.path(),
        SyncMode::Normal,
        SecretKey::from_base64(&key).unwrap(),
    )
    .await
    .expect("store opens");
    let value = same.get_secret("CONFIGURED").await.expect("decrypts");
    assert_eq!(value.as_deref(), Some(SECRET));

    let dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(&dir);
    settings.secret_key = Some("dG9vIHNob3J0".into());
    let error = Application::build(settings).await.err().expect("refused");
    let error = format!("{error:#}");
    assert!(
        error.contains("SWITCHYARD_SECRET_KEY must be base64 of exactly 32 bytes, not 9"),
        "{error}"
    );
}

#[tokio::test]
async fn the_cli_seals_secrets_with_the_same_key_file_as_the_server() {
    let cli = Cli::new();
    cli.run_with_stdin(&["secrets", "set", "CLI_TOKEN"], SECRET)
        .ok();
    let store = switchyard::store::open(None, &cli.data_dir, SyncMode::Normal)
        .await
        .expect("store opens with the key file");
    let value = store.get_secret("CLI_TOKEN").await.expect("decrypts");
    assert_eq!(value.as_deref(), Some(SECRET));

    let bad = cli.with_env("SWITCHYARD_SECRET_KEY", "not base64!");
    let stderr = bad.run(&["secrets", "list"]).fails().to_owned();
    assert!(
        stderr.contains("SWITCHYARD_SECRET_KEY is not valid base64"),
        "{stderr}"
    );
}
