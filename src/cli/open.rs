//! Opening the store for the one-shot commands (`import`, `export`, `recipes`, `events`,
//! `delete`, `secrets`). They use an existing store and never create one, nor its secret key:
//! run from the wrong folder, a command that quietly made `./data/switchyard.db` would report
//! success against a store no server reads, and a new key could not decrypt the secrets stored
//! with the old one. Only `serve` creates a store, on its first start.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

use anyhow::{Context, bail};
use sqlx::Connection;

use super::StoreArgs;
use crate::store::Store;
use crate::store::crypto::{KEY_FILE, SecretKey};

/// The SQLite file inside the data directory (as `store::open_with_key` names it).
const SQLITE_FILE: &str = "switchyard.db";

const POINT_ELSEWHERE: &str = "`switchyard serve` creates a store on its first start. To use \
    an existing one, run this command in the folder the server runs in, or point it at the store \
    with --data-dir DIR (SWITCHYARD_DATA_DIR) or --database-url URL (DATABASE_URL)";

/// Opens the store the arguments point at, refusing (with the path looked at and how to point
/// elsewhere) when it or its secret key does not exist yet.
pub async fn existing_store(args: &StoreArgs) -> anyhow::Result<Arc<dyn Store>> {
    let found = match args.database_url.as_deref() {
        Some(url) if url.starts_with("postgres") => postgres_store(url).await?,
        Some(url) => sqlite_url_store(url)?,
        None => sqlite_file_store(&args.data_dir.join(SQLITE_FILE), "")?,
    };
    let key = match args.secret_key() {
        Some(text) => SecretKey::from_base64(&text)?,
        None => existing_key(&args.data_dir, &found)?,
    };
    crate::store::open_with_key(
        args.database_url.as_deref(),
        &args.data_dir,
        args.sqlite_sync,
        key,
    )
    .await
    .context("cannot open the store")
}

/// The file, described for messages; an error when it is not there.
fn sqlite_file_store(path: &Path, source: &str) -> anyhow::Result<String> {
    let shown = format!("{}{}{source}", path.display(), absolute_note(path));
    if !path.is_file() {
        bail!("no Switchyard store at {shown}; this command creates none. {POINT_ELSEWHERE}");
    }
    Ok(format!("the store at {shown}"))
}

fn sqlite_url_store(url: &str) -> anyhow::Result<String> {
    let options = sqlx::sqlite::SqliteConnectOptions::from_str(url)
        .with_context(|| format!("DATABASE_URL `{url}` is not a SQLite or PostgreSQL URL"))?;
    sqlite_file_store(options.get_filename(), &format!(" (DATABASE_URL {url})"))
}

/// A PostgreSQL database counts as a store once `serve` has created its tables.
async fn postgres_store(url: &str) -> anyhow::Result<String> {
    let shown = redacted(url);
    let mut conn = sqlx::PgConnection::connect(url)
        .await
        .with_context(|| format!("cannot connect to the PostgreSQL database {shown}"))?;
    let (has_tables,): (bool,) = sqlx::query_as("SELECT to_regclass('recipes') IS NOT NULL")
        .fetch_one(&mut conn)
        .await
        .with_context(|| format!("cannot read the PostgreSQL database {shown}"))?;
    let _ = conn.close().await;
    if !has_tables {
        bail!(
            "the PostgreSQL database {shown} holds no Switchyard store (no `recipes` table); \
             this command creates none. {POINT_ELSEWHERE}"
        );
    }
    Ok(format!("the store in {shown}"))
}

/// The key file next to an existing store; never created here.
fn existing_key(data_dir: &Path, store: &str) -> anyhow::Result<SecretKey> {
    let path = data_dir.join(KEY_FILE);
    if !path.is_file() {
        bail!(
            "{store} exists, but its secret key {}{} does not; this command will not create \
             a new key, since secrets stored with the old one could not be read with it. Set \
             SWITCHYARD_SECRET_KEY (or --secret-key) to the key the server uses, point \
             --data-dir (SWITCHYARD_DATA_DIR) at the folder holding {KEY_FILE}, or restore the \
             file from a backup",
            path.display(),
            absolute_note(&path)
        );
    }
    Ok(SecretKey::resolve(None, data_dir)?)
}

/// ` (/abs/path)` for a relative path: where it is depends on the current directory.
fn absolute_note(path: &Path) -> String {
    match std::path::absolute(path) {
        Ok(full) if full != path => format!(" ({})", full.display()),
        _ => String::new(),
    }
}

/// The URL without its password, for messages.
fn redacted(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("***"));
            }
            parsed.to_string()
        }
        Err(_) => "(DATABASE_URL, not a valid URL)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_urls_are_shown_without_their_password() {
        assert_eq!(
            redacted("postgres://app:hunter2@db.internal:5432/switchyard"),
            "postgres://app:***@db.internal:5432/switchyard"
        );
        assert_eq!(
            redacted("postgres://postgres@127.0.0.1/test"),
            "postgres://postgres@127.0.0.1/test"
        );
    }
}
