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
        .bind(value.as_bytes())
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
        value
            .map(|bytes| {
                String::from_utf8(bytes)
                    .map_err(|_| StoreError::Corrupt(format!("secret {name} is not UTF-8")))
            })
            .transpose()
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
