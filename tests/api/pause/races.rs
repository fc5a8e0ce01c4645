//! Pausing while work is under way: webhooks arriving, runs committing, calls in flight.

use std::time::Duration;

use serde_json::json;

use super::forwarder;
use crate::api::{Api, DEADLINE};
use crate::helpers::grace;
use crate::receiver::Receiver;

/// Sends `count` webhooks `{ n }` at once; the tasks answer with their statuses.
fn flood(
    api: &Api,
    recipe: &switchyard::store::StoredRecipe,
    count: i64,
) -> Vec<tokio::task::JoinHandle<u16>> {
    let url = api.app.hook_url(recipe);
    (0..count)
        .map(|n| {
            let (http, url) = (api.app.http.clone(), url.clone());
            tokio::spawn(async move {
                let sent = http.post(url).json(&json!({ "n": n })).send().await;
                sent.expect("webhook request").status().as_u16()
            })
        })
        .collect()
}

/// The `n` of every call the receiver got, sorted.
fn received(receiver: &Receiver) -> Vec<i64> {
    let mut seen: Vec<i64> = receiver
        .requests()
        .iter()
        .map(|r| r.json()["n"].as_i64().unwrap())
        .collect();
    seen.sort_unstable();
    seen
}

pub(super) async fn pausing_during_a_flood_loses_nothing_and_resume_runs_each_event_once(api: Api) {
    let receiver = Receiver::start().await;
    let recipe = api
        .app
        .import(&forwarder("flood", &receiver.url("/in"), "\"0s\""))
        .await;
    let sends = flood(&api, &recipe, 60);
    tokio::time::sleep(Duration::from_millis(30)).await;
    api.post("/api/recipes/flood/pause").await.expect(200);
    for send in sends {
        assert_eq!(
            send.await.unwrap(),
            202,
            "accepted before, during and after the pause"
        );
    }
    // Calls already under way at the pause finish; after that nothing more is sent.
    grace().await;
    let settled = receiver.requests().len();
    grace().await;
    assert_eq!(
        receiver.requests().len(),
        settled,
        "nothing sent while paused"
    );

    api.post("/api/recipes/flood/resume").await.expect(200);
    let requests = receiver.wait_for(60, DEADLINE).await;
    grace().await;
    let seen = received(&receiver);
    assert_eq!(
        seen,
        (0..60).collect::<Vec<_>>(),
        "each event once ({} calls)",
        requests.len()
    );
}

/// Pauses and resumes race the engine committing runs and the ingest committing events (on
/// PostgreSQL, the table lock against their row locks): every toggle answers 200, nothing is
/// lost or run twice.
pub(super) async fn pause_and_resume_toggled_during_a_flood_answer_200_and_deliver_each_event_once(
    api: Api,
) {
    let receiver = Receiver::start().await;
    let recipe = api
        .app
        .import(&forwarder("toggled", &receiver.url("/in"), "\"0s\""))
        .await;
    let sends = flood(&api, &recipe, 100);
    for round in 0..10 {
        let op = if round % 2 == 0 { "pause" } else { "resume" };
        api.post(&format!("/api/recipes/toggled/{op}"))
            .await
            .expect(200);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    api.post("/api/recipes/toggled/resume").await.expect(200);
    for send in sends {
        assert_eq!(send.await.unwrap(), 202);
    }
    receiver.wait_for(100, DEADLINE).await;
    grace().await;
    let seen = received(&receiver);
    assert_eq!(seen, (0..100).collect::<Vec<_>>(), "each event once");
}
