//! A webhook answered with its own run (`respond = "result"`): the event and the run it was
//! answered with commit together, so the answer and what is delivered come from one
//! evaluation. The run goes through the engine's own writer ([`Ledger::write_runs`]): the
//! event's job is leased to a one-off owner inside the transaction and completed at once, so
//! the dedupe key claim, the deliveries, the event status and the job's removal are the same
//! code as the engine's, and no worker ever sees the event.

use serde_json::Value;

use super::events::write_events;
use super::{Ledger, Outside, Stmt, Tx};
use crate::store::rows::{Text, parse_json};
use crate::store::{
    EarlierRun, Evaluated, EventStatus, NewEvent, NewRun, RunOutcome, SenderDelivery, StoreError,
    now_ms,
};

impl Ledger {
    /// See [`crate::store::EventStore::insert_evaluated`]. Statements: the sender id claim
    /// (when there is an id), event and job, the lease, the run's writes, and for a duplicate
    /// up to three reads of the earlier event; one synced commit.
    pub(super) async fn commit_evaluated(
        &self,
        event: NewEvent,
        sender: Option<SenderDelivery>,
        recipe_version: i64,
        outcome: RunOutcome,
    ) -> Result<Evaluated, StoreError> {
        let mut tx = self.write_tx().await?;
        let pair = [(event, sender)];
        let retried = self
            .claim_sender_deliveries(&mut tx, &pair)
            .await?
            .pop()
            .flatten();
        let [(event, _)] = pair;
        if let Some(first) = retried {
            // The claim wrote nothing: the id was seen within its window, so none was dropped.
            let first = self.earlier_run(&mut tx, first).await?;
            tx.commit().await?;
            return Ok(Evaluated::SenderRetry { first });
        }
        write_events(&mut tx, &[&event]).await?;
        let owner = format!("respond-{}", event.id);
        Stmt::new("UPDATE event_jobs SET lease_owner = $1, lease_until = $2 WHERE event_id = $3")
            .bind(owner.as_str())
            .bind(now_ms())
            .bind(event.id.as_str())
            .execute(tx.on())
            .await?;
        let key = match &outcome {
            RunOutcome::Duplicate { key } => Some(key.clone()),
            RunOutcome::Done { dedupe, .. } => dedupe.as_ref().map(|claim| claim.key.clone()),
            RunOutcome::Filtered { .. } | RunOutcome::Failed { .. } => None,
        };
        let run = NewRun {
            event_id: event.id.clone(),
            recipe_id: event.recipe_id.clone(),
            recipe_version,
            outcome,
        };
        let status = self
            .write_runs(&mut tx, &owner, vec![run])
            .await?
            .pop()
            .flatten()
            .ok_or_else(|| {
                StoreError::Corrupt(format!("the run of event {} lost its own lease", event.id))
            })?;
        let evaluated = match (status, key) {
            (EventStatus::Duplicate, Some(key)) => {
                let first = match self.key_holder(&mut tx, &event.recipe_id, &key).await? {
                    Some(first) => Some(self.earlier_run(&mut tx, first).await?),
                    None => None,
                };
                Evaluated::Duplicate { first }
            }
            (status, _) => Evaluated::Stored { status },
        };
        tx.commit().await?;
        Ok(evaluated)
    }

    /// `event_id` with the output of its latest run. A duplicate defers to the event holding
    /// its key, as its own answer did: a retry of it is answered the same.
    async fn earlier_run(&self, tx: &mut Tx, event_id: String) -> Result<EarlierRun, StoreError> {
        let latest = latest_run(tx, &event_id).await?;
        if let Some((status, Some(key), _, recipe_id)) = &latest
            && status == EventStatus::Duplicate.as_str()
            && let Some(holder) = self.key_holder(tx, recipe_id, &key.0).await?
            && holder != event_id
        {
            let output = output_of(latest_run(tx, &holder).await?)?;
            return Ok(EarlierRun {
                event_id: holder,
                output,
            });
        }
        Ok(EarlierRun {
            event_id,
            output: output_of(latest)?,
        })
    }

    /// The event that holds the recipe's dedupe `key`, if its record is still kept.
    async fn key_holder(
        &self,
        tx: &mut Tx,
        recipe_id: &str,
        key: &str,
    ) -> Result<Option<String>, StoreError> {
        let d = self.dialect();
        Stmt::built(format!(
            "SELECT event_id FROM dedupe_keys WHERE recipe_id = $1 AND {} = {}",
            d.key("key"),
            d.key("$2")
        ))
        .bind(recipe_id)
        .bind(Outside(Some(key)))
        .scalar_optional(tx.on())
        .await
    }
}

/// The latest run of an event: status, dedupe key, output, recipe id.
type LatestRun = (String, Option<Text>, Option<String>, String);

async fn latest_run(tx: &mut Tx, event_id: &str) -> Result<Option<LatestRun>, StoreError> {
    Stmt::new(
        "SELECT status, dedupe_key, output, recipe_id FROM runs WHERE event_id = $1
         ORDER BY created_at DESC, id DESC LIMIT 1",
    )
    .bind(event_id)
    .fetch_optional(tx.on())
    .await
}

fn output_of(run: Option<LatestRun>) -> Result<Option<Value>, StoreError> {
    run.and_then(|(_, _, output, _)| output)
        .map(|output| parse_json(&output, "run output"))
        .transpose()
}
