//! Compiled recipes by (id, version): scripts compile once per recipe version, not per event.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::recipe::{Recipe, RecipeError};
use crate::script::ScriptEngine;
use crate::store::StoredRecipe;

pub struct RecipeCache {
    scripts: ScriptEngine,
    compiled: RwLock<HashMap<String, (i64, Arc<Recipe>)>>,
}

impl RecipeCache {
    pub fn new(scripts: ScriptEngine) -> Self {
        Self {
            scripts,
            compiled: RwLock::new(HashMap::new()),
        }
    }

    pub fn scripts(&self) -> &ScriptEngine {
        &self.scripts
    }

    pub fn get(&self, stored: &StoredRecipe) -> Result<Arc<Recipe>, RecipeError> {
        if let Some((version, recipe)) = self.compiled.read().expect("cache lock").get(&stored.id)
            && *version == stored.version
        {
            return Ok(recipe.clone());
        }
        let recipe = Arc::new(Recipe::from_toml(&stored.source, &self.scripts)?);
        self.compiled
            .write()
            .expect("cache lock")
            .insert(stored.id.clone(), (stored.version, recipe.clone()));
        Ok(recipe)
    }
}
