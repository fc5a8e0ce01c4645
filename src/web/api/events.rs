use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::error::{ApiError, extracted};
use crate::store::{EventCursor, EventPage, EventStatus, EventSummary};
use crate::web::auth::ApiCaller;
use crate::web::state::AppState;

pub const PAGE_SIZE: u32 = 50;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct EventsQuery {
    /// Only this recipe's events.
    pub recipe: Option<String>,
    /// pending | delivered | filtered | duplicate | failed | dead
    pub status: Option<String>,
    /// The `next` cursor of the previous page.
    pub before: Option<String>,
    pub limit: Option<u32>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct EventList {
    pub events: Vec<EventSummary>,
    /// Pass as `before` for the next (older) page; null on the last page.
    pub next: Option<String>,
}

/// The statuses a filter name stands for: "pending" includes runs whose deliveries are in flight.
pub fn statuses_for(filter: &str) -> Result<Vec<EventStatus>, String> {
    match filter {
        "" | "all" => Ok(vec![]),
        "pending" => Ok(vec![EventStatus::Pending, EventStatus::Done]),
        other => EventStatus::parse(other)
            .map(|s| vec![s])
            .ok_or_else(|| format!("unknown status `{other}`: use pending, delivered, filtered, duplicate, failed or dead")),
    }
}

pub fn encode_cursor(event: &EventSummary) -> String {
    format!("{}_{}", event.received_at.timestamp_millis(), event.id)
}

pub fn decode_cursor(cursor: &str) -> Result<EventCursor, String> {
    let (ms, id) = cursor
        .split_once('_')
        .ok_or_else(|| format!("`{cursor}` is not a page cursor"))?;
    let received_at_ms = ms
        .parse()
        .map_err(|_| format!("`{cursor}` is not a page cursor"))?;
    Ok(EventCursor {
        received_at_ms,
        id: id.to_owned(),
    })
}

/// A page of events, newest first, and the cursor of the next one.
pub async fn page(state: &AppState, query: &EventsQuery) -> Result<EventList, ApiError> {
    let limit = query.limit.unwrap_or(PAGE_SIZE).clamp(1, 500);
    let page = EventPage {
        recipe_id: query.recipe.clone().filter(|r| !r.is_empty()),
        statuses: statuses_for(query.status.as_deref().unwrap_or(""))
            .map_err(ApiError::BadRequest)?,
        before: query
            .before
            .as_deref()
            .filter(|b| !b.is_empty())
            .map(decode_cursor)
            .transpose()
            .map_err(ApiError::BadRequest)?,
        limit,
    };
    let events = state.store.page_events(&page).await?;
    let next = (events.len() == limit as usize)
        .then(|| events.last().map(encode_cursor))
        .flatten();
    Ok(EventList { events, next })
}

#[utoipa::path(params(EventsQuery), responses((status = 200, body = EventList), (status = 400)), security(("bearer" = [])))]
#[get("/api/events")]
pub async fn list_events(
    _: ApiCaller,
    query: Result<web::Query<EventsQuery>, actix_web::Error>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = extracted(query)?;
    Ok(HttpResponse::Ok().json(page(&state, &query).await?))
}

/// The event with its headers, payload, runs, and each delivery with every attempt.
#[utoipa::path(params(("id" = String, Path)),
    responses((status = 200, description = "`event`, `runs` (a filtered run has `filter_reason`: each failed condition row with the value it saw), `deliveries` (each with `attempts`)"), (status = 404)),
    security(("bearer" = [])))]
#[get("/api/events/{id}")]
pub async fn get_event(
    _: ApiCaller,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let detail = state
        .store
        .get_event(&id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no event with id `{id}`")))?;
    Ok(HttpResponse::Ok().json(detail))
}

/// Runs the event again against the current recipe (skipping the dedupe check).
#[utoipa::path(params(("id" = String, Path)), responses((status = 202), (status = 404)), security(("bearer" = [])))]
#[post("/api/events/{id}/replay")]
pub async fn replay_event(
    _: ApiCaller,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    if !state.store.replay_event(&id).await? {
        return Err(ApiError::NotFound(format!("no event with id `{id}`")));
    }
    state.events_ready.notify_one();
    Ok(HttpResponse::Accepted().json(json!({ "event_id": id.into_inner(), "replayed": true })))
}

/// One more attempt for a dead delivery.
#[utoipa::path(params(("id" = String, Path)), responses((status = 202), (status = 404, description = "no dead delivery with this id")), security(("bearer" = [])))]
#[post("/api/deliveries/{id}/retry")]
pub async fn retry_delivery(
    _: ApiCaller,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    if !state.store.retry_delivery(&id).await? {
        return Err(ApiError::NotFound(format!(
            "no dead delivery with id `{id}`"
        )));
    }
    state.deliveries_ready.notify_one();
    Ok(HttpResponse::Accepted().json(json!({ "delivery_id": id.into_inner(), "retried": true })))
}
