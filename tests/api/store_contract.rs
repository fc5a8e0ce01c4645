//! The store contract, written once and run against every backend: SQLite (a temp file) always,
//! PostgreSQL when `SWITCHYARD_TEST_POSTGRES` holds a server URL (each test gets a fresh
//! database, dropped afterwards). Without the variable the PostgreSQL variants say so and return.

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::json;
use sqlx::Connection;
use switchyard::store::crypto::SecretKey;
use switchyard::store::{EventStatus, Store, SyncMode};
use tempfile::TempDir;

use crate::helpers::{WAIT, spawn_app_with};
use crate::receiver::Receiver;

const PG_ENV: &str = "SWITCHYARD_TEST_POSTGRES";
const SKIPPED: &str = "skipped: SWITCHYARD_TEST_POSTGRES is not set";

/// Where a backend keeps its rows, for the few checks that look past the trait.
pub enum Raw {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Raw {
    /// Makes the backend refuse (a constraint violation) any attempt whose response snippet
    /// contains `poison`: a stand-in for whatever a store may one day refuse to hold.
    async fn refuse_poisoned_snippets(&self) {
        match self {
            Raw::Sqlite(path) => {
                let url = format!("sqlite://{}", path.display());
                let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
                sqlx::query(
                    "CREATE TRIGGER poison BEFORE INSERT ON attempts
                     WHEN instr(NEW.response_snippet, 'poison') > 0
                     BEGIN SELECT RAISE(ABORT, 'poisoned snippet'); END",
                )
                .execute(&mut conn)
                .await
                .unwrap();
            }
            Raw::Postgres(url) => {
                let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
                sqlx::query(
                    "ALTER TABLE attempts ADD CONSTRAINT no_poison CHECK (
                        response_snippet IS NULL
                        OR position(convert_to('poison', 'UTF8') in response_snippet) = 0)",
                )
                .execute(&mut conn)
                .await
                .unwrap();
            }
        }
    }

    async fn secret_column(&self, name: &str) -> Vec<u8> {
        match self {
            Raw::Sqlite(path) => {
                let url = format!("sqlite://{}", path.display());
                let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
                sqlx::query_scalar("SELECT value FROM secrets WHERE name = ?")
                    .bind(name)
                    .fetch_one(&mut conn)
                    .await
                    .unwrap()
            }
            Raw::Postgres(url) => {
                let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
                sqlx::query_scalar("SELECT value FROM secrets WHERE name = $1")
                    .bind(name)
                    .fetch_one(&mut conn)
                    .await
                    .unwrap()
            }
        }
    }

    /// The delivery ids in the queue of pending work, sorted: it must hold exactly the pending
    /// deliveries (a delivered or dead one leaves it).
    async fn queued(&self) -> Vec<String> {
        let sql = "SELECT delivery_id FROM delivery_queue ORDER BY delivery_id";
        match self {
            Raw::Sqlite(path) => {
                let url = format!("sqlite://{}", path.display());
                let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
                sqlx::query_scalar(sql).fetch_all(&mut conn).await.unwrap()
            }
            Raw::Postgres(url) => {
                let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
                sqlx::query_scalar(sql).fetch_all(&mut conn).await.unwrap()
            }
        }
    }
}

/// A fresh PostgreSQL database on the server `SWITCHYARD_TEST_POSTGRES` points at, dropped
/// (best effort, even when the test panics) when this goes out of scope.
pub struct PgDatabase {
    pub url: String,
    server: String,
    name: String,
}

impl PgDatabase {
    /// `None` (after printing the skip line) when the variable is unset.
    pub async fn create() -> Option<PgDatabase> {
        let Ok(server) = std::env::var(PG_ENV) else {
            println!("{SKIPPED}");
            return None;
        };
        let name = format!("sy_{}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::PgConnection::connect(&server)
            .await
            .unwrap_or_else(|e| panic!("{PG_ENV}={server} does not connect: {e}"));
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("create test database");
        conn.close().await.ok();
        let (base, query) = match server.split_once('?') {
            Some((base, query)) => (base, format!("?{query}")),
            None => (server.as_str(), String::new()),
        };
        let root = base
            .rsplit_once('/')
            .map_or(base, |(root, _)| root)
            .to_owned();
        let url = format!("{root}/{name}{query}");
        Some(PgDatabase { url, server, name })
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let (server, name) = (self.server.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let mut conn = sqlx::PgConnection::connect(&server).await.ok()?;
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&mut conn)
                .await
                .ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(_))) {
            eprintln!("could not drop test database {}", self.name);
        }
    }
}

fn test_key() -> SecretKey {
    SecretKey::from_bytes([7; 32])
}

async fn sqlite_store() -> (Arc<dyn Store>, Raw, TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = switchyard::store::open_with_key(None, dir.path(), SyncMode::Normal, test_key())
        .await
        .expect("sqlite store opens");
    (store, Raw::Sqlite(dir.path().join("switchyard.db")), dir)
}

async fn postgres_store(db: &PgDatabase) -> (Arc<dyn Store>, Raw, TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = switchyard::store::open_with_key(
        Some(db.url.as_str()),
        dir.path(),
        SyncMode::Normal,
        test_key(),
    )
    .await
    .expect("postgres store opens");
    (store, Raw::Postgres(db.url.clone()), dir)
}

/// Runs each contract as `sqlite::NAME` and `postgres::NAME`.
macro_rules! contracts {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let (store, raw, _dir) = super::sqlite_store().await;
                    super::$name(store, &raw).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(db) = super::PgDatabase::create().await else { return };
                    let (store, raw, _dir) = super::postgres_store(&db).await;
                    super::$name(store, &raw).await;
                }
            )*
        }
    };
}

contracts!(
    recipe_upsert_keeps_the_token_and_bumps_the_version_only_on_change,
    claimed_events_are_leased_to_one_owner_until_the_lease_expires,
    concurrent_claims_split_the_events_without_overlap,
    sender_delivery_ids_store_a_retry_as_nothing,
    a_second_run_with_the_same_dedupe_key_is_a_duplicate,
    delivery_attempts_move_deliveries_and_refresh_the_event_status,
    a_tick_is_claimed_once_per_recipe_and_time,
    secrets_roundtrip_and_are_sealed_in_the_row,
    events_page_by_keyset_newest_first,
    prune_history_deletes_finished_events_only,
    hostile_strings_come_back_identical_from_every_outside_text_column,
    an_attempt_the_store_refuses_is_kept_without_its_text_and_its_delivery_moves_on,
    a_recipe_created_again_after_a_delete_goes_on_from_its_last_version,
    every_change_of_source_is_a_revision_with_its_author_and_nothing_else_is,
);

mod batches;
mod contracts;
mod delivery_contracts;
mod evaluated;
mod hostile;
mod lease_contracts;
mod refusals;
mod revisions;
mod tick_leases;
mod versions;
#[allow(clippy::wildcard_imports)]
use contracts::*;
#[allow(clippy::wildcard_imports)]
use delivery_contracts::*;
#[allow(clippy::wildcard_imports)]
use hostile::*;
#[allow(clippy::wildcard_imports)]
use refusals::*;
#[allow(clippy::wildcard_imports)]
use revisions::*;
#[allow(clippy::wildcard_imports)]
use versions::*;

/// The whole server on PostgreSQL: a webhook in, its action delivered to a receiver.
#[tokio::test]
async fn postgres_app_receives_a_webhook_and_delivers_its_action() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    let url = db.url.clone();
    let app = spawn_app_with(|s| s.database_url = Some(url)).await;
    let receiver = Receiver::start().await;
    let recipe = app
        .import(&format!(
            r#"
id = "pg-e2e"
name = "PostgreSQL end to end"
[trigger.webhook]
[transform]
script = '#{{ order: event.order }}'
[[action]]
name = "notify"
url = "{}"
timeout = "2s"
"#,
            receiver.url("/notify")
        ))
        .await;
    let event_id = app.send_event(&recipe, &json!({ "order": 42 })).await;
    let detail = app.wait_for_deliveries(&event_id).await;
    assert_eq!(detail.event.status, EventStatus::Delivered, "{detail:#?}");
    assert_eq!(detail.deliveries[0].status, "delivered");
    let requests = receiver.wait_for(1, WAIT).await;
    assert_eq!(requests[0].path, "/notify");
    assert_eq!(requests[0].json(), json!({ "order": 42 }));
}
