//! Inbound calls refused by a recipe's `verify` check: a count and the latest reason per recipe.

use async_trait::async_trait;

use super::{Ledger, Outside, Stmt};
use crate::store::rows::Text;
use crate::store::{RefusalStore, StoreError, WebhookRefusals, from_ms, now_ms};

#[async_trait]
impl RefusalStore for Ledger {
    async fn record_refusal(&self, recipe_id: &str, reason: &str) -> Result<(), StoreError> {
        Stmt::new(
            "INSERT INTO webhook_refusals (recipe_id, count, last_reason, last_at) VALUES ($1, 1, $2, $3)
             ON CONFLICT (recipe_id) DO UPDATE SET
                count = webhook_refusals.count + 1, last_reason = excluded.last_reason,
                last_at = excluded.last_at",
        )
        .bind(recipe_id)
        .bind(Outside(Some(reason)))
        .bind(now_ms())
        .execute(self.write())
        .await?;
        Ok(())
    }

    async fn list_refusals(&self) -> Result<Vec<WebhookRefusals>, StoreError> {
        let rows: Vec<(String, i64, Text, i64)> = Stmt::new(
            "SELECT recipe_id, count, last_reason, last_at FROM webhook_refusals ORDER BY recipe_id",
        )
        .fetch_all(self.read())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(recipe_id, count, last_reason, last_at)| WebhookRefusals {
                recipe_id,
                count: count.max(0) as u64,
                last_reason: last_reason.into_string(),
                last_at: from_ms(last_at),
            })
            .collect())
    }
}
