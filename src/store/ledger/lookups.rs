//! Reads the engine makes once per batch instead of once per event.

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use super::events::json_list;
use super::recipes::RECIPE_COLUMNS;
use super::{Arg, Ledger, Outside, Stmt, placeholders};
use crate::store::rows::RecipeRow;
use crate::store::{StoreError, StoredRecipe, to_ms};

impl Ledger {
    /// See [`crate::store::EventStore::get_recipes`].
    pub(super) async fn recipes_by_id(
        &self,
        ids: &[String],
    ) -> Result<Vec<StoredRecipe>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<RecipeRow> = Stmt::built(format!(
            "SELECT {RECIPE_COLUMNS} FROM recipes WHERE id IN {}",
            self.dialect().json_strings(1)
        ))
        .bind(json_list(ids))
        .fetch_all(self.read())
        .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// See [`crate::store::EventStore::dedupe_keys_seen`].
    pub(super) async fn seen_keys(
        &self,
        probes: &[(String, String, DateTime<Utc>)],
    ) -> Result<Vec<bool>, StoreError> {
        if probes.is_empty() {
            return Ok(Vec::new());
        }
        let d = self.dialect();
        let (stored_key, listed_key) = (d.key("k.key"), d.key("v.key"));
        let args = probes
            .iter()
            .enumerate()
            .flat_map(|(n, (recipe, key, since))| {
                [
                    Arg::from(n as i64),
                    recipe.as_str().into(),
                    Outside(Some(key)).into(),
                    to_ms(*since).into(),
                ]
            });
        let seen: HashSet<i64> = Stmt::built(format!(
            "WITH v (n, recipe_id, key, since) AS (VALUES {})
             SELECT v.n FROM v WHERE EXISTS (
                SELECT 1 FROM dedupe_keys k
                WHERE k.recipe_id = v.recipe_id AND {stored_key} = {listed_key}
                  AND k.seen_at >= v.since)",
            placeholders(probes.len(), 4, 1)
        ))
        .bind_all(args)
        .scalars::<i64>(self.read())
        .await?
        .into_iter()
        .collect();
        Ok((0..probes.len() as i64)
            .map(|n| seen.contains(&n))
            .collect())
    }

    /// See [`crate::store::RecipeStore::recipes_fingerprint`].
    pub(super) async fn fingerprint_of_recipes(&self) -> Result<(i64, i64, i64), StoreError> {
        Stmt::new(
            "SELECT COUNT(*), CAST(COALESCE(MAX(updated_at), 0) AS BIGINT),
                    CAST(COALESCE(SUM(version), 0) AS BIGINT)
             FROM recipes",
        )
        .fetch_one(self.read())
        .await
    }
}
