//! Secret values are sealed (see [`crate::store::crypto`]) before they reach the database.

use async_trait::async_trait;

use super::SqliteStore;
use crate::store::{SecretStore, StoreError, now_ms};

#[async_trait]
impl SecretStore for SqliteStore {
    async fn set_secret(&self, name: &str, value: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO secrets (name, value, updated_at) VALUES (?, ?, ?)
             ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(name)
        .bind(self.secret_key.seal(name, value.as_bytes()))
        .bind(now_ms())
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn get_secret(&self, name: &str) -> Result<Option<String>, StoreError> {
        let value: Option<Vec<u8>> = sqlx::query_scalar("SELECT value FROM secrets WHERE name = ?")
            .bind(name)
            .fetch_optional(&self.reader)
            .await?;
        let Some(sealed) = value else {
            return Ok(None);
        };
        let plain = self
            .secret_key
            .open(name, &sealed)
            .ok_or_else(|| StoreError::SecretUnreadable(name.to_owned()))?;
        String::from_utf8(plain)
            .map(Some)
            .map_err(|_| StoreError::Corrupt(format!("secret {name} is not UTF-8")))
    }

    async fn list_secret_names(&self) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar("SELECT name FROM secrets ORDER BY name")
            .fetch_all(&self.reader)
            .await?)
    }

    async fn delete_secret(&self, name: &str) -> Result<bool, StoreError> {
        let result = sqlx::query("DELETE FROM secrets WHERE name = ?")
            .bind(name)
            .execute(&self.writer)
            .await?;
        Ok(result.rows_affected() > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SyncMode;
    use crate::store::crypto::SecretKey;

    #[tokio::test]
    async fn values_are_sealed_in_the_row_and_unreadable_with_another_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let key = SecretKey::from_bytes([3; 32]);
        let store = SqliteStore::connect_file(&path, SyncMode::Normal, key.clone())
            .await
            .unwrap();
        store
            .set_secret("TOKEN", "plain-token-value")
            .await
            .unwrap();
        let raw: Vec<u8> = sqlx::query_scalar("SELECT value FROM secrets WHERE name = 'TOKEN'")
            .fetch_one(&store.reader)
            .await
            .unwrap();
        assert!(!raw.windows(17).any(|w| w == b"plain-token-value"));
        assert_eq!(key.open("TOKEN", &raw).unwrap(), b"plain-token-value");
        let value = store.get_secret("TOKEN").await.unwrap();
        assert_eq!(value.as_deref(), Some("plain-token-value"));

        // A row from before encryption, and one moved to another name, name the secret.
        sqlx::query(
            "INSERT INTO secrets (name, value, updated_at) VALUES ('OLD', ?, 0), ('MOVED', ?, 0)",
        )
        .bind(b"legacy plaintext".as_slice())
        .bind(raw)
        .execute(&store.writer)
        .await
        .unwrap();
        for name in ["OLD", "MOVED"] {
            let err = store.get_secret(name).await.unwrap_err().to_string();
            assert!(
                err.contains(&format!("secret `{name}` cannot be decrypted")),
                "{err}"
            );
        }
        let other =
            SqliteStore::connect_file(&path, SyncMode::Normal, SecretKey::from_bytes([4; 32]))
                .await
                .unwrap();
        assert!(matches!(
            other.get_secret("TOKEN").await,
            Err(StoreError::SecretUnreadable(name)) if name == "TOKEN"
        ));
        assert_eq!(store.get_secret("MISSING").await.unwrap(), None);
    }
}
