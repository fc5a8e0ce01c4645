use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use serde::Serialize;
use serde_json::{Value, json};

use super::error::{ApiError, extracted};
use crate::manage::{self, RecipeView};
use crate::recipe::RecipeFile;
use crate::startup::AppState;
use crate::store::{StoredRecipe, UpsertKind};
use crate::web::auth::ApiCaller;

#[derive(Serialize, utoipa::ToSchema)]
pub struct SavedRecipe {
    /// created | updated | unchanged
    pub result: String,
    pub recipe: RecipeView,
}

pub(super) fn view(state: &AppState, stored: &StoredRecipe) -> RecipeView {
    let compiled = state.cache.get(stored).ok();
    manage::view(&state.public_base, stored, compiled.as_deref())
}

async fn find(state: &AppState, id: &str) -> Result<StoredRecipe, ApiError> {
    state
        .store
        .get_recipe(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no recipe with id `{id}`")))
}

/// Every recipe.
#[utoipa::path(responses((status = 200, body = Vec<RecipeView>)), security(("bearer" = [])))]
#[get("/api/recipes")]
pub async fn list_recipes(
    _: ApiCaller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let recipes = state.store.list_recipes().await?;
    let views: Vec<RecipeView> = recipes.iter().map(|r| view(&state, r)).collect();
    Ok(HttpResponse::Ok().json(views))
}

/// Creates or updates a recipe by id. Body: the TOML file (`Content-Type: application/toml`)
/// or the same structure as JSON.
#[utoipa::path(
    request_body(content = String, content_type = "application/toml"),
    responses(
        (status = 201, body = SavedRecipe, description = "created"),
        (status = 200, body = SavedRecipe, description = "updated or unchanged"),
        (status = 422, description = "invalid recipe; `errors` lists each field"),
        (status = 409, description = "the recipe is managed by a file")),
    security(("bearer" = [])))]
#[post("/api/recipes")]
pub async fn save_recipe(
    _: ApiCaller,
    req: HttpRequest,
    body: Result<web::Bytes, actix_web::Error>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body = extracted(body)?;
    let source = recipe_source(&req, &body)?;
    let (kind, stored) =
        manage::save_recipe(state.store.as_ref(), state.cache.scripts(), &source).await?;
    let saved = SavedRecipe {
        result: serde_json::to_value(kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        recipe: view(&state, &stored),
    };
    Ok(match kind {
        UpsertKind::Created => HttpResponse::Created().json(saved),
        _ => HttpResponse::Ok().json(saved),
    })
}

fn recipe_source(req: &HttpRequest, body: &[u8]) -> Result<String, ApiError> {
    let content_type = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/toml");
    if content_type.starts_with("application/json") {
        let file: RecipeFile = serde_json::from_slice(body).map_err(|e| ApiError::Invalid {
            message: format!("invalid recipe JSON: {e}"),
            errors: vec![],
        })?;
        return toml::to_string_pretty(&file).map_err(|e| ApiError::BadRequest(e.to_string()));
    }
    String::from_utf8(body.to_vec())
        .map_err(|_| ApiError::BadRequest("the recipe file is not UTF-8".into()))
}

#[utoipa::path(params(("id" = String, Path)), responses((status = 200, body = RecipeView), (status = 404)), security(("bearer" = [])))]
#[get("/api/recipes/{id}")]
pub async fn get_recipe(
    _: ApiCaller,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let stored = find(&state, &id).await?;
    Ok(HttpResponse::Ok().json(view(&state, &stored)))
}

#[utoipa::path(params(("id" = String, Path)), responses((status = 204), (status = 404), (status = 409)), security(("bearer" = [])))]
#[delete("/api/recipes/{id}")]
pub async fn delete_recipe(
    _: ApiCaller,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    manage::delete_recipe(state.store.as_ref(), &id).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(params(("id" = String, Path)), responses((status = 200, body = RecipeView)), security(("bearer" = [])))]
#[post("/api/recipes/{id}/enable")]
pub async fn enable_recipe(
    _: ApiCaller,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let stored =
        manage::set_enabled(state.store.as_ref(), state.cache.scripts(), &id, true).await?;
    Ok(HttpResponse::Ok().json(view(&state, &stored)))
}

#[utoipa::path(params(("id" = String, Path)), responses((status = 200, body = RecipeView)), security(("bearer" = [])))]
#[post("/api/recipes/{id}/disable")]
pub async fn disable_recipe(
    _: ApiCaller,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let stored =
        manage::set_enabled(state.store.as_ref(), state.cache.scripts(), &id, false).await?;
    Ok(HttpResponse::Ok().json(view(&state, &stored)))
}

/// A new webhook URL; the old one stops working at once.
#[utoipa::path(params(("id" = String, Path)), responses((status = 200, body = RecipeView)), security(("bearer" = [])))]
#[post("/api/recipes/{id}/rotate")]
pub async fn rotate_recipe(
    _: ApiCaller,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let stored = manage::rotate_url(state.store.as_ref(), &id).await?;
    Ok(HttpResponse::Ok().json(view(&state, &stored)))
}

/// Dry run: body = a sample payload. Returns the filter verdict, transform output and the
/// requests the actions would send (secrets as references). Sends nothing, stores nothing.
#[utoipa::path(params(("id" = String, Path)), request_body = Object,
    responses((status = 200, description = "`filter`, `dedupe_key`, `output`, `requests`, `error`")),
    security(("bearer" = [])))]
#[post("/api/recipes/{id}/test")]
pub async fn test_recipe(
    _: ApiCaller,
    id: web::Path<String>,
    payload: Result<web::Json<Value>, actix_web::Error>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let payload = extracted(payload)?;
    let stored = find(&state, &id).await?;
    let recipe = state
        .cache
        .get(&stored)
        .map_err(|e| ApiError::Conflict(e.to_string()))?;
    let headers = json!({ "content-type": "application/json" });
    let report =
        manage::test_recipe(state.cache.scripts(), recipe, payload.into_inner(), headers).await;
    Ok(HttpResponse::Ok().json(report))
}

/// Puts every dead delivery of the recipe back in the queue.
#[utoipa::path(params(("id" = String, Path)), responses((status = 200, description = "`{\"retried\": n}`")), security(("bearer" = [])))]
#[post("/api/recipes/{id}/retry-dead")]
pub async fn retry_dead(
    _: ApiCaller,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    find(&state, &id).await?;
    let retried = state.store.retry_dead(&id).await?;
    state.deliveries_ready.notify_one();
    Ok(HttpResponse::Ok().json(json!({ "retried": retried })))
}
