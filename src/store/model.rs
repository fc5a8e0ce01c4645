//! What the store takes and gives back: plain data, no SQL.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

mod delivery;
pub use delivery::*;

#[derive(Debug, Clone, Serialize)]
pub struct StoredRecipe {
    pub id: String,
    pub name: String,
    pub enabled: bool,
    pub version: i64,
    /// The recipe file text exactly as imported; exported unchanged.
    pub source: String,
    #[serde(skip)]
    pub webhook_token: String,
    /// The file that provisions this recipe (`serve --recipes`), when it is file-managed.
    pub managed_by: Option<String>,
    /// When an operator paused it (operator state, not in the file; see `PauseStore`).
    pub paused_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct RecipeUpsert {
    pub id: String,
    pub name: String,
    pub enabled: bool,
    pub source: String,
    pub managed_by: Option<String>,
    /// Who or what makes this change, kept on the revision it creates: "user NAME",
    /// "token NAME", "file PATH" (see [`RecipeRevision::author`]).
    pub author: Option<String>,
}

/// A revision in a list: who made which version when, without its source (a list of a recipe
/// with many revisions reads no TOML; [`RecipeRevision`] has it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RevisionSummary {
    pub version: i64,
    pub created_at: DateTime<Utc>,
    /// As [`RecipeRevision::author`]; null for revisions made before authors were recorded.
    pub author: Option<String>,
}

/// One revision of a recipe: a row of `recipe_versions`, written when a save, import or
/// provisioning changed the recipe's source (a save that changes nothing writes none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RecipeRevision {
    pub recipe_id: String,
    /// The recipe version it is; runs name the version they ran.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    /// "user NAME" (UI), "token NAME" (API), "file PATH" (provisioning, CLI import), with
    /// "(restored from version N)" after a restore; none for revisions older than authors.
    pub author: Option<String>,
    /// The recipe file (TOML) of that version.
    pub source: String,
}

impl RecipeRevision {
    /// Who made it and when, as a list shows it.
    pub fn summary(&self) -> RevisionSummary {
        RevisionSummary {
            version: self.version,
            created_at: self.created_at,
            author: self.author.clone(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UpsertKind {
    Created,
    Updated,
    Unchanged,
}

#[derive(Debug, Clone)]
pub struct UpsertResult {
    pub kind: UpsertKind,
    pub recipe: StoredRecipe,
}

#[derive(Debug, Clone)]
pub struct NewEvent {
    pub id: String,
    pub recipe_id: String,
    pub trigger: String,
    pub received_at: DateTime<Utc>,
    pub content_type: Option<String>,
    /// Lower-case header name → value.
    pub headers: Value,
    pub body: Vec<u8>,
    /// The body as the scripts see it (JSON, form map or text).
    pub payload: Value,
}

/// The id a webhook sender gives each delivery (the same on its retries). Seen again for the
/// same recipe since `since`, it marks a retry, not a new event.
#[derive(Debug, Clone)]
pub struct SenderDelivery {
    pub id: String,
    pub since: DateTime<Utc>,
}

/// What became of one event given to `insert_events_once`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inserted {
    Stored,
    /// A sender retry: nothing was stored; `event_id` is the event of the first delivery.
    Duplicate {
        event_id: String,
    },
}

/// What became of a split webhook request given to `insert_split`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SplitInserted {
    /// The request (status `split`) and its element events are committed.
    Stored,
    /// A sender retry: nothing was stored; `event_id` is the first delivery's event and
    /// `children` the events split from it, in list order (none when it was not split).
    Duplicate {
        event_id: String,
        children: Vec<String>,
    },
}

/// What became of a webhook evaluated in its own request (`respond = "result"`), given to
/// `insert_evaluated`.
#[derive(Debug, Clone, PartialEq)]
pub enum Evaluated {
    /// The event is stored with its run; `status` is the event's (done, filtered, failed).
    Stored { status: RunStatus },
    /// A sender retry (its delivery id was seen): nothing was stored.
    SenderRetry { first: EarlierRun },
    /// Its dedupe key was taken: the event is stored as `duplicate` and delivers nothing.
    /// `first` is the event holding the key; `None` only when that record was pruned between
    /// the check and the commit.
    Duplicate { first: Option<EarlierRun> },
}

/// The earlier event a duplicate defers to, with its latest run's output (`None` when it has
/// no run yet, or a run without output: filtered, failed).
#[derive(Debug, Clone, PartialEq)]
pub struct EarlierRun {
    pub event_id: String,
    pub output: Option<Value>,
}

/// Refused inbound calls of one recipe (bad signature, stale timestamp, wrong token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WebhookRefusals {
    pub recipe_id: String,
    pub count: u64,
    /// Why the latest call was refused; never a secret.
    pub last_reason: String,
    pub last_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum EventStatus {
    Pending,
    Filtered,
    Duplicate,
    Failed,
    /// The run passed; its deliveries are still in flight.
    Done,
    /// Every delivery succeeded.
    Delivered,
    /// At least one delivery gave up after its last attempt.
    Dead,
    /// A webhook request split into events of its own (`split = "/items"`); it runs nothing.
    Split,
}

impl EventStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            EventStatus::Pending => "pending",
            EventStatus::Filtered => "filtered",
            EventStatus::Duplicate => "duplicate",
            EventStatus::Failed => "failed",
            EventStatus::Done => "done",
            EventStatus::Delivered => "delivered",
            EventStatus::Dead => "dead",
            EventStatus::Split => "split",
        }
    }

    pub fn parse(s: &str) -> Option<EventStatus> {
        [
            EventStatus::Pending,
            EventStatus::Filtered,
            EventStatus::Duplicate,
            EventStatus::Failed,
            EventStatus::Done,
            EventStatus::Delivered,
            EventStatus::Dead,
            EventStatus::Split,
        ]
        .into_iter()
        .find(|status| status.as_str() == s)
    }
}

/// The result of one run; `Done` is the only one with deliveries.
pub type RunStatus = EventStatus;

#[derive(Debug, Clone, Serialize)]
pub struct EventRecord {
    pub id: String,
    pub recipe_id: String,
    pub trigger: String,
    pub received_at: DateTime<Utc>,
    pub content_type: Option<String>,
    pub headers: Value,
    #[serde(skip)]
    pub body: Vec<u8>,
    pub payload: Value,
    pub status: EventStatus,
    pub error: Option<String>,
    /// Claimed for a replay: the run skips the dedupe check.
    #[serde(skip)]
    pub replay: bool,
}

#[derive(Debug, Clone)]
pub struct NewRun {
    pub event_id: String,
    pub recipe_id: String,
    pub recipe_version: i64,
    pub outcome: RunOutcome,
}

#[derive(Debug, Clone)]
pub enum RunOutcome {
    /// The filter said no, and why (recorded on the run as `filter_reason`).
    Filtered {
        reason: String,
    },
    Duplicate {
        key: String,
    },
    Failed {
        error: String,
    },
    Done {
        output: Value,
        dedupe: Option<DedupeClaim>,
        deliveries: Vec<NewDelivery>,
    },
}

#[derive(Debug, Clone)]
pub struct DedupeClaim {
    pub key: String,
    pub window: Duration,
    /// Replays take the key even when it was seen.
    pub force: bool,
}

/// One stored source of a recipe (`recipe_versions`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipeVersion {
    pub recipe_id: String,
    pub version: i64,
    /// The recipe file text of that version.
    pub source: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunView {
    pub id: String,
    pub recipe_version: i64,
    pub status: EventStatus,
    pub dedupe_key: Option<String>,
    pub output: Option<Value>,
    pub error: Option<String>,
    /// Why the filter said no (filtered runs only): each failed condition row with the
    /// value it saw, e.g. `data.object.amount = 500 is not greater than 1000`.
    pub filter_reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EventDetail {
    pub event: EventRecord,
    pub runs: Vec<RunView>,
    pub deliveries: Vec<DeliveryView>,
}

#[derive(Debug, Clone, Default)]
pub struct EventQuery {
    pub recipe_id: Option<String>,
    pub status: Option<EventStatus>,
    pub limit: u32,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EventSummary {
    pub id: String,
    pub recipe_id: String,
    pub trigger: String,
    pub received_at: DateTime<Utc>,
    pub status: EventStatus,
    pub error: Option<String>,
    /// Why the event's latest run was filtered (filtered events only).
    pub filter_reason: Option<String>,
    /// The last error of one of the event's dead deliveries (dead events only).
    pub delivery_error: Option<String>,
}

/// One process's claim on one tick of one recipe.
#[derive(Debug, Clone)]
pub struct TickClaim {
    pub recipe_id: String,
    pub scheduled_for: DateTime<Utc>,
    pub owner: String,
    pub skipped: u64,
    /// How long the claim holds from when it is taken or renewed (`SWITCHYARD_LEASE`).
    pub lease: Duration,
}

#[derive(Debug, Clone)]
pub struct Session {
    pub id_hash: String,
    pub user_id: String,
    /// The user's name (not stored on the session; read with it), for revision authors.
    pub username: String,
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ApiTokenView {
    pub id: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Where a page of events ends: the last row's time and id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct EventCursor {
    pub received_at_ms: i64,
    pub id: String,
}

#[derive(Debug, Clone, Default)]
pub struct EventPage {
    pub recipe_id: Option<String>,
    pub statuses: Vec<EventStatus>,
    pub before: Option<EventCursor>,
    pub limit: u32,
}

/// One recipe's events received since a point in time, counted by what became of them (the
/// counts add up to `events`), and its events waiting for a delivery retry now.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RecipeStats {
    pub recipe_id: String,
    /// The latest event of any age.
    pub last_event_at: Option<DateTime<Utc>>,
    /// Every event received in the window.
    pub events: u64,
    /// Not run yet, or passed with deliveries in flight (`pending`, `done`).
    pub in_progress: u64,
    /// Every action succeeded (`delivered`).
    pub delivered: u64,
    /// Stopped by the filter or as a duplicate (`filtered`, `duplicate`): nothing to send.
    pub skipped: u64,
    /// The run failed: a filter, dedupe or transform error (`failed`).
    pub failed: u64,
    /// An action gave up after its last attempt (`dead`).
    pub dead: u64,
    /// Events of any age with a delivery waiting to retry after a failed attempt.
    pub retrying: u64,
}

/// Work waiting in the store (the `/metrics` backlog gauges).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Backlog {
    pub events_pending: u64,
    pub deliveries_pending: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PruneReport {
    pub events: u64,
    pub ticks: u64,
}
