//! Durable state behind one trait family, with a SQLite implementation (embedded default) and a
//! PostgreSQL one (scale-out).
//! Every multi-row change that must not be half-done is one transaction inside the store.

mod attempts;
pub mod crypto;
mod error;
mod ledger;
pub mod model;
mod pause;
mod pool;
pub mod postgres;
mod rows;
mod signal;
pub mod sqlite;
mod time;

pub use ledger::Ledger;
pub use signal::Wakers;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

pub use error::StoreError;
pub use model::*;
pub use pause::{Held, HeldCounts, PauseChange, PauseStore, PausedTicks, RecipeState};
pub use time::{from_ms, now_ms, to_ms};

#[async_trait]
pub trait RecipeStore {
    /// Creates or updates by id. The webhook token is generated on creation and kept on update;
    /// the version only moves when the source changed.
    async fn upsert_recipe(&self, recipe: RecipeUpsert) -> Result<UpsertResult, StoreError>;
    async fn get_recipe(&self, id: &str) -> Result<Option<StoredRecipe>, StoreError>;
    async fn recipe_by_token(&self, token: &str) -> Result<Option<StoredRecipe>, StoreError>;
    async fn list_recipes(&self) -> Result<Vec<StoredRecipe>, StoreError>;
    /// A cheap summary of every recipe row (count, latest `updated_at` in ms, sum of versions):
    /// it changes whenever a recipe is created, edited, enabled, disabled or deleted, so a
    /// reader of [`RecipeStore::list_recipes`] can skip re-reading the sources when it has not.
    async fn recipes_fingerprint(&self) -> Result<(i64, i64, i64), StoreError>;
    /// Deletes the recipe; its events stay as history (and its versions, which name them).
    async fn delete_recipe(&self, id: &str) -> Result<bool, StoreError>;
    /// The stored sources of these `(recipe id, version)` pairs, in one statement; pairs never
    /// stored are left out (any order).
    async fn recipe_versions(
        &self,
        keys: &[(String, i64)],
    ) -> Result<Vec<RecipeVersion>, StoreError>;
    /// Every revision of a recipe, newest first (empty when it never existed). Revisions stay
    /// after the recipe is deleted, like the events that name them.
    async fn list_revisions(&self, recipe_id: &str) -> Result<Vec<RevisionSummary>, StoreError>;
    /// One revision of a recipe, by version.
    async fn get_revision(
        &self,
        recipe_id: &str,
        version: i64,
    ) -> Result<Option<RecipeRevision>, StoreError>;
}

#[async_trait]
pub trait EventStore {
    /// Commits events and their processing jobs in one transaction (one sync for the batch).
    async fn insert_events(&self, events: &[NewEvent]) -> Result<(), StoreError>;
    /// Like `insert_events`, for events that may carry their sender's delivery id: an id the
    /// recipe saw since `since` is a retry, stored as nothing and answered with the first event's
    /// id. The id check and the insert are one transaction; results are in input order.
    async fn insert_events_once(
        &self,
        events: &[(NewEvent, Option<SenderDelivery>)],
    ) -> Result<Vec<Inserted>, StoreError>;
    /// A webhook request split into a list's elements (`split = "/items"`), in one synced
    /// transaction: the sender delivery id check (a retry stores nothing and answers the first
    /// delivery's event and its elements), `parent` with status `split` and no job, and each of
    /// `children` as a pending event naming `parent` (their order is the list's).
    async fn insert_split(
        &self,
        parent: &NewEvent,
        sender: Option<SenderDelivery>,
        children: &[NewEvent],
    ) -> Result<SplitInserted, StoreError>;
    /// A webhook answered with its own run (`respond = "result"`): in one synced transaction,
    /// the sender delivery id check (a retry stores nothing), the event, and its run
    /// (`recipe_version`, `outcome`) written as the engine writes runs: dedupe key claim,
    /// deliveries, the event's status. The event is never queued for the engine. A key taken
    /// meanwhile turns a passing run into `Duplicate`, as in `complete_runs`.
    async fn insert_evaluated(
        &self,
        event: NewEvent,
        sender: Option<SenderDelivery>,
        recipe_version: i64,
        outcome: RunOutcome,
    ) -> Result<Evaluated, StoreError>;
    /// Leases up to `limit` due events to `owner`; expired leases of dead workers are taken again.
    async fn claim_events(
        &self,
        owner: &str,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<EventRecord>, StoreError>;
    /// Gives back events this owner claimed but did not finish (graceful shutdown).
    async fn release_events(&self, owner: &str) -> Result<(), StoreError>;
    /// Heartbeat: extends to `lease` from now the claims among `event_ids` that `owner` still
    /// holds, in one statement. Returns the ids renewed; a missing one was taken over by another
    /// worker (its lease had expired) or finished.
    async fn renew_event_leases(
        &self,
        owner: &str,
        event_ids: &[String],
        lease: Duration,
    ) -> Result<Vec<String>, StoreError>;
    async fn dedupe_key_seen(
        &self,
        recipe_id: &str,
        key: &str,
        since: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Stores each run, its dedupe key and its deliveries, updates the event and removes the job,
    /// all in one transaction (one sync for the batch). A dedupe key taken meanwhile turns a run
    /// into `Duplicate`; `None` marks a run whose lease another worker took over.
    async fn complete_runs(
        &self,
        owner: &str,
        runs: Vec<NewRun>,
    ) -> Result<Vec<Option<RunStatus>>, StoreError>;
    /// One run; `LeaseLost` when another worker took the event over.
    async fn complete_run(&self, owner: &str, run: NewRun) -> Result<RunStatus, StoreError> {
        let event_id = run.event_id.clone();
        self.complete_runs(owner, vec![run])
            .await?
            .pop()
            .flatten()
            .ok_or(StoreError::LeaseLost(event_id))
    }
    /// The engine's reads for a claimed batch, one statement each: the recipes by id (ids not
    /// found are left out; any order).
    async fn get_recipes(&self, ids: &[String]) -> Result<Vec<StoredRecipe>, StoreError>;
    /// Per probe `(recipe id, dedupe key, since)`, in input order: whether the recipe saw the
    /// key since then. One statement for the whole batch.
    async fn dedupe_keys_seen(
        &self,
        probes: &[(String, String, DateTime<Utc>)],
    ) -> Result<Vec<bool>, StoreError>;
    async fn get_event(&self, id: &str) -> Result<Option<EventDetail>, StoreError>;
    async fn list_events(&self, query: &EventQuery) -> Result<Vec<EventSummary>, StoreError>;
}

#[async_trait]
pub trait DeliveryStore {
    async fn claim_deliveries(
        &self,
        owner: &str,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<ClaimedDelivery>, StoreError>;
    /// Records each attempt and moves its delivery on (delivered, retry at, dead), all in one
    /// transaction.
    async fn record_attempts(
        &self,
        owner: &str,
        attempts: Vec<(NewAttempt, DeliveryNext)>,
    ) -> Result<(), StoreError>;
    async fn release_deliveries(&self, owner: &str) -> Result<(), StoreError>;
    /// `claim_deliveries`, passing over deliveries of the `(recipe_id, action_name)` pairs in
    /// `skip` (actions whose destination holds its fair share of this worker's slots).
    async fn claim_deliveries_skipping(
        &self,
        owner: &str,
        limit: u32,
        lease: Duration,
        skip: &[(String, String)],
    ) -> Result<Vec<ClaimedDelivery>, StoreError>;
    /// Heartbeat: extends to `lease` from now the claims among `ids` that `owner` still holds,
    /// in one statement. Returns the ids renewed; a missing one was taken over by another
    /// worker (its lease had expired) or finished.
    async fn renew_delivery_leases(
        &self,
        owner: &str,
        ids: &[String],
        lease: Duration,
    ) -> Result<Vec<String>, StoreError>;
    /// Gives back these claims of `owner` without an attempt: due again at once, for any
    /// worker, with their attempt count unchanged (a full destination, an abandoned call).
    async fn release_delivery_claims(&self, owner: &str, ids: &[String]) -> Result<(), StoreError>;
}

#[async_trait]
pub trait SecretStore {
    async fn set_secret(&self, name: &str, value: &str) -> Result<(), StoreError>;
    async fn get_secret(&self, name: &str) -> Result<Option<String>, StoreError>;
    async fn list_secret_names(&self) -> Result<Vec<String>, StoreError>;
    async fn delete_secret(&self, name: &str) -> Result<bool, StoreError>;
}

/// Inbound calls refused by a recipe's `verify` check, counted per recipe.
#[async_trait]
pub trait RefusalStore {
    /// Counts one refused call and keeps `reason` as the latest (it must not hold a secret).
    async fn record_refusal(&self, recipe_id: &str, reason: &str) -> Result<(), StoreError>;
    /// Every recipe that refused a call, by recipe id.
    async fn list_refusals(&self) -> Result<Vec<WebhookRefusals>, StoreError>;
}

/// Tick claims are leases, like event and delivery claims: `claim.lease` from the claim or its
/// latest renewal, renewed while the tick's poll runs, so a dead process's tick is taken over
/// after one lease while a live one keeps a poll of any length.
#[async_trait]
pub trait ScheduleStore {
    /// Claims one tick of one recipe for `claim.lease`; false when it is complete or another
    /// claim on it still holds. A claim whose lease ran out without completing is taken over.
    async fn claim_tick(&self, claim: &TickClaim) -> Result<bool, StoreError>;
    /// Heartbeat: extends the claim to `claim.lease` from now, in one statement; false when
    /// `claim.owner` no longer holds it (taken over after its lease ran out) or it is complete.
    async fn renew_tick(&self, claim: &TickClaim) -> Result<bool, StoreError>;
    /// Stores the tick's events (or its failure) and marks it complete, in one transaction, if
    /// `claim.owner` still holds the claim; otherwise writes nothing and returns
    /// [`StoreError::LeaseLost`] (the process that took the tick over runs it).
    async fn complete_tick(
        &self,
        claim: &TickClaim,
        events: &[NewEvent],
        failed: Option<(&NewEvent, &str)>,
    ) -> Result<(), StoreError>;
    /// When the claim on this tick runs out, while the tick is claimed and not complete (an
    /// instant already past: it waits to be taken over); `None` when complete or unclaimed.
    async fn tick_lease_until(
        &self,
        recipe_id: &str,
        scheduled_for: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, StoreError>;
    /// The latest tick that completed or whose claim still holds.
    async fn last_tick(&self, recipe_id: &str) -> Result<Option<DateTime<Utc>>, StoreError>;
    /// How many missed ticks were skipped by catch-up, over the recipe's history.
    async fn skipped_ticks(&self, recipe_id: &str) -> Result<u64, StoreError>;
}

impl TickClaim {
    /// The error for a completion whose claim another process took over.
    fn lost(&self) -> StoreError {
        StoreError::LeaseLost(format!(
            "tick {} of recipe `{}`",
            self.scheduled_for.to_rfc3339(),
            self.recipe_id
        ))
    }
}

/// Keeps history bounded.
#[async_trait]
pub trait RetentionStore {
    /// Deletes finished events received before `before` (with their runs, deliveries and
    /// attempts) and old schedule ticks except each recipe's latest.
    async fn prune_history(&self, before: DateTime<Utc>) -> Result<PruneReport, StoreError>;
    /// Deletes a recipe's dedupe keys and sender delivery ids last seen before `before`.
    async fn prune_dedupe_keys(
        &self,
        recipe_id: &str,
        before: DateTime<Utc>,
    ) -> Result<u64, StoreError>;
    /// Deletes per-recipe bookkeeping of recipes that no longer exist.
    async fn prune_orphans(&self) -> Result<u64, StoreError>;
}

/// What operators do to recipes, events and deliveries (UI and API).
#[async_trait]
pub trait ControlStore {
    /// Replaces the webhook token. The old one keeps working for `grace` (zero: stops at once).
    async fn rotate_token(
        &self,
        recipe_id: &str,
        grace: Duration,
    ) -> Result<Option<StoredRecipe>, StoreError>;
    /// Queues the event for a new run against the current recipe, skipping the dedupe check.
    async fn replay_event(&self, event_id: &str) -> Result<bool, StoreError>;
    /// Puts a dead delivery back in the queue for one more attempt now.
    async fn retry_delivery(&self, delivery_id: &str) -> Result<bool, StoreError>;
    /// Retries every dead delivery of a recipe; returns how many.
    async fn retry_dead(&self, recipe_id: &str) -> Result<u64, StoreError>;
    /// Newest first, `limit` at most, after the cursor (keyset paging).
    async fn page_events(&self, page: &EventPage) -> Result<Vec<EventSummary>, StoreError>;
    /// Per recipe: last event time, and events received since `since` by outcome (see
    /// [`RecipeStats`]).
    async fn recipe_stats(&self, since: DateTime<Utc>) -> Result<Vec<RecipeStats>, StoreError>;
    /// Work waiting in the whole store: events not run yet, deliveries not finished.
    async fn backlog(&self) -> Result<Backlog, StoreError>;
}

#[async_trait]
pub trait AuthStore {
    async fn admin_exists(&self) -> Result<bool, StoreError>;
    /// Creates the admin account; false when one exists already.
    async fn create_admin(&self, username: &str, password_hash: &str) -> Result<bool, StoreError>;
    /// `(user id, argon2 hash)` of a user.
    async fn password_hash(&self, username: &str) -> Result<Option<(String, String)>, StoreError>;
    async fn create_session(&self, session: &Session) -> Result<(), StoreError>;
    /// An unexpired session by the hash of its id.
    async fn get_session(&self, id_hash: &str) -> Result<Option<Session>, StoreError>;
    /// Deletes the session (and any expired ones).
    async fn delete_session(&self, id_hash: &str) -> Result<(), StoreError>;
    async fn create_api_token(&self, name: &str, token_hash: &str) -> Result<String, StoreError>;
    async fn list_api_tokens(&self) -> Result<Vec<ApiTokenView>, StoreError>;
    async fn revoke_api_token(&self, id: &str) -> Result<bool, StoreError>;
    /// The name of the unrevoked API token with this hash (revision authors).
    async fn api_token_name(&self, token_hash: &str) -> Result<Option<String>, StoreError>;
}

#[async_trait]
pub trait Store:
    RecipeStore
    + EventStore
    + DeliveryStore
    + SecretStore
    + ScheduleStore
    + AuthStore
    + ControlStore
    + RefusalStore
    + RetentionStore
    + PauseStore
    + Send
    + Sync
{
    /// Readiness: the store answers a trivial query.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Takes one token from `recipe_id`'s inbound webhook bucket where the store keeps it for
    /// every process sharing it (PostgreSQL): refilled at `per_second`, holding at most
    /// `burst`. [`HookToken::InProcess`] where it does not (SQLite: one process).
    async fn take_hook_token(
        &self,
        recipe_id: &str,
        per_second: f64,
        burst: f64,
    ) -> Result<HookToken, StoreError>;

    /// Wakes `wakers` when another process sharing this store commits work they can take,
    /// until `shutdown`: on PostgreSQL a task that LISTENs for the `NOTIFY` such commits send
    /// (returned, so the caller can wait for it to end; it reconnects by itself, the idle poll
    /// covering the gap). `None` where processes share no signal (SQLite: idle poll only).
    async fn wake_on_commits(
        &self,
        wakers: Wakers,
        shutdown: tokio_util::sync::CancellationToken,
    ) -> Option<tokio::task::JoinHandle<()>>;
}

/// What [`Store::take_hook_token`] decided.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum HookToken {
    /// Admitted: a token was taken.
    Taken,
    /// Refused: the bucket has a token again after about this long.
    Wait(std::time::Duration),
    /// The store keeps no buckets: the process's own bucket decides.
    InProcess,
}

/// SQLite synchronous mode: `full` syncs every commit (survives power loss), `normal` only
/// survives process crashes in WAL mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SyncMode {
    Full,
    Normal,
}

/// Opens the store the settings point at and applies its migrations; secrets are sealed with
/// the key file in `data_dir` (created on first use).
pub async fn open(
    database_url: Option<&str>,
    data_dir: &Path,
    sync: SyncMode,
) -> Result<Arc<dyn Store>, StoreError> {
    let key = crypto::SecretKey::load_or_create(data_dir)?;
    open_with_key(database_url, data_dir, sync, key).await
}

/// [`open`] with the key secrets are sealed with.
pub async fn open_with_key(
    database_url: Option<&str>,
    data_dir: &Path,
    sync: SyncMode,
    secret_key: crypto::SecretKey,
) -> Result<Arc<dyn Store>, StoreError> {
    match database_url {
        Some(url) if url.starts_with("postgres") => {
            Ok(Arc::new(postgres::connect_url(url, secret_key).await?))
        }
        Some(url) => Ok(Arc::new(sqlite::connect_url(url, sync, secret_key).await?)),
        None => {
            std::fs::create_dir_all(data_dir).map_err(|e| {
                StoreError::Unsupported(format!(
                    "cannot create data directory {}: {e}",
                    data_dir.display()
                ))
            })?;
            let path = data_dir.join("switchyard.db");
            Ok(Arc::new(
                sqlite::connect_file(&path, sync, secret_key).await?,
            ))
        }
    }
}
