//! Secrets (write-only: values are never shown again) and API tokens (shown once).

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::format::when;
use super::{CsrfForm, Layout, UiError, check_csrf, page, render, see_other};
use crate::manage::{self, ManageError};
use crate::web::auth::UiSession;
use crate::web::state::AppState;

pub struct SecretRow {
    pub name: String,
    /// `(id, name)` of the recipes that reference it.
    pub used_by: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "admin/secrets.html")]
struct SecretsPage {
    layout: Layout,
    secrets: Vec<SecretRow>,
    /// Referenced by a recipe but not set.
    missing: Vec<SecretRow>,
    name: String,
    error: String,
}

pub struct TokenRow {
    pub id: String,
    pub name: String,
    pub created: String,
    pub revoked: String,
}

#[derive(Template)]
#[template(path = "admin/tokens.html")]
struct TokensPage {
    layout: Layout,
    tokens: Vec<TokenRow>,
    /// `(name, token)` right after creation: the only time the token is shown.
    created: Option<(String, String)>,
    name: String,
    error: String,
    env_token: bool,
}

#[derive(Deserialize)]
pub struct SecretForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    value: String,
}

#[derive(Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
}

/// The secret names a recipe file references as `secrets.NAME`.
fn secret_refs(source: &str) -> Vec<String> {
    source
        .match_indices("secrets.")
        .map(|(at, prefix)| {
            source[at + prefix.len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect::<String>()
        })
        .filter(|name| !name.is_empty())
        .collect()
}

async fn secrets_page_with(
    state: &AppState,
    layout: Layout,
    name: String,
    error: String,
) -> Result<SecretsPage, UiError> {
    let names = state.store.list_secret_names().await?;
    let mut used: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for recipe in state.store.list_recipes().await? {
        for secret in secret_refs(&recipe.source) {
            let users = used.entry(secret).or_default();
            if !users.iter().any(|(id, _)| *id == recipe.id) {
                users.push((recipe.id.clone(), recipe.name.clone()));
            }
        }
    }
    let secrets = names
        .iter()
        .map(|name| SecretRow {
            name: name.clone(),
            used_by: used.get(name).cloned().unwrap_or_default(),
        })
        .collect();
    let missing = used
        .into_iter()
        .filter(|(name, _)| !names.contains(name))
        .map(|(name, used_by)| SecretRow { name, used_by })
        .collect();
    Ok(SecretsPage {
        layout,
        secrets,
        missing,
        name,
        error,
    })
}

pub async fn secrets_page(
    req: HttpRequest,
    session: UiSession,
    state: web::Data<AppState>,
) -> Result<HttpResponse, UiError> {
    let layout = Layout::new(&session, "secrets", &req);
    page(&secrets_page_with(&state, layout, String::new(), String::new()).await?)
}

pub async fn set_secret(
    req: HttpRequest,
    session: UiSession,
    form: web::Form<SecretForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, UiError> {
    check_csrf(&session, &form.csrf)?;
    let name = form.name.trim();
    let error = match manage::check_secret_name(name) {
        Err(message) => message,
        Ok(()) if form.value.is_empty() => "The value is empty.".into(),
        Ok(()) => {
            match manage::secret_value_refusal(state.store.as_ref(), name, &form.value).await? {
                Some(refusal) => refusal,
                None => {
                    state.store.set_secret(name, &form.value).await?;
                    return Ok(see_other("/secrets?done=secret-set"));
                }
            }
        }
    };
    let layout = Layout::new(&session, "secrets", &req);
    let page = secrets_page_with(&state, layout, name.to_owned(), error).await?;
    render(StatusCode::UNPROCESSABLE_ENTITY, &page)
}

pub async fn delete_secret(
    session: UiSession,
    name: web::Path<String>,
    form: web::Form<CsrfForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, UiError> {
    check_csrf(&session, &form.csrf)?;
    if !state.store.delete_secret(&name).await? {
        return Err(UiError::NotFound(format!(
            "There is no secret named `{name}`."
        )));
    }
    Ok(see_other("/secrets?done=secret-deleted"))
}

async fn tokens_page_with(state: &AppState, layout: Layout) -> Result<TokensPage, UiError> {
    let tokens = state
        .store
        .list_api_tokens()
        .await?
        .into_iter()
        .map(|t| TokenRow {
            id: t.id,
            name: t.name,
            created: when(t.created_at),
            revoked: t.revoked_at.map(when).unwrap_or_default(),
        })
        .collect();
    Ok(TokensPage {
        layout,
        tokens,
        created: None,
        name: String::new(),
        error: String::new(),
        env_token: state.settings.api_token.is_some(),
    })
}

pub async fn tokens_page(
    req: HttpRequest,
    session: UiSession,
    state: web::Data<AppState>,
) -> Result<HttpResponse, UiError> {
    let layout = Layout::new(&session, "tokens", &req);
    page(&tokens_page_with(&state, layout).await?)
}

/// Shows the new token on the answer itself (not after a redirect): it is never shown again.
pub async fn create_token(
    req: HttpRequest,
    session: UiSession,
    form: web::Form<TokenForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, UiError> {
    check_csrf(&session, &form.csrf)?;
    let created = manage::create_api_token(state.store.as_ref(), &form.name).await;
    let layout = Layout::new(&session, "tokens", &req);
    let mut page = tokens_page_with(&state, layout).await?;
    match created {
        Ok((_, token)) => {
            page.created = Some((form.name.trim().to_owned(), token));
            render(StatusCode::OK, &page)
        }
        Err(ManageError::Store(e)) => Err(e.into()),
        Err(error) => {
            page.error = match &error {
                ManageError::Invalid(invalid) => invalid
                    .errors
                    .iter()
                    .map(|e| e.message.clone())
                    .collect::<Vec<_>>()
                    .join("; "),
                other => other.to_string(),
            };
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
    }
}

pub async fn revoke_token(
    session: UiSession,
    id: web::Path<String>,
    form: web::Form<CsrfForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, UiError> {
    check_csrf(&session, &form.csrf)?;
    if !state.store.revoke_api_token(&id).await? {
        return Err(UiError::NotFound(format!(
            "There is no active token with id `{id}`."
        )));
    }
    Ok(see_other("/tokens?done=token-revoked"))
}
