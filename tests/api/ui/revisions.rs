//! Recipe revisions in the UI: the recipe page lists them, the revisions page shows an escaped
//! line diff, a revision's page restores it with the session's CSRF token (and refuses
//! without), and an event's run links to the revision it ran.

use serde_json::json;

use super::form_post::unescape;
use super::{csrf_in, location, logged_in};

fn recipe(limit: u32) -> String {
    format!(
        r#"id = "revs"
name = "Revisions"

[trigger.webhook]

[transform]
script = '#{{ small: event.n < {limit} }}'

[[action]]
name = "send"
url = "http://127.0.0.1:9/x"
retry = {{ schedule = ["0s"] }}
"#
    )
}

#[tokio::test]
async fn revisions_are_listed_diffed_and_restored_with_csrf_and_runs_link_to_theirs() {
    let (app, browser) = logged_in().await;
    app.import(&recipe(3)).await;
    let editor = browser
        .get("/recipes/revs/toml")
        .await
        .text()
        .await
        .unwrap();
    let saved = browser
        .post(
            "/recipes/revs/toml",
            &[("csrf", &csrf_in(&editor)), ("source", &recipe(4))],
        )
        .await;
    assert_eq!(saved.status(), 303, "saved through the TOML editor");

    let page = browser.get("/recipes/revs").await.text().await.unwrap();
    let table = &page[page.find("id=\"revisions\"").expect("a revisions table")..];
    let v2 = table.find("/recipes/revs/revisions/2").expect("v2 listed");
    let v1 = table.find("/recipes/revs/revisions/1").expect("v1 listed");
    assert!(v2 < v1, "newest first");
    assert!(table.contains("user admin"), "the UI save names its user");

    let list = browser
        .get("/recipes/revs/revisions")
        .await
        .text()
        .await
        .unwrap();
    let diff = &list[list.find("id=\"revision-diff\"").expect("a diff")..];
    let diff = &diff[..diff.find("</pre>").unwrap()];
    assert!(!diff.contains("n < "), "escaped, never raw HTML: {diff}");
    let text = unescape(diff);
    assert!(
        text.contains("<span class=\"diff-removed\">- script = '#{ small: event.n < 3 }'</span>"),
        "the removed line: {text}"
    );
    assert!(
        text.contains("<span class=\"diff-added\">+ script = '#{ small: event.n < 4 }'</span>"),
        "the added line: {text}"
    );

    let old = browser
        .get("/recipes/revs/revisions/1")
        .await
        .text()
        .await
        .unwrap();
    assert!(old.contains("id=\"restore-form\""), "{old}");
    let forged = browser
        .post("/recipes/revs/revisions/1/restore", &[("csrf", "forged")])
        .await;
    assert_eq!(forged.status(), 403, "no restore without the CSRF token");
    assert_eq!(app.store.list_revisions("revs").await.unwrap().len(), 2);

    let restored = browser
        .post(
            "/recipes/revs/revisions/1/restore",
            &[("csrf", &csrf_in(&old))],
        )
        .await;
    assert_eq!(restored.status(), 303);
    assert_eq!(location(&restored), "/recipes/revs?done=restored");
    let revisions = app.store.list_revisions("revs").await.unwrap();
    assert_eq!(revisions[0].version, 3);
    let latest = app.store.get_revision("revs", 3).await.unwrap().unwrap();
    assert_eq!(latest.source, recipe(3));
    assert_eq!(
        revisions[0].author.as_deref(),
        Some("user admin (restored from version 1)")
    );
    let current = browser
        .get("/recipes/revs/revisions/3")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        !current.contains("id=\"restore-form\""),
        "the current one has no restore"
    );

    let stored = app.store.get_recipe("revs").await.unwrap().unwrap();
    let event = app.send_event(&stored, &json!({ "n": 1 })).await;
    app.wait_for_run(&event).await;
    let event_page = browser
        .get(&format!("/events/{event}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        event_page.contains("href=\"/recipes/revs/revisions/3\""),
        "the run links to the revision it ran"
    );
    let missing = browser.get("/recipes/revs/revisions/9").await;
    assert_eq!(missing.status(), 404);
    assert!(missing.text().await.unwrap().contains("version 9"));
}
