//! One `Settings` value drives the server. The CLI fills it from flags and `SWITCHYARD_*`
//! variables; tests build it directly.

pub mod cidr;
pub mod hook_rate;
pub mod trusted_proxies;

use std::path::PathBuf;
use std::time::Duration;

use self::trusted_proxies::TrustedProxies;
use crate::outbound::client::OutboundAllow;
use crate::script::ScriptLimits;
use crate::store::SyncMode;

pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
/// How long finished events are kept (`SWITCHYARD_RETENTION`).
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(30 * 24 * 3600);
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;
/// Time a client has to send a request's head (line and headers) before it gets 408.
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(5);
/// Time a webhook's body has to arrive, from the end of its head, before it gets 408.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(10);
/// Claims of a dead process move on after at most this (`SWITCHYARD_LEASE`); live ones are
/// renewed every quarter of it.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(10);
/// Below the 10 s most process managers (Kubernetes, systemd, Docker) wait before SIGKILL.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(8);
/// Part of the shutdown grace kept for recording finished attempts and releasing claims (at
/// most half the grace).
pub const SHUTDOWN_MARGIN: Duration = Duration::from_secs(1);

#[derive(Clone)]
pub struct Settings {
    pub bind: String,
    pub data_dir: PathBuf,
    /// `sqlite://...` or `postgres://...`; unset means `data_dir/switchyard.db`.
    pub database_url: Option<String>,
    /// Base URL third parties call; defaults to `http://{bind}`.
    pub public_url: Option<String>,
    pub recipes_dir: Option<PathBuf>,
    /// Accepted as a bearer token on the API (automation, tests); more are created in the UI.
    pub api_token: Option<String>,
    pub body_limit: usize,
    /// Inbound calls one recipe's webhook accepts on average, and in a burst, per process.
    pub hook_rate: hook_rate::HookRate,
    pub hook_burst: u32,
    /// Time to receive a request's head (slowloris); zero disables the deadline.
    pub header_timeout: Duration,
    /// Time to receive a webhook's body; zero disables the deadline.
    pub body_timeout: Duration,
    /// Finished events older than this are deleted with their runs and attempts.
    pub retention: Duration,
    /// How long an old webhook URL keeps working after a rotation (zero: not at all).
    pub rotate_grace: Duration,
    pub allow_private_targets: bool,
    /// Ranges and host names outbound calls may reach although private.
    pub outbound_allow: OutboundAllow,
    /// Reverse proxies whose forwarding headers name a webhook's client (`allow_from`).
    pub trusted_proxies: TrustedProxies,
    /// Base64 of the 32-byte key secrets are encrypted with; unset means `data_dir/secret.key`.
    pub secret_key: Option<String>,
    pub sqlite_sync: SyncMode,
    pub script_limits: ScriptLimits,
    pub workers: WorkerSettings,
}

#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// Events one engine worker claims at a time.
    pub engine_batch: u32,
    /// Outbound calls in flight at once.
    pub delivery_concurrency: u32,
    /// Outbound calls in flight at once to one destination (`host:port` of the rendered URL);
    /// `None`: a quarter of `delivery_concurrency` (at least 1). See [`Self::destination_cap`].
    pub destination_concurrency: Option<u32>,
    /// How long a claim holds before another worker may take it over. Claims are renewed every
    /// [`Self::heartbeat`] while their work is in progress, so this bounds how long a dead
    /// process's claims wait, not how long work may take.
    pub lease: Duration,
    /// After SIGTERM: time until the process exits. In-flight calls get this less
    /// [`SHUTDOWN_MARGIN`]; what is unfinished then is abandoned and its claims released (the
    /// attempt not counted), so the next process retries it at once.
    pub shutdown_grace: Duration,
    /// How often idle workers look for work that became due (retries, expired leases).
    pub idle_poll: Duration,
    /// How often the scheduler re-reads recipes to pick up imports, edits and deletes.
    pub schedule_refresh: Duration,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self {
            engine_batch: 32,
            delivery_concurrency: 32,
            destination_concurrency: None,
            lease: DEFAULT_LEASE,
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
            idle_poll: Duration::from_millis(200),
            schedule_refresh: Duration::from_secs(1),
        }
    }
}

impl WorkerSettings {
    /// In-flight calls one destination may hold: the setting, or a quarter of the slots (at
    /// least 1), so one stuck receiver delays only its own deliveries.
    pub fn destination_cap(&self) -> usize {
        let cap = self
            .destination_concurrency
            .unwrap_or(self.delivery_concurrency / 4);
        cap.max(1) as usize
    }

    /// How often held claims are renewed: a quarter of the lease, so three renewals in a row
    /// may be late or fail (a stalled store) before another worker can take the work over.
    pub fn heartbeat(&self) -> Duration {
        (self.lease / 4).max(Duration::from_millis(10))
    }

    /// How long in-flight calls may still run after SIGTERM (see `shutdown_grace`).
    pub fn drain_time(&self) -> Duration {
        let margin = SHUTDOWN_MARGIN.min(self.shutdown_grace / 2);
        self.shutdown_grace - margin
    }
}

impl Settings {
    /// Defaults for everything, data in `data_dir`.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            bind: DEFAULT_BIND.to_owned(),
            data_dir: data_dir.into(),
            database_url: None,
            public_url: None,
            recipes_dir: None,
            api_token: None,
            body_limit: DEFAULT_BODY_LIMIT,
            hook_rate: Default::default(),
            hook_burst: hook_rate::DEFAULT_HOOK_BURST,
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            body_timeout: DEFAULT_BODY_TIMEOUT,
            retention: DEFAULT_RETENTION,
            rotate_grace: Duration::ZERO,
            allow_private_targets: false,
            outbound_allow: OutboundAllow::default(),
            trusted_proxies: TrustedProxies::default(),
            secret_key: None,
            sqlite_sync: SyncMode::Full,
            script_limits: ScriptLimits::default(),
            workers: WorkerSettings::default(),
        }
    }

    /// The base of generated webhook URLs, given the address actually bound.
    pub fn public_base(&self, bound: &str) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{bound}"))
            .trim_end_matches('/')
            .to_owned()
    }
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("bind", &self.bind)
            .field("data_dir", &self.data_dir)
            .field(
                "database_url",
                &self.database_url.as_deref().map(redact_url),
            )
            .field("public_url", &self.public_url)
            .field("recipes_dir", &self.recipes_dir)
            .field("api_token", &self.api_token.as_ref().map(|_| "***"))
            .field("body_limit", &self.body_limit)
            .field("hook_rate", &self.hook_rate)
            .field("hook_burst", &self.hook_burst)
            .field("header_timeout", &self.header_timeout)
            .field("body_timeout", &self.body_timeout)
            .field("retention", &self.retention)
            .field("rotate_grace", &self.rotate_grace)
            .field("allow_private_targets", &self.allow_private_targets)
            .field("outbound_allow", &self.outbound_allow)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("secret_key", &self.secret_key.as_ref().map(|_| "***"))
            .field("sqlite_sync", &self.sqlite_sync)
            .field("script_limits", &self.script_limits)
            .field("workers", &self.workers)
            .finish()
    }
}

/// `postgres://user:pw@host/db` → `postgres://user:***@host/db`.
fn redact_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}
