//! The no-code editor without JavaScript: presets, condition rows, body field rows and the
//! picker's select, each a plain form post that re-renders the form; and a recipe that goes
//! through the form unchanged exports the TOML it was imported with.

use super::form_post::{form_inputs, ok_html, press, unescape};
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
    import_source(app.store.as_ref(), &engine, &canonical, None)
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

const PAID_OVER_TEN: &str = r#"id = "paid-over-ten"
name = "Paid over ten"

[trigger.webhook]
verify = "none"

[[filter.when]]
field = "type"
op = "eq"
value = "payment_intent.succeeded"

[[filter.when]]
field = "data.object.amount"
op = "gt"
value = 1000

[[action]]
name = "slack"
url = "https://hooks.example.com/slack"
fields = { text = "{{ event.data.object.receipt_email }} paid {{ event.data.object.amount }}", amount = "{{ event.data.object.amount }}" }
"#;

fn payment(amount: u64) -> String {
    serde_json::json!({
        "type": "payment_intent.succeeded",
        "data": { "object": { "amount": amount, "receipt_email": "ada@example.com" } },
    })
    .to_string()
}

#[tokio::test]
async fn the_test_panel_shows_each_rows_verdict_with_the_value_it_compared_and_the_mapped_body() {
    let (app, browser) = logged_in().await;
    let engine = ScriptEngine::new(ScriptLimits::default());
    import_source(app.store.as_ref(), &engine, PAID_OVER_TEN, None)
        .await
        .expect("imports");
    let csrf = browser.csrf("/recipes/paid-over-ten").await;

    let small = payment(500);
    let form = [
        ("csrf", csrf.as_str()),
        ("payload", &small),
        ("op", "dry_run"),
    ];
    let html = ok_html(browser.post("/recipes/paid-over-ten/test", &form).await).await;
    assert!(
        html.contains("data.object.amount = 500 is not greater than 1000"),
        "the reason: {html}"
    );
    let rows = &html[html
        .find("class=\"table verdicts\"")
        .expect("a verdict per row")..];
    let second = &rows[rows.find("filter.when[1]").unwrap()..];
    assert!(second.contains("is greater than"), "{second}");
    assert!(
        second.contains("<td class=\"mono break\">500</td>"),
        "the value compared"
    );
    assert!(second.contains("badge gray\">no"), "{second}");
    let first = &rows[rows.find("filter.when[0]").unwrap()..];
    assert!(first.contains("badge green\">yes"), "{first}");

    let big = payment(2000);
    let form = [
        ("csrf", csrf.as_str()),
        ("payload", &big),
        ("op", "dry_run"),
    ];
    let html = ok_html(browser.post("/recipes/paid-over-ten/test", &form).await).await;
    assert!(html.contains("passed the filter"), "{html}");
    assert!(
        html.contains("&#34;text&#34;: &#34;ada@example.com paid 2000&#34;"),
        "the mapped body: {html}"
    );
    assert!(
        html.contains("&#34;amount&#34;: 2000"),
        "a number stays a number"
    );
}

#[tokio::test]
async fn the_rows_compiled_rhai_is_shown_and_switching_to_script_starts_from_it() {
    let (app, browser) = logged_in().await;
    let engine = ScriptEngine::new(ScriptLimits::default());
    import_source(app.store.as_ref(), &engine, PAID_OVER_TEN, None)
        .await
        .expect("imports");
    let edit = ok_html(browser.get("/recipes/paid-over-ten/edit").await).await;
    let compiled = &edit[edit
        .find("class=\"code compiled\"")
        .expect("the compiled Rhai")..];
    let compiled =
        unescape(&compiled[compiled.find('>').unwrap() + 1..compiled.find("</pre>").unwrap()]);
    assert!(
        compiled.contains("\"data\", \"object\", \"amount\""),
        "{compiled}"
    );

    let html = press(
        &browser,
        "/recipes/paid-over-ten/edit",
        &edit,
        "to_script",
        &[],
    )
    .await;
    let html = ok_html(html).await;
    let inputs = form_inputs(&html);
    let script = inputs
        .iter()
        .find(|(n, _)| n == "filter")
        .map(|(_, v)| v.clone());
    assert_eq!(
        script.as_deref(),
        Some(compiled.as_str()),
        "the script is the rows' Rhai"
    );
    assert!(
        !inputs.iter().any(|(n, _)| n.starts_with("when.")),
        "no rows any more"
    );

    let saved = press(&browser, "/recipes/paid-over-ten/edit", &html, "save", &[]).await;
    assert_eq!(saved.status(), 303, "{}", saved.text().await.unwrap());
    let stored = app
        .store
        .get_recipe("paid-over-ten")
        .await
        .unwrap()
        .unwrap();
    assert!(stored.source.contains("script = "), "{}", stored.source);
    assert!(!stored.source.contains("[[filter.when]]"));
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

#[tokio::test]
async fn the_picker_lists_the_latest_stored_event_and_a_pasted_sample_replaces_it() {
    let (app, browser) = logged_in().await;
    let recipe = app.import(PAID_OVER_TEN).await;
    app.send_event(&recipe, &serde_json::json!({ "old": 1 }))
        .await;
    let response = app
        .http
        .post(app.hook_url(&recipe))
        .header("X-Shop-Event", "paid")
        .json(&serde_json::json!({ "data": { "weird.key": { "amount": 7 } }, "items": [{ "sku": "A" }] }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);

    let edit = ok_html(browser.get("/recipes/paid-over-ten/edit").await).await;
    assert!(edit.contains("the latest event"), "names its source");
    for path in [
        "data.&#34;weird.key&#34;.amount",
        "items.0.sku",
        "headers.x-shop-event",
    ] {
        assert!(edit.contains(&format!("data-path=\"{path}\"")), "{path}");
    }
    assert!(!edit.contains("data-path=\"old\""), "only the latest event");
    assert!(
        edit.contains("<option value=\"items.0.sku\">"),
        "the select without JavaScript"
    );

    let pasted = press(
        &browser,
        "/recipes/paid-over-ten/edit",
        &edit,
        "load_sample",
        &[("sample", "{\"pasted\": {\"n\": 1}}")],
    )
    .await;
    let html = ok_html(pasted).await;
    assert!(html.contains("data-path=\"pasted.n\""));
    assert!(!html.contains("data-path=\"items.0.sku\""));

    let broken = press(
        &browser,
        "/recipes/paid-over-ten/edit",
        &edit,
        "load_sample",
        &[("sample", "{ nope")],
    )
    .await;
    let html = ok_html(broken).await;
    assert!(html.contains("The sample is not valid JSON"), "says why");
}
