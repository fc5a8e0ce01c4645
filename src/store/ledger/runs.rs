//! Completing runs, set-based: a batch of finished runs is written with a constant number of
//! statements whatever its size (lease check, dedupe keys, runs, deliveries, event statuses,
//! job removal).

use std::collections::HashSet;

use super::events::json_list;
use super::{Arg, Ledger, Outside, Stmt, Tx, placeholders, throttle};
use crate::ids::new_id;
use crate::store::rows::Text;
use crate::store::signal::{Work, announce};
use crate::store::{
    DedupeClaim, DeliveryStart, EventStatus, NewDelivery, NewRun, RunOutcome, RunStatus,
    StoreError, now_ms, to_ms,
};

/// Deliveries per `INSERT`, 16 parameters each (32 000 in all, under SQLite's 32 766 and
/// PostgreSQL's 65 535): a chunk of 400 runs with up to five actions each is one statement.
const DELIVERY_ROWS: usize = 2000;

/// One run as it will be written.
struct Planned {
    run_id: String,
    event_id: String,
    recipe_id: String,
    recipe_version: i64,
    status: EventStatus,
    dedupe_key: Option<String>,
    output: Option<String>,
    error: Option<String>,
    filter_reason: Option<String>,
    deliveries: Vec<NewDelivery>,
    /// The key still to be taken (passing runs with a `dedupe` rule).
    dedupe: Option<DedupeClaim>,
}

impl Ledger {
    /// Writes the finished runs inside the caller's transaction: each run, its dedupe key and
    /// its deliveries, the event's status, and the job's removal. Per run, in input order:
    /// `None` when `owner` no longer holds the event's lease (another worker took it over;
    /// nothing is written for it), else the event's new status. Two runs of the batch with the
    /// same dedupe key: the first acts, the second is `Duplicate`, exactly as one after the
    /// other (a replay, `force`, acts all the same).
    pub(super) async fn write_runs(
        &self,
        tx: &mut Tx,
        owner: &str,
        runs: Vec<NewRun>,
    ) -> Result<Vec<Option<RunStatus>>, StoreError> {
        if runs.is_empty() {
            return Ok(Vec::new());
        }
        let d = self.dialect();
        let ids: Vec<String> = runs.iter().map(|run| run.event_id.clone()).collect();
        // FOR UPDATE (PostgreSQL), in one order: a worker taking an expired lease over waits
        // for this transaction (or this one sees its new owner), so exactly one run of an event
        // is committed.
        let held: HashSet<String> = Stmt::built(format!(
            "SELECT event_id FROM event_jobs WHERE lease_owner = $1 AND event_id IN {}
             ORDER BY event_id{}",
            d.json_strings(2),
            d.for_update()
        ))
        .bind(owner)
        .bind(json_list(&ids))
        .scalars(tx.on())
        .await?
        .into_iter()
        .collect();
        let now = now_ms();
        let mut planned: Vec<Option<Planned>> = runs
            .into_iter()
            .map(|run| held.contains(&run.event_id).then(|| plan(run)))
            .collect();
        self.claim_dedupe_keys(tx, &mut planned, now).await?;
        let written: Vec<&Planned> = planned.iter().flatten().collect();
        if written.is_empty() {
            return Ok(vec![None; planned.len()]);
        }
        write_rows(tx, &written, now).await?;
        announce(
            tx.on(),
            Work::Deliveries,
            written.iter().map(|p| p.deliveries.len()).sum(),
        )
        .await?;
        Ok(planned
            .iter()
            .map(|p| p.as_ref().map(|p| p.status))
            .collect())
    }

    /// Takes the dedupe keys of the batch's passing runs; a run whose key was taken (within
    /// its window, by an earlier event or an earlier run of this batch) becomes `Duplicate`
    /// and plans no deliveries. Two statements whatever the batch: drop keys older than their
    /// window (every key, for a replay), then insert the rest, reading back what was taken.
    async fn claim_dedupe_keys(
        &self,
        tx: &mut Tx,
        planned: &mut [Option<Planned>],
        now: i64,
    ) -> Result<(), StoreError> {
        // Per key, the first run claims it in the store; a later run of the batch acts only
        // when it is a replay.
        let mut keys_in_batch: HashSet<(String, String)> = HashSet::new();
        let mut claims: Vec<(usize, i64)> = Vec::new();
        for (i, plan) in planned.iter_mut().enumerate() {
            let Some(plan) = plan else { continue };
            let Some((claim, cutoff)) = plan.dedupe.take_claim(now) else {
                continue;
            };
            let key = (plan.recipe_id.clone(), claim.key.clone());
            if keys_in_batch.insert(key) {
                claims.push((i, cutoff));
            } else if !claim.force {
                plan.make_duplicate();
            }
        }
        if claims.is_empty() {
            return Ok(());
        }
        let d = self.dialect();
        let (stored_key, listed_key) = (d.key("dedupe_keys.key"), d.key("v.key"));
        let plan_of = |i: usize| planned[i].as_ref().expect("claims name planned runs");
        let expired = claims.iter().flat_map(|&(i, cutoff)| {
            let plan = plan_of(i);
            [
                Arg::from(plan.recipe_id.as_str()),
                Outside(plan.dedupe_key.as_deref()).into(),
                cutoff.into(),
            ]
        });
        Stmt::built(format!(
            "WITH v (recipe_id, key, cutoff) AS (VALUES {})
             DELETE FROM dedupe_keys WHERE EXISTS (
                SELECT 1 FROM v
                WHERE v.recipe_id = dedupe_keys.recipe_id AND {listed_key} = {stored_key}
                  AND dedupe_keys.seen_at < v.cutoff)",
            placeholders(claims.len(), 3, 1)
        ))
        .bind_all(expired)
        .execute(tx.on())
        .await?;
        let rows = claims.iter().flat_map(|&(i, _)| {
            let plan = plan_of(i);
            [
                Arg::from(plan.recipe_id.as_str()),
                Outside(plan.dedupe_key.as_deref()).into(),
                plan.event_id.as_str().into(),
                now.into(),
            ]
        });
        // A concurrent claim of the same key (another process, PostgreSQL) waits for the other
        // transaction, then sees its row: one of the two runs is the duplicate.
        let taken: HashSet<(String, String)> = Stmt::built(format!(
            "INSERT INTO dedupe_keys (recipe_id, key, event_id, seen_at) VALUES {}
             ON CONFLICT DO NOTHING RETURNING recipe_id, key",
            placeholders(claims.len(), 4, 1)
        ))
        .bind_all(rows)
        .fetch_all::<(String, Text)>(tx.on())
        .await?
        .into_iter()
        .map(|(recipe, key)| (recipe, key.into_string()))
        .collect();
        for (i, _) in claims {
            let plan = planned[i].as_mut().expect("claims name planned runs");
            let key = (
                plan.recipe_id.clone(),
                plan.dedupe_key.clone().unwrap_or_default(),
            );
            if !taken.contains(&key) {
                plan.make_duplicate();
            }
        }
        Ok(())
    }
}

/// The dedupe claim still to be taken for a planned run.
trait TakeClaim {
    fn take_claim(&mut self, now: i64) -> Option<(DedupeClaim, i64)>;
}

impl TakeClaim for Option<DedupeClaim> {
    /// The claim and the time before which an earlier sighting no longer counts (ms; every
    /// sighting is older than a replay's cutoff).
    fn take_claim(&mut self, now: i64) -> Option<(DedupeClaim, i64)> {
        self.take().map(|claim| {
            let cutoff = if claim.force {
                i64::MAX
            } else {
                now - claim.window.as_millis() as i64
            };
            (claim, cutoff)
        })
    }
}

/// What a finished run writes, before its dedupe key is checked.
fn plan(run: NewRun) -> Planned {
    let mut planned = Planned {
        run_id: new_id(),
        event_id: run.event_id,
        recipe_id: run.recipe_id,
        recipe_version: run.recipe_version,
        status: EventStatus::Done,
        dedupe_key: None,
        output: None,
        error: None,
        filter_reason: None,
        deliveries: Vec::new(),
        dedupe: None,
    };
    match run.outcome {
        RunOutcome::Filtered { reason } => {
            planned.status = EventStatus::Filtered;
            planned.filter_reason = Some(reason);
        }
        RunOutcome::Duplicate { key } => {
            planned.status = EventStatus::Duplicate;
            planned.dedupe_key = Some(key);
        }
        RunOutcome::Failed { error } => {
            planned.status = EventStatus::Failed;
            planned.error = Some(error);
        }
        RunOutcome::Done {
            output,
            dedupe,
            deliveries,
        } => {
            planned.dedupe_key = dedupe.as_ref().map(|claim| claim.key.clone());
            planned.dedupe = dedupe;
            planned.status = status_at_start(&deliveries);
            planned.deliveries = deliveries;
            planned.output = Some(output.to_string());
        }
    }
    planned
}

/// The status of an event whose run passed, as its deliveries start: `dead` when one is dead
/// from the start, `delivered` when none has anything left to do (every action skipped), else
/// `done` (in flight). The same rule as `refresh_event_statuses`, which takes over from the
/// first attempt.
fn status_at_start(deliveries: &[NewDelivery]) -> EventStatus {
    let has = |f: fn(&DeliveryStart) -> bool| deliveries.iter().any(|d| f(&d.start));
    if has(|s| matches!(s, DeliveryStart::Failed(_))) {
        EventStatus::Dead
    } else if has(|s| matches!(s, DeliveryStart::Due(_) | DeliveryStart::Waiting(_))) {
        EventStatus::Done
    } else {
        EventStatus::Delivered
    }
}

impl Planned {
    fn make_duplicate(&mut self) {
        self.status = EventStatus::Duplicate;
        self.deliveries.clear();
    }
}

/// The runs, their deliveries, the events' statuses and the jobs' removal: four statements per
/// chunk of runs (multi-row `INSERT`s and set-based `UPDATE`/`DELETE`).
async fn write_rows(tx: &mut Tx, written: &[&Planned], now: i64) -> Result<(), StoreError> {
    for chunk in written.chunks(400) {
        let runs = chunk.iter().flat_map(|p| {
            [
                Arg::from(p.run_id.as_str()),
                p.event_id.as_str().into(),
                p.recipe_id.as_str().into(),
                p.recipe_version.into(),
                p.status.as_str().into(),
                Outside(p.dedupe_key.as_deref()).into(),
                Arg::Str(p.output.as_deref()),
                Outside(p.error.as_deref()).into(),
                Outside(p.filter_reason.as_deref()).into(),
                now.into(),
            ]
        });
        Stmt::built(format!(
            "INSERT INTO runs (id, event_id, recipe_id, recipe_version, status, dedupe_key, output, error, filter_reason, created_at)
             VALUES {}",
            placeholders(chunk.len(), 10, 1)
        ))
        .bind_all(runs)
        .execute(tx.on())
        .await?;
        let deliveries: Vec<(&Planned, &NewDelivery)> = chunk
            .iter()
            .flat_map(|p| p.deliveries.iter().map(move |d| (*p, d)))
            .collect();
        // One statement for the chunk's deliveries (DELIVERY_ROWS at most). A delivery
        // names its run's recipe version and its action's index: no copy of the action or the
        // output (the claim reads the output from `runs`).
        for part in deliveries.chunks(DELIVERY_ROWS) {
            let ids: Vec<String> = part.iter().map(|_| new_id()).collect();
            let rows = part.iter().zip(&ids).flat_map(|((p, d), id)| {
                let (status, note, not_before) = match &d.start {
                    DeliveryStart::Due(_) => ("pending", None, None),
                    DeliveryStart::Skipped(reason) => ("skipped", Some(reason.as_str()), None),
                    DeliveryStart::Failed(error) => ("dead", Some(error.as_str()), None),
                    DeliveryStart::Waiting(at) => ("waiting", None, Some(to_ms(*at))),
                };
                [
                    Arg::from(id.as_str()),
                    p.event_id.as_str().into(),
                    p.run_id.as_str().into(),
                    p.recipe_id.as_str().into(),
                    p.recipe_version.into(),
                    (d.action_index as i64).into(),
                    d.action_name.as_str().into(),
                    status.into(),
                    Outside(note).into(),
                    d.after.map(|i| i as i64).into(),
                    not_before.into(),
                    now.into(),
                    now.into(),
                    d.throttle.as_ref().map(|t| t.key.as_str()).into(),
                    d.throttle.as_ref().map(|t| t.every_ms).into(),
                    d.throttle
                        .as_ref()
                        .and_then(|t| t.concurrency)
                        .map(i64::from)
                        .into(),
                ]
            });
            Stmt::built(format!(
                "INSERT INTO deliveries (id, event_id, run_id, recipe_id, recipe_version, action_index, action_name,
                                         status, last_error, after_index, not_before, created_at, updated_at,
                                         throttle_key, throttle_every_ms, throttle_concurrency)
                 VALUES {}",
                placeholders(part.len(), 16, 1)
            ))
            .bind_all(rows)
            .execute(tx.on())
            .await?;
            // Each due delivery enters the queue of pending work at its due time (now, or
            // later for a delay); a skipped one never does.
            let due: Vec<(&str, &str, i64, &str)> = part
                .iter()
                .zip(&ids)
                .filter_map(|((p, d), id)| match d.start {
                    DeliveryStart::Due(at) => Some((
                        id.as_str(),
                        p.recipe_id.as_str(),
                        to_ms(at).max(now),
                        d.action_name.as_str(),
                    )),
                    _ => None,
                })
                .collect();
            let due: Vec<(&str, &str, &str, i64)> = due
                .into_iter()
                .map(|(id, recipe, at, action)| (id, recipe, action, at))
                .collect();
            throttle::enqueue(tx, &due).await?;
        }
        let statuses = chunk.iter().flat_map(|p| {
            [
                Arg::from(p.event_id.as_str()),
                p.status.as_str().into(),
                Outside(p.error.as_deref()).into(),
            ]
        });
        Stmt::built(format!(
            "WITH v (id, status, error) AS (VALUES {})
             UPDATE events SET status = v.status, error = v.error FROM v WHERE events.id = v.id",
            placeholders(chunk.len(), 3, 1)
        ))
        .bind_all(statuses)
        .execute(tx.on())
        .await?;
        let ids: Vec<String> = chunk.iter().map(|p| p.event_id.clone()).collect();
        Stmt::built(format!(
            "DELETE FROM event_jobs WHERE event_id IN {}",
            tx.dialect().json_strings(1)
        ))
        .bind(json_list(&ids))
        .execute(tx.on())
        .await?;
    }
    Ok(())
}
