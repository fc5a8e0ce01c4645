//! The embedded store: one SQLite file in WAL mode. Writes go through a single connection
//! (`BEGIN IMMEDIATE`) so writers in this process queue without busy-waiting; reads use a pool.

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

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};

use super::crypto::SecretKey;
use super::{Store, StoreError, SyncMode};

pub struct SqliteStore {
    reader: SqlitePool,
    writer: SqlitePool,
    secret_key: SecretKey,
    sync: SyncMode,
}

impl SqliteStore {
    pub async fn connect_file(
        path: &Path,
        sync: SyncMode,
        secret_key: SecretKey,
    ) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::new().filename(path);
        Self::connect(options, sync, secret_key).await
    }

    pub async fn connect_url(
        url: &str,
        sync: SyncMode,
        secret_key: SecretKey,
    ) -> Result<Self, StoreError> {
        Self::connect(SqliteConnectOptions::from_str(url)?, sync, secret_key).await
    }

    async fn connect(
        options: SqliteConnectOptions,
        sync: SyncMode,
        secret_key: SecretKey,
    ) -> Result<Self, StoreError> {
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(match sync {
                SyncMode::Full => SqliteSynchronous::Full,
                SyncMode::Normal => SqliteSynchronous::Normal,
            })
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .before_acquire(super::discard_if_in_transaction)
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&writer).await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .before_acquire(super::discard_if_in_transaction)
            .connect_with(options)
            .await?;
        Ok(Self {
            reader,
            writer,
            secret_key,
            sync,
        })
    }

    /// A write transaction whose commit is synced to disk as configured (`full` by default):
    /// for what a caller was promised, such as an accepted webhook.
    async fn write_tx(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        self.begin_write(self.sync).await
    }

    /// A write transaction for worker bookkeeping (claims, runs, attempts) that commits without
    /// its own disk sync. WAL frames are synced in order, so the next durable commit makes it
    /// durable too; a power loss in between only repeats work (a run or an attempt), which
    /// at-least-once delivery allows. A process crash loses nothing.
    async fn worker_tx(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        self.begin_write(SyncMode::Normal).await
    }

    async fn begin_write(
        &self,
        sync: SyncMode,
    ) -> Result<Transaction<'static, Sqlite>, StoreError> {
        let mut conn = self.writer.acquire().await?;
        let pragma = match sync {
            SyncMode::Full => "PRAGMA synchronous = FULL",
            SyncMode::Normal => "PRAGMA synchronous = NORMAL",
        };
        sqlx::query(pragma).execute(&mut *conn).await?;
        // `Transaction::begin` takes the pooled connection by value, so the transaction owns it
        // (what `Pool::begin_with` does, after our pragma on the same connection).
        Ok(Transaction::begin(
            conn,
            Some(sqlx::SqlSafeStr::into_sql_str("BEGIN IMMEDIATE")),
        )
        .await?)
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.reader).await?;
        Ok(())
    }
}
