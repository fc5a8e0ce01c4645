//! Recipes by id and by webhook token; each source a recipe has had is kept in
//! `recipe_versions`, with when and by whom: the recipe's revisions.

use async_trait::async_trait;

use super::{Arg, Ledger, Stmt, placeholders};
use crate::ids::new_webhook_token;
use crate::store::rows::{RecipeRow, RevisionRow, RevisionSummaryRow};
use crate::store::{
    RecipeRevision, RecipeStore, RecipeUpsert, RecipeVersion, RevisionSummary, StoreError,
    StoredRecipe, UpsertKind, UpsertResult, now_ms,
};

/// The columns of a [`RecipeRow`], for `SELECT`s built with [`Stmt::built`].
pub(super) const RECIPE_COLUMNS: &str = "id, name, enabled, version, source, webhook_token, managed_by, paused_at, created_at, updated_at";

#[async_trait]
impl RecipeStore for Ledger {
    async fn recipes_fingerprint(&self) -> Result<(i64, i64, i64), StoreError> {
        self.fingerprint_of_recipes().await
    }

    #[tracing::instrument(skip_all, fields(recipe = %recipe.id))]
    async fn upsert_recipe(&self, recipe: RecipeUpsert) -> Result<UpsertResult, StoreError> {
        let mut tx = self.write_tx().await?;
        let now = now_ms();
        // Insert first: two processes provisioning the same recipe agree on one row (and one
        // token); the loser locks the winner's row and compares against it. A recipe created
        // again after a delete goes on from its last version: a version names one source.
        let inserted = Stmt::new(
            "INSERT INTO recipes (id, name, enabled, version, source, webhook_token, managed_by, created_at, updated_at)
             VALUES ($1, $2, $3,
                     (SELECT COALESCE(MAX(version), 0) + 1 FROM recipe_versions WHERE recipe_id = $1),
                     $4, $5, $6, $7, $7)
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(&recipe.id)
        .bind(&recipe.name)
        .bind(recipe.enabled)
        .bind(&recipe.source)
        .bind(new_webhook_token())
        .bind(&recipe.managed_by)
        .bind(now)
        .execute(tx.on())
        .await?;
        let kind = if inserted == 1 {
            UpsertKind::Created
        } else {
            let row: RecipeRow = Stmt::built(format!(
                "SELECT {RECIPE_COLUMNS} FROM recipes WHERE id = $1{}",
                self.dialect().for_update()
            ))
            .bind(&recipe.id)
            .fetch_one(tx.on())
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
                Stmt::new(
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
                .execute(tx.on())
                .await?;
                UpsertKind::Updated
            }
        };
        Stmt::new(
            "INSERT INTO recipe_versions (recipe_id, version, source, created_at, author)
             SELECT id, version, source, updated_at, $2 FROM recipes WHERE id = $1
             ON CONFLICT (recipe_id, version) DO NOTHING",
        )
        .bind(&recipe.id)
        .bind(&recipe.author)
        .execute(tx.on())
        .await?;
        let stored: RecipeRow = Stmt::built(format!(
            "SELECT {RECIPE_COLUMNS} FROM recipes WHERE id = $1"
        ))
        .bind(&recipe.id)
        .fetch_one(tx.on())
        .await?;
        tx.commit().await?;
        Ok(UpsertResult {
            kind,
            recipe: stored.into(),
        })
    }

    async fn get_recipe(&self, id: &str) -> Result<Option<StoredRecipe>, StoreError> {
        let row: Option<RecipeRow> = Stmt::built(format!(
            "SELECT {RECIPE_COLUMNS} FROM recipes WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.read())
        .await?;
        Ok(row.map(Into::into))
    }

    async fn recipe_by_token(&self, token: &str) -> Result<Option<StoredRecipe>, StoreError> {
        let row: Option<RecipeRow> = Stmt::built(format!(
            "SELECT {RECIPE_COLUMNS} FROM recipes
             WHERE webhook_token = $1 OR (previous_token = $1 AND previous_token_until > $2)"
        ))
        .bind(token)
        .bind(now_ms())
        .fetch_optional(self.read())
        .await?;
        Ok(row.map(Into::into))
    }

    async fn list_recipes(&self) -> Result<Vec<StoredRecipe>, StoreError> {
        let rows: Vec<RecipeRow> =
            Stmt::built(format!("SELECT {RECIPE_COLUMNS} FROM recipes ORDER BY id"))
                .fetch_all(self.read())
                .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn recipe_versions(
        &self,
        keys: &[(String, i64)],
    ) -> Result<Vec<RecipeVersion>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut found = Vec::new();
        for chunk in keys.chunks(1000) {
            let args = chunk
                .iter()
                .flat_map(|(id, version)| [Arg::from(id.as_str()), (*version).into()]);
            let rows: Vec<(String, i64, String)> = Stmt::built(format!(
                "WITH k (recipe_id, version) AS (VALUES {})
                 SELECT v.recipe_id, v.version, v.source FROM recipe_versions v
                 JOIN k ON k.recipe_id = v.recipe_id AND k.version = v.version",
                placeholders(chunk.len(), 2, 1)
            ))
            .bind_all(args)
            .fetch_all(self.read())
            .await?;
            found.extend(
                rows.into_iter()
                    .map(|(recipe_id, version, source)| RecipeVersion {
                        recipe_id,
                        version,
                        source,
                    }),
            );
        }
        Ok(found)
    }

    #[tracing::instrument(skip_all, fields(recipe = %recipe_id))]
    async fn list_revisions(&self, recipe_id: &str) -> Result<Vec<RevisionSummary>, StoreError> {
        let rows: Vec<RevisionSummaryRow> = Stmt::new(
            "SELECT version, created_at, author FROM recipe_versions
             WHERE recipe_id = $1 ORDER BY version DESC",
        )
        .bind(recipe_id)
        .fetch_all(self.read())
        .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    #[tracing::instrument(skip_all, fields(recipe = %recipe_id, version))]
    async fn get_revision(
        &self,
        recipe_id: &str,
        version: i64,
    ) -> Result<Option<RecipeRevision>, StoreError> {
        let row: Option<RevisionRow> = Stmt::new(
            "SELECT recipe_id, version, created_at, author, source FROM recipe_versions
             WHERE recipe_id = $1 AND version = $2",
        )
        .bind(recipe_id)
        .bind(version)
        .fetch_optional(self.read())
        .await?;
        Ok(row.map(Into::into))
    }

    async fn delete_recipe(&self, id: &str) -> Result<bool, StoreError> {
        let deleted = Stmt::new("DELETE FROM recipes WHERE id = $1")
            .bind(id)
            .execute(self.write())
            .await?;
        Ok(deleted > 0)
    }
}
