//! The editor keeps what it was given: picked fields read the field that was clicked (also
//! when a payload key is named like a root), every `fields` value the file allows (lists of
//! tables, nested lists, dates) saves from the form, and a hand-written file saved unchanged
//! keeps its text.

use super::form_post::{ok_html, press};
#[allow(clippy::wildcard_imports)]
use super::*;

fn preset_file(name: &str) -> String {
    std::fs::read_to_string(format!("{}/presets/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

async fn dry_run(browser: &Browser, id: &str, payload: &str, headers: &str) -> String {
    let csrf = browser.csrf(&format!("/recipes/{id}")).await;
    let form = [
        ("csrf", csrf.as_str()),
        ("payload", payload),
        ("headers", headers),
        ("op", "dry_run"),
    ];
    ok_html(browser.post(&format!("/recipes/{id}/test"), &form).await).await
}

#[tokio::test]
async fn a_picked_field_under_a_key_named_like_a_root_reads_that_field() {
    let (_app, browser) = logged_in().await;
    let html = ok_html(browser.get("/recipes/new").await).await;
    let with_preset = press(
        &browser,
        "/recipes/new",
        &html,
        "use_trigger_preset",
        &[("trigger_preset", "slack-events")],
    )
    .await;
    let html = ok_html(with_preset).await;
    assert!(html.contains("data-path=\"event.event.type\""), "{html}");
    assert!(
        !html.contains("data-path=\"event.type\""),
        "the payload's `event` is not the root"
    );
    let picked = press(
        &browser,
        "/recipes/new",
        &html,
        "pick_row",
        &[("picked", "event.event.type")],
    )
    .await;
    let html = ok_html(picked).await;
    let saved = press(
        &browser,
        "/recipes/new",
        &html,
        "save",
        &[
            ("name", "slack messages"),
            ("when.0.op", "eq"),
            ("when.0.value", "message"),
            ("action.0.name", "hook"),
            ("action.0.url", "https://example.com/hook"),
        ],
    )
    .await;
    assert_eq!(saved.status(), 303, "{}", saved.text().await.unwrap());
    let sample = preset_file("triggers/slack-events.sample.json");
    let html = dry_run(&browser, "slack-messages", &sample, "").await;
    assert!(html.contains("passed the filter"), "{html}");

    // A pasted sample with `meta`, `headers`, `event` and `output` keys: each picked path
    // reads the payload, so `exists` rows on them all hold.
    let pasted = r#"{"meta":{"page":2},"event":{"type":"x"},"headers":{"x":"1"},"output":{"n":1}}"#;
    let html = ok_html(browser.get("/recipes/new").await).await;
    let loaded = press(
        &browser,
        "/recipes/new",
        &html,
        "load_sample",
        &[("sample", pasted)],
    )
    .await;
    let mut html = ok_html(loaded).await;
    let paths = [
        "event.meta.page",
        "event.event.type",
        "event.headers.x",
        "event.output.n",
    ];
    for path in paths {
        assert!(
            html.contains(&format!("data-path=\"{path}\"")),
            "{path}: {html}"
        );
        html = ok_html(
            press(
                &browser,
                "/recipes/new",
                &html,
                "pick_row",
                &[("picked", path)],
            )
            .await,
        )
        .await;
    }
    let mut changes = vec![
        ("name", "root keys"),
        ("action.0.name", "hook"),
        ("action.0.url", "https://example.com/hook"),
    ];
    let ops: Vec<String> = (0..paths.len()).map(|i| format!("when.{i}.op")).collect();
    changes.extend(ops.iter().map(|op| (op.as_str(), "exists")));
    let saved = press(&browser, "/recipes/new", &html, "save", &changes).await;
    assert_eq!(saved.status(), 303, "{}", saved.text().await.unwrap());
    let html = dry_run(&browser, "root-keys", pasted, "{\"x\": \"header\"}").await;
    assert!(html.contains("passed the filter"), "{html}");
}

#[tokio::test]
async fn the_teams_preset_saves_from_the_form_and_its_adaptive_card_is_the_body() {
    let (app, browser) = logged_in().await;
    let html = ok_html(browser.get("/recipes/new").await).await;
    let chosen = press(
        &browser,
        "/recipes/new",
        &html,
        "choose_action_preset",
        &[("action_preset", "teams")],
    )
    .await;
    let html = ok_html(chosen).await;
    let added = press(
        &browser,
        "/recipes/new",
        &html,
        "add_action_preset",
        &[("preset_input.message", "Hi {{ event.who }}")],
    )
    .await;
    let html = ok_html(added).await;
    let saved = press(
        &browser,
        "/recipes/new",
        &html,
        "save",
        &[("name", "teams card")],
    )
    .await;
    assert_eq!(saved.status(), 303, "{}", saved.text().await.unwrap());
    let stored = app.store.get_recipe("teams-card").await.unwrap().unwrap();
    assert!(stored.source.contains("AdaptiveCard"), "{}", stored.source);

    // Saved again from the form with no change: the same text.
    let edit = ok_html(browser.get("/recipes/teams-card/edit").await).await;
    let again = press(&browser, "/recipes/teams-card/edit", &edit, "save", &[]).await;
    assert_eq!(location(&again), "/recipes/teams-card?done=unchanged");

    let html = dry_run(&browser, "teams-card", r#"{"who": "Ada"}"#, "").await;
    assert!(
        html.contains("application/vnd.microsoft.card.adaptive"),
        "{html}"
    );
    assert!(html.contains("Hi Ada"), "the card's text: {html}");
}

const HAND_WRITTEN: &str = r#"# Written by hand: comments, quoting and inline tables are kept.
id = "hand-written"
name = 'Hand written'

[trigger.webhook]

[[filter.when]]
field = "created"
op = "gt"
value = 2024-05-01T00:00:00Z

[[filter.when]]
field = "tag"
op = "in"
value = ["a", "b"]

[[action]]
name = "hook"
url = "https://example.com/hook"
fields = { text = "{{ event.tag }}", grid = [[1, 2], [3]], cards = [{ kind = "x", at = 2024-05-01 }] }
"#;

#[tokio::test]
async fn a_hand_written_file_saved_unchanged_keeps_its_text_and_an_edit_adds_no_defaults() {
    let (app, browser) = logged_in().await;
    let engine = ScriptEngine::new(ScriptLimits::default());
    import_source(app.store.as_ref(), &engine, HAND_WRITTEN, None, "test")
        .await
        .expect("imports");
    let edit = ok_html(browser.get("/recipes/hand-written/edit").await).await;
    let saved = press(&browser, "/recipes/hand-written/edit", &edit, "save", &[]).await;
    assert_eq!(saved.status(), 303, "{}", saved.text().await.unwrap());
    assert_eq!(location(&saved), "/recipes/hand-written?done=unchanged");
    let stored = app.store.get_recipe("hand-written").await.unwrap().unwrap();
    assert_eq!(stored.source, HAND_WRITTEN);

    let renamed = press(
        &browser,
        "/recipes/hand-written/edit",
        &edit,
        "save",
        &[("name", "Renamed")],
    )
    .await;
    assert_eq!(location(&renamed), "/recipes/hand-written?done=saved");
    let stored = app.store.get_recipe("hand-written").await.unwrap().unwrap();
    for default in ["enabled", "verify", "respond", "method"] {
        assert!(
            !stored.source.contains(default),
            "{default} added:\n{}",
            stored.source
        );
    }
    assert!(
        stored.source.contains("value = 2024-05-01T00:00:00Z"),
        "{}",
        stored.source
    );
    assert!(
        stored.source.contains("at = 2024-05-01"),
        "{}",
        stored.source
    );
}

#[tokio::test]
async fn saving_with_an_action_preset_panel_open_adds_its_action_or_keeps_the_panel() {
    let (app, browser) = logged_in().await;
    let html = ok_html(browser.get("/recipes/new").await).await;
    let chosen = press(
        &browser,
        "/recipes/new",
        &html,
        "choose_action_preset",
        &[("action_preset", "resend")],
    )
    .await;
    let html = ok_html(chosen).await;
    assert!(
        html.contains("<textarea name=\"preset_input.message\""),
        "a multi-line message"
    );

    // Left blank: the panel stays with what was typed and says the action was not added.
    let refused = press(
        &browser,
        "/recipes/new",
        &html,
        "save",
        &[("name", "mail"), ("preset_input.to", "support@example.com")],
    )
    .await;
    assert_eq!(refused.status(), 422);
    let html = refused.text().await.unwrap();
    assert!(
        html.contains("This action was not added and the recipe was not saved"),
        "{html}"
    );
    assert!(
        html.contains("value=\"support@example.com\""),
        "what was typed is kept"
    );
    assert!(!html.contains("relative URL without a base"), "{html}");

    // Filled: Save (also what Enter presses) adds the action, then saves.
    let saved = press(
        &browser,
        "/recipes/new",
        &html,
        "save",
        &[
            ("preset_input.from", "Site <site@example.com>"),
            ("preset_input.message", "Line one\nLine two"),
        ],
    )
    .await;
    assert_eq!(saved.status(), 303, "{}", saved.text().await.unwrap());
    let stored = app.store.get_recipe("mail").await.unwrap().unwrap();
    assert!(
        stored.source.contains("api.resend.com"),
        "{}",
        stored.source
    );
    assert!(
        stored.source.contains("support@example.com"),
        "{}",
        stored.source
    );
}

#[tokio::test]
async fn an_empty_action_is_named_in_plain_words() {
    let (_app, browser) = logged_in().await;
    let html = ok_html(browser.get("/recipes/new").await).await;
    let refused = press(
        &browser,
        "/recipes/new",
        &html,
        "save",
        &[("name", "empty action")],
    )
    .await;
    assert_eq!(refused.status(), 422);
    let html = refused.text().await.unwrap();
    assert!(
        html.contains("Action 1 is empty: give it a name and the URL it posts to"),
        "{html}"
    );
    assert!(!html.contains("relative URL without a base"), "{html}");
}

#[tokio::test]
async fn the_toml_tab_of_a_new_recipe_shows_the_form_being_edited() {
    let (_app, browser) = logged_in().await;
    let html = ok_html(browser.get("/recipes/new").await).await;
    assert!(
        html.contains("name=\"op\" value=\"to_toml\""),
        "the tab posts the form"
    );
    let blank = ok_html(press(&browser, "/recipes/new", &html, "to_toml", &[]).await).await;
    assert!(
        blank.contains("my-recipe"),
        "a blank form shows the starter file"
    );
    let added = ok_html(press(&browser, "/recipes/new", &html, "add_row", &[]).await).await;
    let changes = [
        ("name", "tab test"),
        ("when.0.field", "type"),
        ("when.0.op", "eq"),
        ("when.0.value", "x"),
    ];
    let toml = ok_html(press(&browser, "/recipes/new", &added, "to_toml", &changes).await).await;
    assert!(
        toml.contains("name = &#34;tab test&#34;") || toml.contains("name = \"tab test\""),
        "{toml}"
    );
    assert!(toml.contains("[[filter.when]]"), "{toml}");
    assert!(!toml.contains("my-recipe"), "not the starter file: {toml}");
}
