//! Compiled actions by recipe version. A delivery names its run's recipe version and the
//! action's index in it; the action (templates parsed, retry schedule read) is compiled once per
//! version from the version's stored source and shared by every attempt, in this worker.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

use serde_json::Value;

use super::request::secret_names;
use crate::recipe::file::ActionSection;
use crate::recipe::{Action, RecipeFile};
use crate::store::{ClaimedDelivery, DeliveryAction, RecipeStore, StoreError};

/// Versions kept at most; past it the cache starts over (recompiling is cheap, growing without
/// bound as recipes are edited is not).
const MAX_VERSIONS: usize = 1024;

/// An action ready for attempts, with the secret names its templates and signing need.
#[derive(Debug)]
pub(super) struct CompiledAction {
    pub(super) action: Action,
    pub(super) secret_names: Vec<String>,
    /// Whether another action of the recipe runs `after` this one (its response is kept).
    pub(super) keep_response: bool,
}

/// A compiled action, or why the stored one is invalid (the attempt fails with it).
pub(super) type Compiled = Result<Arc<CompiledAction>, String>;

/// What one recipe version's source gives: each action, or one reason for all of them.
enum VersionActions {
    Actions(Vec<Compiled>),
    Invalid(String),
}

/// Compiled actions by `(recipe id, version)`.
#[derive(Default)]
pub(super) struct ActionCache {
    versions: RwLock<HashMap<(String, i64), Arc<VersionActions>>>,
}

impl ActionCache {
    /// Compiles the versions these deliveries name that are not compiled yet, reading their
    /// sources in one store statement (none when all are compiled).
    pub(super) async fn load(
        &self,
        store: &(dyn RecipeStore + Send + Sync),
        deliveries: &[ClaimedDelivery],
    ) -> Result<(), StoreError> {
        let keys = deliveries
            .iter()
            .filter_map(|d| match d.action {
                DeliveryAction::Version { version, .. } => Some((d.recipe_id.clone(), version)),
                DeliveryAction::Copied(_) => None,
            })
            .collect();
        self.versions(store, keys).await.map(drop)
    }

    /// The delivery's compiled action, or why the stored one is invalid: from this cache, else
    /// compiled from its version's source (one store read).
    pub(super) async fn action_for(
        &self,
        store: &(dyn RecipeStore + Send + Sync),
        delivery: &ClaimedDelivery,
    ) -> Result<Compiled, StoreError> {
        let (version, index) = match &delivery.action {
            DeliveryAction::Version { version, index } => (*version, *index),
            DeliveryAction::Copied(section) => return Ok(compile_copy(section)),
        };
        let key = (delivery.recipe_id.clone(), version);
        let mut found = self.versions(store, HashSet::from([key.clone()])).await?;
        let actions = found
            .remove(&key)
            .expect("`versions` gives every version asked for");
        Ok(match actions.as_ref() {
            VersionActions::Invalid(reason) => Err(reason.clone()),
            VersionActions::Actions(actions) => actions.get(index).cloned().unwrap_or_else(|| {
                Err(format!(
                    "version {version} of recipe `{}` has no action [{index}]",
                    delivery.recipe_id
                ))
            }),
        })
    }

    /// Each version asked for: compiled already, or compiled now from the sources read in one
    /// statement (a version not stored compiles to the reason).
    async fn versions(
        &self,
        store: &(dyn RecipeStore + Send + Sync),
        keys: HashSet<(String, i64)>,
    ) -> Result<HashMap<(String, i64), Arc<VersionActions>>, StoreError> {
        let mut found = HashMap::with_capacity(keys.len());
        let mut missing = Vec::new();
        {
            let versions = self.versions.read().expect("action cache lock");
            for key in keys {
                match versions.get(&key) {
                    Some(actions) => {
                        found.insert(key, actions.clone());
                    }
                    None => missing.push(key),
                }
            }
        }
        if missing.is_empty() {
            return Ok(found);
        }
        let mut sources: HashMap<(String, i64), String> = store
            .recipe_versions(&missing)
            .await?
            .into_iter()
            .map(|v| ((v.recipe_id, v.version), v.source))
            .collect();
        let mut versions = self.versions.write().expect("action cache lock");
        if versions.len() + missing.len() > MAX_VERSIONS {
            versions.clear();
        }
        for key in missing {
            let compiled = Arc::new(match sources.remove(&key) {
                Some(source) => compile_source(&source),
                None => VersionActions::Invalid(format!(
                    "version {} of recipe `{}` is not stored",
                    key.1, key.0
                )),
            });
            versions.insert(key.clone(), compiled.clone());
            found.insert(key, compiled);
        }
        Ok(found)
    }
}

/// Every action of a recipe version's source, compiled as a copied section would be.
fn compile_source(source: &str) -> VersionActions {
    match toml::from_str::<RecipeFile>(source) {
        Ok(file) => VersionActions::Actions(
            file.actions
                .iter()
                .map(|section| {
                    let followed = file
                        .actions
                        .iter()
                        .any(|a| a.after.as_deref() == Some(section.name.as_str()));
                    compile_section(section, followed)
                })
                .collect(),
        ),
        Err(error) => VersionActions::Invalid(format!("the recipe source does not parse: {error}")),
    }
}

/// An action section copied into a delivery row before deliveries named their version.
fn compile_copy(section: &Value) -> Compiled {
    serde_json::from_value::<ActionSection>(section.clone())
        .map_err(|e| e.to_string())
        .and_then(|section| compile_section(&section, false))
}

fn compile_section(section: &ActionSection, keep_response: bool) -> Compiled {
    let action = Action::from_section(section, "action").map_err(|errors| {
        errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ")
    })?;
    Ok(Arc::new(CompiledAction {
        secret_names: secret_names(&action),
        action,
        keep_response,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_action_of_a_source_compiles_on_its_own() {
        let source = r#"
id = "r"
name = "R"
[trigger.webhook]
[[action]]
name = "good"
url = "https://example.com/{{ output.id }}"
headers = { Authorization = "Bearer {{ secrets.KEY }}" }
retry = { schedule = ["0s", "5s"] }
[[action]]
name = "bad"
url = "https://example.com/"
method = "BREW"
"#;
        let VersionActions::Actions(actions) = compile_source(source) else {
            panic!("the source parses");
        };
        let good = actions[0].as_ref().expect("the first action compiles");
        assert_eq!(good.secret_names, ["KEY"]);
        assert_eq!(good.action.retry_schedule.len(), 2);
        let bad = actions[1].as_ref().expect_err("the second does not");
        assert!(bad.contains("action.method"), "{bad}");
        assert!(matches!(
            compile_source("not = [toml"),
            VersionActions::Invalid(reason) if reason.contains("does not parse")
        ));
    }
}
