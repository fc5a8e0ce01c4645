//! App presets: trigger and action "apps" kept as data files in `presets/`, and the example
//! recipes of `recipes/`, both embedded at build time (`build.rs` lists the folders, so adding
//! a preset or an example is adding a file, no Rust code).
//!
//! A preset file (`presets/triggers/<id>.toml` or `presets/actions/<id>.toml`):
//!
//! ```toml
//! [preset]
//! id = "stripe"                 # = file stem
//! kind = "trigger"              # trigger | action (= folder)
//! name = "Stripe"
//! description = "..."
//! docs = "https://..."          # optional: the provider's documentation
//! [[preset.input]]              # what the user is asked for
//! name = "secret_name"
//! label = "Signing secret (name of a Switchyard secret)"
//! kind = "secret"               # secret | template | text | slug | choice | fields
//! default = "STRIPE_SIGNING_SECRET"
//! [recipe]                      # the recipe section(s) it produces, in the recipe file format
//! dedupe = "event.id"
//! [recipe.trigger.webhook]
//! verify = "stripe"
//! secret = "{{ secrets.{{ input.secret_name }} }}"
//! [variant.verify.token]        # merged into [recipe] when the choice input `verify` is "token"
//! ```
//!
//! Trigger presets produce `trigger`, `dedupe`, `dedupe_window` and `filter` keys; action
//! presets exactly one `[[recipe.action]]`. Beside a trigger preset, `<id>.sample.json` is its
//! sample payload and `<id>.headers.json` the request headers (lower-case names) it comes with.
//! Substitution rules are in [`apply`](Preset::apply).

mod apply;
#[cfg(test)]
mod dry_run_tests;
#[cfg(test)]
mod example_tests;
mod load;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use apply::compose;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}

/// What a preset produces: the trigger half of a recipe, or one action.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum PresetKind {
    Trigger,
    Action,
}

impl PresetKind {
    /// `trigger` or `action`, as in files, folders (plus `s`) and API paths.
    pub fn as_str(self) -> &'static str {
        match self {
            PresetKind::Trigger => "trigger",
            PresetKind::Action => "action",
        }
    }
}

impl std::str::FromStr for PresetKind {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "trigger" => Ok(PresetKind::Trigger),
            "action" => Ok(PresetKind::Action),
            other => Err(format!(
                "`{other}` is not a preset kind (trigger or action)"
            )),
        }
    }
}

/// How an input's value is checked before it is substituted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum InputKind {
    /// The name of a Switchyard secret: `[A-Z_][A-Z0-9_]*` (used as `{{ secrets.NAME }}`).
    Secret,
    /// A template (`Paid {{ event.data.object.amount }}`), checked by the template parser.
    Template,
    /// Plain text on one line, without `{{`/`}}` (an e-mail address, a chat id).
    Text,
    /// `[A-Za-z0-9_.-]+`: safe as one URL path segment (an ntfy topic).
    Slug,
    /// One of `options`; may select a `[variant.<input>.<option>]` table.
    Choice,
    /// A JSON object (text) whose keys and values become an action's `fields` table; the
    /// string it replaces must be exactly `{{ input.NAME }}`.
    Fields,
}

/// One thing a preset asks the user for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PresetInput {
    /// Referenced as `{{ input.NAME }}`: `[a-z0-9_]+`.
    pub name: String,
    pub label: String,
    pub kind: InputKind,
    /// Used when the input is not given; without one the input is required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// A value shown as a placeholder (and used by the tests) when there is no sensible
    /// default, e.g. an e-mail address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub example: Option<String>,
    /// `choice` only: the allowed values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// A longer hint shown under the field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

/// A trigger or action preset, parsed and checked from its embedded file.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Preset {
    /// The file stem, e.g. `stripe`.
    pub id: String,
    pub kind: PresetKind,
    pub name: String,
    pub description: String,
    /// The provider documentation the preset follows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub docs: Option<String>,
    pub inputs: Vec<PresetInput>,
    /// A sample payload for the field picker and dry runs (`<id>.sample.json`).
    #[schema(value_type = Option<Object>)]
    pub sample: Option<Value>,
    /// Request headers that come with the sample (`<id>.headers.json`, lower-case names).
    #[schema(value_type = Option<Object>)]
    pub sample_headers: Option<Value>,
    #[serde(skip)]
    recipe: toml::Table,
    /// input name → option → table merged into `recipe`.
    #[serde(skip)]
    variants: BTreeMap<String, BTreeMap<String, toml::Table>>,
}

/// A recipe from `recipes/`, offered as a starting point ("new recipe from an example").
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Example {
    /// The file stem (also the recipe's `id`).
    pub id: String,
    /// The recipe's `name`.
    pub name: String,
    pub description: String,
    /// The file, as shipped (comments included).
    pub toml: &'static str,
    /// `<id>.payload.json`, when there is one.
    #[schema(value_type = Option<Object>)]
    pub sample: Option<Value>,
}

/// Every embedded preset, triggers first, each kind sorted by id. The files are checked by
/// this module's tests, so a malformed one fails the build's tests, not a user's request.
pub fn all() -> &'static [Preset] {
    static ALL: OnceLock<Vec<Preset>> = OnceLock::new();
    ALL.get_or_init(|| {
        embedded::PRESET_FILES
            .iter()
            .map(|&(kind, id, toml, sample, headers)| {
                load::parse(kind, id, toml, sample, headers)
                    .unwrap_or_else(|e| panic!("embedded preset {kind}s/{id}.toml: {e}"))
            })
            .collect()
    })
}

/// The preset of that kind and id.
pub fn get(kind: PresetKind, id: &str) -> Option<&'static Preset> {
    all().iter().find(|p| p.kind == kind && p.id == id)
}

/// The recipes shipped in `recipes/`, sorted by id.
pub fn examples() -> Vec<Example> {
    embedded::EXAMPLE_FILES
        .iter()
        .map(|&(id, toml, sample)| load::example(id, toml, sample))
        .collect()
}

impl Preset {
    /// The input named `name`.
    pub fn input(&self, name: &str) -> Option<&PresetInput> {
        self.inputs.iter().find(|i| i.name == name)
    }

    /// The recipe sections this preset produces with these inputs (missing ones take their
    /// defaults). Inputs are substituted into the parsed TOML's string values, never into TOML
    /// text: each `{{ input.NAME }}` in a string is replaced by the checked value, in one pass
    /// (a value is never searched for further `{{ input.… }}`); a string that is exactly
    /// `{{ input.NAME }}` of a `fields` input becomes the table. A `choice` input first merges
    /// its option's `[variant.NAME.OPTION]` table. The action an action preset makes is then
    /// checked as `switchyard check` checks actions. Errors name the input (or the action key)
    /// and the rule it broke.
    pub fn apply(&self, inputs: &BTreeMap<String, String>) -> Result<toml::Table, String> {
        apply::apply(self, inputs)
    }
}

/// The sections as recipe-file TOML text (what the editor shows and `check` reads).
pub fn to_toml(table: &toml::Table) -> String {
    toml::to_string_pretty(table).expect("a TOML table always serialises")
}
