//! Setup link, login and logout. Before a session exists, forms are protected by a
//! double-submit token: a short-lived cookie whose value the form must repeat.

use std::sync::LazyLock;

use actix_web::cookie::{Cookie, SameSite, time};
use actix_web::http::StatusCode;
use actix_web::http::header::RETRY_AFTER;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::Utc;
use serde::Deserialize;

use super::throttle::wait_text;
use super::{CsrfForm, Layout, UiError, check_csrf, render, see_other};
use crate::ids::new_webhook_token;
use crate::store::Session;
use crate::web::auth::{
    SESSION_COOKIE, SESSION_DAYS, UiSession, constant_time_eq, hash_password, hash_token,
    verify_password,
};
use crate::web::state::AppState;

const LOGIN_CSRF_COOKIE: &str = "switchyard_login_csrf";
const MIN_PASSWORD_LEN: usize = 10;

/// Checked when the username is unknown, so a wrong name costs as long as a wrong password.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_password("not the password").unwrap_or_default());

#[derive(Template)]
#[template(path = "login/login.html")]
struct LoginPage {
    layout: Layout,
    csrf: String,
    next: String,
    username: String,
    error: String,
    no_admin: bool,
}

#[derive(Template)]
#[template(path = "login/setup.html")]
struct SetupPage {
    layout: Layout,
    csrf: String,
    token: String,
    username: String,
    error: String,
    valid: bool,
    min_len: usize,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

#[derive(Deserialize)]
pub struct SetupQuery {
    #[serde(default)]
    token: String,
}

#[derive(Deserialize)]
pub struct SetupForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    token: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

/// Only local paths: `next` must not send a fresh login to another site.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_owned(),
        _ => "/".to_owned(),
    }
}

/// The pre-session form token (reused while its cookie lives, so two tabs both work).
fn form_token(req: &HttpRequest) -> String {
    req.cookie(LOGIN_CSRF_COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|v| v.len() >= 32)
        .unwrap_or_else(new_webhook_token)
}

fn form_cookie(token: &str) -> Cookie<'static> {
    Cookie::build(LOGIN_CSRF_COOKIE, token.to_owned())
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .max_age(time::Duration::hours(2))
        .finish()
}

fn check_form_token(req: &HttpRequest, presented: &str) -> Result<(), UiError> {
    match req.cookie(LOGIN_CSRF_COOKIE) {
        Some(cookie) if constant_time_eq(cookie.value(), presented) => Ok(()),
        _ => Err(UiError::Csrf),
    }
}

fn with_form_cookie(
    status: StatusCode,
    page: &impl Template,
    token: &str,
) -> Result<HttpResponse, UiError> {
    let mut response = render(status, page)?;
    response
        .add_cookie(&form_cookie(token))
        .map_err(|e| UiError::BadRequest(e.to_string()))?;
    Ok(response)
}

pub async fn login_page(
    req: HttpRequest,
    session: Option<UiSession>,
    query: web::Query<NextQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, UiError> {
    let next = safe_next(query.next.as_deref());
    if session.is_some() {
        return Ok(see_other(&next));
    }
    let csrf = form_token(&req);
    let page = LoginPage {
        layout: Layout::anonymous(),
        csrf: csrf.clone(),
        next,
        username: String::new(),
        error: String::new(),
        no_admin: !state.store.admin_exists().await?,
    };
    with_form_cookie(StatusCode::OK, &page, &csrf)
}

#[tracing::instrument(skip_all)]
pub async fn login(
    req: HttpRequest,
    form: web::Form<LoginForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, UiError> {
    check_form_token(&req, &form.csrf)?;
    let username = form.username.trim();
    let peer = req.peer_addr().map(|address| address.ip());
    let refused = |status: StatusCode, error: String| -> Result<HttpResponse, UiError> {
        let page = LoginPage {
            layout: Layout::anonymous(),
            csrf: form.csrf.clone(),
            next: safe_next(Some(&form.next)),
            username: username.to_owned(),
            error,
            no_admin: false,
        };
        with_form_cookie(status, &page, &form.csrf)
    };
    // Checked before the password, so a locked-out guesser learns nothing and costs no argon2.
    if let Some(wait) = state.login_throttle.attempt(username, peer) {
        tracing::warn!(username, "login refused: too many failed attempts");
        let mut response = refused(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "Too many failed logins for this username from your address. Try again in {}.",
                wait_text(wait)
            ),
        )?;
        response
            .headers_mut()
            .insert(RETRY_AFTER, wait.as_secs().max(1).into());
        return Ok(response);
    }
    let account = state.store.password_hash(username).await?;
    let hash = account.as_ref().map_or(DUMMY_HASH.as_str(), |(_, h)| h);
    let password = form.password.clone();
    let hash = hash.to_owned();
    // argon2 takes tens of milliseconds of CPU: keep it off the async workers.
    let verified = web::block(move || verify_password(&password, &hash))
        .await
        .unwrap_or(false);
    match account {
        Some((user_id, _)) if verified => {
            tracing::info!(username, "logged in");
            state.login_throttle.succeeded(username, peer);
            end_previous_session(&req, &state).await?;
            start_session(&state, &user_id, username, &safe_next(Some(&form.next))).await
        }
        _ => {
            tracing::warn!(username, "login refused");
            refused(
                StatusCode::UNAUTHORIZED,
                "Wrong username or password.".into(),
            )
        }
    }
}

/// A login replaces whatever session the browser carried: that id stops working, so an id
/// known before the login (fixation) is worth nothing after it.
async fn end_previous_session(req: &HttpRequest, state: &AppState) -> Result<(), UiError> {
    if let Some(old) = req.cookie(SESSION_COOKIE) {
        state.store.delete_session(&hash_token(old.value())).await?;
    }
    Ok(())
}

/// A new random session id on every login; the store keeps only its hash.
async fn start_session(
    state: &AppState,
    user_id: &str,
    username: &str,
    next: &str,
) -> Result<HttpResponse, UiError> {
    let id = new_webhook_token();
    state
        .store
        .create_session(&Session {
            id_hash: hash_token(&id),
            user_id: user_id.to_owned(),
            username: username.to_owned(),
            csrf_token: new_webhook_token(),
            expires_at: Utc::now() + chrono::Duration::days(SESSION_DAYS),
        })
        .await?;
    let cookie = Cookie::build(SESSION_COOKIE, id)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.public_base.starts_with("https://"))
        .max_age(time::Duration::days(SESSION_DAYS))
        .finish();
    let mut gone = Cookie::build(LOGIN_CSRF_COOKIE, "").path("/").finish();
    gone.make_removal();
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", next))
        .cookie(cookie)
        .cookie(gone)
        .finish())
}

pub async fn logout(
    session: UiSession,
    form: web::Form<CsrfForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, UiError> {
    check_csrf(&session, &form.csrf)?;
    state.store.delete_session(&session.session.id_hash).await?;
    let mut gone = Cookie::build(SESSION_COOKIE, "").path("/").finish();
    gone.make_removal();
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", "/login"))
        .cookie(gone)
        .finish())
}

/// Whether `token` is the console's one-time setup token (and no admin exists yet).
async fn setup_token_valid(state: &AppState, token: &str) -> Result<bool, UiError> {
    let matches = state
        .setup_token
        .lock()
        .expect("setup token lock")
        .as_deref()
        .is_some_and(|expected| constant_time_eq(expected, token));
    Ok(matches && !state.store.admin_exists().await?)
}

pub async fn setup_page(
    req: HttpRequest,
    query: web::Query<SetupQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, UiError> {
    let valid = setup_token_valid(&state, &query.token).await?;
    let csrf = form_token(&req);
    let page = SetupPage {
        layout: Layout::anonymous(),
        csrf: csrf.clone(),
        token: query.token.clone(),
        username: "admin".into(),
        error: String::new(),
        valid,
        min_len: MIN_PASSWORD_LEN,
    };
    let status = if valid {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    };
    with_form_cookie(status, &page, &csrf)
}

#[tracing::instrument(skip_all)]
pub async fn setup(
    req: HttpRequest,
    form: web::Form<SetupForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, UiError> {
    check_form_token(&req, &form.csrf)?;
    let mut page = SetupPage {
        layout: Layout::anonymous(),
        csrf: form.csrf.clone(),
        token: form.token.clone(),
        username: form.username.trim().to_owned(),
        error: String::new(),
        valid: setup_token_valid(&state, &form.token).await?,
        min_len: MIN_PASSWORD_LEN,
    };
    if !page.valid {
        return with_form_cookie(StatusCode::NOT_FOUND, &page, &form.csrf);
    }
    page.error = if page.username.is_empty() || page.username.len() > 64 {
        "Choose a username of 1 to 64 characters.".into()
    } else if form.password.chars().count() < MIN_PASSWORD_LEN {
        format!("The password needs at least {MIN_PASSWORD_LEN} characters.")
    } else if form.password != form.confirm {
        "The two passwords differ.".into()
    } else {
        String::new()
    };
    if !page.error.is_empty() {
        return with_form_cookie(StatusCode::UNPROCESSABLE_ENTITY, &page, &form.csrf);
    }
    let password = form.password.clone();
    let hash = web::block(move || hash_password(&password))
        .await
        .map_err(|e| UiError::BadRequest(e.to_string()))?
        .map_err(UiError::BadRequest)?;
    if !state.store.create_admin(&page.username, &hash).await? {
        page.valid = false;
        return with_form_cookie(StatusCode::NOT_FOUND, &page, &form.csrf);
    }
    *state.setup_token.lock().expect("setup token lock") = None;
    let (user_id, _) = state
        .store
        .password_hash(&page.username)
        .await?
        .ok_or_else(|| UiError::NotFound("the new admin account vanished".into()))?;
    tracing::info!(username = %page.username, "admin account created through the setup link");
    end_previous_session(&req, &state).await?;
    start_session(&state, &user_id, &page.username, "/").await
}
