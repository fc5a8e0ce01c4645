//! Chained deliveries (`after`): when an attempt batch finishes deliveries, the ones waiting
//! for them move on, set-based (a constant number of statements per batch). A delivered
//! predecessor queues its waiting successors, and those skipped because it had gone dead
//! (an operator retry brought it back), due at the later of now and their own delay. A dead
//! predecessor skips its waiting successors, and theirs, naming the action that did not
//! succeed.

use serde_json::{Map, Value};

use super::events::json_list;
use super::{Stmt, Tx};
use crate::store::StoreError;
use crate::store::rows::Text;

/// Moves on the deliveries chained after `delivered` and `dead` (delivery ids whose record
/// this batch just set). Returns how many were queued.
pub(super) async fn advance(
    tx: &mut Tx,
    now: i64,
    delivered: &[String],
    dead: &[String],
) -> Result<usize, StoreError> {
    let d = tx.dialect();
    if !dead.is_empty() {
        let reason = "'after: `' || (SELECT p.action_name FROM deliveries p
                    WHERE p.run_id = deliveries.run_id AND p.action_index = deliveries.after_index)
                    || '` did not succeed'";
        // `last_error` is outside text: BYTEA on PostgreSQL (its 0003 migration).
        let reason = match d {
            super::Dialect::Sqlite => reason.to_owned(),
            super::Dialect::Postgres => format!("convert_to({reason}, 'UTF8')"),
        };
        Stmt::built(format!(
            "WITH RECURSIVE blocked (run_id, action_index) AS (
                SELECT run_id, action_index FROM deliveries WHERE id IN {} AND status = 'dead'
                UNION
                SELECT w.run_id, w.action_index FROM deliveries w
                JOIN blocked b ON w.run_id = b.run_id AND w.after_index = b.action_index
                WHERE w.status = 'waiting')
             UPDATE deliveries SET status = 'skipped', updated_at = $2, last_error = {reason}
             WHERE status = 'waiting' AND after_index IS NOT NULL AND EXISTS (
                SELECT 1 FROM blocked b
                WHERE b.run_id = deliveries.run_id AND b.action_index = deliveries.after_index)",
            d.json_strings(1)
        ))
        .bind(json_list(dead))
        .bind(now)
        .execute(tx.on())
        .await?;
    }
    if delivered.is_empty() {
        return Ok(0);
    }
    let released: Vec<(String, String, String, Option<i64>)> = Stmt::built(format!(
        "UPDATE deliveries SET status = 'pending', last_error = NULL, updated_at = $2
         WHERE status IN ('waiting', 'skipped') AND after_index IS NOT NULL AND EXISTS (
            SELECT 1 FROM deliveries p
            WHERE p.id IN {} AND p.status = 'delivered'
              AND p.run_id = deliveries.run_id AND p.action_index = deliveries.after_index)
         RETURNING id, recipe_id, action_name, not_before",
        d.json_strings(1)
    ))
    .bind(json_list(delivered))
    .bind(now)
    .fetch_all(tx.on())
    .await?;
    let due: Vec<(&str, &str, &str, i64)> = released
        .iter()
        .map(|(id, recipe, action, not_before)| {
            let at = not_before.unwrap_or(now).max(now);
            (id.as_str(), recipe.as_str(), action.as_str(), at)
        })
        .collect();
    super::throttle::enqueue(tx, &due).await?;
    Ok(released.len())
}

/// For claimed deliveries of chained actions: the stored responses of their runs' actions,
/// per delivery id, as `{NAME: {status, headers, body, truncated}}` (one statement).
pub(super) async fn responses_of(
    tx: &mut Tx,
    ids: &[String],
) -> Result<std::collections::HashMap<String, Value>, StoreError> {
    let rows: Vec<(String, String, Text)> = Stmt::built(format!(
        "SELECT d.id, p.action_name, p.response
         FROM deliveries d JOIN deliveries p ON p.run_id = d.run_id
         WHERE d.id IN {} AND d.after_index IS NOT NULL AND p.response IS NOT NULL",
        tx.dialect().json_strings(1)
    ))
    .bind(json_list(ids))
    .fetch_all(tx.on())
    .await?;
    let mut out: std::collections::HashMap<String, Value> = Default::default();
    for (id, name, response) in rows {
        let value = serde_json::from_str(&response.into_string()).unwrap_or(Value::Null);
        let entry = out.entry(id).or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(map) = entry {
            map.insert(name, value);
        }
    }
    Ok(out)
}
