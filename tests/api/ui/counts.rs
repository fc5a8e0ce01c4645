//! The recipes list's last-24-hour numbers: events counted by what became of them, so ten
//! failed runs and one dead delivery read as such (not as "1 failed"). On both stores.

use serde_json::json;
use switchyard::store::{RecipeStats, StoredRecipe};

use super::{Browser, logged_in_with};
use crate::helpers::TestApp;
use crate::receiver::Receiver;
use crate::store_contract::PgDatabase;

/// Filters out `skip`, fails the run on `fail`, and posts to the event's own `target`.
const RECIPE: &str = r#"id = "counts"
name = "Counts"

[trigger.webhook]

[filter]
script = 'event.kind != "skip"'

[transform]
script = '''
if event.kind == "fail" { throw "the transform gave up" }
#{ kind: event.kind }
'''

[[action]]
name = "target"
url = "{{ event.target }}"
timeout = "5s"
retry = { schedule = ["0s"] }
"#;

/// Refuses connections: a delivery there fails its attempt.
const REFUSED: &str = "http://127.0.0.1:9/refused";

/// 14 events: 1 delivered, 2 filtered, 10 failed runs, 1 dead; and a second recipe with one
/// event whose delivery waits for its retry.
async fn send_mix(app: &TestApp, receiver: &Receiver) {
    let recipe = app.import(RECIPE).await;
    let retrying = app
        .import(
            &RECIPE
                .replace("\"counts\"", "\"retrying\"")
                .replace("[\"0s\"]", "[\"0s\", \"1h\"]"),
        )
        .await;
    let delivered = json!({ "kind": "send", "target": receiver.url("/ok") });
    let dead = json!({ "kind": "send", "target": REFUSED });
    let mut bodies = vec![delivered, dead];
    bodies.extend((0..2).map(|_| json!({ "kind": "skip", "target": REFUSED })));
    bodies.extend((0..10).map(|_| json!({ "kind": "fail", "target": REFUSED })));
    for body in &bodies {
        let id = app.send_event(&recipe, body).await;
        let detail = app.wait_for_run(&id).await;
        if !detail.deliveries.is_empty() {
            app.wait_for_deliveries(&id).await;
        }
    }
    wait_retrying(app, &retrying).await;
}

async fn wait_retrying(app: &TestApp, recipe: &StoredRecipe) {
    let body = json!({ "kind": "send", "target": REFUSED });
    let id = app.send_event(recipe, &body).await;
    app.wait_for_event(&id, |d| {
        d.deliveries
            .iter()
            .any(|x| x.status == "pending" && x.last_error.is_some())
    })
    .await;
}

/// The text of the `<td data-label="{label}">` cell in the row of recipe `id`, tags removed.
fn cell(html: &str, id: &str, label: &str) -> String {
    let row_start = html
        .find(&format!("href=\"/recipes/{id}\""))
        .unwrap_or_else(|| panic!("a row for {id}"));
    let row = &html[row_start..html[row_start..].find("</tr>").unwrap() + row_start];
    let marker = format!("data-label=\"{label}\"");
    let start = row.find(&marker).unwrap_or_else(|| panic!("{label} cell"));
    let inner = &row[start..];
    let inner = &inner[inner.find('>').unwrap() + 1..inner.find("</td>").unwrap()];
    let mut text = String::new();
    let mut in_tag = false;
    for c in inner.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

async fn assert_counted_apart(app: &TestApp, browser: &Browser) {
    let since = chrono::Utc::now() - chrono::Duration::hours(24);
    let mut stats = app.store.recipe_stats(since).await.expect("stats");
    for stat in &mut stats {
        assert!(stat.last_event_at.is_some(), "{stat:?}");
        stat.last_event_at = None;
    }
    let expected = |recipe_id: &str| RecipeStats {
        recipe_id: recipe_id.into(),
        ..RecipeStats::default()
    };
    assert_eq!(
        stats,
        [
            RecipeStats {
                events: 14,
                delivered: 1,
                skipped: 2,
                failed: 10,
                dead: 1,
                ..expected("counts")
            },
            RecipeStats {
                events: 1,
                in_progress: 1,
                retrying: 1,
                ..expected("retrying")
            },
        ]
    );

    let page = browser.get("/").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    let cells: Vec<_> = ["Events 24 h", "Delivered", "Filtered", "Failed", "Dead"]
        .iter()
        .map(|label| cell(&html, "counts", label))
        .collect();
    assert_eq!(cells, ["14", "1", "2", "10", "1"]);
    assert_eq!(cell(&html, "retrying", "Dead"), "0 1 retrying");
    assert!(
        html.contains("Counts are events received in the last 24 hours"),
        "the list says what it counts"
    );

    let show = browser.get("/recipes/counts").await.text().await.unwrap();
    for label in ["failed runs, 24 h", "dead, 24 h", "delivered, 24 h"] {
        assert!(show.contains(label), "recipe page labels {label}");
    }
}

#[tokio::test]
async fn the_recipes_list_counts_failed_runs_and_dead_deliveries_apart() {
    let receiver = Receiver::start().await;
    let (app, browser) = logged_in_with(|_| {}).await;
    send_mix(&app, &receiver).await;
    assert_counted_apart(&app, &browser).await;
}

#[tokio::test]
async fn the_recipes_list_counts_failed_runs_and_dead_deliveries_apart_on_postgres() {
    let Some(database) = PgDatabase::create().await else {
        return;
    };
    let receiver = Receiver::start().await;
    let (app, browser) =
        logged_in_with(|settings| settings.database_url = Some(database.url.clone())).await;
    send_mix(&app, &receiver).await;
    assert_counted_apart(&app, &browser).await;
}
