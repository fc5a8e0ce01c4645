//! The embedded store's set-up: one SQLite file in WAL mode. Writes go through a single
//! connection (`BEGIN IMMEDIATE`) so writers in this process queue without busy-waiting; reads
//! use a pool. The store rules themselves are the [`Ledger`]'s, shared with PostgreSQL.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use super::crypto::SecretKey;
use super::ledger::{Backend, Ledger, WriterMode};
use super::{StoreError, SyncMode};

/// Opens (creating if missing) the database file at `path` and applies the migrations.
pub async fn connect_file(
    path: &Path,
    sync: SyncMode,
    secret_key: SecretKey,
) -> Result<Ledger, StoreError> {
    connect(SqliteConnectOptions::new().filename(path), sync, secret_key).await
}

/// Opens a `sqlite:` URL and applies the migrations.
pub async fn connect_url(
    url: &str,
    sync: SyncMode,
    secret_key: SecretKey,
) -> Result<Ledger, StoreError> {
    connect(SqliteConnectOptions::from_str(url)?, sync, secret_key).await
}

async fn connect(
    options: SqliteConnectOptions,
    sync: SyncMode,
    secret_key: SecretKey,
) -> Result<Ledger, StoreError> {
    let options = options
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(match sync {
            SyncMode::Full => SqliteSynchronous::Full,
            SyncMode::Normal => SqliteSynchronous::Normal,
        })
        .busy_timeout(Duration::from_secs(10))
        .statement_cache_capacity(super::pool::STATEMENT_CACHE)
        .foreign_keys(true);
    let writer_mode = Arc::new(WriterMode::default());
    let forget = writer_mode.clone();
    let writer = SqlitePoolOptions::new()
        .max_connections(1)
        .test_before_acquire(false)
        .before_acquire(super::pool::discard_if_in_transaction)
        .after_connect(move |_conn, _meta| {
            forget.forget();
            Box::pin(std::future::ready(Ok(())))
        })
        .connect_with(options.clone())
        .await?;
    sqlx::migrate!("./migrations/sqlite").run(&writer).await?;
    let reader = SqlitePoolOptions::new()
        .max_connections(4)
        .test_before_acquire(false)
        .before_acquire(super::pool::discard_if_in_transaction)
        .connect_with(options)
        .await?;
    Ok(Ledger {
        backend: Backend::Sqlite {
            reader,
            writer,
            sync,
            writer_mode,
        },
        secret_key,
    })
}
