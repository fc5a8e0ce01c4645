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
use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres, Transaction};

use super::crypto::SecretKey;
use super::{Store, StoreError};

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
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(Self { pool, secret_key })
    }

    async fn tx(&self) -> Result<Transaction<'static, Postgres>, StoreError> {
        Ok(self.pool.begin().await?)
    }
}

#[async_trait]
impl Store for PgStore {
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}
