//! Recipe revisions (`/api/recipes/{id}/revisions`): every source a recipe has had, with when
//! and by whom; one of them with a diff against another; restoring one as the current recipe.

use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::recipes::{SavedRecipe, view};
use crate::manage::{self, DiffLine};
use crate::store::{RecipeRevision, RevisionSummary};
use crate::web::auth::ApiCaller;
use crate::web::state::AppState;

/// One revision with its TOML, and the line diff from `compare` when asked.
#[derive(Serialize, utoipa::ToSchema)]
pub struct RevisionDetail {
    #[serde(flatten)]
    pub revision: RecipeRevision,
    /// The version `diff` starts from (the older text, `-` lines).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compare: Option<i64>,
    /// Every line of both texts in order: `same`, `removed` (only in `compare`), `added`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<Vec<DiffLine>>,
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct CompareQuery {
    /// Another version of the recipe: answers with the line diff from it to this one.
    pub compare: Option<i64>,
}

/// A version from the path: a whole number, else 404 naming it.
pub(crate) fn parse_version(id: &str, version: &str) -> Result<i64, ApiError> {
    version.parse().map_err(|_| {
        ApiError::NotFound(format!(
            "recipe `{id}` has no version `{version}`: versions are whole numbers"
        ))
    })
}

/// The recipe's revisions, newest first. A deleted recipe keeps them (its events name them).
#[utoipa::path(params(("id" = String, Path)),
    responses((status = 200, body = Vec<RevisionSummary>), (status = 404, description = "no recipe with this id")),
    security(("bearer" = [])))]
#[get("/api/recipes/{id}/revisions")]
pub async fn list_revisions(
    _: ApiCaller,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let revisions = manage::revisions(state.store.as_ref(), &id).await?;
    Ok(HttpResponse::Ok().json(revisions))
}

/// One revision with its TOML; with `?compare=N`, also the line diff from version N to it.
#[utoipa::path(params(("id" = String, Path), ("version" = i64, Path), CompareQuery),
    responses((status = 200, body = RevisionDetail), (status = 404, description = "no recipe with this id, or no such version")),
    security(("bearer" = [])))]
#[get("/api/recipes/{id}/revisions/{version}")]
pub async fn get_revision(
    _: ApiCaller,
    path: web::Path<(String, String)>,
    query: web::Query<CompareQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (id, version) = path.into_inner();
    let version = parse_version(&id, &version)?;
    let revision = manage::revision(state.store.as_ref(), &id, version).await?;
    let diff = match query.compare {
        Some(other) => {
            let old = manage::revision(state.store.as_ref(), &id, other).await?;
            Some(manage::diff(&old.source, &revision.source))
        }
        None => None,
    };
    Ok(HttpResponse::Ok().json(RevisionDetail {
        revision,
        compare: query.compare,
        diff,
    }))
}

/// Saves the revision's TOML as the current recipe: a new revision by the caller ("restored
/// from version N"), or `unchanged` when the recipe has that text already. File-managed
/// recipes refuse (409): their file would overwrite the restore at the next start.
#[utoipa::path(params(("id" = String, Path), ("version" = i64, Path)),
    responses((status = 200, body = SavedRecipe),
        (status = 404, description = "no recipe with this id, or no such version"),
        (status = 409, description = "the recipe is managed by a file"),
        (status = 422, description = "the old revision is not valid any more")),
    security(("bearer" = [])))]
#[post("/api/recipes/{id}/revisions/{version}/restore")]
pub async fn restore_revision(
    caller: ApiCaller,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (id, version) = path.into_inner();
    let version = parse_version(&id, &version)?;
    let (kind, stored) = manage::restore_revision(
        state.store.as_ref(),
        state.cache.scripts(),
        &id,
        version,
        &caller.author,
    )
    .await?;
    Ok(HttpResponse::Ok().json(SavedRecipe {
        result: serde_json::to_value(kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        recipe: view(&state, &stored),
    }))
}
