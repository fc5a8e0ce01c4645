//! The browser UI over real HTTP: setup link, login, CSRF, the recipe editor, file-managed
//! recipes. A small cookie-keeping client stands in for the browser; redirects are not
//! followed, so every 303 is asserted where it happens.

use std::collections::HashMap;
use std::sync::Mutex;

use reqwest::header::{CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use switchyard::config::Settings;
use switchyard::provision::import_source;
use switchyard::script::{ScriptEngine, ScriptLimits};
use switchyard::startup::Application;

use crate::helpers::{TestApp, test_settings};

const PASSWORD: &str = "correct horse battery";

/// A browser without JavaScript: keeps cookies, sends forms.
pub(crate) struct Browser {
    address: String,
    http: reqwest::Client,
    cookies: Mutex<HashMap<String, String>>,
}

impl Browser {
    fn new(address: &str) -> Browser {
        Browser {
            address: address.to_owned(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: Mutex::new(HashMap::new()),
        }
    }

    fn cookie_header(&self) -> String {
        let cookies = self.cookies.lock().unwrap();
        cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep_cookies(&self, response: &reqwest::Response) {
        let mut cookies = self.cookies.lock().unwrap();
        for header in response.headers().get_all(SET_COOKIE) {
            let text = header.to_str().unwrap();
            let (pair, attributes) = text.split_once(';').unwrap_or((text, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() || attributes.contains("Max-Age=0") {
                cookies.remove(name);
            } else {
                cookies.insert(name.to_owned(), value.to_owned());
            }
        }
    }

    fn has_session(&self) -> bool {
        self.cookies
            .lock()
            .unwrap()
            .contains_key("switchyard_session")
    }

    pub(crate) async fn get(&self, path: &str) -> reqwest::Response {
        let url = if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.address)
        };
        let response = self
            .http
            .get(url)
            .header(COOKIE, self.cookie_header())
            .send()
            .await
            .expect("GET");
        self.keep_cookies(&response);
        response
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
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

    /// The CSRF token of the forms on the page at `path`.
    async fn csrf(&self, path: &str) -> String {
        let html = self.get(path).await.text().await.unwrap();
        csrf_in(&html)
    }
}

fn csrf_in(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).expect("a form with a csrf field") + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

fn location(response: &reqwest::Response) -> String {
    response.headers()[LOCATION].to_str().unwrap().to_owned()
}

/// A fresh app and its one-time setup link.
async fn spawn() -> (TestApp, String) {
    spawn_with(|_| {}).await
}

async fn spawn_with(configure: impl FnOnce(&mut Settings)) -> (TestApp, String) {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let mut settings = test_settings(&data_dir);
    configure(&mut settings);
    let app = Application::build(settings).await.expect("app builds");
    let setup_url = app.setup_url().expect("no admin yet").to_owned();
    let test_app = TestApp {
        address: format!("http://127.0.0.1:{}", app.port()),
        store: app.store(),
        http: reqwest::Client::new(),
        data_dir,
    };
    tokio::spawn(app.run_until_stopped());
    (test_app, setup_url)
}

async fn set_up_admin(browser: &Browser, setup_url: &str) -> reqwest::Response {
    let page = browser.get(setup_url).await;
    assert_eq!(page.status(), 200);
    let csrf = csrf_in(&page.text().await.unwrap());
    let token = setup_url.split("token=").nth(1).unwrap();
    browser
        .post(
            "/setup",
            &[
                ("csrf", &csrf),
                ("token", token),
                ("username", "admin"),
                ("password", PASSWORD),
                ("confirm", PASSWORD),
            ],
        )
        .await
}

/// A browser logged in as the admin (created through the setup link).
pub(crate) async fn logged_in() -> (TestApp, Browser) {
    logged_in_with(|_| {}).await
}

pub(crate) async fn logged_in_with(configure: impl FnOnce(&mut Settings)) -> (TestApp, Browser) {
    let (app, setup_url) = spawn_with(configure).await;
    let browser = Browser::new(&app.address);
    let done = set_up_admin(&browser, &setup_url).await;
    assert_eq!(done.status(), 303);
    (app, browser)
}

#[tokio::test]
async fn ui_pages_redirect_to_login_without_a_session() {
    let (app, _) = spawn().await;
    let browser = Browser::new(&app.address);
    for path in [
        "/",
        "/events",
        "/recipes/new",
        "/secrets",
        "/tokens",
        "/import",
    ] {
        let response = browser.get(path).await;
        assert_eq!(response.status(), 303, "{path}");
        let next = serde_urlencoded::to_string([("next", path)]).unwrap();
        assert_eq!(location(&response), format!("/login?{next}"), "{path}");
    }
    let post = browser.post("/recipes/x/rotate", &[("csrf", "x")]).await;
    assert_eq!(
        post.status(),
        303,
        "a form post without a session goes to login too"
    );
    let login = browser.get("/login").await;
    assert_eq!(login.status(), 200);
}

#[tokio::test]
async fn the_setup_link_creates_the_admin_once_and_logs_in() {
    let (app, setup_url) = spawn().await;
    let browser = Browser::new(&app.address);
    let wrong = browser.get(&setup_url.replace("token=", "token=x")).await;
    assert_eq!(wrong.status(), 404, "a wrong token shows no form");

    let done = set_up_admin(&browser, &setup_url).await;
    assert_eq!(done.status(), 303);
    assert_eq!(location(&done), "/");
    assert!(browser.has_session());
    let cookie = done
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|h| h.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("switchyard_session="))
        .unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/")
    );
    assert_eq!(browser.get("/").await.status(), 200);

    let again = Browser::new(&app.address);
    let reused = again.get(&setup_url).await;
    assert_eq!(reused.status(), 404, "the link works once");
    assert!(reused.text().await.unwrap().contains("not valid"));
}

#[tokio::test]
async fn login_with_a_wrong_password_fails_and_the_right_one_works() {
    let (app, browser) = logged_in().await;
    let fresh = Browser::new(&app.address);
    let csrf = fresh.csrf("/login?next=/events").await;
    let wrong = fresh
        .post(
            "/login",
            &[
                ("csrf", &csrf),
                ("username", "admin"),
                ("password", "nope"),
                ("next", "/events"),
            ],
        )
        .await;
    assert_eq!(wrong.status(), 401);
    assert!(!fresh.has_session());
    let html = wrong.text().await.unwrap();
    assert!(html.contains("Wrong username or password"));
    assert!(html.contains("value=\"admin\""), "the username is kept");

    let right = fresh
        .post(
            "/login",
            &[
                ("csrf", &csrf),
                ("username", "admin"),
                ("password", PASSWORD),
                ("next", "/events"),
            ],
        )
        .await;
    assert_eq!(right.status(), 303);
    assert_eq!(location(&right), "/events");
    assert!(fresh.has_session());
    assert_eq!(fresh.get("/events").await.status(), 200);

    // Logging out ends that session only.
    let csrf = fresh.csrf("/").await;
    let out = fresh.post("/logout", &[("csrf", &csrf)]).await;
    assert_eq!(out.status(), 303);
    assert_eq!(fresh.get("/").await.status(), 303);
    assert_eq!(browser.get("/").await.status(), 200);
}

#[tokio::test]
async fn form_posts_without_a_valid_csrf_token_are_refused() {
    let (app, browser) = logged_in().await;
    let recipe = app.import(RECIPE).await;

    let forged = browser
        .post("/recipes/orders/rotate", &[("csrf", "forged")])
        .await;
    assert_eq!(forged.status(), 403);
    let missing = browser.post("/recipes/orders/disable", &[]).await;
    assert_eq!(missing.status(), 403);
    let editor = browser
        .post("/recipes/new", &[("name", "Sneaky"), ("op", "save")])
        .await;
    assert_eq!(editor.status(), 403);

    let stored = app.store.get_recipe("orders").await.unwrap().unwrap();
    assert_eq!(stored.webhook_token, recipe.webhook_token, "not rotated");
    assert!(stored.enabled, "not disabled");
    assert!(app.store.get_recipe("sneaky").await.unwrap().is_none());

    let csrf = browser.csrf("/").await;
    let rotated = browser
        .post("/recipes/orders/rotate", &[("csrf", &csrf)])
        .await;
    assert_eq!(rotated.status(), 303);
    let stored = app.store.get_recipe("orders").await.unwrap().unwrap();
    assert_ne!(
        stored.webhook_token, recipe.webhook_token,
        "rotated with the token"
    );
}

const RECIPE: &str = r#"
id = "orders"
name = "Orders"
[trigger.webhook]
[[action]]
name = "crm"
url = "https://crm.example.com/orders"
"#;

mod counts;
mod curl;
mod editor;
mod form_post;
mod no_code;
mod notes;
mod pause;
mod revisions;
mod round_trip;
mod rows_preview;
mod test_sample;
