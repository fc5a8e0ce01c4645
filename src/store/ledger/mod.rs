//! The ledger: every store rule written once, for SQLite and PostgreSQL alike. Statements are
//! [`Stmt`]s with `$n` parameters; what really differs between the dialects (how a write
//! transaction begins, row locks, expanding a bound JSON array) comes from [`Dialect`].
//! Connection set-up and migrations stay per backend (`store::sqlite`, `store::postgres`).

mod auth;
mod chains;
mod control;
mod deliveries;
mod evaluated;
mod events;
mod hook_buckets;
mod lookups;
mod pause;
mod recipes;
mod refusals;
mod requeue;
mod retention;
mod runs;
mod schedule;
mod secrets;
mod senders;
pub(crate) mod sql;
mod throttle;

use sqlx::{PgPool, SqlitePool, Transaction};

use super::crypto::SecretKey;
use super::{StoreError, SyncMode};
pub(crate) use sql::{Arg, On, Outside, Stmt, Tx, placeholders};

/// The SQL dialect of the open store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// A one-column set (`value`) of the strings in the JSON array bound as `$n`, for
    /// `x IN (…)`: `json_each` in SQLite, `jsonb_array_elements_text` in PostgreSQL.
    pub(crate) fn json_strings(self, n: usize) -> String {
        match self {
            Dialect::Sqlite => format!("(SELECT value FROM json_each(${n}))"),
            Dialect::Postgres => format!("(SELECT jsonb_array_elements_text(${n}::jsonb))"),
        }
    }

    /// The indexed form of a long outside-text key column (dedupe keys, sender delivery ids):
    /// the column itself in SQLite; its `sha256` in PostgreSQL, whose unique indexes on those
    /// columns are over the hash (a btree entry holds at most about 2.7 kB).
    pub(crate) fn key(self, expr: &str) -> String {
        match self {
            Dialect::Sqlite => expr.to_owned(),
            Dialect::Postgres => format!("sha256({expr})"),
        }
    }

    /// Locks the selected rows until commit on PostgreSQL (` FOR UPDATE`); SQLite's single
    /// writer already holds the whole database.
    pub(crate) fn for_update(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE",
        }
    }

    /// The `key`s of the `table` rows matching `condition`, as a subquery for `key IN …` that on
    /// PostgreSQL locks them in `key` order: every statement that locks several rows of a
    /// table (lease renewals, attempts, run completion) takes them in one order, so two
    /// transactions of one worker (a heartbeat and a commit) never wait on each other in a
    /// cycle (SQLSTATE 40P01, "deadlock detected").
    pub(crate) fn locked_in_order(self, table: &str, key: &str, condition: &str) -> String {
        format!(
            "(SELECT {key} FROM {table} WHERE {condition} ORDER BY {key}{})",
            self.for_update()
        )
    }

    /// ` FOR UPDATE SKIP LOCKED` on PostgreSQL: concurrent claimers (other processes) take
    /// disjoint rows without waiting. Nothing on SQLite.
    pub(crate) fn skip_locked(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
        }
    }

    /// Locks `table` until commit so that a check for absent rows and the insert that follows
    /// are one step across processes: `LOCK TABLE … IN SHARE ROW EXCLUSIVE MODE` on PostgreSQL
    /// (it conflicts with itself and with every write, not with reads). `None` on SQLite, whose
    /// write transaction (`BEGIN IMMEDIATE`) already holds the one database write lock.
    pub(crate) fn lock_table(self, table: &'static str) -> Option<String> {
        match self {
            Dialect::Sqlite => None,
            Dialect::Postgres => Some(format!("LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")),
        }
    }

    /// Locks `table` until commit against every other lock but plain reads: `LOCK TABLE … IN
    /// EXCLUSIVE MODE` on PostgreSQL, which also waits out transactions holding row locks
    /// from `SELECT … FOR UPDATE` (a share-row-exclusive lock would be granted beside those,
    /// then deadlock with their later write). `None` on SQLite (one writer).
    pub(crate) fn lock_out_writers(self, table: &'static str) -> Option<String> {
        match self {
            Dialect::Sqlite => None,
            Dialect::Postgres => Some(format!("LOCK TABLE {table} IN EXCLUSIVE MODE")),
        }
    }
}

/// The open database.
pub(crate) enum Backend {
    /// WAL mode; writes through one connection (`BEGIN IMMEDIATE`) so writers in this process
    /// queue without busy-waiting; reads through a pool.
    Sqlite {
        reader: SqlitePool,
        writer: SqlitePool,
        sync: SyncMode,
        /// The `synchronous` mode the writer connection is in now (see [`WriterMode`]).
        writer_mode: std::sync::Arc<WriterMode>,
    },
    Postgres {
        pool: PgPool,
    },
}

/// The store: one implementation of every store trait over either backend.
pub struct Ledger {
    pub(crate) backend: Backend,
    pub(crate) secret_key: SecretKey,
}

impl Ledger {
    pub(crate) fn dialect(&self) -> Dialect {
        match self.backend {
            Backend::Sqlite { .. } => Dialect::Sqlite,
            Backend::Postgres { .. } => Dialect::Postgres,
        }
    }

    /// Where single reads run (a pooled connection, autocommit).
    pub(crate) fn read(&self) -> On<'_> {
        match &self.backend {
            Backend::Sqlite { reader, .. } => On::SqlitePool(reader),
            Backend::Postgres { pool } => On::PgPool(pool),
        }
    }

    /// Where single writes run outside a transaction (autocommit).
    pub(crate) fn write(&self) -> On<'_> {
        match &self.backend {
            Backend::Sqlite { writer, .. } => On::SqlitePool(writer),
            Backend::Postgres { pool } => On::PgPool(pool),
        }
    }

    /// A read transaction: every statement in it sees one snapshot (a SQLite read transaction
    /// is one; PostgreSQL needs `REPEATABLE READ`, its default `READ COMMITTED` takes a new
    /// snapshot per statement).
    pub(crate) async fn read_tx(&self) -> Result<Tx, StoreError> {
        Ok(match &self.backend {
            Backend::Sqlite { reader, .. } => Tx::Sqlite(reader.begin().await?),
            Backend::Postgres { pool } => Tx::Pg(
                pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await?,
            ),
        })
    }

    /// A write transaction whose commit is synced to disk as configured (`full` by default):
    /// for what a caller was promised, such as an accepted webhook.
    pub(crate) async fn write_tx(&self) -> Result<Tx, StoreError> {
        match &self.backend {
            Backend::Sqlite {
                writer,
                sync,
                writer_mode,
                ..
            } => begin_sqlite(writer, writer_mode, *sync).await,
            Backend::Postgres { pool } => Ok(Tx::Pg(pool.begin().await?)),
        }
    }

    /// A write transaction for worker bookkeeping (claims, runs, attempts). On SQLite it
    /// commits without its own disk sync: WAL frames are synced in order, so the next durable
    /// commit makes it durable too; a power loss in between only repeats work (a run or an
    /// attempt), which at-least-once delivery allows. A process crash loses nothing.
    pub(crate) async fn worker_tx(&self) -> Result<Tx, StoreError> {
        match &self.backend {
            Backend::Sqlite {
                writer,
                writer_mode,
                ..
            } => begin_sqlite(writer, writer_mode, SyncMode::Normal).await,
            Backend::Postgres { pool } => Ok(Tx::Pg(pool.begin().await?)),
        }
    }
}

async fn begin_sqlite(
    writer: &SqlitePool,
    mode: &WriterMode,
    sync: SyncMode,
) -> Result<Tx, StoreError> {
    let mut conn = writer.acquire().await?;
    // Only a change of mode costs a statement: the single writer connection keeps it.
    if mode.get() != Some(sync) {
        mode.forget();
        let pragma = match sync {
            SyncMode::Full => "PRAGMA synchronous = FULL",
            SyncMode::Normal => "PRAGMA synchronous = NORMAL",
        };
        sqlx::query(pragma).execute(&mut *conn).await?;
        mode.set(sync);
    }
    // `Transaction::begin` takes the pooled connection by value, so the transaction owns it
    // (what `Pool::begin_with` does, after our pragma on the same connection).
    Ok(Tx::Sqlite(
        Transaction::begin(
            conn,
            Some(sqlx::SqlSafeStr::into_sql_str("BEGIN IMMEDIATE")),
        )
        .await?,
    ))
}

#[async_trait::async_trait]
impl super::Store for Ledger {
    async fn ping(&self) -> Result<(), StoreError> {
        Stmt::new("SELECT 1").execute(self.read()).await?;
        Ok(())
    }

    async fn take_hook_token(
        &self,
        recipe_id: &str,
        per_second: f64,
        burst: f64,
    ) -> Result<super::HookToken, StoreError> {
        hook_buckets::take(self, recipe_id, per_second, burst).await
    }

    async fn wake_on_commits(
        &self,
        wakers: super::Wakers,
        shutdown: tokio_util::sync::CancellationToken,
    ) -> Option<tokio::task::JoinHandle<()>> {
        match &self.backend {
            Backend::Sqlite { .. } => None,
            Backend::Postgres { pool } => Some(super::signal::listen(pool, wakers, shutdown).await),
        }
    }
}

/// The `synchronous` mode of SQLite's single writer connection, so a transaction sets it only
/// when it changes. Unknown (`None`) until set, and again whenever the pool opens a new writer
/// connection (the pool's `after_connect` calls [`WriterMode::forget`]).
#[derive(Debug, Default)]
pub(crate) struct WriterMode(std::sync::atomic::AtomicU8);

impl WriterMode {
    fn get(&self) -> Option<SyncMode> {
        match self.0.load(std::sync::atomic::Ordering::Acquire) {
            1 => Some(SyncMode::Full),
            2 => Some(SyncMode::Normal),
            _ => None,
        }
    }

    fn set(&self, sync: SyncMode) {
        let value = match sync {
            SyncMode::Full => 1,
            SyncMode::Normal => 2,
        };
        self.0.store(value, std::sync::atomic::Ordering::Release);
    }

    /// The connection's mode is not known (a new connection, or a `PRAGMA` under way).
    pub(crate) fn forget(&self) {
        self.0.store(0, std::sync::atomic::Ordering::Release);
    }
}
