//! Recipe revisions: each change of source is a revision with its time and author, listed
//! newest first; a save that changes nothing writes none; revisions outlive a delete.

use std::sync::Arc;
use switchyard::store::{RecipeUpsert, Store, UpsertKind};

use super::Raw;

fn upsert(source: &str, enabled: bool, author: &str) -> RecipeUpsert {
    RecipeUpsert {
        id: "rev".into(),
        name: "Revisions".into(),
        enabled,
        source: source.into(),
        managed_by: None,
        author: Some(author.into()),
    }
}

pub(super) async fn every_change_of_source_is_a_revision_with_its_author_and_nothing_else_is(
    store: Arc<dyn Store>,
    _raw: &Raw,
) {
    let before = chrono::Utc::now() - chrono::Duration::seconds(1);
    store
        .upsert_recipe(upsert("source 1", true, "user alice"))
        .await
        .unwrap();
    let same = store
        .upsert_recipe(upsert("source 1", true, "token ci"))
        .await
        .unwrap();
    assert_eq!(same.kind, UpsertKind::Unchanged);
    store
        .upsert_recipe(upsert("source 2", true, "token ci"))
        .await
        .unwrap();
    // Only `enabled` differs (not the source): no new version, so no revision.
    let toggled = store
        .upsert_recipe(upsert("source 2", false, "user bob"))
        .await
        .unwrap();
    assert_eq!(toggled.recipe.version, 2);

    let revisions = store.list_revisions("rev").await.unwrap();
    let seen: Vec<(i64, Option<&str>)> = revisions
        .iter()
        .map(|r| (r.version, r.author.as_deref()))
        .collect();
    assert_eq!(
        seen,
        [(2, Some("token ci")), (1, Some("user alice"))],
        "newest first; the unchanged save and the enabled-only change wrote none"
    );
    assert!(revisions.iter().all(|r| r.created_at >= before));

    let one = store.get_revision("rev", 1).await.unwrap().unwrap();
    assert_eq!(
        (one.version, one.author.as_deref(), one.source.as_str()),
        (1, Some("user alice"), "source 1")
    );
    assert_eq!(one.created_at, revisions[1].created_at);
    let two = store.get_revision("rev", 2).await.unwrap().unwrap();
    assert_eq!(two.source, "source 2");
    assert_eq!(store.get_revision("rev", 3).await.unwrap(), None);
    assert!(store.list_revisions("nope").await.unwrap().is_empty());

    assert!(store.delete_recipe("rev").await.unwrap());
    assert_eq!(
        store.list_revisions("rev").await.unwrap().len(),
        2,
        "revisions outlive the recipe, like the runs that name them"
    );
}
