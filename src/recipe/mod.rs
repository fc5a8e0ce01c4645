//! Recipes: the TOML file format and the validated, compiled form the pipeline runs.

pub mod action;
pub mod allow_from;
pub mod conditions;
pub mod duration;
pub mod error;
pub mod file;
pub mod flow;
pub mod path;
pub mod presets;
pub mod secrets;
pub mod template;
mod validate;
mod webhook;
pub mod webhook_response;

use std::time::Duration;

pub use action::Action;
pub use error::{FieldError, RecipeError};
pub use file::{
    FilterSection, Handshake, RecipeFile, RespondMode, SignatureEncoding, VerifyPreset,
};
pub use validate::parse_cron;
pub use webhook_response::WebhookResponse;

use crate::script::{CompiledScript, ScriptEngine};

pub const DEFAULT_DEDUPE_WINDOW: Duration = Duration::from_secs(7 * 24 * 3600);

/// A recipe that passed validation, with its scripts compiled once for this version.
#[derive(Debug, Clone)]
pub struct Recipe {
    pub file: RecipeFile,
    pub webhook: Option<WebhookTrigger>,
    pub schedule: Option<ScheduleTrigger>,
    pub dedupe: Option<CompiledScript>,
    pub dedupe_window: Duration,
    pub filter: Option<Filter>,
    pub transform: Option<CompiledScript>,
    pub actions: Vec<Action>,
    /// Each action's flow control (`when`), in the order of `actions`.
    pub flows: Vec<flow::ActionFlow>,
}

/// A compiled `[filter]`: a script, or condition rows (compiled to Rhai, and kept as rows to
/// explain why an event was filtered).
#[derive(Debug, Clone)]
pub enum Filter {
    Script(CompiledScript),
    Rows(conditions::CompiledConditions),
}

impl Filter {
    /// The compiled script the engine runs (the rows' Rhai for rows).
    pub fn script(&self) -> &CompiledScript {
        match self {
            Filter::Script(script) => script,
            Filter::Rows(rows) => &rows.script,
        }
    }
}

#[derive(Debug, Clone)]
pub struct WebhookTrigger {
    pub verify: VerifyPreset,
    pub secret_name: Option<String>,
    /// Also accepted while a rotation's grace period lasts.
    pub previous_secret_name: Option<String>,
    /// How `verify = "hmac-sha256"` reads the signature; `None` for the other presets.
    pub hmac: Option<HmacHeader>,
    pub respond: RespondMode,
    /// GET (and HEAD) deliver events, the query string being the event.
    pub allow_get: bool,
    /// A JSON pointer to the list whose elements become the events (`""`: the whole payload).
    pub split: Option<String>,
    pub handshake: Option<Handshake>,
    /// The secret `handshake` checks against (Meta) or signs with (Zoom).
    pub handshake_secret_name: Option<String>,
    pub response: Option<WebhookResponse>,
    /// `allow_from`: the only ranges calls are accepted from (`None`: any address).
    pub allow_from: Option<Vec<ipnet::IpNet>>,
}

impl WebhookTrigger {
    /// Whether the hook takes GET (and HEAD) at all: for events (`allow_get`) or for a
    /// provider's handshake that comes by GET.
    pub fn takes_get(&self) -> bool {
        self.allow_get || self.handshake.is_some_and(Handshake::uses_get)
    }
}

/// Where a generic HMAC-SHA256 signature sits: `{header}: {prefix}{hex or base64}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HmacHeader {
    /// Lower-case.
    pub name: String,
    pub encoding: SignatureEncoding,
    pub prefix: String,
}

#[derive(Debug, Clone)]
pub struct ScheduleTrigger {
    pub cron: String,
    pub timezone: chrono_tz::Tz,
    pub poll: Option<file::PollSection>,
}

impl Recipe {
    /// Parses and validates a TOML recipe and compiles its scripts.
    pub fn from_toml(source: &str, engine: &ScriptEngine) -> Result<Recipe, RecipeError> {
        let file: RecipeFile = toml::from_str(source)
            .map_err(|e| RecipeError::new(vec![error::toml_error(source, &e)]))?;
        Recipe::from_file(file, engine)
    }

    pub fn from_file(file: RecipeFile, engine: &ScriptEngine) -> Result<Recipe, RecipeError> {
        validate::validate(file, engine).map_err(RecipeError::new)
    }

    pub fn id(&self) -> &str {
        &self.file.id
    }

    /// The file form, as TOML (used when a recipe was not written as a file, e.g. by the API).
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(&self.file).expect("a recipe file always serialises to TOML")
    }
}
