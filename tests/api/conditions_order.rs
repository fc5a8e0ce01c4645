//! Tryout 9 findings 4 and 14 on a real server: a Stripe `customer.created` event against the
//! README's rows [amount gt 1000, type eq payment_intent.succeeded] is *filtered* by the type
//! row in either row order (the missing amount does not fail the run), and the web event lists
//! (`/events`, the recipe page) show why an event was filtered, or why its delivery died.
//! On both stores.

use serde_json::json;
use switchyard::store::EventStatus;

use crate::store_contract::PgDatabase;
use crate::ui::logged_in_with;

/// Refuses connections: a delivery there fails its attempt.
const REFUSED: &str = "http://127.0.0.1:9/refused";

const AMOUNT_ROW: &str = r#"[[filter.when]]
field = "data.object.amount"
op = "gt"
value = 1000
"#;

const TYPE_ROW: &str = r#"[[filter.when]]
field = "type"
op = "eq"
value = "payment_intent.succeeded"
"#;

fn recipe(id: &str, rows: [&str; 2], url: &str) -> String {
    format!(
        "id = \"{id}\"\nname = \"{id}\"\n\n[trigger.webhook]\n\n[filter]\n{}\n{}\n\
         [[action]]\nname = \"notify\"\nurl = \"{url}\"\nretry = {{ schedule = [\"0s\"] }}\n",
        rows[0], rows[1]
    )
}

/// The text up to the first character HTML escaping would change.
fn unescaped_prefix(text: &str) -> &str {
    let end = text.find(['"', '\'', '<', '>', '&']).unwrap_or(text.len());
    &text[..end]
}

async fn filtered_in_either_order_and_listed_with_the_reason(database_url: Option<String>) {
    let (app, browser) = logged_in_with(|s| s.database_url = database_url).await;
    let customer = json!({
        "id": "evt_1",
        "type": "customer.created",
        "data": { "object": { "id": "cus_1", "email": "ada@example.com" } }
    });
    for (id, rows, type_row) in [
        ("amount-first", [AMOUNT_ROW, TYPE_ROW], 1),
        ("type-first", [TYPE_ROW, AMOUNT_ROW], 0),
    ] {
        let stored = app.import(&recipe(id, rows, REFUSED)).await;
        let event = app.send_event(&stored, &customer).await;
        let detail = app.wait_for_run(&event).await;
        assert_eq!(
            detail.event.status,
            EventStatus::Filtered,
            "{id}: {detail:#?}"
        );
        let reason = format!(
            "filter.when[{type_row}]: type = \"customer.created\" is not equal to \
             \"payment_intent.succeeded\""
        );
        assert_eq!(
            detail.runs[0].filter_reason.as_deref(),
            Some(reason.as_str())
        );
        assert!(detail.deliveries.is_empty(), "nothing is sent for {id}");

        let shown =
            format!("Filtered because <span class=\"mono\">filter.when[{type_row}]: type = ");
        for page in ["/events".to_owned(), format!("/recipes/{id}")] {
            let response = browser.get(&page).await;
            assert_eq!(response.status(), 200, "{page}");
            let html = response.text().await.unwrap();
            assert!(html.contains(&shown), "{page} shows the reason:\n{html}");
        }
    }

    // A dead delivery's error shows in the Problem column too.
    let dead_recipe = app
        .import(&recipe("dead", [TYPE_ROW, AMOUNT_ROW], REFUSED))
        .await;
    let payment = json!({
        "type": "payment_intent.succeeded",
        "data": { "object": { "id": "pi_1", "amount": 2000 } }
    });
    let event = app.send_event(&dead_recipe, &payment).await;
    let detail = app.wait_for_deliveries(&event).await;
    assert_eq!(detail.deliveries[0].status, "dead", "{detail:#?}");
    let error = detail.deliveries[0].last_error.clone().expect("an error");
    let visible = unescaped_prefix(&error);
    assert!(visible.len() >= 8, "enough of the error to find: {error}");
    for page in ["/events", "/recipes/dead"] {
        let html = browser.get(page).await.text().await.unwrap();
        assert!(
            html.contains(&format!("<span class=\"mono\">{visible}")),
            "{page} shows the dead delivery's error {error:?}:\n{html}"
        );
    }
}

#[tokio::test]
async fn a_customer_created_event_is_filtered_by_the_type_row_in_either_order_on_sqlite() {
    filtered_in_either_order_and_listed_with_the_reason(None).await;
}

#[tokio::test]
async fn a_customer_created_event_is_filtered_by_the_type_row_in_either_order_on_postgres() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    filtered_in_either_order_and_listed_with_the_reason(Some(db.url.clone())).await;
}
