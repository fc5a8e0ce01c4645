//! The recipe editor: a form (new and edit) and a TOML tab, both saving through
//! `manage::save_recipe`, so the UI validates exactly what the file format validates.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::form::{Button, METHODS, RecipeForm, compiled_rhai, op_choices};
use super::format::{SchedulePreview, schedule_preview};
use super::picker::{self, Sample};
use super::{Layout, UiError, check_csrf, page, render, see_other};
use crate::manage::{self, ManageError};
use crate::recipe::{FieldError, Recipe, RecipeFile};
use crate::startup::AppState;
use crate::store::{StoredRecipe, UpsertKind};
use crate::web::auth::UiSession;

/// `(value, label)` of the verify presets.
const VERIFY_OPTIONS: [(&str, &str); 8] = [
    ("none", "None: anyone with the URL may call it"),
    ("token", "Token: the caller sends a shared secret"),
    ("hmac-sha256", "HMAC-SHA256 signature in a header you name"),
    ("github", "GitHub (X-Hub-Signature-256)"),
    ("stripe", "Stripe (Stripe-Signature)"),
    ("slack", "Slack (X-Slack-Signature)"),
    ("shopify", "Shopify (X-Shopify-Hmac-Sha256)"),
    ("standard-webhooks", "Standard Webhooks (webhook-signature)"),
];

const NEW_RECIPE_TOML: &str = r#"id = "my-recipe"
name = "My recipe"
description = ""

[trigger.webhook]
verify = "none"

[filter]
script = '''
true
'''

[transform]
script = '''
#{ text: `Received ${event}` }
'''

[[action]]
name = "notify"
method = "POST"
url = "https://example.com/hook"
headers = { "Content-Type" = "application/json" }
"#;

#[derive(Template)]
#[template(path = "editor/form.html")]
struct FormPage {
    layout: Layout,
    form: RecipeForm,
    is_new: bool,
    managed_by: String,
    preview: Option<SchedulePreview>,
    methods: [&'static str; 5],
    verify_options: [(&'static str, &'static str); 8],
    sample: Sample,
    /// `(name, label, takes a value, is a text operator)` for the operator selects.
    ops: Vec<(&'static str, &'static str, bool, bool)>,
    /// The Rhai the condition rows compile to, shown read-only under them.
    compiled: String,
}

impl FormPage {
    fn new(
        layout: Layout,
        form: RecipeForm,
        is_new: bool,
        managed_by: String,
        sample: Sample,
    ) -> FormPage {
        let preview = (form.schedule && !form.cron.trim().is_empty())
            .then(|| schedule_preview(&form.cron, &form.timezone));
        let compiled = match form.conditions.to_conditions() {
            (rows, errors) if errors.is_empty() && !form.conditions.is_empty() => {
                compiled_rhai(&rows)
            }
            _ => String::new(),
        };
        FormPage {
            layout,
            form,
            is_new,
            managed_by,
            preview,
            methods: METHODS,
            verify_options: VERIFY_OPTIONS,
            sample,
            ops: op_choices(),
            compiled,
        }
    }

    fn post_to(&self) -> String {
        if self.is_new {
            "/recipes/new".into()
        } else {
            format!("/recipes/{}/edit", self.form.id)
        }
    }
}

#[derive(Template)]
#[template(path = "editor/toml.html")]
struct TomlPage {
    layout: Layout,
    /// Empty for a new recipe.
    id: String,
    source: String,
    errors: Vec<FieldError>,
    managed_by: String,
}

#[derive(Deserialize)]
pub struct ModeQuery {
    mode: Option<String>,
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
    match manage::save_recipe(state.store.as_ref(), state.cache.scripts(), source).await {
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
    page(&FormPage::new(
        layout,
        RecipeForm::blank(),
        true,
        String::new(),
        Sample::default(),
    ))
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
    let sample = picker::for_form(state.store.as_ref(), "", Some(&stored.id)).await?;
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
    let sample = picker::for_form(
        state.store.as_ref(),
        &form.sample,
        existing.map(|r| r.id.as_str()),
    )
    .await?;
    if form.press(&button) {
        return page(&FormPage::new(
            layout,
            form,
            existing.is_none(),
            managed_by,
            sample,
        ));
    }
    match button {
        Button::Save => {
            let (file, mut errors) = form.to_file();
            if errors.is_empty() {
                let source = toml::to_string_pretty(&file)
                    .map_err(|e| UiError::BadRequest(e.to_string()))?;
                let new_id = existing.is_none().then_some(file.id.as_str());
                match save(state, &source, new_id).await? {
                    Ok(done) => return Ok(done),
                    Err(invalid) => errors = invalid,
                }
            } else if let Err(invalid) = Recipe::from_file(file, state.cache.scripts()) {
                // Report the rest too, so one pass fixes everything.
                errors.extend(invalid.errors);
            }
            form.place_errors(&errors);
            let page = FormPage::new(layout, form, existing.is_none(), managed_by, sample);
            return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
        Button::ToScript => form.to_script(),
        Button::Unknown(text) => form
            .errors
            .top
            .push(format!("The button `{text}` is not one this form knows; nothing was saved.")),
        _ => {}
    }
    page(&FormPage::new(
        layout,
        form,
        existing.is_none(),
        managed_by,
        sample,
    ))
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
    let errors = match save(&state, &source, new_id.as_deref()).await? {
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
        None => match save(&state, &source, None).await? {
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
