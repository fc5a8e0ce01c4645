use actix_web::{HttpResponse, delete, get, post, put, web};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::error::{ApiError, extracted};
use super::recipes::view;
use crate::manage::{self, RecipeView};
use crate::provision::split_documents;
use crate::store::ApiTokenView;
use crate::web::auth::ApiCaller;
use crate::web::state::AppState;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SecretValue {
    pub value: String,
}

/// Secret names; values are never returned.
#[utoipa::path(responses((status = 200, body = Vec<String>)), security(("bearer" = [])))]
#[get("/api/secrets")]
pub async fn list_secrets(
    _: ApiCaller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(state.store.list_secret_names().await?))
}

#[utoipa::path(params(("name" = String, Path)), request_body = SecretValue, responses((status = 204), (status = 400)), security(("bearer" = [])))]
#[put("/api/secrets/{name}")]
pub async fn set_secret(
    _: ApiCaller,
    name: web::Path<String>,
    body: Result<web::Json<SecretValue>, actix_web::Error>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body = extracted(body)?;
    manage::check_secret_name(&name).map_err(ApiError::BadRequest)?;
    if body.value.is_empty() {
        return Err(ApiError::BadRequest("the secret value is empty".into()));
    }
    if let Some(refusal) =
        manage::secret_value_refusal(state.store.as_ref(), &name, &body.value).await?
    {
        return Err(ApiError::BadRequest(refusal));
    }
    state.store.set_secret(&name, &body.value).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(params(("name" = String, Path)), responses((status = 204), (status = 404)), security(("bearer" = [])))]
#[delete("/api/secrets/{name}")]
pub async fn delete_secret(
    _: ApiCaller,
    name: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    if !state.store.delete_secret(&name).await? {
        return Err(ApiError::NotFound(format!("no secret named `{name}`")));
    }
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewToken {
    pub name: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedToken {
    pub id: String,
    /// Shown once; only its hash is stored.
    pub token: String,
}

#[utoipa::path(responses((status = 200, body = Vec<ApiTokenView>)), security(("bearer" = [])))]
#[get("/api/tokens")]
pub async fn list_tokens(
    _: ApiCaller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(state.store.list_api_tokens().await?))
}

#[utoipa::path(request_body = NewToken, responses((status = 201, body = CreatedToken)), security(("bearer" = [])))]
#[post("/api/tokens")]
pub async fn create_token(
    _: ApiCaller,
    body: Result<web::Json<NewToken>, actix_web::Error>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body = extracted(body)?;
    let (id, token) = manage::create_api_token(state.store.as_ref(), &body.name)
        .await
        .map_err(|e| match e {
            manage::ManageError::Invalid(invalid) => ApiError::BadRequest(invalid.to_string()),
            other => other.into(),
        })?;
    Ok(HttpResponse::Created().json(CreatedToken { id, token }))
}

#[utoipa::path(params(("id" = String, Path)), responses((status = 204), (status = 404)), security(("bearer" = [])))]
#[delete("/api/tokens/{id}")]
pub async fn revoke_token(
    _: ApiCaller,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    if !state.store.revoke_api_token(&id).await? {
        return Err(ApiError::NotFound(format!(
            "no active token with id `{id}`"
        )));
    }
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ImportOutcome {
    pub id: Option<String>,
    /// created | updated | unchanged | error
    pub result: String,
    pub error: Option<String>,
    pub recipe: Option<RecipeView>,
}

/// Imports one or more recipe files (separated by the export separator line); each is
/// reported on its own, so one invalid file does not stop the others.
#[utoipa::path(request_body(content = String, content_type = "application/toml"),
    responses((status = 200, body = Vec<ImportOutcome>)), security(("bearer" = [])))]
#[post("/api/import")]
pub async fn import(
    caller: ApiCaller,
    body: Result<String, actix_web::Error>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body = extracted(body)?;
    let mut outcomes = Vec::new();
    for source in split_documents(&body) {
        outcomes.push(
            match manage::save_recipe(
                state.store.as_ref(),
                state.cache.scripts(),
                &source,
                &caller.author,
            )
            .await
            {
                Ok((kind, stored)) => ImportOutcome {
                    id: Some(stored.id.clone()),
                    result: json!(kind).as_str().unwrap_or_default().to_owned(),
                    error: None,
                    recipe: Some(view(&state, &stored)),
                },
                Err(manage::ManageError::Store(e)) => return Err(e.into()),
                Err(error) => ImportOutcome {
                    id: None,
                    result: "error".into(),
                    error: Some(error.to_string()),
                    recipe: None,
                },
            },
        );
    }
    Ok(HttpResponse::Ok().json(outcomes))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ExportQuery {
    /// Comma-separated recipe ids; all recipes when absent.
    pub ids: Option<String>,
}

/// Recipes as TOML; several are separated by the line `# --- switchyard recipe ---`.
#[utoipa::path(params(ExportQuery), responses((status = 200, content_type = "application/toml", body = String)), security(("bearer" = [])))]
#[get("/api/export")]
pub async fn export(
    _: ApiCaller,
    query: Result<web::Query<ExportQuery>, actix_web::Error>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = extracted(query)?;
    let text = manage::export(state.store.as_ref(), query.ids.as_deref()).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/toml; charset=utf-8")
        .body(text))
}
