//! Recipe versions: every source a recipe had stays readable under its number, and a number
//! names one source only, even across a delete; deliveries read their action from it.

use std::sync::Arc;
use switchyard::store::{RecipeUpsert, RecipeVersion, Store};

use super::Raw;

fn upsert(id: &str, source: &str) -> RecipeUpsert {
    RecipeUpsert {
        id: id.into(),
        name: "Versions".into(),
        enabled: true,
        source: source.into(),
        managed_by: None,
        author: None,
    }
}

pub(super) async fn a_recipe_created_again_after_a_delete_goes_on_from_its_last_version(
    store: Arc<dyn Store>,
    _raw: &Raw,
) {
    store.upsert_recipe(upsert("v", "source 1")).await.unwrap();
    let second = store.upsert_recipe(upsert("v", "source 2")).await.unwrap();
    assert_eq!(second.recipe.version, 2);
    store
        .upsert_recipe(upsert("other", "other 1"))
        .await
        .unwrap();
    assert!(store.delete_recipe("v").await.unwrap());
    let again = store.upsert_recipe(upsert("v", "source 3")).await.unwrap();
    assert_eq!(
        again.recipe.version, 3,
        "versions 1 and 2 keep naming the deleted recipe's sources"
    );

    let keys: Vec<(String, i64)> = [("v", 1), ("v", 2), ("v", 3), ("v", 4), ("other", 1)]
        .iter()
        .map(|(id, version)| (id.to_string(), *version))
        .collect();
    let mut found = store.recipe_versions(&keys).await.unwrap();
    found.sort_by(|a, b| (&a.recipe_id, a.version).cmp(&(&b.recipe_id, b.version)));
    let version = |recipe_id: &str, version: i64, source: &str| RecipeVersion {
        recipe_id: recipe_id.into(),
        version,
        source: source.into(),
    };
    assert_eq!(
        found,
        [
            version("other", 1, "other 1"),
            version("v", 1, "source 1"),
            version("v", 2, "source 2"),
            version("v", 3, "source 3"),
        ],
        "one row per stored pair; a pair never stored is left out"
    );
    assert!(store.recipe_versions(&[]).await.unwrap().is_empty());
}
