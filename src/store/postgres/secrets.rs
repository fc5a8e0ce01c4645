//! Secret values are sealed (see [`crate::store::crypto`]) before they reach the database.

use async_trait::async_trait;

use super::PgStore;
use crate::store::{SecretStore, StoreError, now_ms};

#[async_trait]
impl SecretStore for PgStore {
    async fn set_secret(&self, name: &str, value: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO secrets (name, value, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(name)
        .bind(self.secret_key.seal(name, value.as_bytes()))
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn get_secret(&self, name: &str) -> Result<Option<String>, StoreError> {
        let value: Option<Vec<u8>> =
            sqlx::query_scalar("SELECT value FROM secrets WHERE name = $1")
                .bind(name)
                .fetch_optional(&self.pool)
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
            .fetch_all(&self.pool)
            .await?)
    }

    async fn delete_secret(&self, name: &str) -> Result<bool, StoreError> {
        let result = sqlx::query("DELETE FROM secrets WHERE name = $1")
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected() > 0)
    }
}
