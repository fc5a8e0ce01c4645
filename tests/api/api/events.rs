//! Events through the API: filters by recipe and status, keyset paging, the event page with
//! deliveries and attempts, and replays against the current recipe.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::{Api, DEADLINE, recipe_toml, spawn_api};
use crate::receiver::Receiver;

fn set(ids: Vec<String>) -> BTreeSet<String> {
    ids.into_iter().collect()
}

#[tokio::test]
async fn events_filter_by_recipe_and_by_each_status_and_an_unknown_status_is_400() {
    let api = spawn_api().await;
    let ok = Receiver::start().await;
    let failing = Receiver::start().await;
    failing.always(500);
    let mixed = api
        .save(
            &format!(
                r#"id = "mixed"
name = "Mixed"
dedupe = "event.key"

[trigger.webhook]

[filter]
script = 'event.kind != "skip"'

[transform]
script = 'if event.kind == "boom" {{ throw "boom"; }} #{{ key: event.key }}'

[[action]]
name = "send"
url = "{}"
retry = {{ schedule = ["0s"] }}
"#,
                ok.url("/mixed")
            ),
            "created",
        )
        .await;
    let dead = api
        .save(
            &recipe_toml("dead", &failing.url("/dead"), "event", r#"["0s"]"#),
            "created",
        )
        .await;
    let waiting = api
        .save(
            &recipe_toml("waiting", &failing.url("/wait"), "event", r#"["0s", "1h"]"#),
            "created",
        )
        .await;

    let delivered = api
        .send(&mixed, &json!({ "kind": "ok", "key": "k1" }))
        .await;
    api.wait_for_status(&delivered, "delivered").await;
    let duplicate = api
        .send(&mixed, &json!({ "kind": "ok", "key": "k1" }))
        .await;
    let filtered = api
        .send(&mixed, &json!({ "kind": "skip", "key": "k2" }))
        .await;
    let failed = api
        .send(&mixed, &json!({ "kind": "boom", "key": "k3" }))
        .await;
    let dead_event = api.send(&dead, &json!({})).await;
    let pending = api.send(&waiting, &json!({})).await;
    api.wait_for_status(&duplicate, "duplicate").await;
    api.wait_for_status(&filtered, "filtered").await;
    let failed_detail = api.wait_for_status(&failed, "failed").await;
    assert!(
        failed_detail["event"]["error"]
            .as_str()
            .is_some_and(|e| e.contains("boom")),
        "{failed_detail:#}"
    );
    api.wait_for_status(&dead_event, "dead").await;
    // Its first attempt failed and the next is an hour away: still pending.
    api.wait_for_event(&pending, |d| {
        d["deliveries"][0]["attempts"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
    })
    .await;

    for (status, expected) in [
        ("delivered", vec![&delivered]),
        ("duplicate", vec![&duplicate]),
        ("filtered", vec![&filtered]),
        ("failed", vec![&failed]),
        ("dead", vec![&dead_event]),
        ("pending", vec![&pending]),
    ] {
        let got = api.event_ids(&format!("status={status}")).await;
        let expected: Vec<String> = expected.into_iter().cloned().collect();
        assert_eq!(got, expected, "status={status}");
    }

    let mut all_mixed = vec![
        delivered.clone(),
        duplicate.clone(),
        filtered.clone(),
        failed.clone(),
    ];
    all_mixed.reverse();
    assert_eq!(
        api.event_ids("recipe=mixed").await,
        all_mixed,
        "newest first"
    );
    assert_eq!(
        api.event_ids("recipe=mixed&status=delivered").await,
        vec![delivered.clone()]
    );
    assert_eq!(
        api.event_ids("recipe=mixed&status=dead").await,
        Vec::<String>::new()
    );
    assert_eq!(
        api.event_ids("recipe=dead&status=dead").await,
        vec![dead_event.clone()]
    );
    assert_eq!(api.event_ids("recipe=nobody").await, Vec::<String>::new());
    assert_eq!(
        set(api.event_ids("").await),
        set(vec![
            delivered, duplicate, filtered, failed, dead_event, pending
        ])
    );

    let summary = &api.get("/api/events?recipe=dead").await.expect(200).json()["events"][0];
    assert_eq!(summary["recipe_id"], "dead");
    assert_eq!(summary["status"], "dead");
    assert_eq!(summary["trigger"], "webhook");
    assert!(summary["received_at"].is_string(), "{summary:#}");

    let message = api.get("/api/events?status=lost").await.expect_error(400);
    assert!(message.contains("lost"), "{message}");
    api.get("/api/events?before=not-a-cursor")
        .await
        .expect_error(400);
    let message = api.get("/api/events?limit=many").await.expect_error(400);
    assert!(message.contains("limit"), "{message}");
}

/// Follows `next` cursors; returns the pages' ids.
async fn pages(api: &Api, query: &str) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut before: Option<String> = None;
    loop {
        let path = match &before {
            None => format!("/api/events?{query}"),
            Some(cursor) => format!("/api/events?{query}&before={cursor}"),
        };
        let page = api.get(&path).await.expect(200).json();
        pages.push(super::ids(&page["events"]));
        match &page["next"] {
            Value::Null => return pages,
            Value::String(cursor) => before = Some(cursor.clone()),
            other => panic!("`next` is a string or null, got {other}"),
        }
        assert!(pages.len() < 20, "paging does not end: {pages:?}");
    }
}

#[tokio::test]
async fn events_are_paged_newest_first_with_a_next_cursor_that_is_null_on_the_last_page() {
    let api = spawn_api().await;
    let receiver = Receiver::start().await;
    let paged = api
        .save(
            &recipe_toml("paged", &receiver.url("/p"), "event", r#"["0s"]"#),
            "created",
        )
        .await;
    let noise = api
        .save(
            &recipe_toml("noise", &receiver.url("/n"), "event", r#"["0s"]"#),
            "created",
        )
        .await;
    let mut sent = Vec::new();
    let mut all = Vec::new();
    for n in 0..7 {
        let id = api.send(&paged, &json!({ "n": n })).await;
        sent.push(id.clone());
        all.push(id);
        if n % 3 == 0 {
            all.push(api.send(&noise, &json!({ "n": n })).await);
        }
    }
    for id in &all {
        api.wait_for_status(id, "delivered").await;
    }
    sent.reverse();
    all.reverse();

    let by_recipe = pages(&api, "recipe=paged&limit=3").await;
    let sizes: Vec<usize> = by_recipe.iter().map(Vec::len).collect();
    assert_eq!(sizes, vec![3, 3, 1], "{by_recipe:?}");
    assert_eq!(
        by_recipe.concat(),
        sent,
        "newest first, no overlaps, no gaps"
    );

    let by_status = pages(&api, "status=delivered&limit=4").await;
    let sizes: Vec<usize> = by_status.iter().map(Vec::len).collect();
    assert_eq!(sizes, vec![4, 4, 2], "{by_status:?}");
    assert_eq!(by_status.concat(), all);

    let everything = pages(&api, "limit=100").await;
    assert_eq!(everything, vec![all.clone()]);

    // Exactly a page's worth: the last full page may point at an empty one, never beyond.
    let exact = pages(&api, "recipe=noise&limit=3").await;
    assert_eq!(exact.concat().len(), 3, "{exact:?}");
    assert!(exact.last().unwrap().len() <= 3);
}

#[tokio::test]
async fn an_event_shows_its_payload_run_and_each_delivery_with_every_attempt() {
    let api = spawn_api().await;
    let receiver = Receiver::start().await;
    receiver.respond_with(&[500]);
    let recipe = api
        .save(
            &recipe_toml(
                "detail",
                &receiver.url("/d"),
                "#{ doubled: event.n * 2 }",
                r#"["0s", "200ms"]"#,
            ),
            "created",
        )
        .await;
    let payload = json!({ "n": 21 });
    let event_id = api.send(&recipe, &payload).await;
    let detail = api.wait_for_status(&event_id, "delivered").await;

    let event = &detail["event"];
    assert_eq!(event["id"], event_id.as_str());
    assert_eq!(event["recipe_id"], "detail");
    assert_eq!(event["trigger"], "webhook");
    assert_eq!(event["payload"], payload);
    assert!(event["received_at"].is_string());
    assert!(
        event["headers"]["content-type"]
            .as_str()
            .is_some_and(|c| c.starts_with("application/json")),
        "{event:#}"
    );

    let runs = detail["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 1, "{detail:#}");
    assert_eq!(runs[0]["output"], json!({ "doubled": 42 }));
    assert_eq!(runs[0]["recipe_version"], recipe["version"]);

    let deliveries = detail["deliveries"].as_array().expect("deliveries");
    assert_eq!(deliveries.len(), 1, "{detail:#}");
    let delivery = &deliveries[0];
    assert_eq!(delivery["action_name"], "send");
    assert_eq!(delivery["status"], "delivered");
    assert_eq!(delivery["attempt_count"], 2);
    let attempts = delivery["attempts"].as_array().expect("attempts");
    assert_eq!(attempts.len(), 2, "{delivery:#}");
    assert_eq!(attempts[0]["attempt_no"], 1);
    assert_eq!(attempts[0]["status_code"], 500);
    assert_eq!(attempts[0]["response_snippet"], "receiver says 500");
    assert_eq!(attempts[1]["attempt_no"], 2);
    assert_eq!(attempts[1]["status_code"], 200);
    for attempt in attempts {
        assert!(attempt["started_at"].is_string(), "{attempt:#}");
        assert!(attempt["duration_ms"].is_i64(), "{attempt:#}");
    }

    let message = api.get("/api/events/no-such-event").await.expect_error(404);
    assert!(message.contains("no-such-event"), "{message}");
}

#[tokio::test]
async fn a_replay_runs_the_event_again_against_the_current_recipe_despite_its_dedupe_key() {
    let api = spawn_api().await;
    let receiver = Receiver::start().await;
    let version = |v: u32| {
        format!(
            r#"id = "replayed"
name = "Replayed"
dedupe = "event.order"

[trigger.webhook]

[transform]
script = '#{{ order: event.order, version: {v} }}'

[[action]]
name = "send"
url = "{}"
retry = {{ schedule = ["0s"] }}
"#,
            receiver.url("/replay")
        )
    };
    let recipe = api.save(&version(1), "created").await;
    let event_id = api.send(&recipe, &json!({ "order": "o-1" })).await;
    api.wait_for_status(&event_id, "delivered").await;
    let duplicate = api.send(&recipe, &json!({ "order": "o-1" })).await;
    api.wait_for_status(&duplicate, "duplicate").await;
    assert_eq!(receiver.wait_for(1, DEADLINE).await.len(), 1);

    let updated = api.save(&version(2), "updated").await;
    let replay = api
        .post(&format!("/api/events/{event_id}/replay"))
        .await
        .expect(202)
        .json();
    assert_eq!(replay["event_id"], event_id.as_str());
    let detail = api
        .wait_for_event(&event_id, |d| {
            d["event"]["status"] == "delivered"
                && d["runs"].as_array().is_some_and(|r| r.len() == 2)
        })
        .await;
    let requests = receiver.wait_for(2, DEADLINE).await;
    assert_eq!(requests[0].json(), json!({ "order": "o-1", "version": 1 }));
    assert_eq!(
        requests[1].json(),
        json!({ "order": "o-1", "version": 2 }),
        "the replay ran the current transform"
    );
    let versions: BTreeSet<i64> = detail["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["recipe_version"].as_i64().unwrap())
        .collect();
    assert!(
        versions.contains(&updated["version"].as_i64().unwrap()),
        "{detail:#}"
    );

    // The event stored as a duplicate is not blocked by the key either when replayed.
    api.post(&format!("/api/events/{duplicate}/replay"))
        .await
        .expect(202);
    api.wait_for_status(&duplicate, "delivered").await;
    let requests = receiver.wait_for(3, DEADLINE).await;
    assert_eq!(requests[2].json(), json!({ "order": "o-1", "version": 2 }));

    // A new event with the same key is still a duplicate: replays do not reset dedupe.
    let third = api.send(&recipe, &json!({ "order": "o-1" })).await;
    api.wait_for_status(&third, "duplicate").await;

    let message = api
        .post("/api/events/no-such-event/replay")
        .await
        .expect_error(404);
    assert!(message.contains("no-such-event"), "{message}");
    crate::helpers::grace().await;
    assert_eq!(receiver.requests().len(), 3);
}

#[tokio::test]
async fn events_outlive_their_deleted_recipe_and_a_replay_then_fails_saying_why() {
    let api = spawn_api().await;
    let receiver = Receiver::start().await;
    let recipe = api
        .save(
            &recipe_toml("gone", &receiver.url("/gone"), "event", r#"["0s"]"#),
            "created",
        )
        .await;
    let event_id = api.send(&recipe, &json!({ "n": 1 })).await;
    api.wait_for_status(&event_id, "delivered").await;
    api.delete("/api/recipes/gone").await.expect(204);

    assert_eq!(api.event_ids("recipe=gone").await, vec![event_id.clone()]);
    api.post(&format!("/api/events/{event_id}/replay"))
        .await
        .expect(202);
    let detail = api.wait_for_status(&event_id, "failed").await;
    let error = detail["event"]["error"].as_str().unwrap_or_default();
    assert!(error.contains("gone"), "{detail:#}");
    assert_eq!(receiver.requests().len(), 1);
}
