//! What both backends' connection pools share: the statement cache size and the check that
//! no connection is handed out inside a failed transaction.

/// Prepared statements each connection keeps (sqlx's default is 100). A set-based statement's
/// text depends on its batch size (one `VALUES` row per item), so the hot path alone has a few
/// hundred distinct texts; with the default they evicted each other, and every batch paid a
/// parse and plan (on PostgreSQL a round trip and backend CPU) before it ran.
pub(super) const STATEMENT_CACHE: usize = 2048;

/// Pool hook (`before_acquire`): a connection left inside a transaction is closed instead of
/// handed out again, and the pool opens a fresh one. That happens when a COMMIT or ROLLBACK
/// fails (SQLite on a full disk rolls the transaction back itself, so the ROLLBACK sqlx sends
/// afterwards fails and its transaction count stays at 1; a PostgreSQL connection dropped
/// mid-transaction): reused, such a connection refuses every later `BEGIN` until a restart.
///
/// A transaction dropped without commit only queues its rollback, so a connection that looks
/// inside one is pinged first: the ping is answered after the queued rollback ran. The SQLite
/// pools do not ping every connection they hand out (`test_before_acquire(false)`: an embedded
/// connection cannot be cut, and each ping is a round trip to the connection's thread, as
/// costly as a statement); PostgreSQL's pool still does, to find connections the network lost.
pub(super) fn discard_if_in_transaction<C: sqlx::Connection>(
    conn: &mut C,
    _meta: sqlx::pool::PoolConnectionMetadata,
) -> futures_util::future::BoxFuture<'_, Result<bool, sqlx::Error>> {
    Box::pin(async move {
        if !conn.is_in_transaction() {
            return Ok(true);
        }
        conn.ping().await?;
        if conn.is_in_transaction() {
            tracing::warn!(
                "store connection left inside a failed transaction: replaced by a new one"
            );
            return Ok(false);
        }
        Ok(true)
    })
}
