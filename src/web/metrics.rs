//! `GET /metrics`: the registry (`telemetry::metrics`) in the Prometheus text format.
//!
//! `/metrics` needs the API bearer token (`SWITCHYARD_API_TOKEN` or a token created in the UI),
//! like `/api`: the server usually faces the internet for its webhooks, and recipe ids and
//! traffic are not for everyone. Prometheus sends it with `authorization: { credentials: ... }`
//! (or `bearer_token`) in the scrape config.

use actix_web::{HttpResponse, web};
use prometheus::{Encoder, TextEncoder};

use super::api::error::ApiError;
use super::auth::ApiCaller;
use super::state::AppState;

/// `GET /metrics`: the counters, with the backlog gauges refreshed from the store.
pub async fn metrics(_: ApiCaller, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    match state.store.backlog().await {
        Ok(backlog) => {
            state
                .metrics
                .set_backlog(backlog.events_pending, backlog.deliveries_pending);
        }
        // The counters are still worth scraping; the gauges keep their last value.
        Err(error) => tracing::warn!(%error, "metrics: could not read the backlog"),
    }
    Ok(HttpResponse::Ok()
        .content_type(TextEncoder::new().format_type())
        .insert_header(("Cache-Control", "no-store"))
        .body(state.metrics.render()))
}
