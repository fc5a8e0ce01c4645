//! Live changes: imports, edits, disables and deletes reschedule within seconds, no restart.

use std::time::{Duration, Instant};

use chrono::{Timelike, Utc};

use super::{DEADLINE, app, events_of, tick_recipe, ticks, wait_events};
use crate::helpers::TestApp;
use crate::receiver::Receiver;

/// Asserts the recipe's events stop growing: at most one tick already in flight, then none
/// for 3 s.
async fn assert_stopped(app: &TestApp, recipe: &str) {
    let at_change = events_of(app.store.as_ref(), recipe).await.len();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let settled = events_of(app.store.as_ref(), recipe).await.len();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let later = events_of(app.store.as_ref(), recipe).await.len();
    assert!(
        settled <= at_change + 1,
        "{recipe} fired after the change: {at_change} → {settled}"
    );
    assert_eq!(later, settled, "{recipe} still fires");
}

async fn wait_for_more(app: &TestApp, recipe: &str, than: usize) -> usize {
    wait_events(app.store.as_ref(), recipe, "more ticks", |e| e.len() > than)
        .await
        .len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn importing_starts_a_schedule_live_disabling_stops_it_and_enabling_resumes_it() {
    let (app, receiver) = (app().await, Receiver::start().await);
    let url = receiver.url("/live");
    app.import(&tick_recipe("live", "* * * * * *", true, &url))
        .await;
    let started = wait_for_more(&app, "live", 1).await;

    app.import(&tick_recipe("live", "* * * * * *", false, &url))
        .await;
    assert_stopped(&app, "live").await;

    let stopped = events_of(app.store.as_ref(), "live").await.len();
    app.import(&tick_recipe("live", "* * * * * *", true, &url))
        .await;
    assert!(wait_for_more(&app, "live", stopped).await > started);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_scheduled_recipe_stops_it() {
    let (app, receiver) = (app().await, Receiver::start().await);
    app.import(&tick_recipe(
        "doomed",
        "* * * * * *",
        true,
        &receiver.url("/x"),
    ))
    .await;
    wait_for_more(&app, "doomed", 1).await;
    assert!(app.store.delete_recipe("doomed").await.expect("store"));
    assert_stopped(&app, "doomed").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changing_the_cron_applies_the_new_schedule() {
    let (app, receiver) = (app().await, Receiver::start().await);
    let url = receiver.url("/x");
    app.import(&tick_recipe("retimed", "* * * * * *", true, &url))
        .await;
    wait_for_more(&app, "retimed", 1).await;

    app.import(&tick_recipe("retimed", "*/3 * * * * *", true, &url))
        .await;
    // Ticks already in flight may still be on the old cron; later ones are all on the new one.
    let settled = Utc::now() + chrono::Duration::seconds(2);
    let store = app.store.as_ref();
    let deadline = Instant::now() + DEADLINE;
    let new = loop {
        let new: Vec<_> = ticks(store, "retimed")
            .await
            .into_iter()
            .filter(|t| t.scheduled_for > settled)
            .map(|t| t.scheduled_for)
            .collect();
        if new.len() >= 3 {
            break new;
        }
        assert!(
            Instant::now() < deadline,
            "new cron never fired 3 times: {new:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(new.iter().all(|t| t.second() % 3 == 0), "{new:?}");
}
