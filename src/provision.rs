//! Getting recipes into the store: from files (CLI import, `serve --recipes`) or from text.

use std::path::{Path, PathBuf};

use crate::recipe::secrets::standard_webhooks_key;
use crate::recipe::{FieldError, Recipe, RecipeError};
use crate::script::ScriptEngine;
use crate::store::{RecipeUpsert, Store, StoreError, UpsertResult};

/// Separates recipes when several are exported to one stream; `import` splits on it.
pub const DOCUMENT_SEPARATOR: &str = "# --- switchyard recipe ---";

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0}")]
    Invalid(#[from] RecipeError),
    #[error("{path}: cannot read: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Validates one recipe text and creates or updates it by id; a change of source is a new
/// revision by `author` ("file PATH" for files).
pub async fn import_source(
    store: &dyn Store,
    scripts: &ScriptEngine,
    source: &str,
    managed_by: Option<String>,
    author: &str,
) -> Result<UpsertResult, ImportError> {
    let recipe = Recipe::from_toml(source, scripts)?;
    check_standard_webhooks_keys(store, &recipe).await?;
    let upsert = RecipeUpsert {
        id: recipe.file.id.clone(),
        name: recipe.file.name.clone(),
        enabled: recipe.file.enabled,
        source: source.to_owned(),
        managed_by,
        author: Some(author.to_owned()),
    };
    Ok(store.upsert_recipe(upsert).await?)
}

/// Refuses a recipe whose Standard Webhooks secrets (verify or action signing) are set to values
/// that cannot be keys; secrets not set yet (or unreadable here) are checked when they are set.
async fn check_standard_webhooks_keys(
    store: &dyn Store,
    recipe: &Recipe,
) -> Result<(), ImportError> {
    let mut errors = Vec::new();
    for (field, name) in recipe.file.standard_webhooks_secrets() {
        let value = match store.get_secret(&name).await {
            Ok(Some(value)) => value,
            Ok(None) | Err(StoreError::SecretUnreadable(_)) => continue,
            Err(error) => return Err(error.into()),
        };
        if let Err(error) = standard_webhooks_key(&value) {
            errors.push(FieldError::new(field, format!("secret `{name}` {error}")));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(RecipeError::new(errors).into())
    }
}

/// The recipe texts of one file (usually one; several when it is an export of many).
pub fn read_documents(path: &Path) -> Result<Vec<String>, ImportError> {
    let text = std::fs::read_to_string(path).map_err(|source| ImportError::Read {
        path: path.display().to_string(),
        source,
    })?;
    Ok(split_documents(&text))
}

pub fn split_documents(text: &str) -> Vec<String> {
    let mut documents = vec![String::new()];
    for line in text.split_inclusive('\n') {
        if line.trim_end() == DOCUMENT_SEPARATOR {
            documents.push(String::new());
        } else {
            documents.last_mut().expect("never empty").push_str(line);
        }
    }
    documents.retain(|d| !d.trim().is_empty());
    documents
}

/// The `*.toml` files of a folder, sorted by name.
pub fn recipe_files(dir: &Path) -> Result<Vec<PathBuf>, ImportError> {
    let read = |source| ImportError::Read {
        path: dir.display().to_string(),
        source,
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(read)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    files.sort();
    Ok(files)
}

/// Imports every recipe file of a folder as file-managed. Stops at the first invalid file,
/// naming it: a server should not start half-provisioned.
pub async fn provision_dir(
    store: &dyn Store,
    scripts: &ScriptEngine,
    dir: &Path,
) -> Result<Vec<UpsertResult>, ImportError> {
    let mut results = Vec::new();
    for path in recipe_files(dir)? {
        let name = path.display().to_string();
        for source in read_documents(&path)? {
            let author = format!("file {name}");
            let result = import_source(store, scripts, &source, Some(name.clone()), &author)
                .await
                .map_err(|e| match e {
                    ImportError::Invalid(error) => ImportError::Invalid(error.in_source(&name)),
                    other => other,
                })?;
            results.push(result);
        }
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exported_streams_split_back_into_documents() {
        let text = format!("id = \"a\"\n{DOCUMENT_SEPARATOR}\nid = \"b\"\n");
        assert_eq!(split_documents(&text), vec!["id = \"a\"\n", "id = \"b\"\n"]);
        assert_eq!(split_documents("id = \"x\"\n"), vec!["id = \"x\"\n"]);
    }
}
