use sqlx::{Postgres, Transaction};

use crate::ids::new_id;
use crate::store::rows::{Text, opt_text};
use crate::store::{EventStatus, NewRun, RunOutcome, RunStatus, StoreError, now_ms};

/// Writes one finished run inside the caller's transaction: the run, its dedupe key and its
/// deliveries, the event's status, and the job's removal. `None` when the lease was lost.
pub(super) async fn write_run(
    tx: &mut Transaction<'static, Postgres>,
    owner: &str,
    run: NewRun,
) -> Result<Option<RunStatus>, StoreError> {
    // FOR UPDATE: a worker taking the expired lease over waits for this transaction (or this
    // one sees its new owner), so exactly one run of the event is committed.
    let holder: Option<Option<String>> =
        sqlx::query_scalar("SELECT lease_owner FROM event_jobs WHERE event_id = $1 FOR UPDATE")
            .bind(&run.event_id)
            .fetch_optional(&mut **tx)
            .await?;
    if holder.flatten().as_deref() != Some(owner) {
        return Ok(None);
    }
    let now = now_ms();
    let run_id = new_id();
    let (mut status, mut dedupe_key, mut output, mut error) = (EventStatus::Done, None, None, None);
    let mut filter_reason = None;
    let mut deliveries = Vec::new();
    match run.outcome {
        RunOutcome::Filtered { reason } => {
            status = EventStatus::Filtered;
            filter_reason = Some(reason);
        }
        RunOutcome::Duplicate { key } => {
            status = EventStatus::Duplicate;
            dedupe_key = Some(key);
        }
        RunOutcome::Failed { error: message } => {
            status = EventStatus::Failed;
            error = Some(message);
        }
        RunOutcome::Done {
            output: value,
            dedupe,
            deliveries: planned,
        } => {
            if let Some(claim) = dedupe {
                let cutoff = if claim.force {
                    i64::MAX
                } else {
                    now - claim.window.as_millis() as i64
                };
                // A concurrent claim of the same key waits for the other transaction, then
                // sees its row: one of the two runs is the duplicate.
                let claimed = sqlx::query(
                    "INSERT INTO dedupe_keys (recipe_id, key, event_id, seen_at) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (recipe_id, sha256(key)) DO UPDATE
                     SET event_id = excluded.event_id, seen_at = excluded.seen_at
                     WHERE dedupe_keys.seen_at < $5",
                )
                .bind(&run.recipe_id)
                .bind(Text(&claim.key))
                .bind(&run.event_id)
                .bind(now)
                .bind(cutoff)
                .execute(&mut **tx)
                .await?
                .rows_affected();
                if claimed == 0 {
                    status = EventStatus::Duplicate;
                }
                dedupe_key = Some(claim.key);
            }
            if status == EventStatus::Done {
                deliveries = planned;
            }
            output = Some(value);
        }
    }
    let output_text = output.as_ref().map(|v| v.to_string());
    sqlx::query(
        "INSERT INTO runs (id, event_id, recipe_id, recipe_version, status, dedupe_key, output, error, filter_reason, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&run_id)
    .bind(&run.event_id)
    .bind(&run.recipe_id)
    .bind(run.recipe_version)
    .bind(status.as_str())
    .bind(opt_text(&dedupe_key))
    .bind(&output_text)
    .bind(opt_text(&error))
    .bind(opt_text(&filter_reason))
    .bind(now)
    .execute(&mut **tx)
    .await?;
    for delivery in deliveries {
        sqlx::query(
            "INSERT INTO deliveries (id, event_id, run_id, recipe_id, action_index, action_name, action, output,
                                     status, next_attempt_at, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', $9, $9, $9)",
        )
        .bind(new_id())
        .bind(&run.event_id)
        .bind(&run_id)
        .bind(&run.recipe_id)
        .bind(delivery.action_index as i64)
        .bind(&delivery.action_name)
        .bind(delivery.action.to_string())
        .bind(output_text.as_deref().unwrap_or("null"))
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    sqlx::query("UPDATE events SET status = $1, error = $2 WHERE id = $3")
        .bind(status.as_str())
        .bind(opt_text(&error))
        .bind(&run.event_id)
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM event_jobs WHERE event_id = $1")
        .bind(&run.event_id)
        .execute(&mut **tx)
        .await?;
    Ok(Some(status))
}
