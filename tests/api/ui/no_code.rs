//! The no-code editor without JavaScript: presets, condition rows, body field rows and the
//! picker's select, each a plain form post that re-renders the form; and a recipe that goes
//! through the form unchanged exports the TOML it was imported with.

use super::form_post::{ok_html, press};
#[allow(clippy::wildcard_imports)]
use super::*;

#[tokio::test]
async fn a_recipe_is_built_from_presets_rows_and_field_rows_without_javascript() {
    let (app, browser) = logged_in().await;
    let html = ok_html(browser.get("/recipes/new").await).await;
    assert!(html.contains("value=\"stripe\""), "trigger presets offered");

    // The Stripe trigger preset: verification, secret name, dedupe, and its sample in the picker.
    let html = press(
        &browser,
        "/recipes/new",
        &html,
        "use_trigger_preset",
        &[("trigger_preset", "stripe"), ("name", "Paid over ten")],
    )
    .await;
    let html = ok_html(html).await;
    assert!(
        html.contains("<option value=\"stripe\" selected>"),
        "verify preset set"
    );
    assert!(html.contains("value=\"STRIPE_SIGNING_SECRET\""));
    assert!(
        html.contains("data-path=\"data.object.amount\""),
        "the sample's fields in the picker"
    );

    // Two condition rows: one from the picker's select, one added blank and filled in.
    let html = press(
        &browser,
        "/recipes/new",
        &html,
        "pick_row",
        &[("picked", "type")],
    )
    .await;
    let html = ok_html(html).await;
    let html = press(
        &browser,
        "/recipes/new",
        &html,
        "add_row",
        &[("when.0.value", "payment_intent.succeeded")],
    )
    .await;
    let html = ok_html(html).await;
    assert!(html.contains("name=\"when.1.field\""), "a second row");

    // The Slack action preset: its inputs step, then an ordinary action.
    let html = press(
        &browser,
        "/recipes/new",
        &html,
        "choose_action_preset",
        &[
            ("action_preset", "slack"),
            ("when.1.field", "data.object.amount"),
            ("when.1.op", "gt"),
            ("when.1.value", "1000"),
        ],
    )
    .await;
    let html = ok_html(html).await;
    assert!(
        html.contains("name=\"preset_input.message\""),
        "the preset asks for its message"
    );
    let message = "{{ event.data.object.receipt_email }} paid {{ event.data.object.amount }}";
    let html = press(
        &browser,
        "/recipes/new",
        &html,
        "add_action_preset",
        &[("preset_input.message", message)],
    )
    .await;
    let html = ok_html(html).await;
    assert!(
        html.contains("name=\"action.0.field.0.key\" value=\"text\""),
        "{html}"
    );
    assert!(
        !html.contains("name=\"action.1.name\""),
        "the blank action was replaced"
    );

    let saved = press(&browser, "/recipes/new", &html, "save", &[]).await;
    assert_eq!(saved.status(), 303, "{}", saved.text().await.unwrap());
    let stored = app
        .store
        .get_recipe("paid-over-ten")
        .await
        .unwrap()
        .unwrap();
    let file: toml::Table = toml::from_str(&stored.source).unwrap();
    let when = &file["filter"]["when"];
    assert_eq!(when[0]["field"].as_str(), Some("type"));
    assert_eq!(when[0]["value"].as_str(), Some("payment_intent.succeeded"));
    assert_eq!(when[1]["op"].as_str(), Some("gt"));
    assert_eq!(
        when[1]["value"].as_integer(),
        Some(1000),
        "a number stays a number"
    );
    assert_eq!(file["action"][0]["fields"]["text"].as_str(), Some(message));
    assert_eq!(file["dedupe"].as_str(), Some("event.id"));
    assert!(
        !stored.source.contains("script"),
        "no Rhai written: {}",
        stored.source
    );
}

/// Rows with a group and `match = "any"`, a text row with ignore_case, a list, a quoted path,
/// a field mapping with a dotted key, a nested table and a literal: the form's own shapes.
const ROUND_TRIP: &str = r#"id = "round-trip"
name = "Round trip"

[trigger.webhook]
verify = "stripe"
secret = "{{ secrets.STRIPE_SIGNING_SECRET }}"

[filter]
match = "any"

[[filter.when]]
field = "data.object.amount"
op = "gte"
value = 1000

[[filter.when]]
field = "type"
op = "starts_with"
value = "payment_intent."
ignore_case = true

[[filter.any]]

[[filter.any.when]]
field = "data.object.currency"
op = "in"
value = ["usd", "eur"]

[[filter.any.when]]
field = '"data"."weird.key"'
op = "not_exists"

[[action]]
name = "slack"
method = "POST"
url = "{{ secrets.SLACK_WEBHOOK_URL }}"

[action.fields]
count = 1
text = "Paid {{ event.data.object.amount }}"
"customer.email" = "{{ event.data.object.receipt_email }}"

[action.fields.meta]
source = "stripe"
"#;

#[tokio::test]
async fn a_recipe_saved_from_the_form_unchanged_exports_the_toml_it_was_imported_with() {
    let (app, browser) = logged_in().await;
    // The text as the form writes it, so the comparison is of text, not only of meaning.
    let file: switchyard::recipe::RecipeFile = toml::from_str(ROUND_TRIP).unwrap();
    let canonical = toml::to_string_pretty(&file).unwrap();
    let engine = ScriptEngine::new(ScriptLimits::default());
    import_source(app.store.as_ref(), &engine, &canonical, None, "test")
        .await
        .expect("imports");

    let edit = ok_html(browser.get("/recipes/round-trip/edit").await).await;
    assert!(
        edit.contains("name=\"group.0.when.1.field\""),
        "the group's rows are shown"
    );
    let saved = press(&browser, "/recipes/round-trip/edit", &edit, "save", &[]).await;
    assert_eq!(saved.status(), 303, "{}", saved.text().await.unwrap());
    assert_eq!(location(&saved), "/recipes/round-trip?done=unchanged");

    let exported = browser
        .get("/export?ids=round-trip")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        exported.contains(canonical.trim_end()),
        "{exported}\n---\n{canonical}"
    );
}

#[tokio::test]
async fn a_bad_row_is_refused_with_its_message_under_that_row_and_what_was_typed_kept() {
    let (app, browser) = logged_in().await;
    let html = ok_html(browser.get("/recipes/new").await).await;
    let html = ok_html(press(&browser, "/recipes/new", &html, "add_row", &[]).await).await;
    let html = ok_html(press(&browser, "/recipes/new", &html, "add_row", &[]).await).await;
    let answer = press(
        &browser,
        "/recipes/new",
        &html,
        "save",
        &[
            ("name", "Bad rows"),
            ("when.0.field", "type"),
            ("when.0.value", "ok"),
            ("when.1.field", "data.object.description"),
            ("when.1.op", "matches"),
            ("when.1.value", "(unclosed"),
        ],
    )
    .await;
    assert_eq!(answer.status(), 422);
    let html = answer.text().await.unwrap();
    let second_row = &html[html.find("name=\"when.1.field\"").unwrap()..];
    let second_row = &second_row[..second_row.find("class=\"row-buttons\"").unwrap()];
    assert!(second_row.contains("class=\"field-error\""), "{second_row}");
    assert!(
        second_row.contains("value=\"(unclosed\""),
        "what was typed stays"
    );
    let first_row = &html[html.find("name=\"when.0.field\"").unwrap()..];
    let first_row = &first_row[..first_row.find("name=\"when.1.field\"").unwrap()];
    assert!(!first_row.contains("field-error"), "{first_row}");
    assert!(app.store.get_recipe("bad-rows").await.unwrap().is_none());
}
