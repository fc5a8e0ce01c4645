//! The recipe file format (TOML), exactly as users write it. Validation lives in `validate`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::conditions::{ConditionGroup, ConditionRow, Conditions, MatchMode};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecipeFile {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
    #[serde(default)]
    pub trigger: TriggerSection,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dedupe: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dedupe_window: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<FilterSection>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transform: Option<ScriptSection>,
    #[serde(rename = "action", default)]
    pub actions: Vec<ActionSection>,
}

fn enabled_by_default() -> bool {
    true
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriggerSection {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<WebhookSection>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<ScheduleSection>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSection {
    #[serde(default)]
    pub verify: VerifyPreset,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// During a rotation: the secret being replaced, also accepted until it is removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_secret: Option<String>,
    /// `hmac-sha256` only: the request header carrying the signature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    /// `hmac-sha256` only: how the signature is written (default hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<SignatureEncoding>,
    /// `hmac-sha256` only: text before the signature in the header, e.g. "sha256=".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    #[serde(default)]
    pub respond: RespondMode,
    /// Accept `GET /hooks/{token}` too (the query string becomes the event).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_get: bool,
    /// A JSON pointer (`"/items"`, `""` for the whole body) to a list in the payload: each
    /// element becomes an event of its own (`ingest::split`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split: Option<String>,
    /// Answer this provider's endpoint verification, storing nothing (`ingest::handshake`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handshake: Option<Handshake>,
    /// `handshake = "meta"`: the verify token; `"zoom"`: the app's secret token; as
    /// `{{ secrets.NAME }}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handshake_secret: Option<String>,
    /// CIDR ranges (a bare address: one host) calls are accepted from; absent: any address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_from: Option<Vec<String>>,
    /// `[trigger.webhook.response]`: the answer's status, headers and body (last: a table).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<ResponseSection>,
}

/// A provider's endpoint verification that `handshake` answers (see `ingest::handshake` for
/// each provider's documented request and answer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Handshake {
    /// Slack Events API `url_verification` (POST, JSON).
    Slack,
    /// Meta (WhatsApp, Messenger, Instagram) `GET ?hub.mode=subscribe&hub.challenge&hub.verify_token`.
    Meta,
    /// Microsoft Graph change notifications `?validationToken=` (POST).
    Msgraph,
    /// Zoom `endpoint.url_validation` (POST, JSON).
    Zoom,
    /// Dropbox `GET ?challenge=`.
    Dropbox,
}

impl Handshake {
    pub fn as_str(self) -> &'static str {
        match self {
            Handshake::Slack => "slack",
            Handshake::Meta => "meta",
            Handshake::Msgraph => "msgraph",
            Handshake::Zoom => "zoom",
            Handshake::Dropbox => "dropbox",
        }
    }

    /// Whether the provider verifies with a GET: the hook then takes GET (and HEAD) for the
    /// handshake even without `allow_get`.
    pub fn uses_get(self) -> bool {
        matches!(self, Handshake::Meta | Handshake::Dropbox)
    }

    /// Whether answering needs `handshake_secret` (Meta's verify token, Zoom's secret token).
    pub fn needs_secret(self) -> bool {
        matches!(self, Handshake::Meta | Handshake::Zoom)
    }
}

/// `[trigger.webhook.response]`: what a webhook answers instead of `202 {"event_id"}` (or, with
/// `respond = "result"`, instead of `200` with the output). Checked in `recipe::webhook_response`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResponseSection {
    /// 200–299; default 202 (`accepted`) or 200 (`result`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Header name → template (over the event, or the output with `respond = "result"`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// The body's `Content-Type`; needs `body`. Default: from the body, as for actions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// A template; without it the default JSON body is sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VerifyPreset {
    #[default]
    None,
    Token,
    #[serde(rename = "hmac-sha256")]
    HmacSha256,
    Github,
    Stripe,
    Slack,
    Shopify,
    StandardWebhooks,
}

impl VerifyPreset {
    pub fn as_str(self) -> &'static str {
        match self {
            VerifyPreset::None => "none",
            VerifyPreset::Token => "token",
            VerifyPreset::HmacSha256 => "hmac-sha256",
            VerifyPreset::Github => "github",
            VerifyPreset::Stripe => "stripe",
            VerifyPreset::Slack => "slack",
            VerifyPreset::Shopify => "shopify",
            VerifyPreset::StandardWebhooks => "standard-webhooks",
        }
    }

    /// The header in which this sender names each delivery (the same on its retries).
    pub fn delivery_id_header(self) -> Option<&'static str> {
        match self {
            VerifyPreset::Github => Some("x-github-delivery"),
            VerifyPreset::Shopify => Some("x-shopify-webhook-id"),
            VerifyPreset::StandardWebhooks => Some("webhook-id"),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SignatureEncoding {
    #[default]
    Hex,
    Base64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RespondMode {
    /// 202 with the event id once the event is committed.
    #[default]
    Accepted,
    /// Decide the run inside the request (dedupe key, filter, transform), commit the event with
    /// it and answer with its output (`ingest::respond`).
    Result,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleSection {
    pub cron: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poll: Option<PollSection>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PollSection {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptSection {
    pub script: String,
}

/// `[filter]`: either a Rhai `script` (must return a bool) or condition rows (`match`, `when`,
/// `any`; see `conditions.rs`), never both — `validate` refuses a section holding both, or
/// neither.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilterSection {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script: Option<String>,
    #[serde(rename = "match", default, skip_serializing_if = "Option::is_none")]
    pub match_mode: Option<MatchMode>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub when: Vec<ConditionRow>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub any: Vec<ConditionGroup>,
}

impl FilterSection {
    pub fn from_script(script: impl Into<String>) -> Self {
        Self {
            script: Some(script.into()),
            ..Self::default()
        }
    }

    pub fn from_rows(rows: Conditions) -> Self {
        Self {
            script: None,
            match_mode: (!rows.match_mode.is_all()).then_some(rows.match_mode),
            when: rows.when,
            any: rows.any,
        }
    }

    /// Whether the section is written as rows (any of `match`, `when`, `any` present).
    pub fn has_rows(&self) -> bool {
        self.match_mode.is_some() || !self.when.is_empty() || !self.any.is_empty()
    }

    /// The rows part as [`Conditions`] (empty when the section is a script).
    pub fn rows(&self) -> Conditions {
        Conditions {
            match_mode: self.match_mode.unwrap_or_default(),
            when: self.when.clone(),
            any: self.any.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionSection {
    pub name: String,
    #[serde(default = "default_method")]
    pub method: String,
    pub url: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// A template; without it (and without `fields`) the body is the transform output as JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// A JSON object body mapped key by key (see `recipe::template::fields`); not with `body`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<toml::Table>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<RetrySection>,
    /// Standard Webhooks signing secret, as `{{ secrets.NAME }}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// How the `when` rows combine (`all`, the default, or `any`), like a filter's `match`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when_match: Option<MatchMode>,
    /// Condition rows deciding whether this action runs for a run (like `[[filter.when]]`,
    /// also reading `output.`); not with `when_script`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub when: Vec<ConditionRow>,
    /// A Rhai expression returning a bool (sees `event`, `headers`, `meta`, `output`); not
    /// with `when` rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when_script: Option<String>,
    /// Postpones the action by a duration ("10m"), counted from the run; not with `delay_until`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay: Option<String>,
    /// A template giving the instant the action is due (RFC 3339 or Unix seconds), e.g.
    /// `"{{ event.remind_at }}"`; not with `delay`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_until: Option<String>,
    /// The name of an action of the same recipe this one runs after, once it succeeded; its
    /// templates may read `{{ responses.NAME.… }}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    /// Calls started per key: `"5/s"`, `"100/m"`, `"1000/h"` (see `recipe::flow::throttle`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<String>,
    /// Calls in flight per key (a positive integer; 1 keeps the key's calls in order).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<i64>,
    /// What `rate` and `concurrency` count per: a template over `event.`/`output.`; default
    /// the URL's host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// The action keys that control when and in which order it runs (see `recipe::flow`).
pub const FLOW_KEYS: [&str; 9] = [
    "when_match",
    "when",
    "when_script",
    "after",
    "delay",
    "delay_until",
    "rate",
    "concurrency",
    "key",
];

impl ActionSection {
    /// The `when` rows as [`Conditions`] (no groups: an action's rows are one list).
    pub fn when_rows(&self) -> Conditions {
        Conditions {
            match_mode: self.when_match.unwrap_or_default(),
            when: self.when.clone(),
            any: Vec::new(),
        }
    }
}

fn default_method() -> String {
    "POST".to_owned()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetrySection {
    pub schedule: Vec<String>,
}
