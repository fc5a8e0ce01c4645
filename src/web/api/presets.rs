//! App presets and example recipes for programs and the editor: the list (with each preset's
//! inputs and sample) and the sections a preset produces from inputs.

use std::collections::BTreeMap;

use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::{ApiError, extracted};
use crate::recipe::FieldError;
use crate::recipe::presets::{self, Example, InputKind, Preset, PresetKind};
use crate::web::auth::ApiCaller;

/// Every preset (triggers first) and every example recipe.
#[derive(Serialize, utoipa::ToSchema)]
pub struct PresetList {
    pub presets: &'static [Preset],
    pub examples: Vec<Example>,
}

/// The inputs for one preset, by input name; missing ones take the preset's defaults. Each
/// value is a JSON string, except that a `fields` input may also be given as a JSON object
/// (`{"fields": {"text": "{{ event.id }}"}}`), the same as its JSON text.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplyRequest {
    #[serde(default)]
    #[schema(value_type = Object)]
    pub inputs: BTreeMap<String, Value>,
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
    let invalid = |message: String| ApiError::Invalid {
        message: format!("preset `{id}`: {message}"),
        errors: vec![FieldError::new("inputs", message)],
    };
    let inputs = input_texts(preset, &body.inputs).map_err(invalid)?;
    let sections = preset.apply(&inputs).map_err(invalid)?;
    let toml = presets::to_toml(&sections);
    Ok(HttpResponse::Ok().json(AppliedPreset { sections, toml }))
}

/// The inputs as the text [`Preset::apply`] checks: strings as they are, a JSON object given
/// for a `fields` input as its JSON text. Any other JSON type (or an object for another kind of
/// input) is refused naming the input; an unknown input name is left for `apply` to refuse.
fn input_texts(
    preset: &Preset,
    inputs: &BTreeMap<String, Value>,
) -> Result<BTreeMap<String, String>, String> {
    inputs
        .iter()
        .map(|(name, value)| {
            let is_fields = preset
                .input(name)
                .is_some_and(|input| input.kind == InputKind::Fields);
            let text = match value {
                Value::String(text) => text.clone(),
                Value::Object(_) if is_fields => value.to_string(),
                other => {
                    let wanted = if is_fields {
                        "a JSON object (or its JSON text)"
                    } else {
                        "text (a JSON string)"
                    };
                    return Err(format!(
                        "input `{name}`: expected {wanted}, got {}",
                        json_type(other)
                    ));
                }
            };
            Ok((name.clone(), text))
        })
        .collect()
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}
