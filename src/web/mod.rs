//! HTTP routes other than the webhook endpoint itself.

pub mod api;
pub mod auth;
pub mod health;
pub mod metrics;
pub mod state;
pub mod ui;

use actix_web::middleware::DefaultHeaders;
use actix_web::web;

use crate::ingest::receive_webhook;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.configure(api::routes)
        .configure(ui::routes)
        .route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz))
        .route("/metrics", web::get().to(metrics::metrics))
        // Every method: the hook answers 404, 405 with `Allow`, 204 to OPTIONS (ingest::methods).
        .service(web::resource("/hooks/{token}").route(web::route().to(receive_webhook)));
}

/// For responses that are not UI pages (JSON, redirects, assets, errors): nothing may load,
/// run or frame them. UI pages set their own, wider policy; these are only added where a
/// response has none.
const STRICT_CSP: &str =
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// Security headers on every response: UI, API, webhooks, health and metrics.
pub fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add(("Content-Security-Policy", STRICT_CSP))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("X-Frame-Options", "DENY"))
        .add(("Referrer-Policy", "same-origin"))
}

/// Unknown paths: a JSON error under `/api`, the UI's error page elsewhere.
pub async fn not_found(req: actix_web::HttpRequest) -> actix_web::HttpResponse {
    use actix_web::ResponseError;
    let what = format!("nothing at {} {}", req.method(), req.path());
    if req.path() == "/api" || req.path().starts_with("/api/") {
        api::error::ApiError::NotFound(what).error_response()
    } else {
        ui::UiError::NotFound(what).error_response()
    }
}
