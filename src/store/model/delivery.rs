//! Deliveries as the store takes and gives them: planned, claimed, attempted, shown.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

/// One action of a passing run to deliver. The delivery names the run's recipe version and the
/// action's place in it; later edits of the recipe make new versions and leave it alone.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDelivery {
    /// 0-based, in the order of the recipe's `[[action]]` sections.
    pub action_index: usize,
    pub action_name: String,
    pub start: DeliveryStart,
    /// For an action with `after` that may still run: the index of the action whose success
    /// queues it (`Waiting`, or `Skipped` because that action did not succeed).
    pub after: Option<usize>,
    /// For an action with `rate` or `concurrency`: its key and limits; `None` otherwise
    /// (the delivery is claimed without any per-key accounting).
    pub throttle: Option<DeliveryThrottle>,
}

/// A throttled delivery's key and its action's limits, fixed when the run plans it. Calls of
/// every action that name one key share that key's budget; each call is admitted by its own
/// action's limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryThrottle {
    /// `host:HOST:PORT` (the default, from the rendered URL) or `key:` + the rendered `key`.
    pub key: String,
    /// Milliseconds between call starts for the key (`rate = "5/s"` → 200); 0 = no rate.
    pub every_ms: i64,
    /// Calls in flight for the key; 1 keeps them in order (first in, first out).
    pub concurrency: Option<u32>,
}

/// How a planned delivery starts.
#[derive(Debug, Clone, PartialEq)]
pub enum DeliveryStart {
    /// Queued, due at this instant (now, or later for a `delay`).
    Due(DateTime<Utc>),
    /// Never attempted: its `when` was false; the reason is recorded as its `last_error`.
    /// Counts as finished, like a delivered one, for its event's status.
    Skipped(String),
    /// Dead before any call, with the message (a `delay_until` that gives no instant). An
    /// operator retry queues it due at once.
    Failed(String),
    /// Waits (status `waiting`, not queued) for the action `after` names to succeed; then due
    /// at the later of that moment and this instant (its delay).
    Waiting(DateTime<Utc>),
}

/// Which action a claimed delivery runs.
#[derive(Debug, Clone, PartialEq)]
pub enum DeliveryAction {
    /// `[[action]]` number `index` (0-based) of the recipe's `version`, whose source
    /// [`RecipeStore::recipe_versions`](crate::store::RecipeStore::recipe_versions) gives: the
    /// version the run used, whatever the recipe became since.
    Version { version: i64, index: usize },
    /// The action's file section as JSON, copied into deliveries written before they named
    /// their version (SQLite migration 0009, PostgreSQL 0006).
    Copied(Value),
}

#[derive(Debug, Clone)]
pub struct ClaimedDelivery {
    pub id: String,
    pub event_id: String,
    pub recipe_id: String,
    pub action_name: String,
    pub action: DeliveryAction,
    /// The run's output (the transform's result).
    pub output: Value,
    pub attempt_count: u32,
    pub event_payload: Value,
    /// The store's secrets generation when the claim was made: it moves with every secret set
    /// or deleted, by any process, so values cached at one generation hold until it moves.
    pub secrets_generation: i64,
    /// For an action with `after`: the stored responses of its run's actions, by action name
    /// (`{status, headers, body, truncated}`); null otherwise.
    pub responses: Value,
    /// For a rate-limited delivery: the slot the claim reserved for its call, when that is
    /// later than the claim (at most a second ahead); the worker starts the call then.
    pub not_before: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct NewAttempt {
    pub delivery_id: String,
    pub attempt_no: u32,
    pub started_at: DateTime<Utc>,
    pub duration: Duration,
    pub status_code: Option<u16>,
    pub response_snippet: Option<String>,
    pub error: Option<String>,
    /// For an action that others run `after`, on success: its response as JSON text
    /// (`{status, headers, body, truncated}`), kept on the delivery for their templates.
    pub response: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryNext {
    Delivered,
    RetryAt(DateTime<Utc>),
    Dead,
}

#[derive(Debug, Clone, Serialize)]
pub struct DeliveryView {
    pub id: String,
    pub action_name: String,
    /// pending | waiting (for its `after`) | delivered | dead | skipped
    pub status: String,
    pub attempt_count: u32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub attempts: Vec<AttemptView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AttemptView {
    pub attempt_no: u32,
    pub started_at: DateTime<Utc>,
    pub duration_ms: i64,
    pub status_code: Option<u16>,
    pub response_snippet: Option<String>,
    pub error: Option<String>,
}
