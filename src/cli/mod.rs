//! The command line. Every flag also reads a `SWITCHYARD_*` (or `DATABASE_URL`) variable.

mod commands;
mod dry_run;
mod open;
mod presets;
mod revisions;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::config::trusted_proxies::TrustedProxies;
use crate::config::{DEFAULT_BIND, Settings, WorkerSettings};
use crate::outbound::client::OutboundAllow;
use crate::script::ScriptLimits;
use crate::store::SyncMode;

#[derive(Debug, Parser)]
#[command(
    name = "switchyard",
    version,
    about = "Self-hosted trigger-action automation: durable webhooks in, retried signed HTTP actions out"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

// Parsed once per process: the size of the `serve` variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server: webhooks, workers and health endpoints.
    Serve(ServeArgs),
    /// Import recipe files (create or update by id); prints each id and webhook URL.
    Import {
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        address: AddressArgs,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Print recipes as TOML (all, or the ids given); the output imports back unchanged.
    Export {
        #[command(flatten)]
        store: StoreArgs,
        ids: Vec<String>,
    },
    /// Validate recipe files and compile their scripts, without a server.
    Check {
        #[command(flatten)]
        limits: ScriptArgs,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Dry-run a recipe on a sample payload: filter verdict, transform output, planned requests.
    Test {
        #[command(flatten)]
        limits: ScriptArgs,
        file: PathBuf,
        /// JSON file with the sample event payload.
        #[arg(long)]
        payload: PathBuf,
        /// Optional JSON object of request headers the scripts see.
        #[arg(long)]
        headers: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Delete a recipe (its events stay as history; its webhook URL and schedule stop at once).
    Delete {
        #[command(flatten)]
        store: StoreArgs,
        id: String,
    },
    /// Pause a recipe: its webhook still answers 202 and stores events, its schedule records
    /// ticks as skipped, queued deliveries are held; nothing runs until `resume`.
    Pause {
        #[command(flatten)]
        store: StoreArgs,
        id: String,
    },
    /// Resume a paused recipe: what it held runs, in order of arrival.
    Resume {
        #[command(flatten)]
        store: StoreArgs,
        id: String,
    },
    /// List recipes with their webhook URLs.
    Recipes {
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        address: AddressArgs,
        #[arg(long)]
        json: bool,
    },
    /// List recent events with their status.
    Events {
        #[command(flatten)]
        store: StoreArgs,
        #[arg(long)]
        recipe: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
    /// List the app presets (trigger and action "apps") with their inputs, and the example
    /// recipes; no store needed.
    Presets {
        #[arg(long)]
        json: bool,
    },
    /// List a recipe's revisions, newest first (version, time, author), or print one's TOML.
    Revisions {
        #[command(flatten)]
        store: StoreArgs,
        id: String,
        /// Print this version's TOML instead of the list.
        #[arg(long, value_name = "N")]
        show: Option<i64>,
        #[arg(long)]
        json: bool,
    },
    /// Manage secrets referenced as {{ secrets.NAME }}.
    Secrets {
        #[command(flatten)]
        store: StoreArgs,
        #[command(subcommand)]
        action: SecretsCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum SecretsCommand {
    /// Set a secret; the value is read from standard input.
    Set { name: String },
    /// List secret names (never values).
    List,
    /// Delete a secret.
    Delete { name: String },
}

#[derive(Debug, Args)]
pub struct StoreArgs {
    /// Folder of the embedded SQLite store and its secret key (only `serve` creates them).
    #[arg(long, env = "SWITCHYARD_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Store URL (`sqlite://...`); unset means DATA_DIR/switchyard.db.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,
    /// SQLite sync mode: full survives power loss, normal only process crashes.
    #[arg(
        long,
        env = "SWITCHYARD_SQLITE_SYNC",
        value_enum,
        default_value = "full"
    )]
    pub sqlite_sync: SyncMode,
    /// Base64 of the 32-byte key secrets are encrypted with (prefer the variable: command
    /// lines are visible to other users); unset means DATA_DIR/secret.key, created by `serve`.
    #[arg(long, env = "SWITCHYARD_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<String>,
}

impl StoreArgs {
    /// The configured key, an empty value counting as unset.
    pub fn secret_key(&self) -> Option<String> {
        self.secret_key.clone().filter(|k| !k.trim().is_empty())
    }
}

#[derive(Debug, Args)]
pub struct AddressArgs {
    /// Address to listen on.
    #[arg(long, env = "SWITCHYARD_BIND", default_value = DEFAULT_BIND)]
    pub bind: String,
    /// Base URL third parties call; generated webhook URLs start with it.
    #[arg(long, env = "SWITCHYARD_PUBLIC_URL")]
    pub public_url: Option<String>,
}

#[derive(Debug, Args)]
pub struct ScriptArgs {
    /// Rhai operations one script run may take.
    #[arg(long, env = "SWITCHYARD_SCRIPT_MAX_OPERATIONS", default_value_t = ScriptLimits::default().max_operations)]
    pub script_max_operations: u64,
    /// Wall-clock limit of one script run.
    #[arg(long, env = "SWITCHYARD_SCRIPT_TIMEOUT", value_parser = humantime::parse_duration, default_value = "1s")]
    pub script_timeout: Duration,
    /// Largest string a script may build, in bytes.
    #[arg(long, env = "SWITCHYARD_SCRIPT_MAX_STRING", default_value_t = ScriptLimits::default().max_string_size)]
    pub script_max_string: usize,
    /// Largest array a script may build or read, in items.
    #[arg(long, env = "SWITCHYARD_SCRIPT_MAX_ARRAY", default_value_t = ScriptLimits::default().max_array_size)]
    pub script_max_array: usize,
    /// Largest map a script may build or read, in entries.
    #[arg(long, env = "SWITCHYARD_SCRIPT_MAX_MAP", default_value_t = ScriptLimits::default().max_map_size)]
    pub script_max_map: usize,
    /// Deepest function-call nesting in a script (at most 64: deeper recursion could outgrow
    /// the script thread's stack).
    #[arg(long, env = "SWITCHYARD_SCRIPT_MAX_CALL_DEPTH", value_parser = parse_call_depth,
          default_value_t = ScriptLimits::default().max_call_levels)]
    pub script_max_call_depth: usize,
}

impl ScriptArgs {
    pub fn limits(&self) -> ScriptLimits {
        ScriptLimits {
            max_operations: self.script_max_operations,
            wall_time: self.script_timeout,
            max_string_size: self.script_max_string,
            max_array_size: self.script_max_array,
            max_map_size: self.script_max_map,
            max_call_levels: self.script_max_call_depth,
            ..ScriptLimits::default()
        }
    }
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub address: AddressArgs,
    #[command(flatten)]
    pub limits: ScriptArgs,
    /// Provision recipes from this folder at start (they are marked file-managed).
    #[arg(long, env = "SWITCHYARD_RECIPES")]
    pub recipes: Option<PathBuf>,
    /// A bearer token the API accepts (more can be created in the UI).
    #[arg(long, env = "SWITCHYARD_API_TOKEN", hide_env_values = true)]
    pub api_token: Option<String>,
    /// Finished events older than this are deleted, with their runs and attempts.
    #[arg(long, env = "SWITCHYARD_RETENTION", value_parser = humantime::parse_duration, default_value = "30d")]
    pub retention: Duration,
    /// How long an old webhook URL keeps working after "rotate URL" (0s: stops at once).
    #[arg(long, env = "SWITCHYARD_ROTATE_GRACE", value_parser = humantime::parse_duration, default_value = "0s")]
    pub rotate_grace: Duration,
    /// Largest accepted webhook body, in bytes.
    #[arg(long, env = "SWITCHYARD_BODY_LIMIT", default_value_t = crate::config::DEFAULT_BODY_LIMIT)]
    pub body_limit: usize,
    /// Inbound calls one recipe's webhook accepts on average: `500/s`, `3000/m`, `100/h` or
    /// `off`. Over the limit (and the burst) a call gets 429 with `Retry-After`.
    #[arg(long, env = "SWITCHYARD_HOOK_RATE", default_value = crate::config::hook_rate::DEFAULT_HOOK_RATE)]
    pub hook_rate: crate::config::hook_rate::HookRate,
    /// Calls one recipe's webhook accepts at once before the rate applies.
    #[arg(long, env = "SWITCHYARD_HOOK_BURST", default_value_t = crate::config::hook_rate::DEFAULT_HOOK_BURST,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub hook_burst: u32,
    /// Time a client has to send a request's head before it gets 408 (0s: no deadline).
    #[arg(long, env = "SWITCHYARD_HEADER_TIMEOUT", value_parser = humantime::parse_duration, default_value = "5s")]
    pub header_timeout: Duration,
    /// Time a webhook's body has to arrive before it gets 408 (0s: no deadline).
    #[arg(long, env = "SWITCHYARD_BODY_TIMEOUT", value_parser = humantime::parse_duration, default_value = "10s")]
    pub body_timeout: Duration,
    /// Let actions call loopback, private and link-local addresses.
    #[arg(long, env = "SWITCHYARD_ALLOW_PRIVATE_TARGETS", num_args = 0..=1, default_missing_value = "true",
          value_parser = clap::builder::BoolishValueParser::new(), default_value = "false")]
    pub allow_private_targets: bool,
    /// Comma-separated CIDR ranges and host names actions and polls may call although private,
    /// e.g. `10.1.2.0/24,hooks.internal`.
    #[arg(long, env = "SWITCHYARD_OUTBOUND_ALLOW", value_parser = parse_outbound_allow, default_value = "")]
    pub outbound_allow: OutboundAllow,
    /// Comma-separated CIDR ranges of reverse proxies whose `X-Forwarded-For`/`Forwarded`
    /// headers name a webhook's client for `allow_from`; unset: the TCP peer is the client.
    #[arg(long, env = "SWITCHYARD_TRUSTED_PROXIES", value_parser = parse_trusted_proxies, default_value = "")]
    pub trusted_proxies: TrustedProxies,
    /// How long a claim on an event, a delivery or a scheduled tick holds before others may take it.
    /// Live claims are renewed every quarter of it, so this is how long a dead process's work
    /// waits before another worker takes it over.
    #[arg(long, env = "SWITCHYARD_LEASE", value_parser = parse_lease, default_value = "10s")]
    pub lease: Duration,
    /// How often idle workers look for due retries and expired claims.
    #[arg(long, env = "SWITCHYARD_IDLE_POLL", value_parser = humantime::parse_duration, default_value = "200ms")]
    pub idle_poll: Duration,
    /// Outbound calls in flight at once.
    #[arg(long, env = "SWITCHYARD_DELIVERY_CONCURRENCY", default_value_t = WorkerSettings::default().delivery_concurrency)]
    pub delivery_concurrency: u32,
    /// Outbound calls in flight at once to one destination (host:port); unset: a quarter of
    /// `--delivery-concurrency` (at least 1).
    #[arg(long, env = "SWITCHYARD_DESTINATION_CONCURRENCY", value_parser = clap::value_parser!(u32).range(1..))]
    pub destination_concurrency: Option<u32>,
    /// After SIGTERM the process exits within this: in-flight calls get it less 1 s, then
    /// unfinished ones are abandoned and their claims released for the next process.
    #[arg(long, env = "SWITCHYARD_SHUTDOWN_GRACE", value_parser = humantime::parse_duration, default_value = "8s")]
    pub shutdown_grace: Duration,
}

impl ServeArgs {
    pub fn settings(&self) -> Settings {
        let mut settings = Settings::new(&self.store.data_dir);
        settings.bind = self.address.bind.clone();
        settings.public_url = self.address.public_url.clone();
        settings.database_url = self.store.database_url.clone();
        settings.sqlite_sync = self.store.sqlite_sync;
        settings.recipes_dir = self.recipes.clone();
        settings.body_limit = self.body_limit;
        settings.hook_rate = self.hook_rate;
        settings.hook_burst = self.hook_burst;
        settings.header_timeout = self.header_timeout;
        settings.body_timeout = self.body_timeout;
        settings.retention = self.retention;
        settings.rotate_grace = self.rotate_grace;
        settings.api_token = self.api_token.clone().filter(|t| !t.is_empty());
        settings.allow_private_targets = self.allow_private_targets;
        settings.outbound_allow = self.outbound_allow.clone();
        settings.trusted_proxies = self.trusted_proxies.clone();
        settings.secret_key = self.store.secret_key();
        settings.script_limits = self.limits.limits();
        settings.workers.lease = self.lease;
        settings.workers.idle_poll = self.idle_poll;
        settings.workers.delivery_concurrency = self.delivery_concurrency;
        settings.workers.destination_concurrency = self.destination_concurrency;
        settings.workers.shutdown_grace = self.shutdown_grace;
        settings
    }
}

fn parse_outbound_allow(list: &str) -> Result<OutboundAllow, String> {
    list.parse()
}

fn parse_trusted_proxies(list: &str) -> Result<TrustedProxies, String> {
    list.parse()
}

/// A lease must leave room for its heartbeat (a quarter of it) to reach the store.
fn parse_lease(text: &str) -> Result<Duration, String> {
    let lease = humantime::parse_duration(text).map_err(|e| e.to_string())?;
    if lease < Duration::from_millis(400) {
        return Err(format!(
            "{text} is too short: at least 400ms (claims are renewed every quarter of it)"
        ));
    }
    Ok(lease)
}

fn parse_call_depth(text: &str) -> Result<usize, String> {
    let depth: usize = text.trim().parse().map_err(|e| format!("{e}"))?;
    if depth > crate::script::MAX_CALL_LEVELS {
        return Err(format!(
            "at most {} (deeper recursion could outgrow the script stack)",
            crate::script::MAX_CALL_LEVELS
        ));
    }
    Ok(depth)
}

pub async fn run(cli: Cli) -> ExitCode {
    match commands::run(cli.command).await {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
