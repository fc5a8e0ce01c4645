//! Sender delivery ids (GitHub `X-GitHub-Delivery`, Stripe event ids, Standard Webhooks
//! `webhook-id`): a sender's retry of a delivery already stored is recognised at ingest,
//! set-based for the whole batch.

use std::collections::HashMap;

use super::{Arg, Ledger, Outside, Stmt, Tx, placeholders};
use crate::store::rows::Text;
use crate::store::{NewEvent, SenderDelivery, StoreError, to_ms};

impl Ledger {
    /// Records each event's sender delivery id; per event, `Some(first event id)` when the
    /// recipe saw that id since `sender.since` (a retry: store nothing), else `None`. A second
    /// event of the batch with the same id is a retry of the first. Three statements whatever
    /// the batch: drop ids seen before their window, insert the rest, read back the firsts.
    pub(super) async fn claim_sender_deliveries(
        &self,
        tx: &mut Tx,
        events: &[(NewEvent, Option<SenderDelivery>)],
    ) -> Result<Vec<Option<String>>, StoreError> {
        let mut firsts: Vec<Option<String>> = vec![None; events.len()];
        // Per (recipe, sender id): the batch's first event with it, which claims it in the
        // store; a later one is a retry of whatever that first one turns out to be.
        let mut batch: HashMap<(&str, &str), usize> = HashMap::new();
        let mut retries_in_batch = Vec::new();
        let mut claims = Vec::new();
        for (i, (event, sender)) in events.iter().enumerate() {
            let Some(sender) = sender else { continue };
            let key = (event.recipe_id.as_str(), sender.id.as_str());
            match batch.get(&key) {
                Some(&first) => retries_in_batch.push((i, first)),
                None => {
                    batch.insert(key, i);
                    claims.push((event, sender));
                }
            }
        }
        if claims.is_empty() {
            return Ok(firsts);
        }
        self.claim_first_sightings(tx, &claims, events, &mut firsts)
            .await?;
        for (i, first) in retries_in_batch {
            firsts[i] = Some(
                firsts[first]
                    .clone()
                    .unwrap_or_else(|| events[first].0.id.clone()),
            );
        }
        Ok(firsts)
    }

    /// The store side of [`Self::claim_sender_deliveries`] for the batch's first sightings.
    async fn claim_first_sightings(
        &self,
        tx: &mut Tx,
        claims: &[(&NewEvent, &SenderDelivery)],
        events: &[(NewEvent, Option<SenderDelivery>)],
        firsts: &mut [Option<String>],
    ) -> Result<(), StoreError> {
        let d = self.dialect();
        let (stored_key, listed_key) = (
            d.key("sender_deliveries.delivery_id"),
            d.key("v.delivery_id"),
        );
        let expired = claims.iter().flat_map(|(event, sender)| {
            [
                Arg::from(event.recipe_id.as_str()),
                Outside(Some(&sender.id)).into(),
                to_ms(sender.since).into(),
            ]
        });
        Stmt::built(format!(
            "WITH v (recipe_id, delivery_id, since) AS (VALUES {})
             DELETE FROM sender_deliveries WHERE EXISTS (
                SELECT 1 FROM v
                WHERE v.recipe_id = sender_deliveries.recipe_id AND {listed_key} = {stored_key}
                  AND sender_deliveries.seen_at < v.since)",
            placeholders(claims.len(), 3, 1)
        ))
        .bind_all(expired)
        .execute(tx.on())
        .await?;
        let rows = claims.iter().flat_map(|(event, sender)| {
            [
                Arg::from(event.recipe_id.as_str()),
                Outside(Some(&sender.id)).into(),
                event.id.as_str().into(),
                to_ms(event.received_at).into(),
            ]
        });
        let stored: Vec<String> = Stmt::built(format!(
            "INSERT INTO sender_deliveries (recipe_id, delivery_id, event_id, seen_at) VALUES {}
             ON CONFLICT DO NOTHING RETURNING event_id",
            placeholders(claims.len(), 4, 1)
        ))
        .bind_all(rows)
        .scalars(tx.on())
        .await?;
        if stored.len() == claims.len() {
            return Ok(());
        }
        let retries: Vec<_> = claims
            .iter()
            .filter(|(event, _)| !stored.contains(&event.id))
            .collect();
        let listed = retries.iter().flat_map(|(event, sender)| {
            [
                Arg::from(event.recipe_id.as_str()),
                Outside(Some(&sender.id)).into(),
            ]
        });
        let known: Vec<(String, Text, String)> = Stmt::built(format!(
            "WITH v (recipe_id, delivery_id) AS (VALUES {})
             SELECT sender_deliveries.recipe_id, sender_deliveries.delivery_id, sender_deliveries.event_id
             FROM sender_deliveries, v
             WHERE sender_deliveries.recipe_id = v.recipe_id AND {stored_key} = {listed_key}",
            placeholders(retries.len(), 2, 1)
        ))
        .bind_all(listed)
        .fetch_all(tx.on())
        .await?;
        let known: HashMap<(&str, &str), &str> = known
            .iter()
            .map(|(recipe, delivery, event)| {
                ((recipe.as_str(), delivery.0.as_str()), event.as_str())
            })
            .collect();
        for (i, (event, sender)) in events.iter().enumerate() {
            let Some(sender) = sender else { continue };
            if !claims.iter().any(|(claim, _)| claim.id == event.id) || stored.contains(&event.id) {
                continue;
            }
            let first = known
                .get(&(event.recipe_id.as_str(), sender.id.as_str()))
                .ok_or_else(|| {
                    StoreError::Corrupt(format!(
                        "sender delivery id of event {} neither stored nor found",
                        event.id
                    ))
                })?;
            firsts[i] = Some((*first).to_owned());
        }
        Ok(())
    }
}
