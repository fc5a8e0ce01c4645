//! The scale-out store's set-up: PostgreSQL, shared by several `switchyard serve` processes.
//! Work is split through lease claims (`FOR UPDATE SKIP LOCKED`). The store rules themselves are
//! the [`Ledger`]'s, shared with SQLite.

use std::str::FromStr;
use std::time::{Duration, Instant};

use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use super::StoreError;
use super::crypto::SecretKey;
use super::ledger::{Backend, Ledger};

/// How long a store call waits for a pooled connection, a new connection's connect included,
/// before the store reports itself unavailable: while PostgreSQL is down or restarting a
/// webhook gets its 503 within about a second, before senders give up on the call (GitHub
/// waits 10 s), and workers retry on their next step.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(1);

/// How long start-up waits for PostgreSQL to accept connections (it may be starting as well).
const STARTUP_PATIENCE: Duration = Duration::from_secs(10);

/// Connects to `url` (`postgres://...`) and applies the migrations.
pub async fn connect_url(url: &str, secret_key: SecretKey) -> Result<Ledger, StoreError> {
    let options =
        PgConnectOptions::from_str(url)?.statement_cache_capacity(super::pool::STATEMENT_CACHE);
    let pool = PgPoolOptions::new()
        .max_connections(10)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .before_acquire(super::pool::discard_if_in_transaction)
        .connect_lazy_with(options);
    wait_until_reachable(&pool).await?;
    sqlx::migrate!("./migrations/postgres").run(&pool).await?;
    Ok(Ledger {
        backend: Backend::Postgres { pool },
        secret_key,
    })
}

/// Start-up only: retries timed-out connects for [`STARTUP_PATIENCE`]; any other error (a wrong
/// password, an unknown database) fails at once.
async fn wait_until_reachable(pool: &PgPool) -> Result<(), StoreError> {
    let deadline = Instant::now() + STARTUP_PATIENCE;
    loop {
        match pool.acquire().await {
            Ok(_) => return Ok(()),
            Err(sqlx::Error::PoolTimedOut) if Instant::now() < deadline => {}
            Err(error) => return Err(error.into()),
        }
    }
}
