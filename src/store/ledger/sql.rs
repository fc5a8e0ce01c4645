//! One statement, two backends: SQL text written once with `$1`-style parameters (PostgreSQL's
//! syntax, which SQLite also reads as numbered parameters), arguments bound by kind, rows decoded
//! by any `FromRow` shape that both drivers can build.

use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{
    Decode, FromRow, PgConnection, PgPool, Postgres, Sqlite, SqliteConnection, SqlitePool,
    Transaction, Type,
};

use crate::store::StoreError;
use crate::store::rows::Text;

/// One bound value. Outside text (error messages, response snippets, dedupe keys, sender
/// delivery ids) is [`Arg::Text`]: TEXT on SQLite, BYTEA on PostgreSQL (see [`Text`]).
#[derive(Debug, Clone)]
pub(crate) enum Arg<'a> {
    Str(Option<&'a str>),
    String(Option<String>),
    Text(Option<&'a str>),
    OwnedText(Option<String>),
    Int(Option<i64>),
    Bool(bool),
    Bytes(&'a [u8]),
}

/// Outside text for [`Arg::Text`]: `Outside(&s)` binds `s` as kept-exactly text.
pub(crate) struct Outside<'a>(pub(crate) Option<&'a str>);

impl<'a> From<&'a str> for Arg<'a> {
    fn from(value: &'a str) -> Self {
        Arg::Str(Some(value))
    }
}
impl<'a> From<&'a String> for Arg<'a> {
    fn from(value: &'a String) -> Self {
        Arg::Str(Some(value))
    }
}
impl<'a> From<Option<&'a str>> for Arg<'a> {
    fn from(value: Option<&'a str>) -> Self {
        Arg::Str(value)
    }
}
impl<'a> From<&'a Option<String>> for Arg<'a> {
    fn from(value: &'a Option<String>) -> Self {
        Arg::Str(value.as_deref())
    }
}
impl From<String> for Arg<'_> {
    fn from(value: String) -> Self {
        Arg::String(Some(value))
    }
}
impl From<Option<String>> for Arg<'_> {
    fn from(value: Option<String>) -> Self {
        Arg::String(value)
    }
}
impl<'a> From<Outside<'a>> for Arg<'a> {
    fn from(value: Outside<'a>) -> Self {
        Arg::Text(value.0)
    }
}
impl From<i64> for Arg<'_> {
    fn from(value: i64) -> Self {
        Arg::Int(Some(value))
    }
}
impl From<Option<i64>> for Arg<'_> {
    fn from(value: Option<i64>) -> Self {
        Arg::Int(value)
    }
}
impl From<u32> for Arg<'_> {
    fn from(value: u32) -> Self {
        Arg::Int(Some(value.into()))
    }
}
impl From<bool> for Arg<'_> {
    fn from(value: bool) -> Self {
        Arg::Bool(value)
    }
}
impl<'a> From<&'a [u8]> for Arg<'a> {
    fn from(value: &'a [u8]) -> Self {
        Arg::Bytes(value)
    }
}
impl<'a> From<&'a Vec<u8>> for Arg<'a> {
    fn from(value: &'a Vec<u8>) -> Self {
        Arg::Bytes(value)
    }
}

/// Where a statement runs: a pool (one statement, autocommit) or an open transaction.
pub(crate) enum On<'c> {
    SqlitePool(&'c SqlitePool),
    PgPool(&'c PgPool),
    Sqlite(&'c mut SqliteConnection),
    Pg(&'c mut PgConnection),
}

impl On<'_> {
    /// The same place again, for one more statement (`on` is consumed by each statement).
    pub(crate) fn reborrow(&mut self) -> On<'_> {
        match self {
            On::SqlitePool(pool) => On::SqlitePool(pool),
            On::PgPool(pool) => On::PgPool(pool),
            On::Sqlite(conn) => On::Sqlite(conn),
            On::Pg(conn) => On::Pg(conn),
        }
    }
}

/// A transaction on either backend; dropped without [`Tx::commit`] it rolls back.
pub(crate) enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Pg(Transaction<'static, Postgres>),
}

impl Tx {
    pub(crate) fn on(&mut self) -> On<'_> {
        match self {
            Tx::Sqlite(tx) => On::Sqlite(tx),
            Tx::Pg(tx) => On::Pg(tx),
        }
    }

    pub(crate) fn dialect(&self) -> super::Dialect {
        match self {
            Tx::Sqlite(_) => super::Dialect::Sqlite,
            Tx::Pg(_) => super::Dialect::Postgres,
        }
    }

    pub(crate) async fn commit(self) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await?,
            Tx::Pg(tx) => tx.commit().await?,
        }
        Ok(())
    }
}

/// A row shape both drivers decode (`#[derive(FromRow)]` structs and tuples of plain types).
pub(crate) trait Row:
    for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}
impl<T> Row for T where T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{}

/// A single-column value both drivers decode.
pub(crate) trait Scalar:
    for<'r> Decode<'r, Sqlite>
    + Type<Sqlite>
    + for<'r> Decode<'r, Postgres>
    + Type<Postgres>
    + Send
    + Unpin
{
}
impl<T> Scalar for T where
    T: for<'r> Decode<'r, Sqlite>
        + Type<Sqlite>
        + for<'r> Decode<'r, Postgres>
        + Type<Postgres>
        + Send
        + Unpin
{
}

/// A statement and its arguments, in order (`$1` is the first bound).
pub(crate) struct Stmt<'a> {
    sql: sqlx::SqlStr,
    args: Vec<Arg<'a>>,
}

/// Binds every argument on a sqlx query builder (the same code for either database type).
macro_rules! bind_all {
    ($query:expr, $args:expr) => {{
        let mut query = $query;
        for arg in $args {
            query = match arg {
                Arg::Str(v) => query.bind(v),
                Arg::String(v) => query.bind(v),
                Arg::Text(v) => query.bind(v.map(Text)),
                Arg::OwnedText(v) => query.bind(v.map(Text)),
                Arg::Int(v) => query.bind(v),
                Arg::Bool(v) => query.bind(v),
                Arg::Bytes(v) => query.bind(v),
            };
        }
        query
    }};
}

/// Runs `$method` of the query built by `$build::<DB>` on whichever backend `$on` is.
macro_rules! dispatch {
    ($self:ident, $on:ident, $build:ident, $method:ident) => {
        match $on {
            On::SqlitePool(pool) => {
                bind_all!(sqlx::$build::<Sqlite, _>($self.sql), $self.args)
                    .$method(pool)
                    .await?
            }
            On::PgPool(pool) => {
                bind_all!(sqlx::$build::<Postgres, _>($self.sql), $self.args)
                    .$method(pool)
                    .await?
            }
            On::Sqlite(conn) => {
                bind_all!(sqlx::$build::<Sqlite, _>($self.sql), $self.args)
                    .$method(conn)
                    .await?
            }
            On::Pg(conn) => {
                bind_all!(sqlx::$build::<Postgres, _>($self.sql), $self.args)
                    .$method(conn)
                    .await?
            }
        }
    };
}

impl<'a> Stmt<'a> {
    /// A statement whose text is fixed.
    pub(crate) fn new(sql: &'static str) -> Self {
        Self {
            sql: sqlx::SqlSafeStr::into_sql_str(sql),
            args: Vec::new(),
        }
    }

    /// A statement whose text was assembled from fixed fragments (dialect pieces, placeholder
    /// lists); never from values, which are always bound.
    pub(crate) fn built(sql: String) -> Self {
        Self {
            sql: sqlx::SqlSafeStr::into_sql_str(sqlx::AssertSqlSafe(sql)),
            args: Vec::new(),
        }
    }

    /// Binds the next parameter.
    pub(crate) fn bind(mut self, arg: impl Into<Arg<'a>>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Binds the next parameters in order.
    pub(crate) fn bind_all(mut self, args: impl IntoIterator<Item = Arg<'a>>) -> Self {
        self.args.extend(args);
        self
    }

    /// Rows changed.
    pub(crate) async fn execute(self, on: On<'_>) -> Result<u64, StoreError> {
        let result = match on {
            On::SqlitePool(pool) => bind_all!(sqlx::query::<Sqlite>(self.sql), self.args)
                .execute(pool)
                .await?
                .rows_affected(),
            On::PgPool(pool) => bind_all!(sqlx::query::<Postgres>(self.sql), self.args)
                .execute(pool)
                .await?
                .rows_affected(),
            On::Sqlite(conn) => bind_all!(sqlx::query::<Sqlite>(self.sql), self.args)
                .execute(conn)
                .await?
                .rows_affected(),
            On::Pg(conn) => bind_all!(sqlx::query::<Postgres>(self.sql), self.args)
                .execute(conn)
                .await?
                .rows_affected(),
        };
        Ok(result)
    }

    pub(crate) async fn fetch_all<R: Row>(self, on: On<'_>) -> Result<Vec<R>, StoreError> {
        Ok(dispatch!(self, on, query_as, fetch_all))
    }

    pub(crate) async fn fetch_optional<R: Row>(self, on: On<'_>) -> Result<Option<R>, StoreError> {
        Ok(dispatch!(self, on, query_as, fetch_optional))
    }

    pub(crate) async fn fetch_one<R: Row>(self, on: On<'_>) -> Result<R, StoreError> {
        Ok(dispatch!(self, on, query_as, fetch_one))
    }

    pub(crate) async fn scalars<O: Scalar>(self, on: On<'_>) -> Result<Vec<O>, StoreError> {
        Ok(dispatch!(self, on, query_scalar, fetch_all))
    }

    pub(crate) async fn scalar_optional<O: Scalar>(
        self,
        on: On<'_>,
    ) -> Result<Option<O>, StoreError> {
        Ok(dispatch!(self, on, query_scalar, fetch_optional))
    }

    pub(crate) async fn scalar<O: Scalar>(self, on: On<'_>) -> Result<O, StoreError> {
        Ok(dispatch!(self, on, query_scalar, fetch_one))
    }
}

/// `($first, $first+1, …), (…)`: placeholders for `rows` rows of `columns` values each, the
/// row-major order the arguments are bound in. Used for multi-row `VALUES`.
pub(crate) fn placeholders(rows: usize, columns: usize, first: usize) -> String {
    let mut out = String::with_capacity(rows * columns * 5);
    for row in 0..rows {
        if row > 0 {
            out.push(',');
        }
        out.push('(');
        for column in 0..columns {
            if column > 0 {
                out.push(',');
            }
            out.push('$');
            out.push_str(&(first + row * columns + column).to_string());
        }
        out.push(')');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::placeholders;

    #[test]
    fn placeholders_are_row_major() {
        assert_eq!(placeholders(2, 3, 2), "($2,$3,$4),($5,$6,$7)");
        assert_eq!(placeholders(1, 1, 1), "($1)");
    }
}
