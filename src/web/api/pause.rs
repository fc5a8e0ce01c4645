//! Pause and resume a recipe (`POST /api/recipes/{id}/pause`, `/resume`): the recipe keeps
//! accepting and storing events but runs nothing, and sends nothing, until it is resumed.

use actix_web::{HttpResponse, post, web};
use serde::Serialize;

use super::error::ApiError;
use super::recipes::view;
use crate::manage::{self, RecipeView};
use crate::store::Held;
use crate::web::auth::ApiCaller;
use crate::web::state::AppState;

/// What a pause or resume did.
#[derive(Serialize, utoipa::ToSchema)]
pub struct PauseResult {
    /// False when the recipe was already paused (pause) or not paused (resume).
    pub changed: bool,
    /// Pause: the events and deliveries it holds now. Resume: those it released, which run
    /// in order of arrival.
    pub held: Option<Held>,
    pub released: Option<Held>,
    pub recipe: RecipeView,
}

/// Pauses the recipe: webhooks still get 202 and are stored, schedule ticks are recorded as
/// skipped, queued deliveries (new, or waiting to retry) are held; nothing runs until resumed.
/// File-managed recipes too: pausing is operator state, not part of the file.
#[utoipa::path(params(("id" = String, Path)),
    responses((status = 200, body = PauseResult), (status = 404, description = "no recipe with this id")),
    security(("bearer" = [])))]
#[post("/api/recipes/{id}/pause")]
pub async fn pause_recipe(
    _: ApiCaller,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let change = manage::set_paused(state.store.as_ref(), &id, true).await?;
    Ok(HttpResponse::Ok().json(PauseResult {
        changed: change.changed,
        held: Some(change.work),
        released: None,
        recipe: view(&state, &change.recipe),
    }))
}

/// Resumes the recipe: the events it held run in order of arrival, its held deliveries are
/// attempted (each at its original due time, at once if that passed).
#[utoipa::path(params(("id" = String, Path)),
    responses((status = 200, body = PauseResult), (status = 404, description = "no recipe with this id")),
    security(("bearer" = [])))]
#[post("/api/recipes/{id}/resume")]
pub async fn resume_recipe(
    _: ApiCaller,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let change = manage::set_paused(state.store.as_ref(), &id, false).await?;
    state.events_ready.notify_one();
    state.deliveries_ready.notify_one();
    Ok(HttpResponse::Ok().json(PauseResult {
        changed: change.changed,
        held: None,
        released: Some(change.work),
        recipe: view(&state, &change.recipe),
    }))
}
