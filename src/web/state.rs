//! What the UI, API, health and metrics handlers share; `startup` builds it.

use std::sync::Arc;

use tokio::sync::Notify;

use crate::config::Settings;
use crate::engine::cache::RecipeCache;
use crate::ingest::commit::GroupCommitter;
use crate::store::Store;

/// What HTTP handlers share.
pub struct AppState {
    pub settings: Settings,
    pub store: Arc<dyn Store>,
    pub cache: Arc<RecipeCache>,
    pub committer: GroupCommitter,
    pub public_base: String,
    pub events_ready: Arc<Notify>,
    pub deliveries_ready: Arc<Notify>,
    /// The one-time setup link's token while no admin account exists.
    pub setup_token: std::sync::Mutex<Option<String>>,
    /// Prometheus counters, shared with the workers (`/metrics`).
    pub metrics: Arc<crate::telemetry::metrics::Metrics>,
    /// Failed logins per username and address (in memory).
    pub login_throttle: super::ui::throttle::LoginThrottle,
}
