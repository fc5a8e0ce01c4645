//! Several processes on one PostgreSQL store: work committed through one store connection
//! wakes the workers of another process at once (LISTEN/NOTIFY at commit), not at its idle
//! poll. Here two `Store`s opened on one fresh database stand for two processes: the first
//! writes, the second listens with the `Wakers` a `serve` process's workers wait on. The
//! `processes` submodule checks the same with two real `serve` processes. PostgreSQL only:
//! without `SWITCHYARD_TEST_POSTGRES` each test prints its skip line and passes.
//!
//! The waits below are bounded (`WAKE_WITHIN`) only so that a missing wake-up fails instead of
//! hanging; nothing is timed.

mod processes;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use futures_util::FutureExt;
use serde_json::json;
use switchyard::store::crypto::SecretKey;
use switchyard::store::{
    DeliveryNext, NewAttempt, NewDelivery, NewEvent, NewRun, RunOutcome, SenderDelivery, Store,
    SyncMode, TickClaim, Wakers,
};
use tempfile::TempDir;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::store_contract::PgDatabase;

/// Far beyond a wake-up's milliseconds, far below the idle poll it replaces (there is none
/// here: nothing but the listener wakes these `Notify`s).
const WAKE_WITHIN: Duration = Duration::from_secs(10);
const LEASE: Duration = Duration::from_secs(60);

/// A second "process": its own store on the database, listening.
struct Listener {
    wakers: Wakers,
    shutdown: CancellationToken,
    task: JoinHandle<()>,
    _store: Arc<dyn Store>,
    _dir: TempDir,
}

impl Listener {
    async fn start(db: &PgDatabase) -> Listener {
        let (store, dir) = open(db).await;
        let wakers = Wakers {
            events: Arc::new(Notify::new()),
            deliveries: Arc::new(Notify::new()),
        };
        let shutdown = CancellationToken::new();
        let task = store
            .wake_on_commits(wakers.clone(), shutdown.clone())
            .await
            .expect("a PostgreSQL store listens");
        Listener {
            wakers,
            shutdown,
            task,
            _store: store,
            _dir: dir,
        }
    }

    /// Forgets wake-ups already delivered, so the next wait sees only what follows.
    fn forget_earlier(&self) {
        let _ = self.wakers.events.notified().now_or_never();
        let _ = self.wakers.deliveries.notified().now_or_never();
    }

    async fn stop(self) {
        self.shutdown.cancel();
        tokio::time::timeout(WAKE_WITHIN, self.task)
            .await
            .expect("the listener stops at shutdown")
            .expect("the listener task ends cleanly");
    }
}

async fn open(db: &PgDatabase) -> (Arc<dyn Store>, TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = switchyard::store::open_with_key(
        Some(db.url.as_str()),
        dir.path(),
        SyncMode::Normal,
        SecretKey::from_bytes([7; 32]),
    )
    .await
    .expect("postgres store opens");
    (store, dir)
}

fn event(recipe: &str) -> NewEvent {
    NewEvent {
        id: switchyard::ids::new_id(),
        recipe_id: recipe.into(),
        trigger: "webhook".into(),
        received_at: Utc::now(),
        content_type: Some("application/json".into()),
        headers: json!({}),
        body: b"{}".to_vec(),
        payload: json!({}),
    }
}

/// A finished run of `event_id` (recipe `r`) that plans `actions` deliveries.
fn run(event_id: &str, actions: usize) -> NewRun {
    let deliveries = (0..actions)
        .map(|i| NewDelivery {
            action_index: i,
            action_name: format!("a{i}"),
            start: switchyard::store::DeliveryStart::Due(chrono::Utc::now()),
            after: None,
            throttle: None,
        })
        .collect();
    NewRun {
        event_id: event_id.into(),
        recipe_id: "r".into(),
        recipe_version: 1,
        outcome: RunOutcome::Done {
            output: json!({}),
            dedupe: None,
            deliveries,
        },
    }
}

fn failed_attempt(delivery_id: &str) -> NewAttempt {
    NewAttempt {
        delivery_id: delivery_id.into(),
        attempt_no: 1,
        started_at: Utc::now(),
        duration: Duration::from_millis(5),
        status_code: Some(500),
        response_snippet: None,
        error: None,
        response: None,
    }
}

/// Waits for `notify`; panics naming `what` if no wake-up comes within [`WAKE_WITHIN`].
async fn woken(notify: &Notify, what: &str) {
    tokio::time::timeout(WAKE_WITHIN, notify.notified())
        .await
        .unwrap_or_else(|_| panic!("{what}: no wake-up within {WAKE_WITHIN:?}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_commit_that_makes_work_due_wakes_the_workers_of_another_process() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    let (store, _dir) = open(&db).await;
    let other = Listener::start(&db).await;
    let (events, deliveries) = (&other.wakers.events, &other.wakers.deliveries);

    let first = event("r");
    store
        .insert_events(std::slice::from_ref(&first))
        .await
        .unwrap();
    woken(events, "events inserted").await;

    other.forget_earlier();
    let webhook = event("r");
    let sender = Some(SenderDelivery {
        id: "msg_1".into(),
        since: Utc::now() - chrono::Duration::hours(1),
    });
    store
        .insert_events_once(&[(webhook.clone(), sender)])
        .await
        .unwrap();
    woken(events, "a webhook's event committed by ingest").await;

    other.forget_earlier();
    assert_eq!(
        store.claim_events("engine", 10, LEASE).await.unwrap().len(),
        2
    );
    store
        .complete_run("engine", run(&first.id, 2))
        .await
        .unwrap();
    woken(deliveries, "a run committed with deliveries").await;

    // Both deliveries fail for good; an operator puts one back, then the rest of the recipe's.
    let claimed = store.claim_deliveries("deliver", 10, LEASE).await.unwrap();
    assert_eq!(claimed.len(), 2);
    let dead = claimed
        .iter()
        .map(|d| (failed_attempt(&d.id), DeliveryNext::Dead))
        .collect();
    store.record_attempts("deliver", dead).await.unwrap();
    other.forget_earlier();
    assert!(store.retry_delivery(&claimed[0].id).await.unwrap());
    woken(deliveries, "a dead delivery retried").await;
    other.forget_earlier();
    assert_eq!(store.retry_dead("r").await.unwrap(), 1);
    woken(deliveries, "a recipe's dead deliveries retried").await;

    other.forget_earlier();
    assert!(store.replay_event(&first.id).await.unwrap());
    woken(events, "an event replayed").await;

    let tick = TickClaim {
        recipe_id: "cron".into(),
        scheduled_for: Utc::now(),
        owner: "scheduler".into(),
        skipped: 0,
        lease: LEASE,
    };
    assert!(store.claim_tick(&tick).await.unwrap());
    other.forget_earlier();
    store
        .complete_tick(&tick, &[event("cron")], None)
        .await
        .unwrap();
    woken(events, "a schedule tick's event committed").await;

    // A process giving its claims back (shutdown, a full destination): due again at once.
    assert!(
        !store
            .claim_events("engine", 10, LEASE)
            .await
            .unwrap()
            .is_empty()
    );
    other.forget_earlier();
    store.release_events("engine").await.unwrap();
    woken(events, "event claims released").await;
    let held = store.claim_deliveries("deliver", 10, LEASE).await.unwrap();
    assert!(!held.is_empty());
    other.forget_earlier();
    let ids: Vec<String> = held.iter().map(|d| d.id.clone()).collect();
    store
        .release_delivery_claims("deliver", &ids)
        .await
        .unwrap();
    woken(deliveries, "delivery claims released").await;

    other.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listener_whose_connection_is_killed_listens_again_and_wakes_on_the_next_commit() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    let (store, _dir) = open(&db).await;
    let other = Listener::start(&db).await;
    let before = listening_backends(&db).await;
    assert_eq!(before.len(), 1, "one connection LISTENs: {before:?}");

    let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(&db.url)
        .await
        .unwrap();
    let killed: Vec<bool> = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
        .bind(before[0])
        .fetch_all(&mut admin)
        .await
        .unwrap();
    assert_eq!(killed, [true]);

    // Listening again, it wakes both workers once for what was announced while it was away.
    woken(
        &other.wakers.events,
        "the listener back after its connection was killed",
    )
    .await;
    woken(&other.wakers.deliveries, "the listener back (deliveries)").await;
    let after = listening_backends(&db).await;
    assert_eq!(
        after.len(),
        1,
        "listening again on one connection: {after:?}"
    );
    assert_ne!(after, before, "on a new connection");

    store.insert_events(&[event("r")]).await.unwrap();
    woken(&other.wakers.events, "events inserted after the reconnect").await;
    other.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listener_that_cannot_reconnect_keeps_trying_and_wakes_the_workers_once_back() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    let (store, _dir) = open(&db).await;
    let other = Listener::start(&db).await;
    let name = db
        .url
        .rsplit('/')
        .next()
        .unwrap()
        .split('?')
        .next()
        .unwrap();
    let server = std::env::var("SWITCHYARD_TEST_POSTGRES").unwrap();
    let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(&server)
        .await
        .unwrap();
    let allow = |allowed: bool| {
        sqlx::AssertSqlSafe(format!("ALTER DATABASE {name} ALLOW_CONNECTIONS {allowed}"))
    };

    // New connections refused: the killed listener cannot come back yet. The pause lets it
    // try (and fail) before connections are allowed again; it must not wake anyone meanwhile.
    let before = listening_backends(&db).await;
    assert_eq!(before.len(), 1, "one connection LISTENs: {before:?}");
    sqlx::query(allow(false)).execute(&mut admin).await.unwrap();
    sqlx::query("SELECT pg_terminate_backend($1)")
        .bind(before[0])
        .execute(&mut admin)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        other.wakers.events.notified().now_or_never().is_none(),
        "woken while it could not listen"
    );

    sqlx::query(allow(true)).execute(&mut admin).await.unwrap();
    woken(
        &other.wakers.events,
        "the listener back once connections are allowed",
    )
    .await;
    assert_eq!(listening_backends(&db).await.len(), 1, "listening again");
    other.forget_earlier();
    store.insert_events(&[event("r")]).await.unwrap();
    woken(&other.wakers.events, "events inserted after it came back").await;
    other.stop().await;
}

/// Backend pids on the test database whose last statement was the listener's `LISTEN`.
async fn listening_backends(db: &PgDatabase) -> Vec<i32> {
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&db.url)
        .await
        .unwrap();
    sqlx::query_scalar(
        "SELECT pid FROM pg_stat_activity
         WHERE datname = current_database() AND query LIKE 'LISTEN%' AND pid <> pg_backend_pid()",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_sqlite_store_has_no_listener_and_its_workers_keep_the_idle_poll() {
    let dir = tempfile::tempdir().unwrap();
    let store = switchyard::store::open(None, dir.path(), SyncMode::Normal)
        .await
        .unwrap();
    let wakers = Wakers {
        events: Arc::new(Notify::new()),
        deliveries: Arc::new(Notify::new()),
    };
    let task = store
        .wake_on_commits(wakers, CancellationToken::new())
        .await;
    assert!(task.is_none());
}
