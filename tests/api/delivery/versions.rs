//! A delivery runs the action of the recipe version its run used: an edit made while it waits
//! for a retry changes new events only. On both backends.

use serde_json::json;
use switchyard::config::Settings;
use switchyard::store::EventStatus;

use crate::helpers::{TestApp, WAIT, spawn_app_with};
use crate::receiver::Receiver;
use crate::store_contract::PgDatabase;

/// The app on SQLite (`postgres` false) or on a fresh PostgreSQL database, kept beside it;
/// `None` when PostgreSQL is asked for and `SWITCHYARD_TEST_POSTGRES` is not set.
pub(crate) async fn spawn_on(
    postgres: bool,
    configure: impl FnOnce(&mut Settings),
) -> Option<(TestApp, Option<PgDatabase>)> {
    if !postgres {
        return Some((spawn_app_with(configure).await, None));
    }
    let db = PgDatabase::create().await?;
    let url = db.url.clone();
    let app = spawn_app_with(|s| {
        s.database_url = Some(url);
        configure(s);
    })
    .await;
    Some((app, Some(db)))
}

fn versioned_recipe(base: &str, tag: &str) -> String {
    format!(
        r#"
id = "edited"
name = "Edited while queued"
[trigger.webhook]
[transform]
script = '#{{ version: "{tag}", n: event.n }}'
[[action]]
name = "notify"
url = "{base}/{tag}"
headers = {{ "X-Version" = "{tag}" }}
timeout = "2s"
retry = {{ schedule = ["0s", "1s"] }}
"#
    )
}

async fn an_edit_after_the_run_leaves_its_delivery_on_the_version_the_run_used(postgres: bool) {
    let Some((app, _db)) = spawn_on(postgres, |_| {}).await else {
        return;
    };
    let receiver = Receiver::start().await;
    receiver.respond_with(&[500]);
    let recipe = app.import(&versioned_recipe(&receiver.base, "v1")).await;
    let event_id = app.send_event(&recipe, &json!({ "n": 1 })).await;
    receiver.wait_for(1, WAIT).await;

    // The first attempt failed; its retry waits a second, while the recipe is edited.
    let edited = app.import(&versioned_recipe(&receiver.base, "v2")).await;
    assert_eq!(edited.version, 2);
    let detail = app.wait_for_deliveries(&event_id).await;
    assert_eq!(detail.event.status, EventStatus::Delivered, "{detail:#?}");
    assert_eq!(detail.runs[0].recipe_version, 1);
    assert_eq!(detail.deliveries[0].attempts.len(), 2);
    let requests = receiver.wait_for(2, WAIT).await;
    for request in &requests {
        assert_eq!(request.path, "/v1", "{requests:#?}");
        assert_eq!(request.header("x-version"), Some("v1"));
        assert_eq!(request.json(), json!({ "version": "v1", "n": 1 }));
    }

    let later = app.send_event(&edited, &json!({ "n": 2 })).await;
    app.wait_for_deliveries(&later).await;
    let requests = receiver.wait_for(3, WAIT).await;
    assert_eq!(requests[2].path, "/v2", "a new event runs the new version");
    assert_eq!(requests[2].header("x-version"), Some("v2"));
    assert_eq!(requests[2].json(), json!({ "version": "v2", "n": 2 }));
}

#[tokio::test]
async fn sqlite_an_edit_after_the_run_leaves_its_delivery_on_the_version_the_run_used() {
    an_edit_after_the_run_leaves_its_delivery_on_the_version_the_run_used(false).await;
}

#[tokio::test]
async fn postgres_an_edit_after_the_run_leaves_its_delivery_on_the_version_the_run_used() {
    an_edit_after_the_run_leaves_its_delivery_on_the_version_the_run_used(true).await;
}

#[tokio::test]
async fn a_version_whose_stored_source_is_invalid_fails_its_delivery_as_an_invalid_action() {
    use sqlx::Connection;
    let Some((app, _)) = spawn_on(false, |_| {}).await else {
        return;
    };
    let receiver = Receiver::start().await;
    let recipe = app.import(&versioned_recipe(&receiver.base, "v1")).await;
    let path = app.data_dir.path().join("switchyard.db");
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    // The live recipe still runs; only the delivery reads the version's stored source.
    sqlx::query("UPDATE recipe_versions SET source = 'not = [toml' WHERE recipe_id = 'edited'")
        .execute(&mut conn)
        .await
        .unwrap();
    let event_id = app.send_event(&recipe, &json!({ "n": 1 })).await;
    let detail = app.wait_for_deliveries(&event_id).await;
    let delivery = &detail.deliveries[0];
    assert_eq!(delivery.status, "dead", "{delivery:#?}");
    assert_eq!(delivery.attempts.len(), 1, "no retry can fix it");
    let error = delivery.attempts[0].error.as_deref().unwrap_or_default();
    assert!(
        error.starts_with("the stored action is invalid: the recipe source does not parse"),
        "{error}"
    );
    assert!(receiver.requests().is_empty());
}
