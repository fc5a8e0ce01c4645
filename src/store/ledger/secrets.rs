//! Secret values are sealed (see [`crate::store::crypto`]) before they reach the database.

use async_trait::async_trait;

use super::{Ledger, Stmt, Tx};
use crate::store::{SecretStore, StoreError, now_ms};

#[async_trait]
impl SecretStore for Ledger {
    async fn set_secret(&self, name: &str, value: &str) -> Result<(), StoreError> {
        let sealed = self.secret_key.seal(name, value.as_bytes());
        let mut tx = self.write_tx().await?;
        Stmt::new(
            "INSERT INTO secrets (name, value, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(name)
        .bind(&sealed)
        .bind(now_ms())
        .execute(tx.on())
        .await?;
        bump_generation(&mut tx).await?;
        tx.commit().await
    }

    async fn get_secret(&self, name: &str) -> Result<Option<String>, StoreError> {
        let value: Option<Vec<u8>> = Stmt::new("SELECT value FROM secrets WHERE name = $1")
            .bind(name)
            .scalar_optional(self.read())
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
        Stmt::new("SELECT name FROM secrets ORDER BY name")
            .scalars(self.read())
            .await
    }

    async fn delete_secret(&self, name: &str) -> Result<bool, StoreError> {
        let mut tx = self.write_tx().await?;
        let deleted = Stmt::new("DELETE FROM secrets WHERE name = $1")
            .bind(name)
            .execute(tx.on())
            .await?;
        if deleted > 0 {
            bump_generation(&mut tx).await?;
        }
        tx.commit().await?;
        Ok(deleted > 0)
    }
}

/// Moves the secrets generation on, in the transaction that changed a secret: caches of secret
/// values (the delivery worker's, in any process) drop theirs once they see it move.
async fn bump_generation(tx: &mut Tx) -> Result<(), StoreError> {
    Stmt::new("UPDATE secret_generation SET generation = generation + 1")
        .execute(tx.on())
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::crypto::SecretKey;
    use crate::store::{SyncMode, sqlite};

    #[tokio::test]
    async fn values_are_sealed_in_the_row_and_unreadable_with_another_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let key = SecretKey::from_bytes([3; 32]);
        let store = sqlite::connect_file(&path, SyncMode::Normal, key.clone())
            .await
            .unwrap();
        store
            .set_secret("TOKEN", "plain-token-value")
            .await
            .unwrap();
        let raw: Vec<u8> = Stmt::new("SELECT value FROM secrets WHERE name = 'TOKEN'")
            .scalar(store.read())
            .await
            .unwrap();
        assert!(!raw.windows(17).any(|w| w == b"plain-token-value"));
        assert_eq!(key.open("TOKEN", &raw).unwrap(), b"plain-token-value");
        let value = store.get_secret("TOKEN").await.unwrap();
        assert_eq!(value.as_deref(), Some("plain-token-value"));

        // A row from before encryption, and one moved to another name, name the secret.
        Stmt::new(
            "INSERT INTO secrets (name, value, updated_at) VALUES ('OLD', $1, 0), ('MOVED', $2, 0)",
        )
        .bind(b"legacy plaintext".as_slice())
        .bind(&raw)
        .execute(store.write())
        .await
        .unwrap();
        for name in ["OLD", "MOVED"] {
            let err = store.get_secret(name).await.unwrap_err().to_string();
            assert!(
                err.contains(&format!("secret `{name}` cannot be decrypted")),
                "{err}"
            );
        }
        let other = sqlite::connect_file(&path, SyncMode::Normal, SecretKey::from_bytes([4; 32]))
            .await
            .unwrap();
        assert!(matches!(
            other.get_secret("TOKEN").await,
            Err(StoreError::SecretUnreadable(name)) if name == "TOKEN"
        ));
        assert_eq!(store.get_secret("MISSING").await.unwrap(), None);
    }
}
