//! The Pause/Resume button in real Chromium: a paused recipe's page and the recipes list show
//! the state and how many events it holds; Resume releases them.

use std::time::Instant;

use serde_json::json;

use super::chrome::{Chrome, DEADLINE};
use super::{set_up_admin, spawn};
use crate::receiver::Receiver;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pause_button_holds_events_and_resume_delivers_them_in_a_real_browser() {
    let started = Instant::now();
    let (app, setup_url) = spawn().await;
    let Some(browser) = Chrome::start(&app.address).await else {
        return;
    };
    let receiver = Receiver::start().await;
    set_up_admin(&browser, &setup_url).await;
    let recipe = app
        .import(&crate::pause::forwarder(
            "paused-ui",
            &receiver.url("/in"),
            "\"0s\"",
        ))
        .await;

    browser.goto("/recipes/paused-ui").await;
    browser.click("#pause-button").await;
    browser
        .wait_for_location("the page after pausing", |at| {
            at == "/recipes/paused-ui?done=paused"
        })
        .await;
    for n in 0..2 {
        app.send_event(&recipe, &json!({ "n": n })).await;
    }
    browser.goto("/recipes/paused-ui").await;
    let note = browser.text("#paused-note").await;
    assert!(note.contains("holding 2 events"), "{note}");
    browser.screenshot("pause-1-recipe").await;
    browser.goto("/").await;
    let state = browser
        .text("tr:has(a[href=\"/recipes/paused-ui\"]) td[data-label=State]")
        .await;
    assert!(
        state.contains("paused") && state.contains("2 held"),
        "{state}"
    );
    assert!(receiver.requests().is_empty(), "nothing sent while paused");

    browser.goto("/recipes/paused-ui").await;
    browser.click("#resume-button").await;
    browser
        .wait_for_location("the page after resuming", |at| {
            at == "/recipes/paused-ui?done=resumed"
        })
        .await;
    assert_eq!(receiver.wait_for(2, DEADLINE).await.len(), 2);
    browser.close().await;
    eprintln!("browser pause: took {:?}", started.elapsed());
}
