//! What the editor shows of a saved recipe with condition rows: the field picker from the
//! latest stored event (or a pasted sample), the Rhai the rows compile to and "switch to
//! script", and the test panel's verdict per row.

use super::form_post::{form_inputs, ok_html, press, unescape};
#[allow(clippy::wildcard_imports)]
use super::*;

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
    import_source(app.store.as_ref(), &engine, PAID_OVER_TEN, None, "test")
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
    import_source(app.store.as_ref(), &engine, PAID_OVER_TEN, None, "test")
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

#[tokio::test]
async fn a_trigger_presets_sample_and_its_headers_fill_the_picker() {
    let (_app, browser) = logged_in().await;
    let html = ok_html(browser.get("/recipes/new").await).await;
    let html = press(
        &browser,
        "/recipes/new",
        &html,
        "use_trigger_preset",
        &[("trigger_preset", "github")],
    )
    .await;
    let html = ok_html(html).await;
    assert!(
        html.contains("data-path=\"headers.x-github-delivery\""),
        "{html}"
    );
    assert!(html.contains("data-path=\"repository.full_name\""));
}
