//! The JSON API under `/api`: bearer auth, the OpenAPI document, and every endpoint (recipes,
//! dry runs, events, replays, retries, import/export, secrets, tokens), driven over HTTP the way
//! a program would. `Api` wraps a spawned server and its token; submodules by capability.

mod auth;
mod deliveries;
mod dry_run;
mod events;
mod import_export;
mod managed;
mod openapi;
mod recipes;
mod revisions;
mod rotation;
mod secrets;

use std::time::{Duration, Instant};

use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::Value;
use switchyard::config::Settings;

use crate::helpers::{TestApp, spawn_app_with};

/// The `SWITCHYARD_API_TOKEN` every test server accepts.
pub const TOKEN: &str = "api-test-token-3f9c2b7e1d";

/// How long a test waits for the server to reach a state (generous: a busy 2-core machine).
pub const DEADLINE: Duration = Duration::from_secs(30);

/// A test server with an API token, plus calls that carry it.
pub struct Api {
    pub app: TestApp,
}

pub async fn spawn_api() -> Api {
    spawn_api_with(|_| {}).await
}

pub async fn spawn_api_with(configure: impl FnOnce(&mut Settings)) -> Api {
    let app = spawn_app_with(|settings| {
        settings.api_token = Some(TOKEN.into());
        configure(settings);
    })
    .await;
    Api { app }
}

/// A request body: content type and bytes.
pub type Body = Option<(&'static str, Vec<u8>)>;

pub fn json_body(value: &Value) -> Body {
    Some(("application/json", value.to_string().into_bytes()))
}

pub fn toml_body(text: &str) -> Body {
    Some(("application/toml", text.as_bytes().to_vec()))
}

/// An answer, read completely.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
}

impl Reply {
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("answer is not JSON ({e}): {} {}", self.status, self.text))
    }

    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn expect(self, status: u16) -> Reply {
        assert_eq!(self.status, status, "unexpected answer: {}", self.text);
        self
    }

    /// Asserts the status and a JSON `{"error": "..."}` body; returns the message.
    #[track_caller]
    pub fn expect_error(self, status: u16) -> String {
        let reply = self.expect(status);
        let json = reply.json();
        json["error"]
            .as_str()
            .unwrap_or_else(|| panic!("no `error` string in {json}"))
            .to_owned()
    }
}

impl Api {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.app.address)
    }

    /// Any call; `token` None sends no Authorization header.
    pub async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Body) -> Reply {
        let mut request = self.app.http.request(method, self.url(path));
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        if let Some((content_type, bytes)) = body {
            request = request.header("content-type", content_type).body(bytes);
        }
        let response = request.send().await.expect("API request");
        Reply {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            text: response.text().await.expect("API answer body"),
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.call(Method::GET, path, Some(TOKEN), None).await
    }

    pub async fn post(&self, path: &str) -> Reply {
        self.call(Method::POST, path, Some(TOKEN), None).await
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Reply {
        self.call(Method::POST, path, Some(TOKEN), json_body(body))
            .await
    }

    pub async fn post_toml(&self, path: &str, text: &str) -> Reply {
        self.call(Method::POST, path, Some(TOKEN), toml_body(text))
            .await
    }

    pub async fn put_json(&self, path: &str, body: &Value) -> Reply {
        self.call(Method::PUT, path, Some(TOKEN), json_body(body))
            .await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.call(Method::DELETE, path, Some(TOKEN), None).await
    }

    /// `POST /api/recipes` with TOML; expects `result` and returns the recipe view.
    pub async fn save(&self, toml: &str, result: &str) -> Value {
        let reply = self.post_toml("/api/recipes", toml).await;
        let status = if result == "created" { 201 } else { 200 };
        let json = reply.expect(status).json();
        assert_eq!(json["result"], result, "{json:#}");
        json["recipe"].clone()
    }

    /// Posts a payload to a webhook URL (as a third party would).
    pub async fn hook(&self, webhook_url: &str, body: &Value) -> reqwest::Response {
        self.app
            .http
            .post(webhook_url)
            .json(body)
            .send()
            .await
            .expect("webhook request")
    }

    /// Posts to the recipe's webhook URL, expects 202; returns the event id.
    pub async fn send(&self, recipe: &Value, body: &Value) -> String {
        let url = recipe["webhook_url"].as_str().expect("webhook_url");
        let response = self.hook(url, body).await;
        assert_eq!(response.status(), 202, "webhook accepted");
        let json: Value = response.json().await.expect("JSON answer");
        json["event_id"].as_str().expect("event_id").to_owned()
    }

    /// `GET /api/events/{id}` (200 expected).
    pub async fn event(&self, id: &str) -> Value {
        self.get(&format!("/api/events/{id}"))
            .await
            .expect(200)
            .json()
    }

    /// Polls `GET /api/events/{id}` until `done` holds; panics with the last state on timeout.
    pub async fn wait_for_event(&self, id: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let detail = self.event(id).await;
            if done(&detail) {
                return detail;
            }
            assert!(
                Instant::now() < deadline,
                "event never reached the expected state: {detail:#}"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Waits until the event has the given status.
    pub async fn wait_for_status(&self, id: &str, status: &str) -> Value {
        self.wait_for_event(id, |d| d["event"]["status"] == status)
            .await
    }

    /// The ids of `GET /api/events?{query}` (one page).
    pub async fn event_ids(&self, query: &str) -> Vec<String> {
        let page = self
            .get(&format!("/api/events?{query}"))
            .await
            .expect(200)
            .json();
        ids(&page["events"])
    }
}

/// The `id`s of a JSON array of objects.
pub fn ids(items: &Value) -> Vec<String> {
    items
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {items}"))
        .iter()
        .map(|item| item["id"].as_str().expect("id").to_owned())
        .collect()
}

/// A webhook recipe with one action to `url`: the transform, then a retry schedule.
pub fn recipe_toml(id: &str, url: &str, transform: &str, retry: &str) -> String {
    format!(
        r#"id = "{id}"
name = "Recipe {id}"

[trigger.webhook]

[transform]
script = '{transform}'

[[action]]
name = "send"
url = "{url}"
timeout = "5s"
retry = {{ schedule = {retry} }}
"#
    )
}
