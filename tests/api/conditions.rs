//! Condition rows end to end: a filtered run records which row failed and the value it saw,
//! on both stores; the API (events, event list, dry run), `switchyard check`/`test`/`events`
//! and the event page show it.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::api::spawn_api_with;
use crate::binary::{Cli, Server, http};
use crate::receiver::Receiver;
use crate::store_contract::PgDatabase;

/// "When a payment over $10 succeeded": two rows, and a group for refunds of any amount.
fn rows_recipe(url: &str) -> String {
    format!(
        r#"id = "big-payments"
name = "Big payments"

[trigger.webhook]

[filter]
[[filter.when]]
field = "data.object.amount"
op = "gt"
value = 1000

[[filter.when]]
field = "type"
op = "eq"
value = "payment_intent.succeeded"

[[action]]
name = "notify"
url = "{url}"
"#
    )
}

fn payment(amount: Value) -> Value {
    json!({ "type": "payment_intent.succeeded", "data": { "object": { "id": "pi_1", "amount": amount } } })
}

const REASON_500: &str = "filter.when[0]: data.object.amount = 500 is not greater than 1000";

/// The same story on the store `database_url` names (SQLite when `None`).
async fn filtered_runs_record_the_failed_row(database_url: Option<String>) {
    let receiver = Receiver::start().await;
    let api = spawn_api_with(|s| s.database_url = database_url).await;
    let recipe = api
        .save(&rows_recipe(&receiver.url("/paid")), "created")
        .await;

    let small = api.send(&recipe, &payment(json!(500))).await;
    let detail = api.wait_for_status(&small, "filtered").await;
    assert_eq!(detail["runs"][0]["filter_reason"], REASON_500, "{detail:#}");

    let big = api.send(&recipe, &payment(json!("2000"))).await;
    let detail = api
        .wait_for_event(&big, |d| d["deliveries"][0]["status"] == "delivered")
        .await;
    assert_eq!(
        detail["runs"][0]["filter_reason"],
        Value::Null,
        "{detail:#}"
    );
    assert_eq!(
        receiver.requests().len(),
        1,
        "only the $20 payment is posted"
    );

    let missing = api
        .send(&recipe, &json!({ "type": "payment_intent.succeeded" }))
        .await;
    let detail = api.wait_for_status(&missing, "failed").await;
    let error = detail["event"]["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("filter.when[0]") && error.contains("data.object.amount is missing"),
        "{detail:#}"
    );

    let page = api
        .get("/api/events?recipe=big-payments")
        .await
        .expect(200)
        .json();
    let listed = page["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == small.as_str())
        .expect("the filtered event is listed");
    assert_eq!(listed["filter_reason"], REASON_500, "{page:#}");
    let events = api
        .app
        .store
        .list_events(&switchyard::store::EventQuery {
            recipe_id: Some("big-payments".into()),
            status: None,
            limit: 10,
        })
        .await
        .unwrap();
    let reasons: Vec<_> = events.iter().map(|e| e.filter_reason.as_deref()).collect();
    assert_eq!(reasons, [None, None, Some(REASON_500)], "newest first");
}

#[tokio::test]
async fn a_filtered_run_records_which_row_failed_and_the_value_it_saw_on_sqlite() {
    filtered_runs_record_the_failed_row(None).await;
}

#[tokio::test]
async fn a_filtered_run_records_which_row_failed_and_the_value_it_saw_on_postgres() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    filtered_runs_record_the_failed_row(Some(db.url.clone())).await;
}

#[tokio::test]
async fn the_api_dry_run_shows_each_rows_verdict_and_the_value_it_compared() {
    let api = spawn_api_with(|_| {}).await;
    api.save(&rows_recipe("https://example.com/paid"), "created")
        .await;
    let report = api
        .post_json("/api/recipes/big-payments/test", &payment(json!(500)))
        .await
        .expect(200)
        .json();
    assert_eq!(report["filter"], false, "{report:#}");
    assert_eq!(report["filter_reason"], REASON_500);
    let rows = report["conditions"].as_array().expect("row verdicts");
    assert_eq!(
        rows[0],
        json!({ "path": "filter.when[0]", "field": "data.object.amount", "op": "gt",
                "expected": 1000, "seen": 500, "held": false, "error": null })
    );
    assert_eq!(rows[1]["held"], true);
    assert_eq!(rows[1]["seen"], "payment_intent.succeeded");

    // Another type: the type row decides (filtered), though the amount row cannot be
    // decided; that row shows its own error and is not the reason.
    let other = api
        .post_json("/api/recipes/big-payments/test", &json!({ "type": "x" }))
        .await
        .expect(200)
        .json();
    assert_eq!(other["filter"], false, "{other:#}");
    assert_eq!(
        other["filter_reason"],
        "filter.when[1]: type = \"x\" is not equal to \"payment_intent.succeeded\""
    );
    let row = &other["conditions"][0];
    assert!(
        row.get("seen").is_none(),
        "a missing field has no `seen`: {row:#}"
    );
    assert!(
        row["error"].as_str().unwrap().contains("is missing"),
        "{row:#}"
    );
    // The right type and no amount: nothing is false, one row cannot be decided: the run fails.
    let missing = api
        .post_json(
            "/api/recipes/big-payments/test",
            &json!({ "type": "payment_intent.succeeded" }),
        )
        .await
        .expect(200)
        .json();
    assert!(
        missing["error"]
            .as_str()
            .unwrap()
            .starts_with("filter.when[0]: data.object.amount is missing"),
        "{missing:#}"
    );
}

#[test]
fn check_refuses_bad_rows_naming_the_file_the_row_and_the_reason() {
    let cli = Cli::without_store();
    let file = cli.write(
        "rows.toml",
        r#"id = "bad"
name = "Bad"
[trigger.webhook]
[filter]
script = "true"
[[filter.when]]
field = "amount"
op = "gt"
value = true
[[filter.any]]
[[filter.any.when]]
field = "sku"
op = "matches"
value = "(["
[[action]]
name = "a"
url = "https://example.com/"
"#,
    );
    let out = cli.run(&[Path::new("check"), &file]);
    let text = out.fails();
    let expected = "rows.toml: filter: has both `script` and condition rows";
    assert!(text.contains(expected), "{expected}\n{text}");
    let without_script = cli.write(
        "rows2.toml",
        &std::fs::read_to_string(&file)
            .unwrap()
            .replace("script = \"true\"\n", ""),
    );
    let text = cli
        .run(&[Path::new("check"), &without_script])
        .fails()
        .to_owned();
    for expected in [
        "rows2.toml: filter.when[0]: `gt` compares numbers or RFC 3339 date-times",
        "rows2.toml: filter.any[0].when[0]: `([` is not a valid regular expression",
    ] {
        assert!(text.contains(expected), "{expected}\n{text}");
    }
}

#[test]
fn the_cli_dry_run_prints_each_rows_verdict_and_the_reason() {
    let cli = Cli::without_store();
    let file = cli.write("rows.toml", &rows_recipe("https://example.com/paid"));
    let payload = cli.write("small.json", &payment(json!(500)).to_string());
    let out = cli.run(&[Path::new("test"), &file, Path::new("--payload"), &payload]);
    let text = out.ok();
    assert!(
        text.contains("no    filter.when[0]: data.object.amount gt 1000 (saw 500)"),
        "{text}"
    );
    assert!(
        text.contains("yes   filter.when[1]: type eq \"payment_intent.succeeded\""),
        "{text}"
    );
    assert!(
        text.contains(&format!("filtered because: {REASON_500}")),
        "{text}"
    );
    let json = cli
        .run(&[
            Path::new("test"),
            &file,
            Path::new("--payload"),
            &payload,
            Path::new("--json"),
        ])
        .json();
    assert_eq!(json["filter_reason"], REASON_500);
    assert_eq!(json["conditions"][0]["seen"], 500);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switchyard_events_shows_why_an_event_was_filtered() {
    let cli = Cli::new().with_env("SWITCHYARD_IDLE_POLL", "50ms");
    let server = Server::start(&cli, &[]).await;
    let live = cli.with_env("SWITCHYARD_BIND", &server.bind);
    let file = cli.write("rows.toml", &rows_recipe("https://example.com/paid"));
    let (_, _, url) = live.import(&file).remove(0);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let response = http().post(&url).json(&payment(json!(500))).send().await;
        if response.is_ok_and(|r| r.status() == 202) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the imported recipe never went live"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    loop {
        let events = live.run(&["events", "--json"]).json();
        if events[0]["status"] == "filtered" {
            assert_eq!(events[0]["filter_reason"], REASON_500, "{events:#}");
            break;
        }
        assert!(Instant::now() < deadline, "{events:#}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let text = live.run(&["events"]).ok().to_owned();
    assert!(text.contains(&format!("filtered\t{REASON_500}")), "{text}");
    drop(server);
}

#[tokio::test]
async fn the_event_page_shows_why_the_event_was_filtered() {
    let (app, browser) = crate::ui::logged_in().await;
    let recipe = app.import(&rows_recipe("https://example.com/paid")).await;
    let id = app.send_event(&recipe, &payment(json!(500))).await;
    let detail = app.wait_for_run(&id).await;
    assert_eq!(detail.runs[0].filter_reason.as_deref(), Some(REASON_500));
    let page = browser.get(&format!("/events/{id}")).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    // askama escapes the quotes and `>` of payload text; this reason has none.
    assert!(
        html.contains(&format!(
            "<strong>Filtered because</strong> <span class=\"mono\">{REASON_500}</span>"
        )),
        "{html}"
    );
}

#[test]
fn an_imported_rows_recipe_exports_the_same_rows() {
    let cli = Cli::new();
    let source = format!(
        "{}{}",
        rows_recipe("https://example.com/paid"),
        r#"
[[filter.any]]
match = "any"
[[filter.any.when]]
field = "data.object.\"receipt email\""
op = "ends_with"
value = "@example.com"
ignore_case = true
[[filter.any.when]]
field = "created"
op = "gte"
value = 2024-05-01T00:00:00Z
"#
    );
    // The group is written after [[action]] (TOML allows it); the export orders the sections.
    let file = cli.write("rows.toml", &source);
    cli.import(&file);
    let exported = cli.run(&["export", "big-payments"]).ok().to_owned();
    let table = |text: &str| -> toml::Table { toml::from_str(text).unwrap() };
    assert_eq!(
        table(&exported)["filter"],
        table(&source)["filter"],
        "exported:\n{exported}"
    );
}

#[tokio::test]
async fn the_api_refuses_a_bad_row_naming_it_and_stores_nothing() {
    let api = spawn_api_with(|_| {}).await;
    let bad = rows_recipe("https://example.com/paid").replace("value = 1000", "value = [1000]");
    let reply = api.post_toml("/api/recipes", &bad).await.expect(422).json();
    assert_eq!(
        reply["errors"],
        json!([{ "field": "filter.when[0]",
                 "message": "filter.when[0]: `gt` compares numbers or RFC 3339 date-times (e.g. 2024-05-01T00:00:00Z); [1000] is neither" }]),
        "{reply:#}"
    );
    api.get("/api/recipes/big-payments").await.expect(404);

    // The same recipe as JSON (the API's other import form) is read and checked alike.
    let file: toml::Table = toml::from_str(&bad).unwrap();
    let reply = api
        .post_json("/api/recipes", &serde_json::to_value(&file).unwrap())
        .await
        .expect(422)
        .json();
    assert_eq!(reply["errors"][0]["field"], "filter.when[0]", "{reply:#}");

    let good: toml::Table = toml::from_str(&rows_recipe("https://example.com/paid")).unwrap();
    let reply = api
        .post_json("/api/recipes", &serde_json::to_value(&good).unwrap())
        .await
        .expect(201)
        .json();
    let source: toml::Table = toml::from_str(reply["recipe"]["source"].as_str().unwrap()).unwrap();
    assert_eq!(source["filter"], good["filter"], "{reply:#}");
}
