//! What operators do to recipes, shared by the JSON API and the web UI: save (validated),
//! enable/disable, rotate the URL, delete, dry-run. Handlers parse input and call these.

use serde::Serialize;

mod revisions;
pub use revisions::{DiffLine, DiffTag, diff, restore_revision, revision, revisions};

use crate::engine::{EventContext, dry_run, off_executor};
use crate::provision::{ImportError, import_source};
use crate::recipe::secrets::standard_webhooks_key;
use crate::recipe::{FieldError, Recipe, RecipeError, RecipeFile};
use crate::script::ScriptEngine;
use crate::store::{PauseChange, RecipeState, Store, StoreError, StoredRecipe, UpsertKind};

#[derive(Debug, thiserror::Error)]
pub enum ManageError {
    #[error("no recipe with id `{0}`")]
    NotFound(String),
    #[error("recipe `{id}` has no version {version}")]
    RevisionNotFound { id: String, version: i64 },
    #[error("recipe `{id}` is managed by the file {file}; change the file instead")]
    FileManaged { id: String, file: String },
    #[error("{0}")]
    Invalid(RecipeError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ManageError {
    /// Field errors to show beside their inputs (empty unless the recipe was invalid).
    pub fn field_errors(&self) -> &[FieldError] {
        match self {
            ManageError::Invalid(error) => &error.errors,
            _ => &[],
        }
    }
}

impl From<ImportError> for ManageError {
    fn from(error: ImportError) -> Self {
        match error {
            ImportError::Invalid(e) => ManageError::Invalid(e),
            ImportError::Store(e) => ManageError::Store(e),
            ImportError::Read { path, source } => {
                ManageError::Invalid(RecipeError::new(vec![FieldError::new(
                    path,
                    source.to_string(),
                )]))
            }
        }
    }
}

/// A recipe as the API and UI show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RecipeView {
    pub id: String,
    pub name: String,
    pub description: String,
    pub enabled: bool,
    /// enabled | paused | disabled (disabled wins: its URL answers 404 even when paused).
    pub state: RecipeState,
    /// When it was paused (operator state: not in the file, kept by imports).
    pub paused_at: Option<chrono::DateTime<chrono::Utc>>,
    pub version: i64,
    pub webhook_url: String,
    /// The file that provisions it; such recipes are read-only in the UI and API.
    pub managed_by: Option<String>,
    /// "webhook", "schedule", "poll".
    pub triggers: Vec<String>,
    /// The recipe file (TOML).
    pub source: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

pub fn webhook_url(public_base: &str, recipe: &StoredRecipe) -> String {
    format!("{public_base}/hooks/{}", recipe.webhook_token)
}

pub fn view(public_base: &str, stored: &StoredRecipe, recipe: Option<&Recipe>) -> RecipeView {
    let mut triggers = Vec::new();
    if let Some(recipe) = recipe {
        if recipe.webhook.is_some() {
            triggers.push("webhook".to_owned());
        }
        if let Some(schedule) = &recipe.schedule {
            triggers.push(
                if schedule.poll.is_some() {
                    "poll"
                } else {
                    "schedule"
                }
                .to_owned(),
            );
        }
    }
    RecipeView {
        id: stored.id.clone(),
        name: stored.name.clone(),
        description: recipe
            .map(|r| r.file.description.clone())
            .unwrap_or_default(),
        enabled: stored.enabled,
        state: stored.state(),
        paused_at: stored.paused_at,
        version: stored.version,
        webhook_url: webhook_url(public_base, stored),
        managed_by: stored.managed_by.clone(),
        triggers,
        source: stored.source.clone(),
        created_at: stored.created_at,
        updated_at: stored.updated_at,
    }
}

/// What the recipe lists (UI and API) show beside each recipe, by recipe id: its refused
/// webhook calls and the events and deliveries it holds while paused. Two queries for all
/// recipes.
pub async fn list_extras(store: &dyn Store) -> Result<ListExtras, StoreError> {
    let refusals = store
        .list_refusals()
        .await?
        .into_iter()
        .map(|r| (r.recipe_id.clone(), r))
        .collect();
    let held = store
        .held_counts()
        .await?
        .into_iter()
        .map(|c| (c.recipe_id, c.held))
        .collect();
    Ok(ListExtras { refusals, held })
}

/// See [`list_extras`].
pub struct ListExtras {
    pub refusals: std::collections::HashMap<String, crate::store::WebhookRefusals>,
    pub held: std::collections::HashMap<String, crate::store::Held>,
}

/// Validates and saves a recipe text (create or update by id). File-managed recipes refuse.
/// A change of source is a new revision by `author` ("user NAME", "token NAME").
pub async fn save_recipe(
    store: &dyn Store,
    scripts: &ScriptEngine,
    source: &str,
    author: &str,
) -> Result<(UpsertKind, StoredRecipe), ManageError> {
    let recipe = Recipe::from_toml(source, scripts).map_err(ManageError::Invalid)?;
    refuse_file_managed(store, recipe.id()).await?;
    let result = import_source(store, scripts, source, None, author).await?;
    Ok((result.kind, result.recipe))
}

pub(crate) async fn refuse_file_managed(
    store: &dyn Store,
    id: &str,
) -> Result<Option<StoredRecipe>, ManageError> {
    let existing = store.get_recipe(id).await?;
    if let Some(file) = existing.as_ref().and_then(|r| r.managed_by.clone()) {
        return Err(ManageError::FileManaged {
            id: id.to_owned(),
            file,
        });
    }
    Ok(existing)
}

/// Turns a recipe on or off by rewriting its `enabled` key, keeping the rest of the file as
/// written (comments included), so exports show the same state.
pub async fn set_enabled(
    store: &dyn Store,
    scripts: &ScriptEngine,
    id: &str,
    enabled: bool,
    author: &str,
) -> Result<StoredRecipe, ManageError> {
    let existing = refuse_file_managed(store, id)
        .await?
        .ok_or_else(|| ManageError::NotFound(id.to_owned()))?;
    let mut document: toml_edit::DocumentMut =
        existing.source.parse().map_err(|e: toml_edit::TomlError| {
            ManageError::Invalid(RecipeError::new(vec![FieldError::new(
                "toml",
                e.to_string(),
            )]))
        })?;
    document["enabled"] = toml_edit::value(enabled);
    let (_, stored) = save_recipe(store, scripts, &document.to_string(), author).await?;
    Ok(stored)
}

/// Pauses (`paused`) or resumes a recipe: an operator state, so file-managed recipes too.
/// Pausing holds its queued events and deliveries; resuming releases them in order of arrival.
/// Asking for the state it is in already changes nothing (`changed` is false).
pub async fn set_paused(
    store: &dyn Store,
    id: &str,
    paused: bool,
) -> Result<PauseChange, ManageError> {
    let change = if paused {
        store.pause_recipe(id).await?
    } else {
        store.resume_recipe(id).await?
    };
    let change = change.ok_or_else(|| ManageError::NotFound(id.to_owned()))?;
    tracing::info!(recipe = %id, paused, changed = change.changed,
        events = change.work.events, deliveries = change.work.deliveries,
        "{}", if paused { "recipe paused" } else { "recipe resumed" });
    Ok(change)
}

pub async fn delete_recipe(store: &dyn Store, id: &str) -> Result<(), ManageError> {
    refuse_file_managed(store, id).await?;
    if store.delete_recipe(id).await? {
        Ok(())
    } else {
        Err(ManageError::NotFound(id.to_owned()))
    }
}

/// A new webhook URL; the old one keeps working for `grace` (zero: it stops at once).
pub async fn rotate_url(
    store: &dyn Store,
    id: &str,
    grace: std::time::Duration,
) -> Result<StoredRecipe, ManageError> {
    store
        .rotate_token(id, grace)
        .await?
        .ok_or_else(|| ManageError::NotFound(id.to_owned()))
}

/// The dry run of a stored recipe on a sample payload (and optional headers).
pub async fn test_recipe(
    scripts: &ScriptEngine,
    recipe: std::sync::Arc<Recipe>,
    payload: serde_json::Value,
    headers: serde_json::Value,
) -> serde_json::Value {
    let scripts = scripts.clone();
    off_executor(move || {
        let trigger = if recipe.webhook.is_some() {
            "webhook"
        } else {
            "schedule"
        };
        let ctx = EventContext::new(
            recipe.id(),
            trigger,
            chrono::Utc::now(),
            payload.clone(),
            headers,
        );
        dry_run::evaluate(&scripts, &recipe, &ctx, &payload)
    })
    .await
}

/// Secret names are identifiers: letters, digits and '_', not starting with a digit.
pub fn check_secret_name(name: &str) -> Result<(), String> {
    let valid = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if valid {
        Ok(())
    } else {
        Err(format!(
            "`{name}` is not a valid secret name: use letters, digits and '_', not starting with a digit"
        ))
    }
}

/// The refusal of `value` for the secret `name`, when a stored recipe uses that secret as a
/// Standard Webhooks key (verify or action signing) and the value cannot be one
/// ([`crate::recipe::secrets`]). Names the recipe and field, never the value. CLI, API and UI
/// call this before setting a secret.
pub async fn secret_value_refusal(
    store: &dyn Store,
    name: &str,
    value: &str,
) -> Result<Option<String>, StoreError> {
    for stored in store.list_recipes().await? {
        let Ok(file) = toml::from_str::<RecipeFile>(&stored.source) else {
            continue;
        };
        let uses = file.standard_webhooks_secrets();
        let Some((field, _)) = uses.iter().find(|(_, used)| used == name) else {
            continue;
        };
        if let Err(error) = standard_webhooks_key(value) {
            return Ok(Some(format!(
                "secret `{name}` is a Standard Webhooks key of recipe `{}` ({field}), and this value {error}",
                stored.id
            )));
        }
    }
    Ok(None)
}

/// Creates an API token; returns `(id, token)`. The token is shown once, only its hash is kept.
pub async fn create_api_token(
    store: &dyn Store,
    name: &str,
) -> Result<(String, String), ManageError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(ManageError::Invalid(RecipeError::new(vec![
            FieldError::new("name", "a token needs a name (what uses it)"),
        ])));
    }
    let token = format!("sy_{}", crate::ids::new_webhook_token());
    let id = store
        .create_api_token(name, &crate::ids::hash_token(&token))
        .await?;
    Ok((id, token))
}

/// Recipes as TOML that imports back unchanged (`ids`: comma-separated; all when None).
pub async fn export(store: &dyn Store, ids: Option<&str>) -> Result<String, ManageError> {
    let recipes = match ids.filter(|i| !i.trim().is_empty()) {
        None => store.list_recipes().await?,
        Some(ids) => {
            let mut found = Vec::new();
            for id in ids.split(',').map(str::trim).filter(|i| !i.is_empty()) {
                found.push(
                    store
                        .get_recipe(id)
                        .await?
                        .ok_or_else(|| ManageError::NotFound(id.to_owned()))?,
                );
            }
            found
        }
    };
    let mut text = String::new();
    for (i, recipe) in recipes.iter().enumerate() {
        if i > 0 {
            text.push_str(crate::provision::DOCUMENT_SEPARATOR);
            text.push('\n');
        }
        text.push_str(&recipe.source);
        if !recipe.source.ends_with('\n') {
            text.push('\n');
        }
    }
    Ok(text)
}
