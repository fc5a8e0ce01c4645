//! The editor says why when something did not happen: a picked field with the filter a
//! script, the Rhai preview of rows not yet sent.

use super::form_post::{ok_html, press};
#[allow(clippy::wildcard_imports)]
use super::*;

#[tokio::test]
async fn picking_a_condition_with_the_filter_a_script_says_rows_are_off() {
    let (_app, browser) = logged_in().await;
    let html = ok_html(browser.get("/recipes/new").await).await;
    let html = ok_html(
        press(
            &browser,
            "/recipes/new",
            &html,
            "load_sample",
            &[("sample", r#"{"a": 1}"#)],
        )
        .await,
    )
    .await;
    assert!(
        html.contains("value=\"pick_row\""),
        "rows on: the button is there"
    );
    let script = ok_html(press(&browser, "/recipes/new", &html, "to_script", &[]).await).await;
    assert!(
        script.contains("Condition rows are off: the filter is a script"),
        "{script}"
    );
    let picked = press(
        &browser,
        "/recipes/new",
        &script,
        "pick_row",
        &[("picked", "a")],
    )
    .await;
    let html = picked.text().await.unwrap();
    assert!(
        html.contains("a picked field cannot become a condition row"),
        "{html}"
    );
}

#[tokio::test]
async fn rows_not_yet_sent_offer_a_refresh_for_their_rhai() {
    let (_app, browser) = logged_in().await;
    let html = ok_html(browser.get("/recipes/new").await).await;
    let added = ok_html(press(&browser, "/recipes/new", &html, "add_row", &[]).await).await;
    assert!(
        added.contains("Not shown yet: refresh to see the Rhai"),
        "{added}"
    );
    let changes = [
        ("when.0.field", "type"),
        ("when.0.op", "eq"),
        ("when.0.value", "x"),
    ];
    let refreshed =
        ok_html(press(&browser, "/recipes/new", &added, "preview", &changes).await).await;
    assert!(refreshed.contains("class=\"code compiled\""), "{refreshed}");
    // The stale note is there for app.js to show, hidden until a row changes.
    assert!(
        refreshed.contains("class=\"rhai-stale small\" hidden"),
        "{refreshed}"
    );
}
