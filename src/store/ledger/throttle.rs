//! Per-key throttling of deliveries (`rate`, `concurrency`), kept in the store so that every
//! process sharing it keeps one budget per key. A throttled queue row carries its key; the
//! key's row in `throttle_keys` holds the next start it may have (GCRA: each admitted call
//! moves it on by the action's spacing) and until when a 429 paused it. The claim admits
//! throttled rows per key inside its own transaction (keys locked `FOR UPDATE SKIP LOCKED` on
//! PostgreSQL: a key another process is admitting for is passed over, never waited for), in a
//! constant number of statements; unthrottled rows never meet any of this.
//!
//! Order: `concurrency = 1` admits only the first row of its key (by `throttle_seq`, when it
//! was first due), and only while no call of the key is in flight, so a later row waits for
//! the first to be delivered or dead, retries included. `concurrency = N` admits among the
//! key's first N rows while fewer than N are in flight. A key's rows without `concurrency`
//! (`rate` only) keep no order: one waiting for a retry is left out of the window.

use std::collections::HashMap;

use super::events::json_list;
use super::{Arg, Stmt, Tx, placeholders};
use crate::store::{StoreError, now_ms};

/// How far ahead a claim reserves rate slots (ms): a claimed call may wait up to this long in
/// its worker for its slot, so one claim per idle poll keeps a key at its full rate.
pub(super) const HORIZON_MS: i64 = 1_000;

/// Rows per key considered by one claim (a key with a `concurrency` below it: that many).
const WINDOW: i64 = 256;

/// Keys considered by one claim, least recently considered first (each claim marks those it
/// looked at), so every key with work is reached within a few claims however many wait.
const KEYS_PER_CLAIM: i64 = 1000;

/// Puts deliveries (just written or moved back to pending) in the queue, due at their time,
/// with the throttle their record carries, and makes sure each throttled key has its state
/// row: two statements at most per 2000 rows.
pub(super) async fn enqueue(
    tx: &mut Tx,
    due: &[(&str, &str, &str, i64)],
) -> Result<(), StoreError> {
    for part in due.chunks(2000) {
        let rows = part.iter().flat_map(|&(id, recipe, action, at)| {
            [Arg::from(id), recipe.into(), action.into(), at.into()]
        });
        let keys: Vec<Option<String>> = Stmt::built(format!(
            "WITH v (id, recipe_id, action_name, at) AS (VALUES {})
             INSERT INTO delivery_queue (delivery_id, recipe_id, action_name, next_attempt_at,
                                         throttle_key, throttle_every_ms, throttle_concurrency,
                                         throttle_seq)
             SELECT v.id, v.recipe_id, v.action_name, v.at, d.throttle_key, d.throttle_every_ms,
                    d.throttle_concurrency, CASE WHEN d.throttle_key IS NULL THEN NULL ELSE v.at END
             FROM v JOIN deliveries d ON d.id = v.id
             RETURNING throttle_key",
            placeholders(part.len(), 4, 1)
        ))
        .bind_all(rows)
        .scalars(tx.on())
        .await?;
        let mut keys: Vec<String> = keys.into_iter().flatten().collect();
        if keys.is_empty() {
            continue;
        }
        keys.sort();
        keys.dedup();
        // In key order: two transactions adding the same keys wait in one order. Touching an
        // existing key locks it until commit, so housekeeping cannot drop it meanwhile.
        Stmt::built(format!(
            "INSERT INTO throttle_keys (key, touched_at) VALUES {}
             ON CONFLICT (key) DO UPDATE SET touched_at = excluded.touched_at",
            placeholders(keys.len(), 2, 1)
        ))
        .bind_all(
            keys.iter()
                .flat_map(|k| [Arg::from(k.as_str()), now_ms().into()]),
        )
        .execute(tx.on())
        .await?;
    }
    Ok(())
}

/// Drops the state of keys idle for an hour (nothing queued, not touched, no pause or rate
/// slot pending): per-customer keys would otherwise pile up. Keys being used are locked by
/// their transaction (skipped), and one touched since is kept by the recheck of `touched_at`.
pub(super) async fn prune_idle_keys(
    on: super::On<'_>,
    dialect: super::Dialect,
) -> Result<u64, StoreError> {
    let cutoff = now_ms() - 3_600_000;
    Stmt::built(format!(
        "DELETE FROM throttle_keys WHERE key IN (
            SELECT key FROM throttle_keys t
            WHERE t.touched_at < $1 AND t.next_at < $1
              AND (t.paused_until IS NULL OR t.paused_until < $1)
              AND NOT EXISTS (SELECT 1 FROM delivery_queue q WHERE q.throttle_key = t.key)
            LIMIT 10000{})",
        dialect.skip_locked()
    ))
    .bind(cutoff)
    .execute(on)
    .await
}

/// A queue row `q` not of a paused recipe.
const PAUSED_OUT: &str = "q.recipe_id NOT IN (SELECT id FROM recipes WHERE paused_at IS NOT NULL)";

/// One queued row of a key, as the claim sees it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(super) struct KeyRow {
    pub delivery_id: String,
    pub throttle_key: String,
    pub throttle_every_ms: Option<i64>,
    pub throttle_concurrency: Option<i64>,
    pub next_attempt_at: i64,
    pub lease_until: Option<i64>,
    /// 1-based place in the key's order.
    pub rnk: i64,
    /// The key's rows in flight (leased, the lease not expired), whatever their place.
    pub leased: i64,
}

/// Admits up to `limit` throttled deliveries for `owner`'s claim and leases them until
/// `lease_until`. Returns each leased delivery with the slot reserved for its call when that
/// is later than `now` (ms). Five statements at most, whatever the number of keys.
pub(super) async fn claim_throttled(
    tx: &mut Tx,
    owner: &str,
    limit: u32,
    lease_until: i64,
    now: i64,
) -> Result<HashMap<String, Option<i64>>, StoreError> {
    let d = tx.dialect();
    // Keys with a due, unleased, unheld row of a recipe not paused, the key not paused by a
    // 429, whose next start is within reach. A paused recipe's row may be unheld (planned by a
    // run already in progress, released by its chain's predecessor, an operator's retry): it
    // is passed over as the unthrottled claim does (see `pause.rs`).
    let keys: Vec<(String, i64)> = Stmt::built(format!(
        "SELECT t.key, t.next_at FROM throttle_keys t
         WHERE (t.paused_until IS NULL OR t.paused_until <= $1) AND t.next_at <= $2
           AND EXISTS (SELECT 1 FROM delivery_queue q
                       WHERE q.throttle_key = t.key AND q.held_at IS NULL
                         AND q.next_attempt_at <= $1
                         AND (q.lease_until IS NULL OR q.lease_until < $1)
                         AND {PAUSED_OUT})
         ORDER BY t.checked_at LIMIT $3{}",
        d.skip_locked()
    ))
    .bind(now)
    .bind(now + HORIZON_MS)
    .bind(KEYS_PER_CLAIM)
    .fetch_all(tx.on())
    .await?;
    if keys.is_empty() {
        return Ok(HashMap::new());
    }
    let names: Vec<String> = keys.iter().map(|(k, _)| k.clone()).collect();
    let rows: Vec<KeyRow> = Stmt::built(format!(
        "SELECT delivery_id, throttle_key, throttle_every_ms, throttle_concurrency,
                next_attempt_at, lease_until, rnk, leased
         FROM (SELECT q.delivery_id, q.throttle_key, q.throttle_every_ms, q.throttle_concurrency,
                      q.next_attempt_at, q.lease_until,
                      ROW_NUMBER() OVER (PARTITION BY q.throttle_key
                                         ORDER BY q.throttle_seq, q.delivery_id) AS rnk,
                      SUM(CASE WHEN q.lease_until >= $3 THEN 1 ELSE 0 END)
                          OVER (PARTITION BY q.throttle_key) AS leased
               FROM delivery_queue q
               -- A row of a key without `concurrency` keeps no place while it waits for a
               -- retry: rows that cannot go now must not fill the window and starve the rest.
               WHERE q.throttle_key IN {} AND q.held_at IS NULL AND {PAUSED_OUT}
                 AND (q.throttle_concurrency IS NOT NULL OR q.next_attempt_at <= $3
                      OR q.lease_until >= $3)) w
         WHERE rnk <= CASE WHEN throttle_concurrency < $2 THEN throttle_concurrency ELSE $2 END
         ORDER BY throttle_key, rnk",
        d.json_strings(1)
    ))
    .bind(json_list(&names))
    .bind(WINDOW)
    .bind(now)
    .fetch_all(tx.on())
    .await?;
    let next_at: HashMap<String, i64> = keys.into_iter().collect();
    let admitted = admit(&rows, &next_at, now, limit as usize);
    if admitted.is_empty() {
        mark_checked(tx, &next_at, &HashMap::new(), now).await?;
        return Ok(HashMap::new());
    }
    let ids: Vec<String> = admitted.iter().map(|a| a.id.clone()).collect();
    // Rows another transaction holds (a worker recording an attempt) are passed over.
    let leased: Vec<String> = Stmt::built(format!(
        "UPDATE delivery_queue SET lease_owner = $1, lease_until = $2
         WHERE delivery_id IN (
            SELECT delivery_id FROM delivery_queue
            WHERE delivery_id IN {} AND (lease_until IS NULL OR lease_until < $4){})
         RETURNING delivery_id",
        d.json_strings(3),
        d.skip_locked()
    ))
    .bind(owner)
    .bind(lease_until)
    .bind(json_list(&ids))
    .bind(now)
    .scalars(tx.on())
    .await?;
    let leased: std::collections::HashSet<String> = leased.into_iter().collect();
    // Each rate-limited key's next start: after the last slot actually taken.
    let mut moved: HashMap<&str, i64> = HashMap::new();
    for a in admitted
        .iter()
        .filter(|a| leased.contains(&a.id) && a.every_ms > 0)
    {
        let end = a.slot + a.every_ms;
        let entry = moved.entry(a.key.as_str()).or_insert(end);
        *entry = (*entry).max(end);
    }
    mark_checked(tx, &next_at, &moved, now).await?;
    Ok(admitted
        .into_iter()
        .filter(|a| leased.contains(&a.id))
        .map(|a| (a.id, (a.slot > now).then_some(a.slot)))
        .collect())
}

/// Marks the keys a claim looked at (they go to the back of the next claims' visit) and moves
/// on the next start of those whose slots it took (`moved`): one statement.
async fn mark_checked(
    tx: &mut Tx,
    keys: &HashMap<String, i64>,
    moved: &HashMap<&str, i64>,
    now: i64,
) -> Result<(), StoreError> {
    let values = keys.iter().flat_map(|(key, next_at)| {
        let next_at = moved.get(key.as_str()).copied().unwrap_or(*next_at);
        [Arg::from(key.as_str()), next_at.into()]
    });
    Stmt::built(format!(
        "WITH v (key, next_at) AS (VALUES {})
         UPDATE throttle_keys SET next_at = v.next_at, checked_at = $1
         FROM v WHERE throttle_keys.key = v.key",
        placeholders(keys.len(), 2, 2)
    ))
    .bind(now)
    .bind_all(values)
    .execute(tx.on())
    .await?;
    Ok(())
}

/// A row the claim may lease, with the start reserved for its call (ms).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Admitted {
    pub id: String,
    pub key: String,
    pub slot: i64,
    pub every_ms: i64,
}

/// The rows to lease, at most `limit`: per key (rows in the key's order, `next_at` its next
/// start), the due, unleased rows within its concurrency window while fewer than its
/// concurrency are in flight, each given the next rate slot within the horizon.
pub(super) fn admit(
    rows: &[KeyRow],
    next_at: &HashMap<String, i64>,
    now: i64,
    limit: usize,
) -> Vec<Admitted> {
    let mut admitted = Vec::new();
    let mut by_key: Vec<(&str, Vec<&KeyRow>)> = Vec::new();
    for row in rows {
        match by_key.last_mut() {
            Some((key, list)) if *key == row.throttle_key => list.push(row),
            _ => by_key.push((row.throttle_key.as_str(), vec![row])),
        }
    }
    let leased = |row: &KeyRow| row.lease_until.is_some_and(|until| until >= now);
    for (key, list) in by_key {
        let mut in_flight = list.first().map_or(0, |r| r.leased);
        let mut cursor = next_at.get(key).copied().unwrap_or(now).max(now);
        for row in list {
            if admitted.len() >= limit {
                return admitted;
            }
            let concurrency = row.throttle_concurrency.unwrap_or(i64::MAX);
            if row.rnk > concurrency || in_flight >= concurrency {
                break;
            }
            if leased(row) || row.next_attempt_at > now {
                continue;
            }
            let every_ms = row.throttle_every_ms.unwrap_or(0);
            if every_ms > 0 && cursor > now + HORIZON_MS {
                break;
            }
            admitted.push(Admitted {
                id: row.delivery_id.clone(),
                key: key.to_owned(),
                slot: cursor,
                every_ms,
            });
            cursor += every_ms;
            in_flight += 1;
        }
    }
    admitted
}

/// A 429 answer pauses its delivery's key until that delivery's next attempt (which honours
/// the answer's `Retry-After`, RFC 9110 §10.2.3): the key's other calls wait too, other keys
/// do not. `paused` are `(delivery id, retry at ms)`; one statement (keys locked in order
/// first on PostgreSQL).
pub(super) async fn pause_keys(tx: &mut Tx, paused: &[(String, i64)]) -> Result<(), StoreError> {
    if paused.is_empty() {
        return Ok(());
    }
    let d = tx.dialect();
    let values = paused
        .iter()
        .flat_map(|(id, at)| [Arg::from(id.as_str()), (*at).into()]);
    let keys_of =
        "key IN (SELECT q.throttle_key FROM delivery_queue q JOIN v ON q.delivery_id = v.id)";
    Stmt::built(format!(
        "WITH v (id, until) AS (VALUES {})
         UPDATE throttle_keys SET paused_until = CASE
             WHEN paused_until IS NULL OR paused_until < p.until THEN p.until ELSE paused_until END
         FROM (SELECT q.throttle_key AS key, MAX(v.until) AS until
               FROM v JOIN delivery_queue q ON q.delivery_id = v.id
               WHERE q.throttle_key IS NOT NULL GROUP BY q.throttle_key) p
         WHERE throttle_keys.key = p.key AND throttle_keys.key IN {}",
        placeholders(paused.len(), 2, 1),
        d.locked_in_order("throttle_keys", "key", keys_of)
    ))
    .bind_all(values)
    .execute(tx.on())
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, key: &str, rnk: i64, every: i64, conc: Option<i64>) -> KeyRow {
        KeyRow {
            delivery_id: id.into(),
            throttle_key: key.into(),
            throttle_every_ms: Some(every),
            throttle_concurrency: conc,
            next_attempt_at: 0,
            lease_until: None,
            rnk,
            leased: 0,
        }
    }

    fn ids(admitted: &[Admitted]) -> Vec<&str> {
        admitted.iter().map(|a| a.id.as_str()).collect()
    }

    #[test]
    fn concurrency_one_admits_only_the_first_row_and_only_when_nothing_is_in_flight() {
        let rows = vec![row("a", "k", 1, 0, Some(1)), row("b", "k", 2, 0, Some(1))];
        assert_eq!(ids(&admit(&rows, &HashMap::new(), 100, 10)), ["a"]);
        let mut retrying = rows.clone();
        retrying[0].next_attempt_at = 500;
        assert!(admit(&retrying, &HashMap::new(), 100, 10).is_empty());
        let mut in_flight = rows;
        in_flight[0].lease_until = Some(200);
        in_flight.iter_mut().for_each(|r| r.leased = 1);
        assert!(admit(&in_flight, &HashMap::new(), 100, 10).is_empty());
    }

    #[test]
    fn a_rate_reserves_spaced_slots_within_the_horizon_from_the_keys_next_start() {
        let rows: Vec<KeyRow> = (1..=10)
            .map(|i| row(&format!("r{i}"), "k", i, 300, None))
            .collect();
        let next_at = HashMap::from([("k".to_owned(), 1_200)]);
        let admitted = admit(&rows, &next_at, 1_000, 10);
        let slots: Vec<i64> = admitted.iter().map(|a| a.slot).collect();
        assert_eq!(slots, [1_200, 1_500, 1_800]);
    }

    #[test]
    fn concurrency_n_counts_calls_in_flight_and_the_claim_limit_holds() {
        let mut rows: Vec<KeyRow> = (1..=5)
            .map(|i| row(&format!("c{i}"), "k", i, 0, Some(3)))
            .collect();
        rows[0].lease_until = Some(5_000);
        rows.iter_mut().for_each(|r| r.leased = 1);
        assert_eq!(ids(&admit(&rows, &HashMap::new(), 100, 10)), ["c2", "c3"]);
        assert_eq!(ids(&admit(&rows, &HashMap::new(), 100, 1)), ["c2"]);
    }
}
