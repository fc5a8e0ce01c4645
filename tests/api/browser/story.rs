//! The no-code story in real Chromium: "when my payment provider tells me a payment over $10
//! succeeded, post to my Slack channel who paid how much". Built from the Stripe trigger
//! preset, two condition rows picked from its sample, the Slack action preset with its message
//! assembled by clicking fields: no Rhai typed anywhere. Then a signed webhook is delivered
//! as Slack's `{"text": ...}`, and a $5 one is filtered with the reason on its event page.
//! The editor is also looked at 390 px wide (a phone): nothing may overflow sideways.

use std::time::Instant;

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use super::chrome::{Chrome, DEADLINE};
use super::{set_up_admin, spawn};
use crate::helpers::TestApp;
use crate::receiver::Receiver;

const STRIPE_SECRET: &str = "whsec_story_test_secret";
const NAME: &str = "Payments over $10 to Slack";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_over_ten_dollars_is_posted_to_slack_with_who_paid_how_much() {
    let started = Instant::now();
    let (app, setup_url) = spawn().await;
    let Some(browser) = Chrome::start(&app.address).await else {
        return;
    };
    let slack = Receiver::start().await;
    set_up_admin(&browser, &setup_url).await;
    set_secret(&browser, "STRIPE_SIGNING_SECRET", STRIPE_SECRET).await;
    set_secret(
        &browser,
        "SLACK_WEBHOOK_URL",
        &slack.url("/services/T000/B000/XXXX"),
    )
    .await;

    build_the_recipe(&browser).await;
    no_sideways_overflow_on_a_phone(&browser).await;
    browser.click(".savebar button[name=op][value=save]").await;
    let at = browser
        .wait_for_location("the new recipe's page", |at| at.ends_with("?done=created"))
        .await;
    let id = at["/recipes/".len()..at.len() - "?done=created".len()].to_owned();
    let stored = app.store.get_recipe(&id).await.unwrap().expect("saved");
    assert!(
        !stored.source.contains("script"),
        "no Rhai anywhere: {}",
        stored.source
    );
    let hook_url = browser.value("#webhook-url").await;

    // $20.00 paid: Slack hears who and how much.
    let paid = send_signed(&app, &hook_url, "evt_story_1", 2000).await;
    assert_eq!(paid.status(), 202, "{}", paid.text().await.unwrap());
    let posted = slack.wait_for(1, DEADLINE).await;
    assert_eq!(
        posted[0].json(),
        json!({ "text": "ada@example.com paid 2000 usd" })
    );

    // $5.00: filtered, and the event page says which row failed on what value.
    let small = send_signed(&app, &hook_url, "evt_story_2", 500).await;
    assert_eq!(small.status(), 202);
    let event_id = small.json::<Value>().await.unwrap()["event_id"]
        .as_str()
        .unwrap()
        .to_owned();
    browser.goto(&format!("/events/{event_id}")).await;
    let page = browser
        .eventually("the $5 event filtered", async || {
            let text = browser.body_text().await;
            if text.contains("filtered") {
                return Some(text);
            }
            browser.goto(&format!("/events/{event_id}")).await;
            None
        })
        .await;
    assert!(
        page.contains("data.object.amount = 500 is not greater than 1000"),
        "{page}"
    );
    browser.screenshot("story-4-filtered-event").await;
    assert_eq!(slack.requests().len(), 1, "nothing sent for $5");

    // The test panel dry-runs the latest event: each row's verdict and the value it saw.
    browser.goto(&format!("/recipes/{id}")).await;
    browser.click("#test button[name=op][value=dry_run]").await;
    let verdicts = browser.text("table.verdicts").await;
    assert!(
        verdicts.contains("data.object.amount is greater than 1000"),
        "{verdicts}"
    );
    assert!(verdicts.contains("500"), "{verdicts}");
    browser.screenshot("story-3-test-panel").await;

    // The form shows the saved recipe as it was built; saving it unchanged changes nothing.
    browser.goto(&format!("/recipes/{id}/edit")).await;
    browser.click(".savebar button[name=op][value=save]").await;
    browser
        .wait_for_location("the recipe page", |at| at.ends_with("?done=unchanged"))
        .await;

    // A look at a group (not saved): "(A and B) or C" is one level of groups.
    browser.goto(&format!("/recipes/{id}/edit")).await;
    press(&browser, "add_group", "input[name='group.0.when.0.field']").await;
    browser.screenshot("story-5-editor-group").await;
    browser.set_width(390).await;
    browser.screenshot("story-6-editor-group-390px").await;
    browser.set_width(1280).await;

    browser.close().await;
    eprintln!("story: whole test took {:?}", started.elapsed());
}

/// Sets a secret through the secrets page.
async fn set_secret(browser: &Chrome, name: &str, value: &str) {
    browser.goto("/secrets").await;
    browser.fill("form.stack input[name=name]", name).await;
    browser.fill("form.stack input[name=value]", value).await;
    browser.click("form.stack button[type=submit]").await;
    browser
        .wait_for_location("the secrets page", |at| at.contains("done=secret-set"))
        .await;
}

/// Clicks the sample field `path` in the picker (into the field that has the focus).
async fn pick(browser: &Chrome, path: &str) {
    browser
        .click(&format!("#picker button.pick[data-path=\"{path}\"]"))
        .await;
}

/// Presses a button that re-renders the form, and waits for the new page.
async fn press(browser: &Chrome, button: &str, then_present: &str) {
    browser
        .click(&format!("button[name=op][value=\"{button}\"]"))
        .await;
    browser.find(then_present).await;
}

async fn build_the_recipe(browser: &Chrome) {
    browser.goto("/").await;
    browser.click(".head-actions a[href='/recipes/new']").await;
    browser.fill("input[name=name]", NAME).await;
    browser
        .click("select[name=trigger_preset] option[value=stripe]")
        .await;
    press(browser, "use_trigger_preset", "#picker button.pick").await;
    assert_eq!(browser.value("select[name=verify]").await, "stripe");
    assert_eq!(
        browser.value("input[name=webhook_secret]").await,
        "STRIPE_SIGNING_SECRET"
    );

    // Row 1: type is payment_intent.succeeded — field and value both clicked from the sample.
    press(browser, "add_row", "input[name='when.0.field']").await;
    browser.click("input[name='when.0.field']").await;
    pick(browser, "type").await;
    browser.click("input[name='when.0.value']").await;
    pick(browser, "type").await;
    assert_eq!(browser.value("input[name='when.0.field']").await, "type");
    assert_eq!(
        browser.value("input[name='when.0.value']").await,
        "payment_intent.succeeded"
    );

    // Row 2: data.object.amount is greater than 1000.
    press(browser, "add_row", "input[name='when.1.field']").await;
    browser.click("input[name='when.1.field']").await;
    pick(browser, "data.object.amount").await;
    browser
        .click("select[name='when.1.op'] option[value=gt]")
        .await;
    browser.fill("input[name='when.1.value']", "1000").await;
    assert_eq!(
        browser.value("input[name='when.1.field']").await,
        "data.object.amount"
    );

    // The Slack preset; its message assembled from clicked fields.
    browser
        .click("select[name=action_preset] option[value=slack]")
        .await;
    press(
        browser,
        "choose_action_preset",
        "[name='preset_input.message']",
    )
    .await;
    let message = "[name='preset_input.message']";
    browser.fill(message, "").await;
    browser.click(message).await;
    pick(browser, "data.object.receipt_email").await;
    browser
        .find(message)
        .await
        .send_keys(" paid ")
        .await
        .unwrap();
    pick(browser, "data.object.amount").await;
    browser.find(message).await.send_keys(" ").await.unwrap();
    pick(browser, "data.object.currency").await;
    assert_eq!(
        browser.value(message).await,
        "{{ event.data.object.receipt_email }} paid {{ event.data.object.amount }} \
         {{ event.data.object.currency }}"
    );
    press(
        browser,
        "add_action_preset",
        "input[name='action.0.field.0.key']",
    )
    .await;
    assert_eq!(
        browser.value("input[name='action.0.url']").await,
        "{{ secrets.SLACK_WEBHOOK_URL }}"
    );
    assert_eq!(
        browser.value("input[name='action.0.field.0.key']").await,
        "text"
    );
    let compiled = browser.text("#conditions").await;
    assert!(!compiled.is_empty());
    browser.screenshot("story-1-editor-rows-and-picker").await;
}

/// At 390 px the page does not scroll sideways and every row fits the viewport.
async fn no_sideways_overflow_on_a_phone(browser: &Chrome) {
    browser.set_width(390).await;
    let overflow = browser
        .run(
            "const w = document.documentElement.clientWidth; \
             const wide = [...document.querySelectorAll('.cond-row, .map-row, .picker-tree, .card, .pick-fallback')] \
               .filter((e) => e.getBoundingClientRect().right > w + 1) \
               .map((e) => e.className); \
             return [document.documentElement.scrollWidth - w, wide];",
        )
        .await;
    browser.screenshot("story-2-editor-390px").await;
    assert_eq!(overflow, json!([0, []]), "nothing wider than the phone");
    // Still usable: a pick still fills the focused field.
    browser.click("input[name='when.1.value']").await;
    pick(browser, "data.object.amount").await;
    assert_eq!(browser.value("input[name='when.1.value']").await, "2000");
    browser.fill("input[name='when.1.value']", "1000").await;
    browser.set_width(1280).await;
}

/// Posts the Stripe sample with this event id and amount, signed as Stripe signs
/// (`Stripe-Signature: t=…,v1=hex(HMAC-SHA256(secret, "t.body"))`, docs.stripe.com/webhooks).
async fn send_signed(app: &TestApp, url: &str, event_id: &str, amount: u64) -> reqwest::Response {
    let body = json!({
        "id": event_id,
        "object": "event",
        "type": "payment_intent.succeeded",
        "data": { "object": {
            "id": format!("pi_{event_id}"),
            "object": "payment_intent",
            "amount": amount,
            "currency": "usd",
            "receipt_email": "ada@example.com",
            "status": "succeeded",
        } },
    })
    .to_string();
    let t = chrono::Utc::now().timestamp();
    let mut mac = Hmac::<Sha256>::new_from_slice(STRIPE_SECRET.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    let signature: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    app.http
        .post(url)
        .header("Content-Type", "application/json")
        .header("Stripe-Signature", format!("t={t},v1={signature}"))
        .body(body)
        .send()
        .await
        .expect("webhook request")
}
