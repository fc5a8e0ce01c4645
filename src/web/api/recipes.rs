use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};

use super::error::{ApiError, extracted};
use crate::manage::{self, RecipeView};
use crate::recipe::RecipeFile;
use crate::store::{Held, PausedTicks, StoredRecipe, UpsertKind, WebhookRefusals};
use crate::web::auth::ApiCaller;
use crate::web::state::AppState;

#[derive(Serialize, utoipa::ToSchema)]
pub struct SavedRecipe {
    /// created | updated | unchanged
    pub result: String,
    pub recipe: RecipeView,
}

/// A recipe with how its webhook has been refused.
#[derive(Serialize, utoipa::ToSchema)]
pub struct RecipeDetail {
    #[serde(flatten)]
    pub recipe: RecipeView,
    pub refusals: Refusals,
    /// What a paused recipe holds: events waiting for their run, deliveries not attempted yet.
    pub held: Held,
    /// Schedule ticks skipped because the recipe was paused (recorded with reason `paused`);
    /// in `GET /api/recipes/{id}` of a scheduled recipe only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paused_ticks: Option<PausedTicks>,
}

/// Webhook calls the recipe's `verify` check refused (401), since the recipe was created.
#[derive(Serialize, Default, utoipa::ToSchema)]
pub struct Refusals {
    pub count: u64,
    /// Why the latest call was refused (names a header or the check; never a secret).
    pub last_reason: Option<String>,
    pub last_at: Option<DateTime<Utc>>,
}

impl From<WebhookRefusals> for Refusals {
    fn from(refusals: WebhookRefusals) -> Self {
        Refusals {
            count: refusals.count,
            last_reason: Some(refusals.last_reason),
            last_at: Some(refusals.last_at),
        }
    }
}

/// Each recipe with its refusals (one query for all of them).
async fn details(
    state: &AppState,
    recipes: &[StoredRecipe],
) -> Result<Vec<RecipeDetail>, ApiError> {
    let manage::ListExtras { mut refusals, held } =
        manage::list_extras(state.store.as_ref()).await?;
    Ok(recipes
        .iter()
        .map(|stored| RecipeDetail {
            recipe: view(state, stored),
            refusals: refusals
                .remove(&stored.id)
                .map(Refusals::from)
                .unwrap_or_default(),
            held: held.get(&stored.id).copied().unwrap_or_default(),
            paused_ticks: None,
        })
        .collect())
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

/// Every recipe, with its state (enabled, paused, disabled), its webhook refusals and what it
/// holds while paused (`held.events`, `held.deliveries`).
#[utoipa::path(responses((status = 200, body = Vec<RecipeDetail>)), security(("bearer" = [])))]
#[get("/api/recipes")]
pub async fn list_recipes(
    _: ApiCaller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let recipes = state.store.list_recipes().await?;
    Ok(HttpResponse::Ok().json(details(&state, &recipes).await?))
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
    caller: ApiCaller,
    req: HttpRequest,
    body: Result<web::Bytes, actix_web::Error>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body = extracted(body)?;
    let source = recipe_source(&req, &body)?;
    let (kind, stored) = manage::save_recipe(
        state.store.as_ref(),
        state.cache.scripts(),
        &source,
        &caller.author,
    )
    .await?;
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

/// One recipe, with `refusals`: how many webhook calls its `verify` check refused, and the
/// reason and time of the latest; `held` while paused, and `paused_ticks` when scheduled.
#[utoipa::path(params(("id" = String, Path)), responses((status = 200, body = RecipeDetail), (status = 404)), security(("bearer" = [])))]
#[get("/api/recipes/{id}")]
pub async fn get_recipe(
    _: ApiCaller,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let stored = find(&state, &id).await?;
    let mut detail = details(&state, std::slice::from_ref(&stored)).await?.pop();
    let scheduled = state.cache.get(&stored).is_ok_and(|r| r.schedule.is_some());
    if let Some(detail) = detail.as_mut().filter(|_| scheduled) {
        detail.paused_ticks = Some(state.store.paused_ticks(&stored.id).await?);
    }
    Ok(HttpResponse::Ok().json(detail))
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
    caller: ApiCaller,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let stored = manage::set_enabled(
        state.store.as_ref(),
        state.cache.scripts(),
        &id,
        true,
        &caller.author,
    )
    .await?;
    Ok(HttpResponse::Ok().json(view(&state, &stored)))
}

#[utoipa::path(params(("id" = String, Path)), responses((status = 200, body = RecipeView)), security(("bearer" = [])))]
#[post("/api/recipes/{id}/disable")]
pub async fn disable_recipe(
    caller: ApiCaller,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let stored = manage::set_enabled(
        state.store.as_ref(),
        state.cache.scripts(),
        &id,
        false,
        &caller.author,
    )
    .await?;
    Ok(HttpResponse::Ok().json(view(&state, &stored)))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct RotateQuery {
    /// How long the old URL keeps working, e.g. "1h" (default: SWITCHYARD_ROTATE_GRACE, none).
    pub grace: Option<String>,
}

/// A new webhook URL; the old one stops working at once, or after `grace`.
#[utoipa::path(params(("id" = String, Path), RotateQuery), responses((status = 200, body = RecipeView), (status = 400)), security(("bearer" = [])))]
#[post("/api/recipes/{id}/rotate")]
pub async fn rotate_recipe(
    _: ApiCaller,
    id: web::Path<String>,
    query: web::Query<RotateQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let grace = match query.grace.as_deref().filter(|g| !g.is_empty()) {
        None => state.settings.rotate_grace,
        Some(text) => humantime::parse_duration(text)
            .map_err(|e| ApiError::BadRequest(format!("grace `{text}` is not a duration: {e}")))?,
    };
    let stored = manage::rotate_url(state.store.as_ref(), &id, grace).await?;
    Ok(HttpResponse::Ok().json(view(&state, &stored)))
}

/// Dry run: body = a sample payload. Returns the filter verdict, transform output and the
/// requests the actions would send (secrets as references). Sends nothing, stores nothing.
#[utoipa::path(params(("id" = String, Path)), request_body = Object,
    responses((status = 200, description = "`filter`, `filter_reason`, `conditions` (rows filters: each row's verdict and the value it compared), `dedupe_key`, `output`, `requests`, `error`")),
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
