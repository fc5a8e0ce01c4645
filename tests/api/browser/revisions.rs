//! Recipe revisions in real Chromium: the recipe page lists them, the revisions page shows the
//! diff, and Restore (after its confirmation) makes the old text current as a new revision.

use super::chrome::Chrome;
use super::{set_up_admin, spawn};

fn recipe(limit: u32) -> String {
    format!(
        "id = \"revs-ui\"\nname = \"Revisions in a browser\"\n\n[trigger.webhook]\n\n\
         [transform]\nscript = '#{{ small: event.n < {limit} }}'\n\n\
         [[action]]\nname = \"send\"\nurl = \"http://127.0.0.1:9/x\"\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revisions_are_listed_diffed_and_restored_in_a_real_browser() {
    let (app, setup_url) = spawn().await;
    let Some(browser) = Chrome::start(&app.address).await else {
        return;
    };
    set_up_admin(&browser, &setup_url).await;
    app.import(&recipe(3)).await;
    app.import(&recipe(4)).await;

    browser.goto("/recipes/revs-ui").await;
    let rows = browser.texts("#revisions tbody tr").await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(
        rows[0].starts_with("v2") && rows[0].contains("current"),
        "{rows:?}"
    );

    browser.goto("/recipes/revs-ui/revisions").await;
    let diff = browser.text("#revision-diff").await;
    assert!(
        diff.contains("- script = '#{ small: event.n < 3 }'"),
        "{diff}"
    );
    assert!(
        diff.contains("+ script = '#{ small: event.n < 4 }'"),
        "{diff}"
    );
    browser.screenshot("revisions-1-diff").await;

    browser.goto("/recipes/revs-ui/revisions/1").await;
    browser.click_and_confirm("#restore-button").await;
    browser
        .wait_for_location("the recipe page after restoring", |at| {
            at == "/recipes/revs-ui?done=restored"
        })
        .await;
    let rows = browser.texts("#revisions tbody tr").await;
    assert!(
        rows[0].starts_with("v3") && rows[0].contains("user admin (restored from version 1)"),
        "{rows:?}"
    );
    let current = app.store.get_recipe("revs-ui").await.unwrap().unwrap();
    assert_eq!(current.source, recipe(3));
    browser.close().await;
}
