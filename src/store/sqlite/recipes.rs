use async_trait::async_trait;

use super::SqliteStore;
use crate::ids::new_webhook_token;
use crate::store::rows::RecipeRow;
use crate::store::{
    RecipeStore, RecipeUpsert, StoreError, StoredRecipe, UpsertKind, UpsertResult, now_ms,
};

#[async_trait]
impl RecipeStore for SqliteStore {
    #[tracing::instrument(skip_all, fields(recipe = %recipe.id))]
    async fn upsert_recipe(&self, recipe: RecipeUpsert) -> Result<UpsertResult, StoreError> {
        let mut tx = self.write_tx().await?;
        let now = now_ms();
        let existing: Option<RecipeRow> =
            sqlx::query_as("SELECT id, name, enabled, version, source, webhook_token, managed_by, created_at, updated_at FROM recipes WHERE id = ?")
                .bind(&recipe.id)
                .fetch_optional(&mut *tx)
                .await?;
        let kind = match &existing {
            None => {
                sqlx::query(
                    "INSERT INTO recipes (id, name, enabled, version, source, webhook_token, managed_by, created_at, updated_at)
                     VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?)",
                )
                .bind(&recipe.id)
                .bind(&recipe.name)
                .bind(recipe.enabled)
                .bind(&recipe.source)
                .bind(new_webhook_token())
                .bind(&recipe.managed_by)
                .bind(now)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                UpsertKind::Created
            }
            Some(row)
                if row.source == recipe.source
                    && row.enabled == recipe.enabled
                    && row.managed_by == recipe.managed_by =>
            {
                UpsertKind::Unchanged
            }
            Some(row) => {
                let version = if row.source == recipe.source {
                    row.version
                } else {
                    row.version + 1
                };
                sqlx::query(
                    "UPDATE recipes SET name = ?, enabled = ?, version = ?, source = ?, managed_by = ?, updated_at = ?
                     WHERE id = ?",
                )
                .bind(&recipe.name)
                .bind(recipe.enabled)
                .bind(version)
                .bind(&recipe.source)
                .bind(&recipe.managed_by)
                .bind(now)
                .bind(&recipe.id)
                .execute(&mut *tx)
                .await?;
                UpsertKind::Updated
            }
        };
        sqlx::query(
            "INSERT INTO recipe_versions (recipe_id, version, source, created_at)
             SELECT id, version, source, updated_at FROM recipes WHERE id = ?
             ON CONFLICT (recipe_id, version) DO NOTHING",
        )
        .bind(&recipe.id)
        .execute(&mut *tx)
        .await?;
        let stored: RecipeRow = sqlx::query_as("SELECT id, name, enabled, version, source, webhook_token, managed_by, created_at, updated_at FROM recipes WHERE id = ?")
            .bind(&recipe.id)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(UpsertResult {
            kind,
            recipe: stored.into(),
        })
    }

    async fn get_recipe(&self, id: &str) -> Result<Option<StoredRecipe>, StoreError> {
        let row: Option<RecipeRow> = sqlx::query_as(
            "SELECT id, name, enabled, version, source, webhook_token, managed_by, created_at, updated_at FROM recipes WHERE id = ?",
        )
        .bind(id)
        .fetch_optional(&self.reader)
        .await?;
        Ok(row.map(Into::into))
    }

    async fn recipe_by_token(&self, token: &str) -> Result<Option<StoredRecipe>, StoreError> {
        let row: Option<RecipeRow> = sqlx::query_as(
            "SELECT id, name, enabled, version, source, webhook_token, managed_by, created_at, updated_at FROM recipes
             WHERE webhook_token = ?1 OR (previous_token = ?1 AND previous_token_until > ?2)",
        )
        .bind(token)
        .bind(now_ms())
        .fetch_optional(&self.reader)
        .await?;
        Ok(row.map(Into::into))
    }

    async fn list_recipes(&self) -> Result<Vec<StoredRecipe>, StoreError> {
        let rows: Vec<RecipeRow> = sqlx::query_as(
            "SELECT id, name, enabled, version, source, webhook_token, managed_by, created_at, updated_at FROM recipes ORDER BY id",
        )
        .fetch_all(&self.reader)
        .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn delete_recipe(&self, id: &str) -> Result<bool, StoreError> {
        let deleted = sqlx::query("DELETE FROM recipes WHERE id = ?")
            .bind(id)
            .execute(&self.writer)
            .await?
            .rows_affected();
        Ok(deleted > 0)
    }
}
