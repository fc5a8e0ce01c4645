//! Import (pasted TOML and files, each document reported on its own) and export (one recipe
//! or all, as a TOML download).

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{Layout, UiError, check_csrf, page, render};
use crate::manage::{self, ManageError};
use crate::provision::split_documents;
use crate::store::UpsertKind;
use crate::web::auth::UiSession;
use crate::web::state::AppState;

pub struct ImportResult {
    pub origin: String,
    pub id: String,
    /// created | updated | unchanged | error
    pub result: &'static str,
    pub errors: Vec<String>,
}

#[derive(Template)]
#[template(path = "transfer/import.html")]
struct ImportPage {
    layout: Layout,
    source: String,
    results: Vec<ImportResult>,
    recipes: Vec<(String, String)>,
}

#[derive(Deserialize)]
pub struct ExportQuery {
    ids: Option<String>,
}

async fn import_page_with(
    state: &AppState,
    layout: Layout,
    source: String,
    results: Vec<ImportResult>,
) -> Result<ImportPage, UiError> {
    let recipes = state
        .store
        .list_recipes()
        .await?
        .into_iter()
        .map(|r| (r.id, r.name))
        .collect();
    Ok(ImportPage {
        layout,
        source,
        results,
        recipes,
    })
}

pub async fn import_page(
    req: HttpRequest,
    session: UiSession,
    state: web::Data<AppState>,
) -> Result<HttpResponse, UiError> {
    let layout = Layout::new(&session, "import", &req);
    page(&import_page_with(&state, layout, String::new(), vec![]).await?)
}

/// Pasted text (`source`) and files app.js read into `file.N.name` / `file.N.text`; every
/// document is saved on its own, so one invalid file does not stop the others.
#[tracing::instrument(skip_all)]
pub async fn import(
    req: HttpRequest,
    session: UiSession,
    fields: web::Form<Vec<(String, String)>>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, UiError> {
    let fields = fields.into_inner();
    let field = |key: &str| {
        fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.replace("\r\n", "\n"))
            .unwrap_or_default()
    };
    check_csrf(&session, &field("csrf"))?;
    let mut files: BTreeMap<usize, (String, String)> = BTreeMap::new();
    for (key, value) in &fields {
        let Some((index, part)) = key.strip_prefix("file.").and_then(|k| k.split_once('.')) else {
            continue;
        };
        let Ok(index) = index.parse() else { continue };
        let entry = files.entry(index).or_default();
        match part {
            "name" => entry.0 = value.clone(),
            "text" => entry.1 = value.replace("\r\n", "\n"),
            _ => {}
        }
    }
    let pasted = field("source");
    let mut sources: Vec<(String, String)> = files.into_values().collect();
    if !pasted.trim().is_empty() {
        sources.push(("pasted text".into(), pasted.clone()));
    }
    let mut results = Vec::new();
    for (origin, text) in sources {
        let documents = split_documents(&text);
        let several = documents.len() > 1;
        for (i, document) in documents.iter().enumerate() {
            let origin = match several {
                true => format!("{origin}, recipe {}", i + 1),
                false => origin.clone(),
            };
            results.push(import_one(&state, &session.author(), origin, document).await?);
        }
    }
    let status = match results.iter().any(|r| r.result == "error") {
        true => StatusCode::UNPROCESSABLE_ENTITY,
        false => StatusCode::OK,
    };
    let layout = Layout::new(&session, "import", &req);
    let kept = if status == StatusCode::OK {
        String::new()
    } else {
        pasted
    };
    render(
        status,
        &import_page_with(&state, layout, kept, results).await?,
    )
}

async fn import_one(
    state: &AppState,
    author: &str,
    origin: String,
    document: &str,
) -> Result<ImportResult, UiError> {
    // Name the recipe even when it is invalid, when its id can be read.
    let id = toml::from_str::<toml::Table>(document)
        .ok()
        .and_then(|t| t.get("id").and_then(|v| v.as_str()).map(str::to_owned))
        .unwrap_or_default();
    let (result, errors) = match manage::save_recipe(
        state.store.as_ref(),
        state.cache.scripts(),
        document,
        author,
    )
    .await
    {
        Ok((kind, _)) => (
            match kind {
                UpsertKind::Created => "created",
                UpsertKind::Updated => "updated",
                UpsertKind::Unchanged => "unchanged",
            },
            vec![],
        ),
        Err(ManageError::Invalid(invalid)) => (
            "error",
            invalid.errors.iter().map(|e| e.to_string()).collect(),
        ),
        Err(ManageError::Store(e)) => return Err(e.into()),
        Err(other) => ("error", vec![other.to_string()]),
    };
    Ok(ImportResult {
        origin,
        id,
        result,
        errors,
    })
}

pub async fn export(
    _: UiSession,
    query: web::Query<ExportQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, UiError> {
    let ids = query.ids.as_deref().filter(|ids| !ids.trim().is_empty());
    let text = manage::export(state.store.as_ref(), ids).await?;
    let filename = match ids {
        Some(id) if !id.contains(',') => format!("{}.toml", id.trim()),
        _ => "switchyard-recipes.toml".into(),
    };
    Ok(HttpResponse::Ok()
        .content_type("application/toml; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{}\"", filename.replace('"', "")),
        ))
        .body(text))
}
