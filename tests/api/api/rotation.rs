//! Rotating webhook URLs through the API, with and without a grace period.

use serde_json::json;

use super::recipes::greeting_recipe;
use super::spawn_api;
use crate::receiver::Receiver;

#[tokio::test]
async fn rotating_gives_a_new_webhook_url_and_the_old_one_stops_working() {
    let api = spawn_api().await;
    let receiver = Receiver::start().await;
    let recipe = api
        .save(
            &greeting_recipe("rotor", &receiver.url("/r"), "Hi"),
            "created",
        )
        .await;
    let old = recipe["webhook_url"].as_str().unwrap().to_owned();
    let rotated = api
        .post("/api/recipes/rotor/rotate")
        .await
        .expect(200)
        .json();
    let new = rotated["webhook_url"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    assert!(new.starts_with(&format!("{}/hooks/", api.app.address)));
    assert_eq!(
        api.get("/api/recipes/rotor").await.expect(200).json()["webhook_url"],
        new.as_str()
    );
    assert_eq!(
        api.hook(&old, &json!({ "name": "old" })).await.status(),
        404
    );
    let event_id = api.send(&rotated, &json!({ "name": "new" })).await;
    api.wait_for_status(&event_id, "delivered").await;

    // Saving the recipe again keeps the rotated URL.
    let saved = api
        .save(
            &greeting_recipe("rotor", &receiver.url("/r"), "Yo"),
            "updated",
        )
        .await;
    assert_eq!(saved["webhook_url"], new.as_str());
}

#[tokio::test]
async fn rotating_with_a_grace_period_keeps_the_old_url_working_until_it_ends() {
    let api = spawn_api().await;
    let recipe = api
        .save(
            &greeting_recipe("graceful", "https://example.com/x", "Hi"),
            "created",
        )
        .await;
    let old = recipe["webhook_url"].as_str().unwrap().to_owned();
    api.post("/api/recipes/graceful/rotate?grace=soon")
        .await
        .expect_error(400);
    let rotated = api
        .post("/api/recipes/graceful/rotate?grace=1h")
        .await
        .expect(200)
        .json();
    let new = rotated["webhook_url"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    assert_eq!(
        api.hook(&old, &json!({ "name": "old" })).await.status(),
        202
    );
    assert_eq!(
        api.hook(&new, &json!({ "name": "new" })).await.status(),
        202
    );

    // Rotating again without grace ends both older URLs at once.
    let again = api
        .post("/api/recipes/graceful/rotate")
        .await
        .expect(200)
        .json();
    let newest = again["webhook_url"].as_str().unwrap();
    assert_eq!(
        api.hook(&old, &json!({ "name": "old" })).await.status(),
        404
    );
    assert_eq!(
        api.hook(&new, &json!({ "name": "new" })).await.status(),
        404
    );
    assert_eq!(
        api.hook(newest, &json!({ "name": "newest" }))
            .await
            .status(),
        202
    );
}
