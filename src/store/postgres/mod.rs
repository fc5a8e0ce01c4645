//! The scale-out store: PostgreSQL, shared by several `switchyard serve` processes. Work is split
//! through lease claims (`FOR UPDATE SKIP LOCKED`); every multi-row change is one transaction.

mod auth;
mod control;
mod deliveries;
mod events;
mod recipes;
mod refusals;
mod retention;
mod runs;
mod schedule;
mod secrets;

use std::str::FromStr;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres, Transaction};

use super::crypto::SecretKey;
use super::{Store, StoreError};

/// How long a store call waits for a pooled connection, a new connection's connect included,
/// before the store reports itself unavailable: while PostgreSQL is down or restarting a
/// webhook gets its 503 within about a second, before senders give up on the call (GitHub
/// waits 10 s), and workers retry on their next step.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(1);

/// How long start-up waits for PostgreSQL to accept connections (it may be starting as well).
const STARTUP_PATIENCE: Duration = Duration::from_secs(10);

pub struct PgStore {
    pool: PgPool,
    secret_key: SecretKey,
}

impl PgStore {
    /// Connects to `url` (`postgres://...`) and applies the migrations.
    pub async fn connect_url(url: &str, secret_key: SecretKey) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)?;
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .before_acquire(super::discard_if_in_transaction)
            .connect_lazy_with(options);
        wait_until_reachable(&pool).await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(Self { pool, secret_key })
    }

    async fn tx(&self) -> Result<Transaction<'static, Postgres>, StoreError> {
        Ok(self.pool.begin().await?)
    }
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

#[async_trait]
impl Store for PgStore {
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}
