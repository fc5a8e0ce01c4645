//! Fair share of the delivery slots per destination: one process sends at most `cap` calls at
//! once to one `host:port`, so a receiver that hangs delays only its own deliveries.
//!
//! A destination is known only once the URL is rendered (it may come from a secret or the
//! event), so the worker learns which action went where: while a destination is full, the
//! `(recipe_id, action_name)` pairs last seen going there are passed over by the claim query,
//! and a claimed delivery that finds its destination full is handed back without an attempt.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// A recipe's action, as the claim query can name it: `(recipe_id, action_name)`.
pub type ActionKey = (String, String);

#[derive(Default)]
struct Counts {
    /// Calls in flight per destination (entries at zero are removed).
    in_flight: HashMap<String, usize>,
    /// Where each action's last call went.
    destination_of: HashMap<ActionKey, String>,
}

pub struct FairShare {
    cap: usize,
    counts: Mutex<Counts>,
}

/// One call's hold on its destination's share; released when dropped.
pub struct DestinationSlot {
    share: Arc<FairShare>,
    destination: String,
}

impl FairShare {
    /// At most `cap` (≥ 1) calls in flight per destination.
    pub fn new(cap: usize) -> Arc<FairShare> {
        Arc::new(FairShare {
            cap: cap.max(1),
            counts: Mutex::default(),
        })
    }

    /// Takes one of `destination`'s slots for `action`'s call; `None` when all are taken (the
    /// action is then passed over by claims until one frees up).
    pub fn try_take(
        self: &Arc<Self>,
        action: ActionKey,
        destination: &str,
    ) -> Option<DestinationSlot> {
        let mut counts = self.counts.lock().expect("fair share lock");
        if counts.destination_of.get(&action).map(String::as_str) != Some(destination) {
            counts.destination_of.insert(action, destination.to_owned());
        }
        let in_flight = counts.in_flight.entry(destination.to_owned()).or_default();
        if *in_flight >= self.cap {
            return None;
        }
        *in_flight += 1;
        Some(DestinationSlot {
            share: self.clone(),
            destination: destination.to_owned(),
        })
    }

    /// The actions whose destination is full, for the claim query to pass over.
    pub fn saturated_actions(&self) -> Vec<ActionKey> {
        let counts = self.counts.lock().expect("fair share lock");
        counts
            .destination_of
            .iter()
            .filter(|(_, destination)| {
                counts
                    .in_flight
                    .get(*destination)
                    .is_some_and(|n| *n >= self.cap)
            })
            .map(|(action, _)| action.clone())
            .collect()
    }
}

impl Drop for DestinationSlot {
    fn drop(&mut self) {
        let mut counts = self.share.counts.lock().expect("fair share lock");
        if let Some(n) = counts.in_flight.get_mut(&self.destination) {
            *n -= 1;
            if *n == 0 {
                counts.in_flight.remove(&self.destination);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(recipe: &str, action: &str) -> ActionKey {
        (recipe.into(), action.into())
    }

    #[test]
    fn a_full_destination_refuses_more_calls_and_its_actions_are_passed_over_until_one_ends() {
        let share = FairShare::new(2);
        let first = share.try_take(key("slow", "a"), "slow.test:443").unwrap();
        let _second = share.try_take(key("slow", "b"), "slow.test:443").unwrap();
        assert!(share.try_take(key("slow", "a"), "slow.test:443").is_none());
        let _other = share.try_take(key("idle", "a"), "idle.test:443").unwrap();

        let mut passed_over = share.saturated_actions();
        passed_over.sort();
        assert_eq!(passed_over, vec![key("slow", "a"), key("slow", "b")]);

        drop(first);
        assert!(share.saturated_actions().is_empty());
        assert!(share.try_take(key("slow", "a"), "slow.test:443").is_some());
    }

    #[test]
    fn an_action_is_passed_over_while_the_destination_of_its_last_call_is_full() {
        let share = FairShare::new(1);
        let _held = share.try_take(key("r", "templated"), "a.test:80").unwrap();
        assert_eq!(share.saturated_actions(), vec![key("r", "templated")]);
        // The same action rendered to a host with room is sent, and now counts there.
        let other = share.try_take(key("r", "templated"), "b.test:80").unwrap();
        drop(other);
        assert!(share.saturated_actions().is_empty());
    }
}
