//! PostgreSQL going away under a running server: backends terminated mid-transaction, and the
//! server unreachable for a while (a restart).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use sqlx::Connection;

use crate::helpers::{TestApp, spawn_app_with};
use crate::receiver::Receiver;
use crate::store_contract::PgDatabase;

use super::{Proxy, assert_delivered, import_forwarder, post};

/// Generous: the answer is expected within about a second; timing goals belong in benches.
const FAST: Duration = Duration::from_secs(5);

async fn spawn_on(url: &str) -> TestApp {
    let url = url.to_owned();
    spawn_app_with(|s| s.database_url = Some(url)).await
}

/// Waits until some backend of this database waits on a lock (a transaction in progress).
pub(crate) async fn wait_for_lock_waiter(url: &str) {
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity
             WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        .fetch_one(&mut conn)
        .await
        .unwrap();
        if waiting > 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no transaction ever waited on the lock"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_backends_terminated_mid_transaction_leave_the_server_working() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    let app = spawn_on(&db.url).await;
    let receiver = Receiver::start().await;
    let recipe = import_forwarder(&app, &receiver).await;
    let (status, first) = post(&app, &recipe, 1, 10).await;
    assert_eq!(status, 202);
    assert_delivered(&app, &first.unwrap()).await;

    // Hold a lock so the next webhook's transaction waits inside the store, then kill every
    // other backend of the database: the store's connections die mid-transaction.
    let mut side = sqlx::PgConnection::connect(&db.url).await.unwrap();
    let mut lock = side.begin().await.unwrap();
    sqlx::query("LOCK TABLE events IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *lock)
        .await
        .unwrap();
    let hook = app.hook_url(&recipe);
    let blocked = tokio::spawn(async move {
        reqwest::Client::new()
            .post(hook)
            .json(&serde_json::json!({ "n": 2 }))
            .send()
            .await
            .map(|r| r.status().as_u16())
    });
    wait_for_lock_waiter(&db.url).await;
    let killed: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .fetch_all(&mut *lock)
    .await
    .unwrap();
    assert!(!killed.is_empty());
    lock.rollback().await.unwrap();
    assert_eq!(
        blocked.await.unwrap().unwrap(),
        503,
        "a webhook whose transaction died is not accepted"
    );

    let (status, after) = post(&app, &recipe, 3, 10).await;
    assert_eq!(status, 202, "the server works again without a restart");
    assert_delivered(&app, &after.unwrap()).await;
}

/// The URL with its host and port replaced by `addr`.
fn via(url: &str, addr: SocketAddr) -> String {
    let mut url = reqwest::Url::parse(url).unwrap();
    url.set_host(Some(&addr.ip().to_string())).unwrap();
    url.set_port(Some(addr.port())).unwrap();
    url.to_string()
}

fn target_of(url: &str) -> SocketAddr {
    let url = reqwest::Url::parse(url).unwrap();
    let host = url.host_str().unwrap_or("127.0.0.1");
    let host = if host == "localhost" {
        "127.0.0.1"
    } else {
        host
    };
    format!("{host}:{}", url.port().unwrap_or(5432))
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_postgres_answers_503_at_once_and_work_resumes_when_it_returns() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    let proxy = Proxy::start(target_of(&db.url)).await;
    let app = spawn_on(&via(&db.url, proxy.addr)).await;
    let receiver = Receiver::start().await;
    let recipe = import_forwarder(&app, &receiver).await;
    let (status, first) = post(&app, &recipe, 1, 10).await;
    assert_eq!(status, 202);
    assert_delivered(&app, &first.unwrap()).await;

    proxy.down().await;
    for n in 0..3 {
        let started = Instant::now();
        let (status, _) = post(&app, &recipe, 10 + n, 10).await;
        let took = started.elapsed();
        println!("measured: webhook 503 after {} ms", took.as_millis());
        assert_eq!(status, 503, "an unreachable store refuses the webhook");
        assert!(took < FAST, "the 503 took {took:?}");
    }
    let started = Instant::now();
    let ready = app.get("/readyz").await.status().as_u16();
    let took = started.elapsed();
    println!("measured: /readyz 503 after {} ms", took.as_millis());
    assert_eq!(ready, 503);
    assert!(took < FAST, "/readyz took {took:?}");

    proxy.up().await;
    let (status, after) = post(&app, &recipe, 2, 10).await;
    assert_eq!(status, 202, "accepted again once the store is back");
    assert_delivered(&app, &after.unwrap()).await;
    assert_eq!(app.get("/readyz").await.status().as_u16(), 200);
}
