//! The JSON API under `/api`: everything the UI does, for programs. Bearer-token auth; errors
//! are `{"error": "..."}`; described by the OpenAPI document at `/api/openapi.json`.

pub mod admin;
pub mod error;
pub mod events;
pub mod pause;
pub mod presets;
pub mod recipes;
pub mod revisions;

use actix_web::{HttpResponse, get, web};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "Switchyard API", description = "Recipes, events, deliveries, secrets and tokens of a Switchyard server."),
    paths(
        recipes::list_recipes, recipes::save_recipe, recipes::get_recipe, recipes::delete_recipe,
        recipes::enable_recipe, recipes::disable_recipe, recipes::rotate_recipe, recipes::test_recipe,
        recipes::retry_dead, pause::pause_recipe, pause::resume_recipe,
        revisions::list_revisions, revisions::get_revision, revisions::restore_revision,
        events::list_events, events::get_event, events::replay_event, events::retry_delivery,
        admin::list_secrets, admin::set_secret, admin::delete_secret,
        admin::list_tokens, admin::create_token, admin::revoke_token,
        admin::import, admin::export,
        presets::list_presets, presets::apply_preset,
    ),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

#[get("/api/openapi.json")]
pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::JsonConfig::default().error_handler(error::json_body_error))
        .app_data(web::QueryConfig::default().error_handler(error::query_error))
        .service(openapi_json)
        .service(recipes::list_recipes)
        .service(recipes::save_recipe)
        .service(recipes::get_recipe)
        .service(recipes::delete_recipe)
        .service(recipes::enable_recipe)
        .service(recipes::disable_recipe)
        .service(recipes::rotate_recipe)
        .service(recipes::test_recipe)
        .service(revisions::list_revisions)
        .service(revisions::get_revision)
        .service(revisions::restore_revision)
        .service(recipes::retry_dead)
        .service(pause::pause_recipe)
        .service(pause::resume_recipe)
        .service(events::list_events)
        .service(events::get_event)
        .service(events::replay_event)
        .service(events::retry_delivery)
        .service(admin::list_secrets)
        .service(admin::set_secret)
        .service(admin::delete_secret)
        .service(admin::list_tokens)
        .service(admin::create_token)
        .service(admin::revoke_token)
        .service(admin::import)
        .service(admin::export)
        .service(presets::list_presets)
        .service(presets::apply_preset);
}
