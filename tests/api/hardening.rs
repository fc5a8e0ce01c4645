//! UI and API hardening: security headers on every response, pages that need no inline script
//! or style, login attempt limiting, and a new session id at every login.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use reqwest::header::{CONTENT_TYPE, COOKIE, LOCATION, RETRY_AFTER, SET_COOKIE};
use switchyard::startup::Application;

use crate::helpers::{TestApp, test_settings};

pub const PASSWORD: &str = "correct horse battery";
pub const API_TOKEN: &str = "hardening-api-token-5d1e";
const SESSION: &str = "switchyard_session";

/// A browser without JavaScript: keeps cookies, sends forms, follows no redirect.
pub struct Browser {
    address: String,
    http: reqwest::Client,
    cookies: Mutex<HashMap<String, String>>,
}

impl Browser {
    pub fn new(address: &str) -> Browser {
        Browser::from_address(address, None)
    }

    /// Connects from another loopback address (another client IP for the server).
    pub fn from_address(address: &str, local: Option<IpAddr>) -> Browser {
        Browser {
            address: address.to_owned(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .local_address(local)
                .build()
                .unwrap(),
            cookies: Mutex::new(HashMap::new()),
        }
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.lock().unwrap().get(name).cloned()
    }

    pub fn set_cookie(&self, name: &str, value: Option<&str>) {
        let mut cookies = self.cookies.lock().unwrap();
        match value {
            Some(value) => cookies.insert(name.to_owned(), value.to_owned()),
            None => cookies.remove(name),
        };
    }

    fn cookie_header(&self) -> String {
        let cookies = self.cookies.lock().unwrap();
        let pairs: Vec<String> = cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
        pairs.join("; ")
    }

    fn keep_cookies(&self, response: &reqwest::Response) {
        for header in response.headers().get_all(SET_COOKIE) {
            let text = header.to_str().unwrap();
            let (pair, attributes) = text.split_once(';').unwrap_or((text, ""));
            let (name, value) = pair.split_once('=').unwrap();
            let gone = value.is_empty() || attributes.contains("Max-Age=0");
            self.set_cookie(name, (!gone).then_some(value));
        }
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        let url = if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.address)
        };
        let request = self.http.get(url).header(COOKIE, self.cookie_header());
        let response = request.send().await.expect("GET");
        self.keep_cookies(&response);
        response
    }

    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let response = self
            .http
            .post(format!("{}{path}", self.address))
            .header(COOKIE, self.cookie_header())
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(form).unwrap())
            .send()
            .await
            .expect("POST");
        self.keep_cookies(&response);
        response
    }

    pub async fn text(&self, path: &str) -> String {
        let response = self.get(path).await;
        assert_eq!(response.status(), 200, "GET {path}");
        response.text().await.unwrap()
    }

    /// Fills in the login form (fetched first, for its form token).
    pub async fn log_in(&self, username: &str, password: &str) -> reqwest::Response {
        let page = self.get("/login").await.text().await.unwrap();
        let csrf = csrf_in(&page);
        let form = [
            ("csrf", csrf.as_str()),
            ("username", username),
            ("password", password),
            ("next", "/"),
        ];
        self.post("/login", &form).await
    }
}

pub fn csrf_in(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).expect("a form with a csrf field") + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

/// A fresh app that accepts `API_TOKEN`, and a browser logged in as its admin.
pub async fn spawn_logged_in() -> (TestApp, Browser) {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let mut settings = test_settings(&data_dir);
    settings.api_token = Some(API_TOKEN.into());
    let app = Application::build(settings).await.expect("app builds");
    let setup_url = app.setup_url().expect("no admin yet").to_owned();
    let test_app = TestApp {
        address: format!("http://127.0.0.1:{}", app.port()),
        store: app.store(),
        http: reqwest::Client::new(),
        data_dir,
    };
    tokio::spawn(app.run_until_stopped());

    let browser = Browser::new(&test_app.address);
    let csrf = csrf_in(&browser.text(&setup_url).await);
    let token = setup_url.split("token=").nth(1).unwrap();
    let form = [
        ("csrf", csrf.as_str()),
        ("token", token),
        ("username", "admin"),
        ("password", PASSWORD),
        ("confirm", PASSWORD),
    ];
    let done = browser.post("/setup", &form).await;
    assert_eq!(done.status(), 303, "admin set up");
    (test_app, browser)
}

const RECIPE: &str = r#"
id = "orders"
name = "Orders"
[trigger.webhook]
[[action]]
name = "crm"
url = "https://crm.example.com/orders"
"#;

#[track_caller]
fn assert_hardened(path: &str, response: &reqwest::Response) {
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .unwrap_or_else(|| panic!("{path}: no {name} header"))
            .to_str()
            .unwrap()
            .to_owned()
    };
    let csp = header("content-security-policy");
    assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
    assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
    assert!(!csp.contains("unsafe-eval"), "{path}: {csp}");
    assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
    assert_eq!(header("x-frame-options"), "DENY", "{path}");
    assert_eq!(header("referrer-policy"), "same-origin", "{path}");
    assert_eq!(
        response
            .headers()
            .get_all("content-security-policy")
            .iter()
            .count(),
        1,
        "{path}: one policy"
    );
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let (app, browser) = spawn_logged_in().await;
    app.import(RECIPE).await;
    let anonymous = Browser::new(&app.address);
    for (path, status) in [
        ("/login", 200),
        ("/", 303),
        ("/api/recipes", 401),
        ("/api/openapi.json", 200),
        ("/hooks/no-such-token", 404),
        ("/healthz", 200),
        ("/metrics", 401),
        ("/static/app.js", 200),
        ("/no/such/page", 404),
    ] {
        let response = anonymous.get(path).await;
        assert_eq!(response.status(), status, "{path}");
        assert_hardened(path, &response);
    }
    for path in ["/", "/recipes/orders", "/recipes/nope", "/events"] {
        assert_hardened(path, &browser.get(path).await);
    }
    let api = app
        .http
        .get(format!("{}/api/recipes", app.address))
        .bearer_auth(API_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 200);
    assert_hardened("/api/recipes with a token", &api);
    let page = browser.get("/").await;
    let csp = page.headers()["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("default-src 'self'"),
        "UI pages load their own CSS and JS: {csp}"
    );
}

/// What the UI's policy (`default-src 'self'`, no `unsafe-inline`) would block.
fn inline_code(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (at, _) in html.match_indices("<script") {
        let tag = &html[at..at + html[at..].find('>').unwrap_or(0)];
        if !tag.contains(" src=") {
            found.push(format!("inline script: {tag}>"));
        }
    }
    for needle in [
        "<style",
        " style=\"",
        " style='",
        "javascript:",
        " onclick=",
        " onload=",
        " onsubmit=",
        " onchange=",
        " oninput=",
        " onerror=",
        " onkeydown=",
    ] {
        if html.contains(needle) {
            found.push(format!("`{needle}`"));
        }
    }
    found
}

#[tokio::test]
async fn pages_need_no_inline_script_or_style() {
    let (app, browser) = spawn_logged_in().await;
    app.import(RECIPE).await;
    let event = app
        .send_event(
            &app.store.get_recipe("orders").await.unwrap().unwrap(),
            &serde_json::json!({"id": 1}),
        )
        .await;
    let anonymous = Browser::new(&app.address);
    assert!(inline_code(&anonymous.text("/login").await).is_empty());
    for path in [
        "/".to_owned(),
        "/recipes/new".into(),
        "/recipes/orders".into(),
        "/recipes/orders/edit".into(),
        "/recipes/orders/toml".into(),
        "/recipes/orders/delete".into(),
        "/events".into(),
        format!("/events/{event}"),
        "/import".into(),
        "/secrets".into(),
        "/tokens".into(),
    ] {
        let found = inline_code(&browser.text(&path).await);
        assert!(found.is_empty(), "{path}: {found:?}");
    }
}

async fn wrong_login(browser: &Browser, username: &str) -> reqwest::Response {
    browser.log_in(username, "not the password").await
}

#[tokio::test]
async fn five_failed_logins_lock_that_username_from_that_address() {
    let (app, _) = spawn_logged_in().await;
    let guesser = Browser::new(&app.address);
    for attempt in 1..=5 {
        let refused = wrong_login(&guesser, "admin").await;
        assert_eq!(refused.status(), 401, "attempt {attempt}");
    }
    let locked = guesser.log_in("admin", PASSWORD).await;
    assert_eq!(locked.status(), 429, "even the right password waits");
    let wait: u64 = locked.headers()[RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((840..=900).contains(&wait), "about 15 minutes: {wait}");
    let html = locked.text().await.unwrap();
    assert!(
        html.contains(
            "Too many failed logins for this username from your address. Try again in 15 minutes."
        ),
        "{html}"
    );
    assert!(
        html.contains("name=\"password\""),
        "the form is shown again"
    );
    assert!(guesser.cookie(SESSION).is_none());
    let case = guesser.log_in("ADMIN", PASSWORD).await;
    assert_eq!(
        case.status(),
        429,
        "the username's case does not escape the limit"
    );

    // Another username from the same address, and the admin from another address, go on.
    assert_eq!(wrong_login(&guesser, "someone").await.status(), 401);
    let elsewhere = Browser::from_address(&app.address, Some("127.0.0.2".parse().unwrap()));
    let in_elsewhere = elsewhere.log_in("admin", PASSWORD).await;
    assert_eq!(in_elsewhere.status(), 303);
    assert!(elsewhere.cookie(SESSION).is_some());
}

#[tokio::test]
async fn a_right_password_resets_the_failure_count() {
    let (app, _) = spawn_logged_in().await;
    let browser = Browser::new(&app.address);
    for _ in 0..4 {
        assert_eq!(wrong_login(&browser, "admin").await.status(), 401);
    }
    assert_eq!(browser.log_in("admin", PASSWORD).await.status(), 303);
    browser.set_cookie(SESSION, None);
    for _ in 0..4 {
        assert_eq!(wrong_login(&browser, "admin").await.status(), 401);
    }
    assert_eq!(browser.log_in("admin", PASSWORD).await.status(), 303);
}

#[tokio::test]
async fn logging_in_issues_a_new_session_id_and_ends_the_old_one() {
    let (app, browser) = spawn_logged_in().await;
    let before = browser
        .cookie(SESSION)
        .expect("session from the setup link");
    assert_eq!(browser.get("/").await.status(), 200);

    // Log in again while carrying that session (a stale login form in another tab): the
    // login form is fetched without it, as the login page redirects signed-in browsers.
    browser.set_cookie(SESSION, None);
    let csrf = csrf_in(&browser.text("/login").await);
    browser.set_cookie(SESSION, Some(&before));
    let form = [
        ("csrf", csrf.as_str()),
        ("username", "admin"),
        ("password", PASSWORD),
        ("next", "/"),
    ];
    let again = browser.post("/login", &form).await;
    assert_eq!(again.status(), 303);
    let after = browser.cookie(SESSION).expect("a new session");
    assert_ne!(before, after, "a new session id at login");
    assert_eq!(browser.get("/").await.status(), 200, "the new id works");

    let old = Browser::new(&app.address);
    old.set_cookie(SESSION, Some(&before));
    let refused = old.get("/").await;
    assert_eq!(refused.status(), 303, "the old id no longer works");
    assert!(
        refused.headers()[LOCATION]
            .to_str()
            .unwrap()
            .starts_with("/login")
    );

    // An id planted before login (session fixation) is replaced, never adopted.
    let victim = Browser::new(&app.address);
    victim.set_cookie(SESSION, Some("planted-by-an-attacker-0123456789abcdef"));
    assert_eq!(victim.log_in("admin", PASSWORD).await.status(), 303);
    let issued = victim.cookie(SESSION).unwrap();
    assert_ne!(issued, "planted-by-an-attacker-0123456789abcdef");
    let attacker = Browser::new(&app.address);
    attacker.set_cookie(SESSION, Some("planted-by-an-attacker-0123456789abcdef"));
    assert_eq!(attacker.get("/").await.status(), 303);
}
