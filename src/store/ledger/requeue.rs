//! The queue side of recorded attempts: a retried delivery is due again, a finished one
//! leaves the queue; a 429 pauses its delivery's throttle key first.

use super::events::json_list;
use super::{Arg, Outside, Stmt, Tx, placeholders};
use crate::store::{DeliveryNext, NewAttempt, StoreError, to_ms};

/// The queue side of a chunk of attempts: a retried delivery is due again at its next attempt
/// time with its lease released; a delivered or dead one leaves the queue. Only rows `owner`
/// still holds; at most two statements.
pub(super) async fn requeue_or_remove(
    tx: &mut Tx,
    owner: &str,
    chunk: &[(NewAttempt, DeliveryNext)],
) -> Result<(), StoreError> {
    let (retried, finished): (Vec<_>, Vec<_>) = chunk
        .iter()
        .partition(|(_, next)| matches!(next, DeliveryNext::RetryAt(_)));
    if !retried.is_empty() {
        let rows = retried.iter().flat_map(|(attempt, next)| {
            let at = match next {
                DeliveryNext::RetryAt(at) => to_ms(*at),
                _ => unreachable!("partitioned on RetryAt"),
            };
            [Arg::from(attempt.delivery_id.as_str()), at.into()]
        });
        Stmt::built(format!(
            "WITH v (id, next_attempt_at) AS (VALUES {})
             UPDATE delivery_queue
             SET next_attempt_at = v.next_attempt_at, lease_owner = NULL, lease_until = NULL
             FROM v WHERE delivery_queue.delivery_id = v.id AND delivery_queue.lease_owner = $1",
            placeholders(retried.len(), 2, 2)
        ))
        .bind(owner)
        .bind_all(rows)
        .execute(tx.on())
        .await?;
    }
    if !finished.is_empty() {
        let ids: Vec<String> = finished
            .iter()
            .map(|(attempt, _)| attempt.delivery_id.clone())
            .collect();
        Stmt::built(format!(
            "DELETE FROM delivery_queue WHERE lease_owner = $1 AND delivery_id IN {}",
            tx.dialect().json_strings(2)
        ))
        .bind(owner)
        .bind(json_list(&ids))
        .execute(tx.on())
        .await?;
    }
    Ok(())
}

/// The delivery's error as shown: the attempt's error, or its HTTP status when it failed.
pub(super) fn last_error<'a>(attempt: &'a NewAttempt, next: &DeliveryNext) -> Arg<'a> {
    match (&attempt.error, attempt.status_code) {
        (Some(error), _) => Outside(Some(error)).into(),
        (None, Some(code)) if *next != DeliveryNext::Delivered => {
            Arg::OwnedText(Some(format!("HTTP {code}")))
        }
        _ => Arg::Text(None),
    }
}
