//! Deliveries written before deliveries named their recipe version carry copies of their action
//! and output; after the migration they are still delivered from those copies, and the SQLite
//! rebuild of `deliveries` keeps every attempt. The store is created at the old schema (the
//! migrations before this change), given rows, then opened by the server.

use serde_json::json;
use sqlx::Connection;
use sqlx::migrate::Migrator;
use sqlx::sqlite::SqliteConnectOptions;
use switchyard::store::EventStatus;

use crate::helpers::{WAIT, spawn_app_with};
use crate::receiver::Receiver;
use crate::store_contract::PgDatabase;

/// The migrations before `first_new` (the one that made deliveries name their version).
fn before(mut migrator: Migrator, first_new: i64) -> Migrator {
    let old: Vec<_> = migrator
        .migrations
        .iter()
        .filter(|m| m.version < first_new)
        .cloned()
        .collect();
    migrator.migrations = old.into();
    migrator
}

/// A pending delivery (one failed attempt) and a delivered one, with their copies, as the old
/// schema held them; attempt 9 was deleted, so ids up to 9 are spent.
macro_rules! seed_old_rows {
    ($conn:expr, $url:expr) => {{
        let now = chrono::Utc::now().timestamp_millis();
        let copy = json!({ "name": "notify", "url": $url, "headers": { "X-Copy": "yes" } });
        let statements: [(&str, bool); 5] = [
            (
                "INSERT INTO events (id, recipe_id, trigger, received_at, headers, body, payload, status)
                 VALUES ('ev-legacy', 'legacy', 'webhook', $1, '{}', $2, '{\"n\":1}', 'done')",
                true,
            ),
            (
                "INSERT INTO runs (id, event_id, recipe_id, recipe_version, status, output, created_at)
                 VALUES ('run-legacy', 'ev-legacy', 'legacy', 1, 'done', '{\"from\":\"run\"}', $1)",
                false,
            ),
            (
                "INSERT INTO deliveries (id, event_id, run_id, recipe_id, action_index, action_name,
                                         action, output, status, attempt_count, next_attempt_at,
                                         created_at, updated_at)
                 VALUES ('dl-pending', 'ev-legacy', 'run-legacy', 'legacy', 0, 'notify', $2,
                         '{\"from\":\"copy\"}', 'pending', 1, $1, $1, $1),
                        ('dl-done', 'ev-legacy', 'run-legacy', 'legacy', 1, 'archive',
                         '{\"name\":\"archive\",\"url\":\"http://127.0.0.1:1/\"}',
                         '{\"from\":\"copy\"}', 'delivered', 1, NULL, $1, $1)",
                true,
            ),
            (
                "INSERT INTO attempts (id, delivery_id, attempt_no, started_at, duration_ms, status_code)
                 VALUES (5, 'dl-pending', 1, $1, 5, 500), (6, 'dl-done', 1, $1, 5, 200),
                        (9, 'dl-done', 2, $1, 5, 200)",
                false,
            ),
            ("DELETE FROM attempts WHERE id = 9", false),
        ];
        for (i, (sql, second)) in statements.into_iter().enumerate() {
            let mut query = sqlx::query(sql);
            if !sql.starts_with("DELETE") {
                query = query.bind(now);
            }
            if second {
                query = match i {
                    0 => query.bind(b"{\"n\":1}".to_vec()),
                    _ => query.bind(copy.to_string()),
                };
            }
            query.execute(&mut $conn).await.expect(sql);
        }
    }};
}

/// Serves the prepared store and checks the legacy delivery goes out from its copies.
async fn delivers_from_the_copies(database_url: String) -> crate::helpers::TestApp {
    let app = spawn_app_with(|s| s.database_url = Some(database_url)).await;
    let detail = app.wait_for_deliveries("ev-legacy").await;
    assert_eq!(detail.event.status, EventStatus::Delivered, "{detail:#?}");
    let by_name = |name: &str| {
        detail
            .deliveries
            .iter()
            .find(|d| d.action_name == name)
            .unwrap_or_else(|| panic!("{name}: {detail:#?}"))
    };
    let statuses: Vec<Option<u16>> = by_name("notify")
        .attempts
        .iter()
        .map(|a| a.status_code)
        .collect();
    assert_eq!(statuses, [Some(500), Some(200)], "the old attempt is kept");
    assert_eq!(by_name("archive").attempts.len(), 1);
    assert_eq!(by_name("archive").status, "delivered");
    app
}

#[tokio::test]
async fn sqlite_deliveries_from_before_the_migration_keep_their_attempts_and_deliver_from_their_copies()
 {
    let receiver = Receiver::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    let options = SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true)
        .foreign_keys(true);
    let mut conn = sqlx::SqliteConnection::connect_with(&options)
        .await
        .unwrap();
    before(sqlx::migrate!("./migrations/sqlite"), 9)
        .run(&mut conn)
        .await
        .unwrap();
    seed_old_rows!(conn, receiver.url("/legacy"));
    conn.close().await.unwrap();

    let app = delivers_from_the_copies(format!("sqlite://{}", path.display())).await;
    check_request(&receiver).await;
    drop(app);

    let mut conn = sqlx::SqliteConnection::connect_with(&options)
        .await
        .unwrap();
    let max_id: i64 = sqlx::query_scalar("SELECT MAX(id) FROM attempts")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(max_id, 10, "AUTOINCREMENT kept its high-water mark");
    let attempts_sql: String =
        sqlx::query_scalar("SELECT sql FROM sqlite_master WHERE name = 'attempts'")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert!(
        attempts_sql.contains("REFERENCES deliveries (id) ON DELETE CASCADE"),
        "{attempts_sql}"
    );
    let leftovers: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_master WHERE name LIKE '%_old'")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!(leftovers, 0);
    let violations = sqlx::query("PRAGMA foreign_key_check")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    assert!(violations.is_empty());
    let indexes: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'index'
           AND tbl_name IN ('deliveries', 'attempts', 'delivery_queue')
           AND name NOT LIKE 'sqlite_autoindex%' ORDER BY name",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(
        indexes,
        [
            "attempts_delivery",
            "deliveries_chained",
            "deliveries_event",
            "deliveries_recipe_status",
            "delivery_queue_due",
            "delivery_queue_held",
            "delivery_queue_throttled"
        ]
    );
    let queued: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM delivery_queue")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(queued, 0, "the queue holds only pending work");
}

#[tokio::test]
async fn postgres_deliveries_from_before_the_migration_deliver_from_their_copies() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    let receiver = Receiver::start().await;
    let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
    before(sqlx::migrate!("./migrations/postgres"), 6)
        .run(&mut conn)
        .await
        .unwrap();
    seed_old_rows!(conn, receiver.url("/legacy"));
    sqlx::query("SELECT setval('attempts_id_seq', 9)")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();

    let _app = delivers_from_the_copies(db.url.clone()).await;
    check_request(&receiver).await;
}

async fn check_request(receiver: &Receiver) {
    let requests = receiver.wait_for(1, WAIT).await;
    assert_eq!(requests.len(), 1, "{requests:#?}");
    assert_eq!(requests[0].path, "/legacy");
    assert_eq!(requests[0].header("x-copy"), Some("yes"));
    assert_eq!(
        requests[0].json(),
        json!({ "from": "copy" }),
        "the row's own output, not the run's"
    );
}
