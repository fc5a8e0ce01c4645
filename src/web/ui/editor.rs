//! The recipe editor: a form (new and edit) and a TOML tab, both saving through
//! `manage::save_recipe`, so the UI validates exactly what the file format validates.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

mod page;
mod source;
mod starters;

use self::page::{FormPage, NEW_RECIPE_TOML, TomlPage};
use self::starters::PresetPanel;
use super::form::{Button, RecipeForm};
use super::picker::{self, Sample};
use super::{Layout, UiError, check_csrf, page, render, see_other};
use crate::manage::{self, ManageError};
use crate::recipe::{FieldError, Recipe, RecipeFile};
use crate::store::{StoredRecipe, UpsertKind};
use crate::web::auth::UiSession;
use crate::web::state::AppState;

#[derive(Deserialize)]
pub struct ModeQuery {
    mode: Option<String>,
    /// `?example=ID`: start from one of the shipped recipes.
    example: Option<String>,
}

#[derive(Deserialize)]
pub struct TomlForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    source: String,
}

async fn find(state: &AppState, id: &str) -> Result<StoredRecipe, UiError> {
    state
        .store
        .get_recipe(id)
        .await?
        .ok_or_else(|| UiError::NotFound(format!("There is no recipe with id `{id}`.")))
}

fn saved(stored: &StoredRecipe, kind: UpsertKind) -> HttpResponse {
    let done = match kind {
        UpsertKind::Created => "created",
        UpsertKind::Updated => "saved",
        UpsertKind::Unchanged => "unchanged",
    };
    see_other(&format!("/recipes/{}?done={done}", stored.id))
}

/// Validates and saves; the field errors when the recipe is invalid (nothing saved then).
async fn save(
    state: &AppState,
    author: &str,
    source: &str,
    is_new_id: Option<&str>,
) -> Result<Result<HttpResponse, Vec<FieldError>>, UiError> {
    if let Some(id) = is_new_id
        && state.store.get_recipe(id).await?.is_some()
    {
        return Ok(Err(vec![FieldError::new(
            "id",
            format!("a recipe with id `{id}` exists already: choose another id, or edit that one"),
        )]));
    }
    match manage::save_recipe(state.store.as_ref(), state.cache.scripts(), source, author).await {
        Ok((kind, stored)) => Ok(Ok(saved(&stored, kind))),
        Err(ManageError::Invalid(invalid)) => Ok(Err(invalid.errors)),
        Err(error @ ManageError::FileManaged { .. }) => {
            Ok(Err(vec![FieldError::new("recipe", error.to_string())]))
        }
        Err(other) => Err(other.into()),
    }
}

pub async fn new_page(
    req: HttpRequest,
    session: UiSession,
    query: web::Query<ModeQuery>,
) -> Result<HttpResponse, UiError> {
    let layout = Layout::new(&session, "recipes", &req);
    if query.mode.as_deref() == Some("toml") {
        return page(&TomlPage {
            layout,
            id: String::new(),
            source: NEW_RECIPE_TOML.into(),
            errors: vec![],
            managed_by: String::new(),
        });
    }
    let form = match &query.example {
        Some(id) => starters::example(id).map_err(UiError::NotFound)?,
        None => RecipeForm::blank(),
    };
    let sample = Sample::pasted_or_none(&form.sample, &form.sample_headers);
    page(&FormPage::new(layout, form, true, String::new(), sample))
}

pub async fn edit_page(
    req: HttpRequest,
    session: UiSession,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, UiError> {
    let stored = find(&state, &id).await?;
    let layout = Layout::new(&session, "recipes", &req);
    let managed_by = stored.managed_by.clone().unwrap_or_default();
    let sample = picker::for_form(state.store.as_ref(), "", "", Some(&stored.id)).await?;
    match toml::from_str::<RecipeFile>(&stored.source) {
        Ok(file) => page(&FormPage::new(
            layout,
            RecipeForm::from_file(&file),
            false,
            managed_by,
            sample,
        )),
        // A stored recipe always parses; should one not, the TOML tab can still fix it.
        Err(_) => Ok(see_other(&format!("/recipes/{}/toml", stored.id))),
    }
}

pub async fn create(
    req: HttpRequest,
    session: UiSession,
    fields: web::Form<Vec<(String, String)>>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, UiError> {
    submit(&req, &session, &state, fields.into_inner(), None).await
}

pub async fn update(
    req: HttpRequest,
    session: UiSession,
    id: web::Path<String>,
    fields: web::Form<Vec<(String, String)>>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, UiError> {
    let stored = find(&state, &id).await?;
    submit(&req, &session, &state, fields.into_inner(), Some(&stored)).await
}

#[tracing::instrument(skip_all, fields(recipe = existing.map(|r| r.id.as_str())))]
async fn submit(
    req: &HttpRequest,
    session: &UiSession,
    state: &AppState,
    fields: Vec<(String, String)>,
    existing: Option<&StoredRecipe>,
) -> Result<HttpResponse, UiError> {
    let csrf = fields
        .iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.as_str())
        .unwrap_or_default();
    check_csrf(session, csrf)?;
    let (mut form, button) = RecipeForm::from_pairs(fields);
    let managed_by = existing
        .and_then(|r| r.managed_by.clone())
        .unwrap_or_default();
    if let Some(existing) = existing {
        form.id = existing.id.clone();
    }
    let layout = Layout::new(session, "recipes", req);
    let mut panel = None;
    let mut status = StatusCode::OK;
    if !form.press(&button) {
        match button {
            Button::Save => {
                // An open action-preset panel (Enter in one of its inputs presses the form's
                // default Save) is added first; if it cannot be, it stays open and nothing is
                // saved.
                match add_open_preset(&mut form) {
                    Ok(()) => {
                        match try_save(state, &session.author(), &mut form, existing).await? {
                            Some(done) => return Ok(done),
                            None => status = StatusCode::UNPROCESSABLE_ENTITY,
                        }
                    }
                    Err(open) => {
                        panel = Some(*open);
                        status = StatusCode::UNPROCESSABLE_ENTITY;
                    }
                }
            }
            Button::ToScript => form.switch_to_script(),
            Button::ToToml => match toml_of_form(&form, existing) {
                Ok(source) => {
                    return page(&TomlPage {
                        layout: Layout::new(session, "recipes", req),
                        id: existing.map(|r| r.id.clone()).unwrap_or_default(),
                        source,
                        errors: vec![],
                        managed_by,
                    });
                }
                Err(errors) => {
                    form.place_errors(&errors);
                    form.errors
                        .top
                        .push("The TOML tab shows the form as a file once these are fixed.".into());
                    status = StatusCode::UNPROCESSABLE_ENTITY;
                }
            },
            Button::UseTriggerPreset => {
                let id = form.trigger_preset.clone();
                if let Err(message) = starters::use_trigger(&mut form, &id) {
                    form.errors.top.push(message);
                }
            }
            Button::ChooseActionPreset => {
                panel = PresetPanel::of(&form.action_preset, &form.preset_inputs);
                if panel.is_none() {
                    form.errors
                        .top
                        .push("Choose an action preset first.".into());
                }
            }
            Button::AddActionPreset => {
                let (id, inputs) = (form.action_preset.clone(), form.preset_inputs.clone());
                if let Err(message) = starters::add_action(&mut form, &id, &inputs) {
                    panel = PresetPanel::of(&id, &inputs).map(|p| PresetPanel {
                        error: message.clone(),
                        ..p
                    });
                    status = StatusCode::UNPROCESSABLE_ENTITY;
                    if panel.is_none() {
                        form.errors.top.push(message);
                    }
                }
            }
            Button::Unknown(text) => form.errors.top.push(format!(
                "The button `{text}` is not one this form knows; nothing was saved."
            )),
            _ => {}
        }
    }
    let sample = picker::for_form(
        state.store.as_ref(),
        &form.sample,
        &form.sample_headers,
        existing.map(|r| r.id.as_str()),
    )
    .await?;
    let is_new = existing.is_none();
    let page = FormPage::new(layout, form, is_new, managed_by, sample).with_panel(panel);
    render(status, &page)
}

/// The form as the TOML tab shows it: the file it describes (a blank new form: the starter
/// file), kept as stored when unchanged; `Err` when the form has errors of its own.
fn toml_of_form(
    form: &RecipeForm,
    existing: Option<&StoredRecipe>,
) -> Result<String, Vec<FieldError>> {
    let (file, errors) = form.to_file();
    if !errors.is_empty() {
        return Err(errors);
    }
    if existing.is_none() && file == RecipeForm::blank().to_file().0 {
        return Ok(NEW_RECIPE_TOML.into());
    }
    source::source_for(&file, existing.map(|r| r.source.as_str()))
        .map_err(|e| vec![FieldError::new("recipe", e)])
}

/// Adds the action of a preset panel that was open when the form was saved; `Err` is the
/// panel again, with why its action was not added.
fn add_open_preset(form: &mut RecipeForm) -> Result<(), Box<PresetPanel>> {
    if form.preset_inputs.is_empty() {
        return Ok(());
    }
    let (id, inputs) = (form.action_preset.clone(), form.preset_inputs.clone());
    match starters::add_action(form, &id, &inputs) {
        Ok(()) => {
            form.preset_inputs.clear();
            Ok(())
        }
        Err(message) => match PresetPanel::of(&id, &inputs) {
            Some(panel) => Err(Box::new(PresetPanel {
                error: format!("This action was not added and the recipe was not saved: {message}"),
                ..panel
            })),
            None => {
                form.errors.top.push(message);
                Ok(())
            }
        },
    }
}

/// Saves the form's recipe: the redirect when it saved, else `None` with the errors placed
/// beside their inputs.
async fn try_save(
    state: &AppState,
    author: &str,
    form: &mut RecipeForm,
    existing: Option<&StoredRecipe>,
) -> Result<Option<HttpResponse>, UiError> {
    let (file, mut errors) = form.to_file();
    if errors.is_empty() {
        let stored = existing.map(|r| r.source.as_str());
        let source = source::source_for(&file, stored).map_err(UiError::BadRequest)?;
        let new_id = existing.is_none().then_some(file.id.as_str());
        match save(state, author, &source, new_id).await? {
            Ok(done) => return Ok(Some(done)),
            Err(invalid) => errors = invalid,
        }
    } else if let Err(invalid) = Recipe::from_file(file, state.cache.scripts()) {
        // Report the rest too, so one pass fixes everything.
        errors.extend(invalid.errors);
    }
    form.place_errors(&errors);
    Ok(None)
}

pub async fn toml_page(
    req: HttpRequest,
    session: UiSession,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, UiError> {
    let stored = find(&state, &id).await?;
    page(&TomlPage {
        layout: Layout::new(&session, "recipes", &req),
        id: stored.id.clone(),
        source: stored.source.clone(),
        errors: vec![],
        managed_by: stored.managed_by.clone().unwrap_or_default(),
    })
}

pub async fn create_toml(
    req: HttpRequest,
    session: UiSession,
    form: web::Form<TomlForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, UiError> {
    check_csrf(&session, &form.csrf)?;
    let source = form.source.replace("\r\n", "\n");
    let new_id = toml::from_str::<RecipeFile>(&source).ok().map(|f| f.id);
    let errors = match save(&state, &session.author(), &source, new_id.as_deref()).await? {
        Ok(done) => return Ok(done),
        Err(errors) => errors,
    };
    let page = TomlPage {
        layout: Layout::new(&session, "recipes", &req),
        id: String::new(),
        source,
        errors,
        managed_by: String::new(),
    };
    render(StatusCode::UNPROCESSABLE_ENTITY, &page)
}

pub async fn update_toml(
    req: HttpRequest,
    session: UiSession,
    id: web::Path<String>,
    form: web::Form<TomlForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, UiError> {
    check_csrf(&session, &form.csrf)?;
    let stored = find(&state, &id).await?;
    let source = form.source.replace("\r\n", "\n");
    let other_id = toml::from_str::<RecipeFile>(&source)
        .ok()
        .map(|f| f.id)
        .filter(|new_id| *new_id != stored.id);
    let errors = match other_id {
        Some(other) => vec![FieldError::new(
            "id",
            format!(
                "this page edits `{}`; the id cannot change to `{other}` (to copy a recipe, paste it into New recipe → TOML)",
                stored.id
            ),
        )],
        None => match save(&state, &session.author(), &source, None).await? {
            Ok(done) => return Ok(done),
            Err(errors) => errors,
        },
    };
    let page = TomlPage {
        layout: Layout::new(&session, "recipes", &req),
        id: stored.id.clone(),
        source,
        errors,
        managed_by: stored.managed_by.clone().unwrap_or_default(),
    };
    render(StatusCode::UNPROCESSABLE_ENTITY, &page)
}
