//! The UI in real headless Chromium (Debian's `chromium` and `chromium-driver`), driven over
//! WebDriver: the one-time setup link, the recipe editor, the webhook URL shown on the recipe
//! page, events arriving with their delivered attempt, replay, a script error shown beside its
//! field, logging out and in. Screenshots of the main pages land in `target/screenshots/`.
//! Without chromedriver the test says it is skipped and passes, except on CI.

mod chrome;
mod pause;
mod revisions;
mod story;

use std::time::Instant;

use serde_json::{Value, json};
use switchyard::startup::Application;

use self::chrome::{Chrome, DEADLINE};
use crate::helpers::{TestApp, test_settings};
use crate::receiver::Receiver;

const PASSWORD: &str = "correct horse battery";
const RECIPE_NAME: &str = "Big orders to the shop";
const FILTER: &str = "event.amount > 10";
/// A syntax error on line 2, column 9 — the same text must still be in the field afterwards.
const BROKEN_FILTER: &str = "let limit = 10;\nlet x = ;\nevent.amount > limit";

/// A fresh app and its one-time setup link.
async fn spawn() -> (TestApp, String) {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let app = Application::build(test_settings(&data_dir))
        .await
        .expect("app builds");
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recipe_is_built_watched_replayed_and_fixed_in_a_real_browser() {
    let started = Instant::now();
    let (app, setup_url) = spawn().await;
    let Some(browser) = Chrome::start(&app.address).await else {
        return;
    };
    let receiver = Receiver::start().await;
    eprintln!("browser: Chromium up after {:?}", started.elapsed());

    set_up_admin(&browser, &setup_url).await;
    let id = create_recipe(&browser, &receiver).await;
    let hook_url = read_webhook_url(&browser, &app, &id).await;

    let sent = app
        .http
        .post(&hook_url)
        .json(&json!({ "id": "o-1", "amount": 42 }))
        .send()
        .await
        .expect("webhook request");
    assert_eq!(
        sent.status(),
        202,
        "the URL read from the page takes webhooks"
    );
    let event_id = sent.json::<Value>().await.expect("json")["event_id"]
        .as_str()
        .expect("event_id")
        .to_owned();

    watch_event_arrive(&browser, &event_id).await;
    let first = receiver.wait_for(1, DEADLINE).await;
    assert_eq!(first[0].json(), json!({ "order": "o-1", "amount": 42 }));
    replay(&browser, &receiver).await;

    browser.goto("/").await;
    let row = format!("tr:has(a[href=\"/recipes/{id}\"])");
    let state = browser.text(&format!("{row} td[data-label=State]")).await;
    assert!(state.contains("enabled"), "{state}");
    let events = browser
        .text(&format!("{row} td[data-label='Events 24 h']"))
        .await;
    assert_eq!(events, "1", "one event, replayed or not");
    browser.screenshot("7-recipes").await;

    script_error_beside_the_filter(&browser, &app, &id).await;
    log_out_and_in(&browser).await;

    browser.close().await;
    eprintln!("browser: whole test took {:?}", started.elapsed());
}

/// The setup link's form creates the admin and lands logged in on the recipes page.
async fn set_up_admin(browser: &Chrome, setup_url: &str) {
    browser.goto(setup_url).await;
    browser.fill("input[name=username]", "admin").await;
    browser.fill("input[name=password]", PASSWORD).await;
    browser.fill("input[name=confirm]", PASSWORD).await;
    browser.screenshot("1-setup").await;
    browser
        .click("form[action='/setup'] button[type=submit]")
        .await;
    browser
        .wait_for_location("the recipes page after setup", |at| at == "/")
        .await;
    browser.find("form[action='/logout'] button").await;
    let empty = browser.text("main .empty h2").await;
    assert!(empty.contains("No recipes yet"), "{empty}");
}

/// Builds a recipe in the form editor and saves it; returns its id.
async fn create_recipe(browser: &Chrome, receiver: &Receiver) -> String {
    browser.click(".head-actions a[href='/recipes/new']").await;
    browser
        .wait_for_location("the editor", |at| at == "/recipes/new")
        .await;
    browser.fill("input[name=name]", RECIPE_NAME).await;
    browser
        .fill("input[name=description]", "Orders over 10 go to the shop")
        .await;
    let webhook = browser.find("input[name=webhook]").await;
    assert_eq!(
        webhook.prop("checked").await.unwrap().as_deref(),
        Some("true"),
        "a new recipe has a webhook trigger"
    );
    // New recipes start with condition rows; this one is written as a script.
    browser.click("button[name=op][value=to_script]").await;
    browser.fill("textarea[name=filter]", FILTER).await;
    browser
        .fill(
            "textarea[name=transform]",
            "#{ order: event.id, amount: event.amount }",
        )
        .await;
    browser.fill("input[name='action.0.name']", "shop").await;
    browser
        .fill("input[name='action.0.url']", &receiver.url("/orders"))
        .await;
    browser.fill("input[name='action.0.retry']", "0s, 5s").await;
    browser.screenshot("2-editor-new").await;
    browser.click(".savebar button[name=op][value=save]").await;
    let at = browser
        .wait_for_location("the new recipe's page", |at| {
            at.starts_with("/recipes/") && at.ends_with("?done=created")
        })
        .await;
    let id = at["/recipes/".len()..at.len() - "?done=created".len()].to_owned();
    assert_eq!(id, "big-orders-to-the-shop", "the id is made from the name");
    let flash = browser.text(".flash").await;
    assert_eq!(flash, "Recipe created.");
    id
}

/// The recipe page shows the full webhook URL (and a curl line with it).
async fn read_webhook_url(browser: &Chrome, app: &TestApp, id: &str) -> String {
    let url = browser.value("#webhook-url").await;
    let stored = app
        .store
        .get_recipe(id)
        .await
        .expect("store")
        .expect("the recipe was saved");
    assert_eq!(
        url,
        format!("{}/hooks/{}", app.address, stored.webhook_token),
        "the URL in full"
    );
    assert!(stored.source.contains(FILTER), "{}", stored.source);
    let curl = browser.text("#curl-example").await;
    assert!(curl.contains(&url), "{curl}");
    let empty = browser.text(".small-empty").await;
    assert!(empty.contains("No events yet"), "{empty}");
    browser.screenshot("3-recipe").await;
    url
}

/// The events list shows the event (reloading until it is delivered); its page shows the
/// delivery with its 200 attempt.
async fn watch_event_arrive(browser: &Chrome, event_id: &str) {
    browser.click("nav a[href='/events']").await;
    browser
        .wait_for_location("the events page", |at| at == "/events")
        .await;
    let row = format!("tr:has(a[href=\"/events/{event_id}\"])");
    browser
        .eventually("the event delivered in the events list", async || {
            let badges = browser.texts(&format!("{row} td[data-label=Status]")).await;
            if badges.first().is_some_and(|s| s == "delivered") {
                return Some(());
            }
            browser.goto("/events").await;
            None
        })
        .await;
    let recipe = browser.text(&format!("{row} td[data-label=Recipe]")).await;
    assert_eq!(recipe, RECIPE_NAME);
    browser.screenshot("4-events").await;

    browser
        .click(&format!("{row} a[href=\"/events/{event_id}\"]"))
        .await;
    browser
        .wait_for_location("the event page", |at| at == format!("/events/{event_id}"))
        .await;
    let attempts = wait_for_attempts(browser, 1).await;
    assert_eq!(attempts, ["200"]);
    let delivery = browser.text(".delivery h3").await;
    assert!(delivery.starts_with("shop delivered"), "{delivery}");
    let payload = browser.text("main .grid-2 pre.code").await;
    assert!(payload.contains("\"amount\": 42"), "{payload}");
    browser.screenshot("5-event").await;
}

/// Waits until the event is delivered with `n` attempts in all; returns their statuses. The
/// page reloads itself while the event moves, so every look may hit a page in between.
async fn wait_for_attempts(browser: &Chrome, n: usize) -> Vec<String> {
    browser
        .eventually(&format!("{n} delivered attempt(s)"), async || {
            let status = browser.texts("h1 .badge").await;
            let attempts = browser
                .texts(".delivery td[data-label=Status] .badge")
                .await;
            (status.first().is_some_and(|s| s == "delivered") && attempts.len() == n)
                .then_some(attempts)
        })
        .await
}

/// Replay runs the event again: a second run and a second 200 attempt, a second call out.
async fn replay(browser: &Chrome, receiver: &Receiver) {
    browser.click("form[action$='/replay'] button").await;
    browser
        .wait_for_location("the event page after replay", |at| {
            at.ends_with("?done=replayed")
        })
        .await;
    let attempts = wait_for_attempts(browser, 2).await;
    assert_eq!(attempts, ["200", "200"]);
    let runs = browser.texts(".run .badge").await;
    assert_eq!(runs, ["passed", "passed"], "two runs");
    let calls = receiver.wait_for(2, DEADLINE).await;
    assert_eq!(calls[1].json(), json!({ "order": "o-1", "amount": 42 }));
    browser.screenshot("6-event-replayed").await;
}

/// A Rhai syntax error in the filter is shown beside the filter, with line and column, and the
/// typed text stays in the field; nothing is saved.
async fn script_error_beside_the_filter(browser: &Chrome, app: &TestApp, id: &str) {
    browser.goto(&format!("/recipes/{id}")).await;
    browser
        .click(&format!(".head-actions a[href='/recipes/{id}/edit']"))
        .await;
    browser
        .wait_for_location("the edit page", |at| at == format!("/recipes/{id}/edit"))
        .await;
    assert_eq!(browser.value("textarea[name=filter]").await, FILTER);
    browser.fill("textarea[name=filter]", BROKEN_FILTER).await;
    browser.click(".savebar button[name=op][value=save]").await;
    let error = browser
        .eventually("the error beside the filter", async || {
            let texts = browser
                .texts("label.field:has(textarea[name=filter]) .field-error")
                .await;
            texts.into_iter().next()
        })
        .await;
    assert!(error.contains("line 2, column 9"), "{error}");
    assert_eq!(
        browser.value("textarea[name=filter]").await,
        BROKEN_FILTER,
        "what was typed is kept"
    );
    assert_eq!(browser.value("input[name=name]").await, RECIPE_NAME);
    let callout = browser.text(".callout.error").await;
    assert!(callout.contains("The recipe was not saved"), "{callout}");
    assert!(
        browser
            .find_all("label.field:has(textarea[name=transform]) .field-error")
            .await
            .is_empty(),
        "the error is beside the filter, not elsewhere"
    );
    let stored = app.store.get_recipe(id).await.unwrap().unwrap();
    assert!(stored.source.contains(FILTER), "nothing saved");
    browser.screenshot("8-editor-error").await;
}

/// Logging out ends the session: a UI page sends to the login form, which brings you back.
async fn log_out_and_in(browser: &Chrome) {
    browser.click("form[action='/logout'] button").await;
    browser
        .wait_for_location("the login page after logout", |at| at.starts_with("/login"))
        .await;
    browser.goto("/events").await;
    browser
        .wait_for_location("the login page for /events", |at| {
            at == "/login?next=%2Fevents"
        })
        .await;
    browser.fill("input[name=username]", "admin").await;
    browser.fill("input[name=password]", PASSWORD).await;
    browser.screenshot("9-login").await;
    browser
        .click("form[action='/login'] button[type=submit]")
        .await;
    browser
        .wait_for_location("the events page after login", |at| at == "/events")
        .await;
    browser.find("form[action='/logout'] button").await;
}
