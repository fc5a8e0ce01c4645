//! Pause that holds: a paused recipe accepts and stores events but runs nothing (no run, no
//! outbound call) until it is resumed; then what it held runs in order of arrival.
//!
//! Pausing is operator state, kept beside the recipe file and never written by an import, so
//! re-provisioning a file-managed recipe does not resume it. It is distinct from `enabled =
//! false` (the file's key), whose webhook URL answers 404.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{StoreError, StoredRecipe};

/// What an operator sees a recipe as: the design's three states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RecipeState {
    /// Its triggers are live and its events run.
    Enabled,
    /// Its webhook accepts and stores events, its schedule records ticks as skipped; nothing
    /// runs until it is resumed.
    Paused,
    /// `enabled = false` in its file: its webhook URL answers 404, its schedule does not tick.
    Disabled,
}

impl RecipeState {
    pub fn as_str(self) -> &'static str {
        match self {
            RecipeState::Enabled => "enabled",
            RecipeState::Paused => "paused",
            RecipeState::Disabled => "disabled",
        }
    }
}

impl StoredRecipe {
    /// Disabled wins over paused: a disabled recipe's URL answers 404 whether or not it is
    /// also paused (it stays paused when enabled again).
    pub fn state(&self) -> RecipeState {
        match (self.enabled, self.paused_at) {
            (false, _) => RecipeState::Disabled,
            (true, Some(_)) => RecipeState::Paused,
            (true, None) => RecipeState::Enabled,
        }
    }
}

/// Work a paused recipe holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Held {
    /// Events stored and waiting for their run.
    pub events: u64,
    /// Deliveries not yet attempted or waiting to retry.
    pub deliveries: u64,
}

/// The held work of one recipe (see [`PauseStore::held_counts`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldCounts {
    pub recipe_id: String,
    pub held: Held,
}

/// What a pause or resume did.
#[derive(Debug, Clone)]
pub struct PauseChange {
    /// The recipe as it is now.
    pub recipe: StoredRecipe,
    /// False when it was already in the state asked for (nothing was changed).
    pub changed: bool,
    /// Pause: the work it holds now. Resume: the work it released.
    pub work: Held,
}

/// Ticks of a schedule that ran nothing because the recipe was paused.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PausedTicks {
    pub count: u64,
    pub last: Option<DateTime<Utc>>,
}

/// Pausing and resuming recipes; every claim and ingest path honours it (see the ledger's
/// `pause.rs` for how holding is kept race-free).
#[async_trait]
pub trait PauseStore {
    /// Pauses the recipe and holds its queued events and deliveries, in one transaction.
    /// `None` when no recipe has this id. Pausing a paused recipe changes nothing.
    async fn pause_recipe(&self, id: &str) -> Result<Option<PauseChange>, StoreError>;
    /// Resumes the recipe and releases what it held, keeping each job's place in its queue
    /// (events run in order of arrival). `None` when no recipe has this id.
    async fn resume_recipe(&self, id: &str) -> Result<Option<PauseChange>, StoreError>;
    /// The held work of every recipe that holds any (one statement per queue).
    async fn held_counts(&self) -> Result<Vec<HeldCounts>, StoreError>;
    /// Records a claimed tick as run with nothing, because of `reason` (e.g. "paused"):
    /// completed without events, if `claim.owner` still holds it.
    async fn skip_tick(&self, claim: &super::TickClaim, reason: &str) -> Result<(), StoreError>;
    /// How many ticks of the recipe were skipped because it was paused, and the latest.
    async fn paused_ticks(&self, recipe_id: &str) -> Result<PausedTicks, StoreError>;
}
