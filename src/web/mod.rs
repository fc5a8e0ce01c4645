//! HTTP routes other than the webhook endpoint itself.

pub mod api;
pub mod auth;
pub mod health;
pub mod ui;

use actix_web::web;

use crate::ingest::receive_webhook;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.configure(api::routes)
        .configure(ui::routes)
        .route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz))
        .service(
            web::resource("/hooks/{token}")
                .route(web::post().to(receive_webhook))
                .route(web::put().to(receive_webhook))
                .route(web::get().to(receive_webhook)),
        );
}
