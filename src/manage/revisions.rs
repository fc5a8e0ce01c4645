//! Recipe revisions for the API, UI and CLI: list, read, compare and restore. A revision is a
//! stored version of a recipe's source (`recipe_versions`), written by every save that changed it.

use serde::Serialize;
use similar::{ChangeTag, TextDiff};

use super::{ManageError, refuse_file_managed, save_recipe};
use crate::script::ScriptEngine;
use crate::store::{RecipeRevision, RevisionSummary, Store, StoredRecipe, UpsertKind};

/// Every revision of a recipe, newest first. A deleted recipe keeps its revisions (runs name
/// them); an id that never had one is not found.
pub async fn revisions(store: &dyn Store, id: &str) -> Result<Vec<RevisionSummary>, ManageError> {
    let revisions = store.list_revisions(id).await?;
    if revisions.is_empty() {
        return Err(ManageError::NotFound(id.to_owned()));
    }
    Ok(revisions)
}

/// One revision by version; names the recipe when it has none, else the missing version.
pub async fn revision(
    store: &dyn Store,
    id: &str,
    version: i64,
) -> Result<RecipeRevision, ManageError> {
    if let Some(revision) = store.get_revision(id, version).await? {
        return Ok(revision);
    }
    if store.list_revisions(id).await?.is_empty() {
        return Err(ManageError::NotFound(id.to_owned()));
    }
    Err(ManageError::RevisionNotFound {
        id: id.to_owned(),
        version,
    })
}

/// Saves an old revision's source as the current recipe: itself a new revision, by `who`
/// ("restored from version N"), unless the recipe already has that source (`Unchanged`).
/// File-managed recipes refuse: their file would overwrite it at the next start. A deleted
/// recipe's revision restores it (created again, with a new webhook URL).
pub async fn restore_revision(
    store: &dyn Store,
    scripts: &ScriptEngine,
    id: &str,
    version: i64,
    who: &str,
) -> Result<(UpsertKind, StoredRecipe), ManageError> {
    let old = revision(store, id, version).await?;
    refuse_file_managed(store, id).await?;
    let author = format!("{who} (restored from version {version})");
    let (kind, stored) = save_recipe(store, scripts, &old.source, &author).await?;
    tracing::info!(recipe = %id, version, ?kind, "revision restored");
    Ok((kind, stored))
}

/// Whether a diff line is kept, removed (only in the older text) or added (only in the newer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DiffTag {
    Same,
    Removed,
    Added,
}

impl DiffTag {
    /// Its name as serialized: same, removed or added.
    pub fn as_str(self) -> &'static str {
        match self {
            DiffTag::Same => "same",
            DiffTag::Removed => "removed",
            DiffTag::Added => "added",
        }
    }
}

/// One line of a line diff, without its line ending.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DiffLine {
    pub tag: DiffTag,
    pub text: String,
}

impl DiffLine {
    /// The unified-diff mark: ' ', '-' or '+'.
    pub fn mark(&self) -> char {
        match self.tag {
            DiffTag::Same => ' ',
            DiffTag::Removed => '-',
            DiffTag::Added => '+',
        }
    }
}

/// The line diff from `old` to `new` (every line, in order; Myers' algorithm).
pub fn diff(old: &str, new: &str) -> Vec<DiffLine> {
    TextDiff::from_lines(old, new)
        .iter_all_changes()
        .map(|change| DiffLine {
            tag: match change.tag() {
                ChangeTag::Equal => DiffTag::Same,
                ChangeTag::Delete => DiffTag::Removed,
                ChangeTag::Insert => DiffTag::Added,
            },
            text: change.value().trim_end_matches(['\n', '\r']).to_owned(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_line_shows_as_removed_then_added() {
        let lines = diff("a = 1\nb = 2\nc = 3\n", "a = 1\nb = 20\nc = 3\n");
        let marked: Vec<String> = lines
            .iter()
            .map(|l| format!("{}{}", l.mark(), l.text))
            .collect();
        assert_eq!(marked, [" a = 1", "-b = 2", "+b = 20", " c = 3"]);
    }

    #[test]
    fn equal_texts_have_no_changed_line() {
        let lines = diff("a = 1\nb = 2\n", "a = 1\nb = 2\n");
        assert!(lines.iter().all(|l| l.tag == DiffTag::Same));
        assert_eq!(lines.len(), 2);
    }
}
