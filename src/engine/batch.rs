//! Deciding a claimed batch with a constant number of store reads and executor hops: one read
//! of the batch's recipes, one blocking hop per core for every dedupe key, one read of the keys
//! seen, one blocking hop per core for every filter and transform.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::Utc;

use super::cache::RecipeCache;
use super::{EventContext, dedupe_key, filter_and_transform, off_executor};
use crate::recipe::Recipe;
use crate::store::{EventRecord, RunOutcome, Store, StoreError};

/// One event on its way through the batch.
struct Pending {
    version: i64,
    /// `Err` once decided early (recipe gone or invalid, key script failed, duplicate).
    state: Result<(Arc<Recipe>, Arc<EventContext>), RunOutcome>,
    key: Option<String>,
}

/// Per event, in input order: the recipe version it ran against and its outcome.
pub(super) async fn decide_batch(
    store: &dyn Store,
    cache: &RecipeCache,
    events: &[EventRecord],
) -> Result<Vec<(i64, RunOutcome)>, StoreError> {
    let mut ids: Vec<String> = events.iter().map(|e| e.recipe_id.clone()).collect();
    ids.sort();
    ids.dedup();
    let stored: HashMap<String, _> = store
        .get_recipes(&ids)
        .await?
        .into_iter()
        .map(|recipe| (recipe.id.clone(), recipe))
        .collect();
    let failed = |error: String| RunOutcome::Failed { error };
    let mut pending: Vec<Pending> = events
        .iter()
        .map(|event| match stored.get(&event.recipe_id) {
            None => Pending {
                version: 0,
                state: Err(failed(format!(
                    "recipe `{}` no longer exists",
                    event.recipe_id
                ))),
                key: None,
            },
            Some(stored) => Pending {
                version: stored.version,
                state: cache
                    .get(stored)
                    .map(|recipe| (recipe, Arc::new(EventContext::from_record(event))))
                    .map_err(|error| failed(format!("recipe is invalid: {error}"))),
                key: None,
            },
        })
        .collect();

    let keys = run_scripts(cache, &pending, |scripts, recipe, ctx| {
        dedupe_key(scripts, recipe, ctx).map_err(|error| error.to_string())
    })
    .await;
    let mut probes = Vec::new();
    let mut probed = Vec::new();
    for (i, key) in keys {
        let item = &mut pending[i];
        match key {
            Err(error) => item.state = Err(failed(error)),
            Ok(key) => item.key = key,
        }
        if let (Some(key), Ok((recipe, _))) = (&item.key, &item.state)
            && !events[i].replay
        {
            probes.push((
                events[i].recipe_id.clone(),
                key.clone(),
                Utc::now() - recipe.dedupe_window,
            ));
            probed.push(i);
        }
    }
    for (i, seen) in probed
        .into_iter()
        .zip(store.dedupe_keys_seen(&probes).await?)
    {
        if seen {
            let key = pending[i].key.clone().unwrap_or_default();
            pending[i].state = Err(RunOutcome::Duplicate { key });
        }
    }

    let verdicts = run_scripts(cache, &pending, |scripts, recipe, ctx| {
        filter_and_transform(scripts, recipe, ctx)
    })
    .await;
    let mut verdicts: HashMap<usize, _> = verdicts.into_iter().collect();
    Ok(pending
        .into_iter()
        .zip(events)
        .enumerate()
        .map(|(i, (item, event))| {
            let outcome = match item.state {
                Err(outcome) => outcome,
                Ok((recipe, _)) => super::run_outcome(
                    &recipe,
                    item.key,
                    verdicts.remove(&i).expect("a verdict per live event"),
                    event.replay,
                ),
            };
            (item.version, outcome)
        })
        .collect())
}

/// Runs `script` for every event still undecided, in as few blocking tasks as there are cores
/// (scripts block; one task per core keeps heavy scripts parallel without a hop per event);
/// returns `(index, result)` pairs.
async fn run_scripts<T: Send + 'static>(
    cache: &RecipeCache,
    pending: &[Pending],
    script: fn(&crate::script::ScriptEngine, &Recipe, &EventContext) -> T,
) -> Vec<(usize, T)> {
    let live: Vec<(usize, Arc<Recipe>, Arc<EventContext>)> = pending
        .iter()
        .enumerate()
        .filter_map(|(i, item)| {
            let (recipe, ctx) = item.state.as_ref().ok()?;
            Some((i, recipe.clone(), ctx.clone()))
        })
        .collect();
    if live.is_empty() {
        return Vec::new();
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per_task = live.len().div_ceil(cores);
    let tasks = live.chunks(per_task).map(|chunk| {
        let (scripts, chunk) = (cache.scripts().clone(), chunk.to_vec());
        off_executor(move || {
            chunk
                .into_iter()
                .map(|(i, recipe, ctx)| (i, script(&scripts, &recipe, &ctx)))
                .collect::<Vec<_>>()
        })
    });
    futures_util::future::join_all(tasks)
        .await
        .into_iter()
        .flatten()
        .collect()
}
