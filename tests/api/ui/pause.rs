//! The recipe page's Pause/Resume button: a form with the session's CSRF token, a refusal
//! without it, and the state and held count on the page and in the recipes list.

use serde_json::json;

use super::{csrf_in, location, logged_in};
use crate::helpers::TestApp;

async fn import_forwarder(app: &TestApp) -> switchyard::store::StoredRecipe {
    app.import(&crate::pause::forwarder(
        "buttoned",
        "http://127.0.0.1:9/x",
        "\"0s\"",
    ))
    .await
}

#[tokio::test]
async fn the_pause_button_pauses_with_csrf_and_the_pages_show_what_is_held() {
    let (app, browser) = logged_in().await;
    let recipe = import_forwarder(&app).await;
    let page = browser.get("/recipes/buttoned").await.text().await.unwrap();
    assert!(page.contains("id=\"pause-button\""), "a Pause button");
    assert!(page.contains("action=\"/recipes/buttoned/pause\""));

    let refused = browser
        .post("/recipes/buttoned/pause", &[("csrf", "forged")])
        .await;
    assert_eq!(refused.status(), 403, "no pause without the CSRF token");
    assert!(
        app.store
            .get_recipe("buttoned")
            .await
            .unwrap()
            .unwrap()
            .paused_at
            .is_none()
    );

    let csrf = csrf_in(&page);
    let paused = browser
        .post("/recipes/buttoned/pause", &[("csrf", &csrf)])
        .await;
    assert_eq!(paused.status(), 303);
    assert_eq!(location(&paused), "/recipes/buttoned?done=paused");
    for n in 0..3 {
        app.send_event(&recipe, &json!({ "n": n })).await;
    }
    let page = browser
        .get("/recipes/buttoned?done=paused")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("id=\"resume-button\""),
        "a Resume button once paused"
    );
    assert!(page.contains("id=\"paused-note\""), "the paused note");
    assert!(
        page.contains("holding <strong>3</strong> events"),
        "held count on the page"
    );
    let list = browser.get("/").await.text().await.unwrap();
    assert!(list.contains(">paused</span>"), "paused badge in the list");
    assert!(list.contains("3 held"), "held count in the list");

    let resumed = browser
        .post("/recipes/buttoned/resume", &[("csrf", &csrf)])
        .await;
    assert_eq!(location(&resumed), "/recipes/buttoned?done=resumed");
    assert!(
        app.store
            .get_recipe("buttoned")
            .await
            .unwrap()
            .unwrap()
            .paused_at
            .is_none()
    );
}
