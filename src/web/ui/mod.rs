//! The browser UI: server-rendered askama pages over the same `manage` and store functions as
//! the JSON API. Every page works with plain HTML forms; `app.js` only adds conveniences.
//! Templates live in `templates/`, mirroring these modules.

mod admin;
mod editor;
mod events;
mod field_errors;
mod form;
mod format;
mod login;
mod picker;
mod recipes;
mod revisions;
mod test_panel;
pub mod throttle;
mod transfer;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use askama::Template;

use super::api::error::ApiError;
use super::auth::UiSession;
use crate::manage::ManageError;
use crate::store::StoreError;

/// Recipes with long scripts, imports of several files: far above actix's 16 KiB default.
const FORM_LIMIT: usize = 4 * 1024 * 1024;

pub fn routes(cfg: &mut web::ServiceConfig) {
    use web::{get, post};
    let form_config = web::FormConfig::default()
        .limit(FORM_LIMIT)
        .error_handler(|error, _| match error {
            // Not one of our forms at all: refused like a form without its token.
            actix_web::error::UrlencodedError::ContentType => UiError::Csrf.into(),
            other => UiError::BadRequest(other.to_string()).into(),
        });
    // A path registered twice (GET and POST) is two resources guarded by method.
    cfg.app_data(form_config)
        .route("/static/app.css", get().to(app_css))
        .route("/static/app.js", get().to(app_js))
        .route("/setup", get().to(login::setup_page))
        .route("/setup", post().to(login::setup))
        .route("/login", get().to(login::login_page))
        .route("/login", post().to(login::login))
        .route("/logout", post().to(login::logout))
        .route("/", get().to(recipes::list))
        .route("/recipes/new", get().to(editor::new_page))
        .route("/recipes/new", post().to(editor::create))
        .route("/recipes/new/toml", post().to(editor::create_toml))
        .route("/recipes/{id}", get().to(recipes::show))
        .route("/recipes/{id}/edit", get().to(editor::edit_page))
        .route("/recipes/{id}/edit", post().to(editor::update))
        .route("/recipes/{id}/toml", get().to(editor::toml_page))
        .route("/recipes/{id}/toml", post().to(editor::update_toml))
        .route("/recipes/{id}/enable", post().to(recipes::enable))
        .route("/recipes/{id}/disable", post().to(recipes::disable))
        .route("/recipes/{id}/pause", post().to(recipes::pause))
        .route("/recipes/{id}/resume", post().to(recipes::resume))
        .route("/recipes/{id}/delete", get().to(recipes::confirm_delete))
        .route("/recipes/{id}/delete", post().to(recipes::delete))
        .route("/recipes/{id}/rotate", post().to(recipes::rotate))
        .route("/recipes/{id}/retry-dead", post().to(recipes::retry_dead))
        .route("/recipes/{id}/test", post().to(test_panel::test))
        .route("/recipes/{id}/revisions", get().to(revisions::list))
        .route(
            "/recipes/{id}/revisions/{version}",
            get().to(revisions::show),
        )
        .route(
            "/recipes/{id}/revisions/{version}/restore",
            post().to(revisions::restore),
        )
        .route("/events", get().to(events::list))
        .route("/events/{id}", get().to(events::show))
        .route("/events/{id}/replay", post().to(events::replay))
        .route("/deliveries/{id}/retry", post().to(events::retry_delivery))
        .route("/import", get().to(transfer::import_page))
        .route("/import", post().to(transfer::import))
        .route("/export", get().to(transfer::export))
        .route("/secrets", get().to(admin::secrets_page))
        .route("/secrets", post().to(admin::set_secret))
        .route("/secrets/{name}/delete", post().to(admin::delete_secret))
        .route("/tokens", get().to(admin::tokens_page))
        .route("/tokens", post().to(admin::create_token))
        .route("/tokens/{id}/revoke", post().to(admin::revoke_token));
}

const APP_CSS: &str = include_str!("../../../templates/static/app.css");
const APP_JS: &str = include_str!("../../../templates/static/app.js");

async fn app_css() -> HttpResponse {
    asset("text/css; charset=utf-8", APP_CSS)
}

async fn app_js() -> HttpResponse {
    asset("text/javascript; charset=utf-8", APP_JS)
}

fn asset(content_type: &str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(body)
}

/// What every page's frame needs: the logout form's CSRF token, the active nav entry and the
/// notice left by the action that redirected here.
pub struct Layout {
    /// Empty when nobody is logged in (login, setup, some error pages): no nav then.
    pub csrf: String,
    pub nav: &'static str,
    pub notice: String,
}

impl Layout {
    pub fn new(session: &UiSession, nav: &'static str, req: &HttpRequest) -> Layout {
        Layout {
            csrf: session.csrf().to_owned(),
            nav,
            notice: notice(req),
        }
    }

    pub fn anonymous() -> Layout {
        Layout {
            csrf: String::new(),
            nav: "",
            notice: String::new(),
        }
    }
}

/// Actions redirect with `?done=KIND`; the page shows the matching sentence.
fn notice(req: &HttpRequest) -> String {
    let done = web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .ok()
        .and_then(|q| q.0.into_iter().find(|(k, _)| k == "done").map(|(_, v)| v));
    let text = match done.as_deref() {
        Some("created") => "Recipe created.",
        Some("saved") => "Recipe saved.",
        Some("unchanged") => "Nothing changed.",
        Some("enabled") => "Recipe enabled: its triggers are live.",
        Some("disabled") => "Recipe disabled: its webhook answers 404 and its schedule stops.",
        Some("paused") => {
            "Recipe paused: its webhook still accepts and stores events, its schedule records \
             ticks as skipped; nothing runs or is sent until you resume it."
        }
        Some("resumed") => "Recipe resumed: what it held runs now, in order of arrival.",
        Some("deleted") => "Recipe deleted. Its events stay in the history.",
        Some("rotated") => "New webhook URL. The old one stopped working.",
        Some("restored") => {
            "Revision restored: it is the current recipe now, saved as a new version."
        }
        Some("retried") => "Dead deliveries are queued for another attempt.",
        Some("replayed") => "Event queued to run again against the current recipe.",
        Some("secret-set") => "Secret saved. Its value will not be shown again.",
        Some("secret-deleted") => "Secret deleted.",
        Some("token-revoked") => "Token revoked.",
        _ => "",
    };
    text.to_owned()
}

/// Pages load only their own CSS and JS, and no other site may frame them (clickjacking).
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data:; \
    frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

fn html(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("Content-Security-Policy", CONTENT_SECURITY_POLICY))
        .insert_header(("X-Frame-Options", "DENY"))
        .insert_header(("Referrer-Policy", "same-origin"))
        .insert_header(("Cache-Control", "no-store"))
        .body(body)
}

/// Renders a page with a status (200 unless a form is shown again with errors).
pub fn render(status: StatusCode, page: &impl Template) -> Result<HttpResponse, UiError> {
    Ok(html(status, page.render()?))
}

pub fn page(page: &impl Template) -> Result<HttpResponse, UiError> {
    render(StatusCode::OK, page)
}

/// The Post/Redirect/Get step after a form did its work.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header(("Location", location))
        .finish()
}

/// Every form that changes something carries the session's CSRF token.
pub fn check_csrf(session: &UiSession, presented: &str) -> Result<(), UiError> {
    if session.check_csrf(presented) {
        Ok(())
    } else {
        Err(UiError::Csrf)
    }
}

/// The fields of a form that only carries its CSRF token (buttons such as "rotate URL").
#[derive(serde::Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf: String,
}

/// Every UI failure, shown as an HTML error page in one place.
#[derive(Debug, thiserror::Error)]
pub enum UiError {
    #[error("{0}")]
    NotFound(String),
    #[error(
        "This form has expired or did not come from this site. Go back, reload the page and try again."
    )]
    Csrf,
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Conflict(String),
    #[error("The store is unavailable; try again in a moment.")]
    Store(#[from] StoreError),
    #[error("The page could not be rendered.")]
    Render(#[from] askama::Error),
}

impl From<ManageError> for UiError {
    fn from(error: ManageError) -> Self {
        match error {
            ManageError::NotFound(_) | ManageError::RevisionNotFound { .. } => {
                UiError::NotFound(error.to_string())
            }
            ManageError::FileManaged { .. } | ManageError::Invalid(_) => {
                UiError::Conflict(error.to_string())
            }
            ManageError::Store(e) => UiError::Store(e),
        }
    }
}

impl From<ApiError> for UiError {
    fn from(error: ApiError) -> Self {
        match error {
            ApiError::NotFound(m) => UiError::NotFound(m),
            ApiError::Store(e) => UiError::Store(e),
            other => UiError::BadRequest(other.to_string()),
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    layout: Layout,
    title: &'static str,
    message: String,
}

impl ResponseError for UiError {
    fn status_code(&self) -> StatusCode {
        match self {
            UiError::NotFound(_) => StatusCode::NOT_FOUND,
            UiError::Csrf => StatusCode::FORBIDDEN,
            UiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            UiError::Conflict(_) => StatusCode::CONFLICT,
            UiError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
            UiError::Render(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            UiError::Store(error) => tracing::error!(%error, "UI request failed in the store"),
            UiError::Render(error) => tracing::error!(%error, "UI page failed to render"),
            _ => {}
        }
        let title = match self {
            UiError::NotFound(_) => "Not found",
            UiError::Csrf => "Form refused",
            UiError::BadRequest(_) => "Bad request",
            UiError::Conflict(_) => "Not possible",
            UiError::Store(_) => "Temporarily unavailable",
            UiError::Render(_) => "Something went wrong",
        };
        let error_page = ErrorPage {
            layout: Layout::anonymous(),
            title,
            message: self.to_string(),
        };
        let body = error_page
            .render()
            .unwrap_or_else(|_| format!("{title}: {self}"));
        html(self.status_code(), body)
    }
}
