//! The store layer's one error type, and which database errors are refusals of the data.

use super::crypto;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store unavailable: {0}")]
    Database(sqlx::Error),
    /// The store turned a write down for what it holds (a constraint, a value too large or of
    /// the wrong kind), not for being unreachable: the same write fails again the same way.
    #[error("the store refused the write: {0}")]
    Refused(sqlx::Error),
    #[error("store migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("{0}")]
    Unsupported(String),
    /// Another worker took the claim over (ours expired); its result wins.
    #[error("the lease on {0} was lost to another worker")]
    LeaseLost(String),
    #[error(transparent)]
    SecretKey(#[from] crypto::KeyError),
    /// Sealed with another key, or stored in plaintext before secrets were encrypted.
    #[error(
        "secret `{0}` cannot be decrypted with the configured secret key (SWITCHYARD_SECRET_KEY \
         or DATA_DIR/secret.key); set it again"
    )]
    SecretUnreadable(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        if is_refusal(&error) {
            StoreError::Refused(error)
        } else {
            StoreError::Database(error)
        }
    }
}

/// A database error about the data written: PostgreSQL SQLSTATE classes 22 (data exception),
/// 23 (integrity constraint) and 54 (program limit exceeded); SQLite primary result codes
/// TOOBIG (18), CONSTRAINT (19), MISMATCH (20) and RANGE (25) (sqlite.org/rescode.html).
fn is_refusal(error: &sqlx::Error) -> bool {
    let sqlx::Error::Database(db) = error else {
        return false;
    };
    let code = db.code().unwrap_or_default();
    if db
        .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
        .is_some()
    {
        return ["22", "23", "54"]
            .iter()
            .any(|class| code.starts_with(class));
    }
    code.parse::<u32>()
        .is_ok_and(|code| matches!(code & 0xff, 18 | 19 | 20 | 25))
}
