//! App presets and example recipes for programs and the editor: the list (with each preset's
//! inputs and sample) and the sections a preset produces from inputs.

use std::collections::BTreeMap;

use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};

use super::error::{ApiError, extracted};
use crate::recipe::FieldError;
use crate::recipe::presets::{self, Example, Preset, PresetKind};
use crate::web::auth::ApiCaller;

/// Every preset (triggers first) and every example recipe.
#[derive(Serialize, utoipa::ToSchema)]
pub struct PresetList {
    pub presets: &'static [Preset],
    pub examples: Vec<Example>,
}

/// The inputs for one preset, by input name (all values are text; missing ones take the
/// preset's defaults).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplyRequest {
    #[serde(default)]
    pub inputs: BTreeMap<String, String>,
}

/// The recipe sections a preset produced, as JSON and as recipe-file TOML.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AppliedPreset {
    /// Trigger presets: `trigger` (and `dedupe`…); action presets: `action`, a list of one.
    #[schema(value_type = Object)]
    pub sections: toml::Table,
    pub toml: String,
}

/// The trigger and action presets with their inputs and samples, and the example recipes.
#[utoipa::path(responses((status = 200, body = PresetList)), security(("bearer" = [])))]
#[get("/api/presets")]
pub async fn list_presets(_: ApiCaller) -> HttpResponse {
    HttpResponse::Ok().json(PresetList {
        presets: presets::all(),
        examples: presets::examples(),
    })
}

/// The sections one preset produces with these inputs. `kind` is `trigger` or `action`.
#[utoipa::path(
    params(("kind" = String, Path), ("id" = String, Path)),
    request_body = ApplyRequest,
    responses(
        (status = 200, body = AppliedPreset),
        (status = 404, description = "no such preset"),
        (status = 422, description = "an input is unknown, missing or invalid; `error` names it")),
    security(("bearer" = [])))]
#[post("/api/presets/{kind}/{id}/apply")]
pub async fn apply_preset(
    _: ApiCaller,
    path: web::Path<(String, String)>,
    body: Result<web::Json<ApplyRequest>, actix_web::Error>,
) -> Result<HttpResponse, ApiError> {
    let body = extracted(body)?;
    let (kind, id) = path.into_inner();
    let preset = kind
        .parse::<PresetKind>()
        .ok()
        .and_then(|kind| presets::get(kind, &id))
        .ok_or_else(|| ApiError::NotFound(format!("no {kind} preset `{id}`")))?;
    let sections = preset
        .apply(&body.inputs)
        .map_err(|message| ApiError::Invalid {
            message: format!("preset `{id}`: {message}"),
            errors: vec![FieldError::new("inputs", message)],
        })?;
    let toml = presets::to_toml(&sections);
    Ok(HttpResponse::Ok().json(AppliedPreset { sections, toml }))
}
