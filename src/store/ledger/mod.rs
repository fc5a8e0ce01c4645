//! The ledger: every store rule written once, for SQLite and PostgreSQL alike. Statements are
//! [`Stmt`]s with `$n` parameters; what really differs between the dialects (how a write
//! transaction begins, row locks, expanding a bound JSON array) comes from [`Dialect`].
//! Connection set-up and migrations stay per backend (`store::sqlite`, `store::postgres`).

mod auth;
mod control;
mod deliveries;
mod events;
mod lookups;
mod recipes;
mod refusals;
mod retention;
mod runs;
mod schedule;
mod secrets;
pub(crate) mod sql;

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
}

/// The open database.
pub(crate) enum Backend {
    /// WAL mode; writes through one connection (`BEGIN IMMEDIATE`) so writers in this process
    /// queue without busy-waiting; reads through a pool.
    Sqlite {
        reader: SqlitePool,
        writer: SqlitePool,
        sync: SyncMode,
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

    /// A read transaction: every statement in it sees one snapshot (on PostgreSQL that takes
    /// REPEATABLE READ: under its default READ COMMITTED each statement sees its own).
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
            Backend::Sqlite { writer, sync, .. } => begin_sqlite(writer, *sync).await,
            Backend::Postgres { pool } => Ok(Tx::Pg(pool.begin().await?)),
        }
    }

    /// A write transaction for worker bookkeeping (claims, runs, attempts). On SQLite it
    /// commits without its own disk sync: WAL frames are synced in order, so the next durable
    /// commit makes it durable too; a power loss in between only repeats work (a run or an
    /// attempt), which at-least-once delivery allows. A process crash loses nothing.
    pub(crate) async fn worker_tx(&self) -> Result<Tx, StoreError> {
        match &self.backend {
            Backend::Sqlite { writer, .. } => begin_sqlite(writer, SyncMode::Normal).await,
            Backend::Postgres { pool } => Ok(Tx::Pg(pool.begin().await?)),
        }
    }
}

async fn begin_sqlite(writer: &SqlitePool, sync: SyncMode) -> Result<Tx, StoreError> {
    let mut conn = writer.acquire().await?;
    let pragma = match sync {
        SyncMode::Full => "PRAGMA synchronous = FULL",
        SyncMode::Normal => "PRAGMA synchronous = NORMAL",
    };
    sqlx::query(pragma).execute(&mut *conn).await?;
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
}
