//! Abuse limits (issue 5, item 6): the per-recipe webhook rate limit, read deadlines against
//! slow clients, the request head size, and scripts that try to exhaust the stack or memory.
//! Fuzzing of the parsers (item 8) lives in `limits/fuzz.rs`.

mod fuzz;
mod scripts;
mod slow_clients;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use switchyard::config::hook_rate::HookRate;

use crate::helpers::{TestApp, spawn_app_with};

/// A webhook recipe whose action goes nowhere (the tests here look at ingest only).
pub fn hook_recipe(id: &str) -> String {
    format!(
        "id = \"{id}\"\nname = \"{id}\"\n[trigger.webhook]\n[[action]]\nname = \"a\"\nurl = \"http://127.0.0.1:9/x\"\n"
    )
}

async fn post(app: &TestApp, url: &str, n: u32) -> reqwest::Response {
    app.http
        .post(url)
        .json(&json!({ "n": n }))
        .send()
        .await
        .expect("webhook request")
}

#[tokio::test]
async fn a_recipe_over_its_rate_gets_429_with_retry_after_and_stores_nothing() {
    let app = spawn_app_with(|s| {
        s.hook_rate = HookRate::per_second(1.0);
        s.hook_burst = 3;
    })
    .await;
    let busy = app.import(&hook_recipe("busy")).await;
    let quiet = app.import(&hook_recipe("quiet")).await;
    let busy_url = app.hook_url(&busy);

    for n in 0..3 {
        assert_eq!(
            post(&app, &busy_url, n).await.status(),
            202,
            "burst call {n}"
        );
    }
    let refused = post(&app, &busy_url, 3).await;
    assert_eq!(refused.status(), 429);
    let retry_after: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .expect("Retry-After is whole seconds");
    assert_eq!(retry_after, 1);
    let body: Value = refused.json().await.expect("a JSON error");
    assert_eq!(
        body["error"],
        "too many requests for this webhook; retry after 1 s"
    );
    assert_eq!(
        app.event_count().await,
        3,
        "the refused call stored nothing"
    );

    // Another recipe has a bucket of its own.
    assert_eq!(post(&app, &app.hook_url(&quiet), 0).await.status(), 202);

    // After waiting as told, the busy recipe is accepted again.
    tokio::time::sleep(Duration::from_secs(retry_after) + Duration::from_millis(100)).await;
    assert_eq!(post(&app, &busy_url, 4).await.status(), 202);
    assert_eq!(app.event_count().await, 5);
}

#[tokio::test]
async fn the_default_rate_is_generous() {
    let app = spawn_app_with(|_| {}).await;
    let recipe = app.import(&hook_recipe("generous")).await;
    let url = app.hook_url(&recipe);
    let started = Instant::now();
    let mut calls = tokio::task::JoinSet::new();
    for n in 0..100 {
        let (http, url) = (app.http.clone(), url.clone());
        calls.spawn(async move {
            let answer = http.post(url).json(&json!({ "n": n })).send().await;
            answer.expect("webhook request").status()
        });
    }
    // 100 calls at once fit in the default burst of 200.
    let statuses = calls.join_all().await;
    assert!(statuses.iter().all(|s| *s == 202), "{statuses:?}");
    assert!(started.elapsed() < Duration::from_secs(30));
}
