//! `spawn_app`: a real server on a random port with its own SQLite file, plus typed helpers.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use switchyard::config::Settings;
use switchyard::provision::import_source;
use switchyard::script::{ScriptEngine, ScriptLimits};
use switchyard::startup::Application;
use switchyard::store::{EventDetail, EventQuery, EventStatus, Store, StoredRecipe};
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub const WAIT: Duration = Duration::from_secs(10);

pub struct TestApp {
    /// `http://127.0.0.1:PORT`
    pub address: String,
    pub store: Arc<dyn Store>,
    pub http: reqwest::Client,
    pub data_dir: TempDir,
}

/// Test defaults: private targets allowed (receivers live on 127.0.0.1), fast idle polling.
pub fn test_settings(data_dir: &TempDir) -> Settings {
    let mut settings = Settings::new(data_dir.path());
    settings.bind = "127.0.0.1:0".into();
    settings.allow_private_targets = true;
    settings.workers.idle_poll = Duration::from_millis(50);
    settings
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    init_logs();
    let data_dir = tempfile::tempdir().expect("temp dir");
    let mut settings = test_settings(&data_dir);
    configure(&mut settings);
    let app = Application::build(settings).await.expect("app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let store = app.store();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        store,
        http: reqwest::Client::new(),
        data_dir,
    }
}

fn init_logs() {
    if std::env::var("TEST_LOG").is_ok() {
        switchyard::telemetry::init_tracing();
    }
}

impl TestApp {
    /// Imports a recipe text as the CLI would and returns it (with its token).
    pub async fn import(&self, toml: &str) -> StoredRecipe {
        let scripts = ScriptEngine::new(ScriptLimits::default());
        import_source(self.store.as_ref(), &scripts, toml, None, "test")
            .await
            .unwrap_or_else(|e| panic!("recipe imports: {e}"))
            .recipe
    }

    pub fn hook_url(&self, recipe: &StoredRecipe) -> String {
        format!("{}/hooks/{}", self.address, recipe.webhook_token)
    }

    pub async fn post_json(&self, recipe: &StoredRecipe, body: &Value) -> reqwest::Response {
        self.http
            .post(self.hook_url(recipe))
            .json(body)
            .send()
            .await
            .expect("webhook request")
    }

    /// Posts and expects 202; returns the event id.
    pub async fn send_event(&self, recipe: &StoredRecipe, body: &Value) -> String {
        let response = self.post_json(recipe, body).await;
        assert_eq!(response.status(), 202, "webhook accepted");
        let json: Value = response.json().await.expect("json answer");
        json["event_id"].as_str().expect("event_id").to_owned()
    }

    pub async fn set_secret(&self, name: &str, value: &str) {
        self.store
            .set_secret(name, value)
            .await
            .expect("secret set");
    }

    pub async fn event(&self, id: &str) -> EventDetail {
        self.store
            .get_event(id)
            .await
            .expect("store")
            .expect("event exists")
    }

    /// Polls the store until `done` holds for the event; panics with its last state on timeout.
    pub async fn wait_for_event(
        &self,
        id: &str,
        done: impl Fn(&EventDetail) -> bool,
    ) -> EventDetail {
        let deadline = Instant::now() + WAIT;
        loop {
            let detail = self.event(id).await;
            if done(&detail) {
                return detail;
            }
            assert!(
                Instant::now() < deadline,
                "event never reached the expected state: {detail:#?}"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Waits until the event's run is finished (any status but pending).
    pub async fn wait_for_run(&self, id: &str) -> EventDetail {
        self.wait_for_event(id, |d| d.event.status != EventStatus::Pending)
            .await
    }

    pub async fn event_count(&self) -> usize {
        let query = EventQuery {
            limit: 10_000,
            ..EventQuery::default()
        };
        self.store.list_events(&query).await.expect("store").len()
    }
}

impl TestApp {
    /// Posts raw bytes with the given content type (None: no content-type header).
    pub async fn post_raw(
        &self,
        recipe: &StoredRecipe,
        content_type: Option<&str>,
        body: impl Into<reqwest::Body>,
    ) -> reqwest::Response {
        let mut request = self.http.post(self.hook_url(recipe)).body(body);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        request.send().await.expect("webhook request")
    }

    /// `GET {address}{path}`.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .expect("request")
    }

    /// Waits until every delivery of the event is finished (delivered or dead) and there is at
    /// least one.
    pub async fn wait_for_deliveries(&self, id: &str) -> EventDetail {
        self.wait_for_event(id, |d| {
            !d.deliveries.is_empty() && d.deliveries.iter().all(|x| x.status != "pending")
        })
        .await
    }
}

/// Sleeps a short grace period, for asserting that something did NOT happen.
pub async fn grace() {
    tokio::time::sleep(Duration::from_millis(600)).await;
}

/// Sends a chunked request by hand (no Content-Length); returns status and body text.
pub async fn post_chunked(app: &TestApp, token: &str, chunks: &[&[u8]]) -> (u16, String) {
    let host = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let mut request = format!(
        "POST /hooks/{token} HTTP/1.1\r\nhost: {host}\r\ncontent-type: text/plain\r\n\
         transfer-encoding: chunked\r\nconnection: close\r\n\r\n"
    )
    .into_bytes();
    for chunk in chunks {
        request.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        request.extend_from_slice(chunk);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"0\r\n\r\n");
    // The server may answer and close before reading everything; that is its right.
    let _ = stream.write_all(&request).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(WAIT, stream.read_to_end(&mut answer)).await;
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP answer: {text:?}"));
    (status, text)
}
