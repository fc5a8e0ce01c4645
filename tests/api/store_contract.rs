//! The store contract, written once and run against every backend: SQLite (a temp file) always,
//! PostgreSQL when `SWITCHYARD_TEST_POSTGRES` holds a server URL (each test gets a fresh
//! database, dropped afterwards). Without the variable the PostgreSQL variants say so and return.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::Connection;
use switchyard::store::crypto::SecretKey;
use switchyard::store::{
    DedupeClaim, DeliveryNext, EventCursor, EventPage, EventStatus, Inserted, NewAttempt,
    NewDelivery, NewEvent, NewRun, RecipeUpsert, RunOutcome, SenderDelivery, Store, SyncMode,
    TickClaim, UpsertKind,
};
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
);

fn event(recipe: &str, received_at: DateTime<Utc>) -> NewEvent {
    NewEvent {
        id: switchyard::ids::new_id(),
        recipe_id: recipe.into(),
        trigger: "webhook".into(),
        received_at,
        content_type: Some("application/json".into()),
        headers: json!({ "x-test": "1" }),
        body: b"{\"n\":1}".to_vec(),
        payload: json!({ "n": 1 }),
    }
}

fn run(event_id: &str, outcome: RunOutcome) -> NewRun {
    NewRun {
        event_id: event_id.into(),
        recipe_id: "r".into(),
        recipe_version: 1,
        outcome,
    }
}

fn done_with(key: Option<&str>, actions: usize) -> RunOutcome {
    RunOutcome::Done {
        output: json!({ "ok": true }),
        dedupe: key.map(|key| DedupeClaim {
            key: key.into(),
            window: Duration::from_secs(3600),
            force: false,
        }),
        deliveries: (0..actions)
            .map(|i| NewDelivery {
                action_index: i,
                action_name: format!("a{i}"),
                action: json!({ "url": "http://127.0.0.1:1/" }),
            })
            .collect(),
    }
}

fn attempt(delivery_id: &str, attempt_no: u32, status_code: u16) -> NewAttempt {
    NewAttempt {
        delivery_id: delivery_id.into(),
        attempt_no,
        started_at: Utc::now(),
        duration: Duration::from_millis(5),
        status_code: Some(status_code),
        response_snippet: Some("body".into()),
        error: None,
    }
}

const LEASE: Duration = Duration::from_millis(200);

async fn status_of(store: &Arc<dyn Store>, id: &str) -> EventStatus {
    store.get_event(id).await.unwrap().unwrap().event.status
}

async fn recipe_upsert_keeps_the_token_and_bumps_the_version_only_on_change(
    store: Arc<dyn Store>,
    _raw: &Raw,
) {
    let mut upsert = RecipeUpsert {
        id: "r1".into(),
        name: "One".into(),
        enabled: true,
        source: "source v1".into(),
        managed_by: None,
    };
    let created = store.upsert_recipe(upsert.clone()).await.unwrap();
    assert_eq!(created.kind, UpsertKind::Created);
    assert_eq!(created.recipe.version, 1);
    let token = created.recipe.webhook_token.clone();
    assert!(!token.is_empty());

    let same = store.upsert_recipe(upsert.clone()).await.unwrap();
    assert_eq!(same.kind, UpsertKind::Unchanged);
    assert_eq!(same.recipe.version, 1);

    upsert.enabled = false;
    let disabled = store.upsert_recipe(upsert.clone()).await.unwrap();
    assert_eq!(disabled.kind, UpsertKind::Updated);
    assert_eq!(disabled.recipe.version, 1, "same source, same version");
    assert!(!disabled.recipe.enabled);

    upsert.source = "source v2".into();
    let changed = store.upsert_recipe(upsert.clone()).await.unwrap();
    assert_eq!(changed.kind, UpsertKind::Updated);
    assert_eq!(changed.recipe.version, 2);
    assert_eq!(changed.recipe.webhook_token, token, "the token is kept");

    let by_token = store.recipe_by_token(&token).await.unwrap().unwrap();
    assert_eq!(by_token.source, "source v2");
    let rotated = store
        .rotate_token("r1", Duration::ZERO)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(rotated.webhook_token, token);
    assert!(store.recipe_by_token(&token).await.unwrap().is_none());
    let graced = store
        .rotate_token("r1", Duration::from_secs(3600))
        .await
        .unwrap()
        .unwrap();
    let kept = store.recipe_by_token(&rotated.webhook_token).await.unwrap();
    assert_eq!(
        kept.map(|r| r.id),
        Some("r1".to_owned()),
        "the old token works during grace"
    );
    assert!(
        store
            .recipe_by_token(&graced.webhook_token)
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(store.list_recipes().await.unwrap().len(), 1);
    assert!(store.delete_recipe("r1").await.unwrap());
    assert!(!store.delete_recipe("r1").await.unwrap());
    assert!(store.get_recipe("r1").await.unwrap().is_none());
}

async fn claimed_events_are_leased_to_one_owner_until_the_lease_expires(
    store: Arc<dyn Store>,
    _raw: &Raw,
) {
    let events: Vec<NewEvent> = (0..3).map(|_| event("r", Utc::now())).collect();
    store.insert_events(&events).await.unwrap();

    let first = store.claim_events("a", 10, LEASE).await.unwrap();
    assert_eq!(first.len(), 3);
    assert!(first.iter().all(|e| !e.replay));
    assert_eq!(first[0].payload, json!({ "n": 1 }));
    assert_eq!(first[0].body, b"{\"n\":1}");
    assert!(store.claim_events("b", 10, LEASE).await.unwrap().is_empty());

    tokio::time::sleep(LEASE + Duration::from_millis(100)).await;
    let taken = store.claim_events("b", 10, LEASE).await.unwrap();
    assert_eq!(taken.len(), 3, "expired leases are taken again");

    // The first owner lost its lease: its result is refused, the new owner's is kept.
    let lost = store
        .complete_runs("a", vec![run(&events[0].id, RunOutcome::Filtered)])
        .await
        .unwrap();
    assert_eq!(lost, vec![None]);
    let status = store
        .complete_run("b", run(&events[0].id, RunOutcome::Filtered))
        .await
        .unwrap();
    assert_eq!(status, EventStatus::Filtered);

    // Released events are claimable at once.
    store.release_events("b").await.unwrap();
    let released = store.claim_events("c", 10, LEASE).await.unwrap();
    assert_eq!(released.len(), 2);
    assert_eq!(store.backlog().await.unwrap().events_pending, 2);
}

async fn concurrent_claims_split_the_events_without_overlap(store: Arc<dyn Store>, _raw: &Raw) {
    let events: Vec<NewEvent> = (0..40).map(|_| event("r", Utc::now())).collect();
    store.insert_events(&events).await.unwrap();
    let workers: Vec<_> = (0..4)
        .map(|n| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let batch = store
                        .claim_events(&format!("w{n}"), 3, Duration::from_secs(60))
                        .await
                        .unwrap();
                    if batch.is_empty() {
                        return mine;
                    }
                    mine.extend(batch.into_iter().map(|e| e.id));
                }
            })
        })
        .collect();
    let mut claimed = Vec::new();
    for worker in workers {
        claimed.extend(worker.await.unwrap());
    }
    claimed.sort();
    let total = claimed.len();
    claimed.dedup();
    assert_eq!(claimed.len(), total, "an event was claimed twice");
    assert_eq!(total, 40);
}

async fn sender_delivery_ids_store_a_retry_as_nothing(store: Arc<dyn Store>, _raw: &Raw) {
    let since = Utc::now() - chrono::Duration::hours(1);
    let sender = Some(SenderDelivery {
        id: "msg_1".into(),
        since,
    });
    let (first, retry) = (event("r", Utc::now()), event("r", Utc::now()));
    let results = store
        .insert_events_once(&[(first.clone(), sender.clone()), (retry.clone(), sender)])
        .await
        .unwrap();
    assert_eq!(
        results,
        vec![
            Inserted::Stored,
            Inserted::Duplicate {
                event_id: first.id.clone()
            }
        ]
    );
    assert!(store.get_event(&retry.id).await.unwrap().is_none());
    let other = store
        .insert_events_once(&[(event("r", Utc::now()), None)])
        .await
        .unwrap();
    assert_eq!(other, vec![Inserted::Stored]);
}

async fn a_second_run_with_the_same_dedupe_key_is_a_duplicate(store: Arc<dyn Store>, _raw: &Raw) {
    let events = [event("r", Utc::now()), event("r", Utc::now())];
    store.insert_events(&events).await.unwrap();
    assert_eq!(store.claim_events("w", 10, LEASE).await.unwrap().len(), 2);
    let statuses = store
        .complete_runs(
            "w",
            vec![
                run(&events[0].id, done_with(Some("k"), 1)),
                run(&events[1].id, done_with(Some("k"), 1)),
            ],
        )
        .await
        .unwrap();
    assert_eq!(
        statuses,
        vec![Some(EventStatus::Done), Some(EventStatus::Duplicate)]
    );
    let since = Utc::now() - chrono::Duration::minutes(1);
    assert!(store.dedupe_key_seen("r", "k", since).await.unwrap());
    assert!(!store.dedupe_key_seen("r", "other", since).await.unwrap());

    let first = store.get_event(&events[0].id).await.unwrap().unwrap();
    assert_eq!(first.event.status, EventStatus::Done);
    assert_eq!(first.deliveries.len(), 1);
    assert_eq!(first.runs[0].dedupe_key.as_deref(), Some("k"));
    let second = store.get_event(&events[1].id).await.unwrap().unwrap();
    assert_eq!(second.event.status, EventStatus::Duplicate);
    assert!(second.deliveries.is_empty());
    let backlog = store.backlog().await.unwrap();
    assert_eq!((backlog.events_pending, backlog.deliveries_pending), (0, 1));
}

async fn delivery_attempts_move_deliveries_and_refresh_the_event_status(
    store: Arc<dyn Store>,
    _raw: &Raw,
) {
    let ev = event("r", Utc::now());
    store
        .insert_events(std::slice::from_ref(&ev))
        .await
        .unwrap();
    store.claim_events("w", 1, LEASE).await.unwrap();
    store
        .complete_run("w", run(&ev.id, done_with(None, 2)))
        .await
        .unwrap();

    let claimed = store.claim_deliveries("w", 10, LEASE).await.unwrap();
    assert_eq!(claimed.len(), 2);
    assert_eq!(claimed[0].event_payload, json!({ "n": 1 }));
    assert!(
        store
            .claim_deliveries("x", 10, LEASE)
            .await
            .unwrap()
            .is_empty()
    );
    let (d0, d1) = if claimed[0].action_name == "a0" {
        (claimed[0].id.clone(), claimed[1].id.clone())
    } else {
        (claimed[1].id.clone(), claimed[0].id.clone())
    };

    // One delivered, one to retry: the event is still in flight.
    store
        .record_attempts(
            "w",
            vec![
                (attempt(&d0, 1, 200), DeliveryNext::Delivered),
                (
                    attempt(&d1, 1, 503),
                    DeliveryNext::RetryAt(Utc::now() - chrono::Duration::seconds(1)),
                ),
            ],
        )
        .await
        .unwrap();
    assert_eq!(status_of(&store, &ev.id).await, EventStatus::Done);

    let again = store.claim_deliveries("w", 10, LEASE).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(
        (again[0].id.as_str(), again[0].attempt_count),
        (d1.as_str(), 1)
    );
    // A worker without the lease records its attempt but does not move the delivery.
    store
        .record_attempts("x", vec![(attempt(&d1, 2, 200), DeliveryNext::Delivered)])
        .await
        .unwrap();
    store
        .record_attempts("w", vec![(attempt(&d1, 2, 500), DeliveryNext::Dead)])
        .await
        .unwrap();
    let detail = store.get_event(&ev.id).await.unwrap().unwrap();
    assert_eq!(detail.event.status, EventStatus::Dead);
    let dead = detail.deliveries.iter().find(|d| d.id == d1).unwrap();
    assert_eq!(dead.status, "dead");
    assert_eq!(dead.attempt_count, 2);
    assert_eq!(dead.last_error.as_deref(), Some("HTTP 500"));
    assert_eq!(dead.attempts.len(), 3);
    assert_eq!(store.backlog().await.unwrap().deliveries_pending, 0);

    // An operator retry puts it back; success makes the event delivered.
    assert!(store.retry_delivery(&d1).await.unwrap());
    assert!(!store.retry_delivery(&d1).await.unwrap());
    assert_eq!(status_of(&store, &ev.id).await, EventStatus::Done);
    let retried = store.claim_deliveries("w", 10, LEASE).await.unwrap();
    assert_eq!(retried.len(), 1);
    store
        .record_attempts("w", vec![(attempt(&d1, 3, 204), DeliveryNext::Delivered)])
        .await
        .unwrap();
    assert_eq!(status_of(&store, &ev.id).await, EventStatus::Delivered);
    assert_eq!(store.retry_dead("r").await.unwrap(), 0);
}

async fn a_tick_is_claimed_once_per_recipe_and_time(store: Arc<dyn Store>, _raw: &Raw) {
    let at = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
    let claim = |owner: &str, scheduled_for: DateTime<Utc>, skipped: u64| TickClaim {
        recipe_id: "cron".into(),
        scheduled_for,
        owner: owner.into(),
        skipped,
    };
    assert!(store.claim_tick(&claim("p1", at, 2)).await.unwrap());
    assert!(!store.claim_tick(&claim("p1", at, 0)).await.unwrap());
    assert!(!store.claim_tick(&claim("p2", at, 0)).await.unwrap());
    let tick = event("cron", at);
    store
        .complete_tick(&claim("p1", at, 2), std::slice::from_ref(&tick), None)
        .await
        .unwrap();
    assert_eq!(status_of(&store, &tick.id).await, EventStatus::Pending);
    assert_eq!(store.last_tick("cron").await.unwrap(), Some(at));

    let next = at + chrono::Duration::minutes(1);
    assert!(store.claim_tick(&claim("p2", next, 1)).await.unwrap());
    assert!(!store.claim_tick(&claim("p1", next, 0)).await.unwrap());
    let failed = event("cron", next);
    store
        .complete_tick(&claim("p2", next, 1), &[], Some((&failed, "script error")))
        .await
        .unwrap();
    let detail = store.get_event(&failed.id).await.unwrap().unwrap();
    assert_eq!(detail.event.status, EventStatus::Failed);
    assert_eq!(detail.event.error.as_deref(), Some("script error"));
    assert_eq!(store.last_tick("cron").await.unwrap(), Some(next));
    assert_eq!(store.skipped_ticks("cron").await.unwrap(), 3);
    assert_eq!(store.skipped_ticks("none").await.unwrap(), 0);
    assert_eq!(store.last_tick("none").await.unwrap(), None);
}

async fn secrets_roundtrip_and_are_sealed_in_the_row(store: Arc<dyn Store>, raw: &Raw) {
    store
        .set_secret("TOKEN", "plain-token-value")
        .await
        .unwrap();
    assert_eq!(
        store.get_secret("TOKEN").await.unwrap().as_deref(),
        Some("plain-token-value")
    );
    let column = raw.secret_column("TOKEN").await;
    assert_ne!(column, b"plain-token-value");
    assert!(!column.windows(17).any(|w| w == b"plain-token-value"));
    assert_eq!(
        test_key().open("TOKEN", &column).unwrap(),
        b"plain-token-value"
    );

    store.set_secret("TOKEN", "second").await.unwrap();
    store.set_secret("API", "x").await.unwrap();
    assert_eq!(
        store.get_secret("TOKEN").await.unwrap().as_deref(),
        Some("second")
    );
    assert_eq!(store.list_secret_names().await.unwrap(), ["API", "TOKEN"]);
    assert!(store.delete_secret("API").await.unwrap());
    assert!(!store.delete_secret("API").await.unwrap());
    assert_eq!(store.get_secret("API").await.unwrap(), None);
}

async fn events_page_by_keyset_newest_first(store: Arc<dyn Store>, _raw: &Raw) {
    let base = Utc::now() - chrono::Duration::minutes(10);
    // Two share a time: the id breaks the tie.
    let events: Vec<NewEvent> = [0, 1, 1, 2, 3]
        .iter()
        .map(|s| event("p", base + chrono::Duration::seconds(*s)))
        .collect();
    store.insert_events(&events).await.unwrap();
    store.insert_events(&[event("q", base)]).await.unwrap();
    let mut expected: Vec<(i64, String)> = events
        .iter()
        .map(|e| (e.received_at.timestamp_millis(), e.id.clone()))
        .collect();
    expected.sort_by(|a, b| b.cmp(a));

    let mut seen = Vec::new();
    let mut page = EventPage {
        recipe_id: Some("p".into()),
        limit: 2,
        ..EventPage::default()
    };
    loop {
        let rows = store.page_events(&page).await.unwrap();
        if rows.is_empty() {
            break;
        }
        assert!(rows.len() <= 2);
        let last = rows.last().unwrap();
        page.before = Some(EventCursor {
            received_at_ms: last.received_at.timestamp_millis(),
            id: last.id.clone(),
        });
        seen.extend(
            rows.into_iter()
                .map(|r| (r.received_at.timestamp_millis(), r.id)),
        );
    }
    assert_eq!(seen, expected);

    let all = EventPage {
        limit: 100,
        ..EventPage::default()
    };
    assert_eq!(store.page_events(&all).await.unwrap().len(), 6);
    let pending = EventPage {
        recipe_id: Some("p".into()),
        statuses: vec![EventStatus::Pending, EventStatus::Dead],
        limit: 3,
        ..EventPage::default()
    };
    let rows = store.page_events(&pending).await.unwrap();
    assert_eq!(
        rows.iter().map(|r| r.id.clone()).collect::<Vec<_>>(),
        expected[..3]
            .iter()
            .map(|e| e.1.clone())
            .collect::<Vec<_>>()
    );
    let dead = EventPage {
        statuses: vec![EventStatus::Dead],
        limit: 10,
        ..EventPage::default()
    };
    assert!(store.page_events(&dead).await.unwrap().is_empty());
}

async fn prune_history_deletes_finished_events_only(store: Arc<dyn Store>, _raw: &Raw) {
    let old = Utc::now() - chrono::Duration::days(2);
    let (filtered, failed, pending, delivering) = (
        event("r", old),
        event("r", old),
        event("r", old),
        event("r", old),
    );
    let recent = event("r", Utc::now());
    store
        .insert_events(&[
            filtered.clone(),
            failed.clone(),
            delivering.clone(),
            recent.clone(),
        ])
        .await
        .unwrap();
    store.claim_events("w", 10, LEASE).await.unwrap();
    let outcomes = vec![
        run(&filtered.id, RunOutcome::Filtered),
        run(
            &failed.id,
            RunOutcome::Failed {
                error: "boom".into(),
            },
        ),
        run(&delivering.id, done_with(None, 1)),
        run(&recent.id, RunOutcome::Filtered),
    ];
    store.complete_runs("w", outcomes).await.unwrap();
    store
        .insert_events(std::slice::from_ref(&pending))
        .await
        .unwrap();

    let report = store
        .prune_history(Utc::now() - chrono::Duration::days(1))
        .await
        .unwrap();
    assert_eq!(report.events, 2);
    for gone in [&filtered, &failed] {
        assert!(store.get_event(&gone.id).await.unwrap().is_none());
    }
    for kept in [&pending, &delivering, &recent] {
        assert!(store.get_event(&kept.id).await.unwrap().is_some());
    }
    assert_eq!(store.backlog().await.unwrap().deliveries_pending, 1);
}

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
