//! The admin account, browser sessions and API tokens.

use async_trait::async_trait;

use super::{Ledger, Stmt};
use crate::ids::new_id;
use crate::store::{ApiTokenView, AuthStore, Session, StoreError, from_ms, now_ms, to_ms};

#[async_trait]
impl AuthStore for Ledger {
    async fn admin_exists(&self) -> Result<bool, StoreError> {
        Stmt::new("SELECT EXISTS (SELECT 1 FROM users)")
            .scalar(self.read())
            .await
    }

    async fn create_admin(&self, username: &str, password_hash: &str) -> Result<bool, StoreError> {
        // Only the first account can be created this way (the setup link is single-use). The
        // table lock makes "no user yet" and the insert one step across processes.
        let mut tx = self.write_tx().await?;
        if let Some(lock) = self.dialect().lock_table("users") {
            Stmt::built(lock).execute(tx.on()).await?;
        }
        let created = Stmt::new(
            "INSERT INTO users (id, username, password_hash, created_at)
             SELECT $1, $2, $3, $4 WHERE NOT EXISTS (SELECT 1 FROM users)",
        )
        .bind(new_id())
        .bind(username)
        .bind(password_hash)
        .bind(now_ms())
        .execute(tx.on())
        .await?;
        tx.commit().await?;
        Ok(created == 1)
    }

    async fn password_hash(&self, username: &str) -> Result<Option<(String, String)>, StoreError> {
        Stmt::new("SELECT id, password_hash FROM users WHERE username = $1")
            .bind(username)
            .fetch_optional(self.read())
            .await
    }

    async fn create_session(&self, session: &Session) -> Result<(), StoreError> {
        Stmt::new(
            "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&session.id_hash)
        .bind(&session.user_id)
        .bind(&session.csrf_token)
        .bind(now_ms())
        .bind(to_ms(session.expires_at))
        .execute(self.write())
        .await?;
        Ok(())
    }

    async fn get_session(&self, id_hash: &str) -> Result<Option<Session>, StoreError> {
        let row: Option<(String, String, Option<String>, String, i64)> = Stmt::new(
            "SELECT s.id_hash, s.user_id, u.username, s.csrf_token, s.expires_at
             FROM sessions s LEFT JOIN users u ON u.id = s.user_id
             WHERE s.id_hash = $1 AND s.expires_at > $2",
        )
        .bind(id_hash)
        .bind(now_ms())
        .fetch_optional(self.read())
        .await?;
        Ok(row.map(
            |(id_hash, user_id, username, csrf_token, expires_at)| Session {
                id_hash,
                user_id,
                username: username.unwrap_or_default(),
                csrf_token,
                expires_at: from_ms(expires_at),
            },
        ))
    }

    async fn delete_session(&self, id_hash: &str) -> Result<(), StoreError> {
        Stmt::new("DELETE FROM sessions WHERE id_hash = $1 OR expires_at < $2")
            .bind(id_hash)
            .bind(now_ms())
            .execute(self.write())
            .await?;
        Ok(())
    }

    async fn create_api_token(&self, name: &str, token_hash: &str) -> Result<String, StoreError> {
        let id = new_id();
        Stmt::new(
            "INSERT INTO api_tokens (id, name, token_hash, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(&id)
        .bind(name)
        .bind(token_hash)
        .bind(now_ms())
        .execute(self.write())
        .await?;
        Ok(id)
    }

    async fn list_api_tokens(&self) -> Result<Vec<ApiTokenView>, StoreError> {
        let rows: Vec<(String, String, i64, Option<i64>)> = Stmt::new(
            "SELECT id, name, created_at, revoked_at FROM api_tokens ORDER BY created_at DESC",
        )
        .fetch_all(self.read())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, name, created_at, revoked_at)| ApiTokenView {
                id,
                name,
                created_at: from_ms(created_at),
                revoked_at: revoked_at.map(from_ms),
            })
            .collect())
    }

    async fn revoke_api_token(&self, id: &str) -> Result<bool, StoreError> {
        let revoked =
            Stmt::new("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                .bind(now_ms())
                .bind(id)
                .execute(self.write())
                .await?;
        Ok(revoked == 1)
    }

    async fn api_token_name(&self, token_hash: &str) -> Result<Option<String>, StoreError> {
        Stmt::new("SELECT name FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL")
            .bind(token_hash)
            .scalar_optional(self.read())
            .await
    }
}
