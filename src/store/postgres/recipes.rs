use async_trait::async_trait;

use super::PgStore;
use crate::ids::new_webhook_token;
use crate::store::rows::RecipeRow;
use crate::store::{
    RecipeStore, RecipeUpsert, StoreError, StoredRecipe, UpsertKind, UpsertResult, now_ms,
};

const RECIPE_COLUMNS: &str =
    "id, name, enabled, version, source, webhook_token, managed_by, created_at, updated_at";

#[async_trait]
impl RecipeStore for PgStore {
    #[tracing::instrument(skip_all, fields(recipe = %recipe.id))]
    async fn upsert_recipe(&self, recipe: RecipeUpsert) -> Result<UpsertResult, StoreError> {
        let mut tx = self.tx().await?;
        let now = now_ms();
        // Insert first: two processes provisioning the same recipe agree on one row (and one
        // token); the loser locks the winner's row and compares against it.
        let inserted = sqlx::query(
            "INSERT INTO recipes (id, name, enabled, version, source, webhook_token, managed_by, created_at, updated_at)
             VALUES ($1, $2, $3, 1, $4, $5, $6, $7, $7)
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(&recipe.id)
        .bind(&recipe.name)
        .bind(recipe.enabled)
        .bind(&recipe.source)
        .bind(new_webhook_token())
        .bind(&recipe.managed_by)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let kind = if inserted == 1 {
            UpsertKind::Created
        } else {
            let row: RecipeRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {RECIPE_COLUMNS} FROM recipes WHERE id = $1 FOR UPDATE"
            )))
            .bind(&recipe.id)
            .fetch_one(&mut *tx)
            .await?;
            if row.source == recipe.source
                && row.enabled == recipe.enabled
                && row.managed_by == recipe.managed_by
            {
                UpsertKind::Unchanged
            } else {
                let version = if row.source == recipe.source {
                    row.version
                } else {
                    row.version + 1
                };
                sqlx::query(
                    "UPDATE recipes SET name = $1, enabled = $2, version = $3, source = $4, managed_by = $5, updated_at = $6
                     WHERE id = $7",
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
             SELECT id, version, source, updated_at FROM recipes WHERE id = $1
             ON CONFLICT (recipe_id, version) DO NOTHING",
        )
        .bind(&recipe.id)
        .execute(&mut *tx)
        .await?;
        let stored: RecipeRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {RECIPE_COLUMNS} FROM recipes WHERE id = $1"
        )))
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
        let row: Option<RecipeRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {RECIPE_COLUMNS} FROM recipes WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(Into::into))
    }

    async fn recipe_by_token(&self, token: &str) -> Result<Option<StoredRecipe>, StoreError> {
        let row: Option<RecipeRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {RECIPE_COLUMNS} FROM recipes
             WHERE webhook_token = $1 OR (previous_token = $1 AND previous_token_until > $2)"
        )))
        .bind(token)
        .bind(now_ms())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(Into::into))
    }

    async fn list_recipes(&self) -> Result<Vec<StoredRecipe>, StoreError> {
        let rows: Vec<RecipeRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {RECIPE_COLUMNS} FROM recipes ORDER BY id"
        )))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn delete_recipe(&self, id: &str) -> Result<bool, StoreError> {
        let deleted = sqlx::query("DELETE FROM recipes WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(deleted > 0)
    }
}
