//! Events, newest first and paged by cursor, and one event with its runs, deliveries and
//! every attempt; replay and retry buttons.

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde_json::Value;

use super::format::{STATUS_FILTERS, ago, curl_example, pretty_json, status_label, when};
use super::{CsrfForm, Layout, UiError, check_csrf, page, see_other};
use crate::store::{EventDetail, EventStatus, EventSummary};
use crate::web::api::events::{EventsQuery, page as events_page};
use crate::web::auth::UiSession;
use crate::web::state::AppState;

const PAGE_SIZE: u32 = 50;

pub struct EventRow {
    pub id: String,
    pub recipe_id: String,
    pub recipe_name: String,
    pub trigger: String,
    pub status: &'static str,
    pub label: &'static str,
    pub when: String,
    pub ago: String,
    pub error: String,
    /// Why the latest run was filtered (empty otherwise).
    pub filter_reason: String,
    /// The list's Problem column: the event's error, else a dead delivery's error, else why
    /// it was filtered (empty: nothing to say).
    pub problem: String,
    /// Whether `problem` is an error (shown in red) rather than a filter's reason.
    pub problem_is_error: bool,
}

pub fn event_row(event: &EventSummary, names: &HashMap<String, String>) -> EventRow {
    let error = event.error.as_ref().or(event.delivery_error.as_ref());
    let problem = error.or(event.filter_reason.as_ref());
    EventRow {
        problem: problem.cloned().unwrap_or_default(),
        problem_is_error: error.is_some(),
        id: event.id.clone(),
        recipe_id: event.recipe_id.clone(),
        recipe_name: names
            .get(&event.recipe_id)
            .cloned()
            .unwrap_or_else(|| format!("{} (deleted)", event.recipe_id)),
        trigger: event.trigger.clone(),
        status: event.status.as_str(),
        label: status_label(event.status),
        when: when(event.received_at),
        ago: ago(event.received_at),
        error: event.error.clone().unwrap_or_default(),
        filter_reason: event.filter_reason.clone().unwrap_or_default(),
    }
}

#[derive(Template)]
#[template(path = "events/list.html")]
struct ListPage {
    layout: Layout,
    events: Vec<EventRow>,
    recipe: String,
    recipe_name: String,
    status: String,
    statuses: [&'static str; 6],
    older: String,
    is_first_page: bool,
    /// For the empty state: how to send the first event.
    curl: String,
}

impl ListPage {
    /// The list URL with the current filters and `extra` query parameters.
    fn link(&self, status: &str, before: &str) -> String {
        let mut query = Vec::new();
        if !self.recipe.is_empty() {
            query.push(("recipe", self.recipe.as_str()));
        }
        if !status.is_empty() {
            query.push(("status", status));
        }
        if !before.is_empty() {
            query.push(("before", before));
        }
        match serde_urlencoded::to_string(query) {
            Ok(q) if !q.is_empty() => format!("/events?{q}"),
            _ => "/events".into(),
        }
    }
}

pub struct DeliveryRow {
    pub id: String,
    pub action: String,
    pub status: String,
    pub attempt_count: u32,
    pub next_attempt: String,
    /// For a delivery not yet attempted and not yet due (a `delay`): when it is due.
    pub scheduled_for: String,
    pub last_error: String,
    pub attempts: Vec<AttemptRow>,
}

pub struct AttemptRow {
    pub number: u32,
    pub when: String,
    pub status: String,
    pub ok: bool,
    pub duration: String,
    pub detail: String,
}

pub struct RunRow {
    pub when: String,
    pub version: i64,
    pub status: &'static str,
    pub label: &'static str,
    pub dedupe_key: String,
    pub output: String,
    pub error: String,
    pub filter_reason: String,
}

#[derive(Template)]
#[template(path = "events/show.html")]
struct ShowPage {
    layout: Layout,
    event: EventRow,
    content_type: String,
    headers: Vec<(String, String)>,
    payload: String,
    runs: Vec<RunRow>,
    deliveries: Vec<DeliveryRow>,
    /// Still moving: the page refreshes itself (app.js) until it settles.
    in_flight: bool,
}

#[derive(serde::Deserialize)]
pub struct ListQuery {
    recipe: Option<String>,
    status: Option<String>,
    before: Option<String>,
}

async fn recipe_names(state: &AppState) -> Result<HashMap<String, String>, UiError> {
    Ok(state
        .store
        .list_recipes()
        .await?
        .into_iter()
        .map(|r| (r.id, r.name))
        .collect())
}

pub async fn list(
    req: HttpRequest,
    session: UiSession,
    query: web::Query<ListQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, UiError> {
    let recipe = query.recipe.clone().unwrap_or_default();
    let status = query.status.clone().unwrap_or_default();
    let listed = events_page(
        &state,
        &EventsQuery {
            recipe: Some(recipe.clone()),
            status: Some(status.clone()),
            before: query.before.clone(),
            limit: Some(PAGE_SIZE),
        },
    )
    .await?;
    let names = recipe_names(&state).await?;
    let events = listed.events.iter().map(|e| event_row(e, &names)).collect();
    page(&ListPage {
        layout: Layout::new(&session, "events", &req),
        events,
        recipe_name: names.get(&recipe).cloned().unwrap_or_default(),
        curl: match listed.events.is_empty() {
            true => empty_state_curl(&state, &recipe).await?,
            false => String::new(),
        },
        recipe,
        status,
        statuses: STATUS_FILTERS,
        older: listed.next.unwrap_or_default(),
        is_first_page: query.before.as_deref().unwrap_or_default().is_empty(),
    })
}

/// A curl command for the filtered recipe, or else the first recipe with a webhook.
async fn empty_state_curl(state: &AppState, recipe_id: &str) -> Result<String, UiError> {
    let recipes = state.store.list_recipes().await?;
    let chosen = recipes
        .iter()
        .filter(|r| recipe_id.is_empty() || r.id == recipe_id)
        .filter_map(|r| state.cache.get(r).ok().map(|compiled| (r, compiled)))
        .find(|(_, compiled)| compiled.webhook.is_some());
    Ok(chosen
        .map(|(stored, compiled)| {
            curl_example(
                &crate::manage::webhook_url(&state.public_base, stored),
                Some(&compiled),
            )
        })
        .unwrap_or_default())
}

pub async fn show(
    req: HttpRequest,
    session: UiSession,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, UiError> {
    let detail = state
        .store
        .get_event(&id)
        .await?
        .ok_or_else(|| UiError::NotFound(format!("There is no event with id `{id}`.")))?;
    let names = recipe_names(&state).await?;
    page(&show_page(
        Layout::new(&session, "events", &req),
        &detail,
        &names,
    ))
}

fn show_page(layout: Layout, detail: &EventDetail, names: &HashMap<String, String>) -> ShowPage {
    let event = &detail.event;
    let summary = EventSummary {
        id: event.id.clone(),
        recipe_id: event.recipe_id.clone(),
        trigger: event.trigger.clone(),
        received_at: event.received_at,
        status: event.status,
        error: event.error.clone(),
        filter_reason: detail.runs.last().and_then(|r| r.filter_reason.clone()),
        delivery_error: None,
    };
    let headers = match &event.headers {
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    v.as_str().map_or_else(|| v.to_string(), str::to_owned),
                )
            })
            .collect(),
        _ => vec![],
    };
    let runs = detail
        .runs
        .iter()
        .map(|run| RunRow {
            when: when(run.created_at),
            version: run.recipe_version,
            status: run.status.as_str(),
            label: match run.status {
                EventStatus::Done => "passed",
                other => status_label(other),
            },
            dedupe_key: run.dedupe_key.clone().unwrap_or_default(),
            output: run.output.as_ref().map(pretty_json).unwrap_or_default(),
            error: run.error.clone().unwrap_or_default(),
            filter_reason: run.filter_reason.clone().unwrap_or_default(),
        })
        .collect();
    let deliveries: Vec<DeliveryRow> = detail
        .deliveries
        .iter()
        .map(|d| DeliveryRow {
            id: d.id.clone(),
            action: d.action_name.clone(),
            status: d.status.clone(),
            attempt_count: d.attempt_count,
            next_attempt: match (d.status.as_str(), d.next_attempt_at) {
                ("pending", Some(at)) if d.attempt_count > 0 => when(at),
                _ => String::new(),
            },
            scheduled_for: match (d.status.as_str(), d.next_attempt_at) {
                ("pending", Some(at)) if d.attempt_count == 0 && at > chrono::Utc::now() => {
                    when(at)
                }
                _ => String::new(),
            },
            last_error: d.last_error.clone().unwrap_or_default(),
            attempts: d
                .attempts
                .iter()
                .map(|a| AttemptRow {
                    number: a.attempt_no,
                    when: when(a.started_at),
                    status: a
                        .status_code
                        .map_or_else(|| "error".into(), |c| c.to_string()),
                    ok: a.status_code.is_some_and(|c| (200..300).contains(&c)),
                    duration: format!("{} ms", a.duration_ms),
                    detail: a
                        .error
                        .clone()
                        .or_else(|| a.response_snippet.clone())
                        .unwrap_or_default(),
                })
                .collect(),
        })
        .collect();
    let in_flight = matches!(event.status, EventStatus::Pending | EventStatus::Done)
        || deliveries.iter().any(|d| d.status == "pending");
    ShowPage {
        layout,
        event: event_row(&summary, names),
        content_type: event.content_type.clone().unwrap_or_default(),
        headers,
        payload: pretty_json(&event.payload),
        runs,
        deliveries,
        in_flight,
    }
}

pub async fn replay(
    session: UiSession,
    id: web::Path<String>,
    form: web::Form<CsrfForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, UiError> {
    check_csrf(&session, &form.csrf)?;
    if !state.store.replay_event(&id).await? {
        return Err(UiError::NotFound(format!(
            "There is no event with id `{id}`."
        )));
    }
    state.events_ready.notify_one();
    Ok(see_other(&format!("/events/{id}?done=replayed")))
}

#[derive(serde::Deserialize)]
pub struct RetryForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    event: String,
}

pub async fn retry_delivery(
    session: UiSession,
    id: web::Path<String>,
    form: web::Form<RetryForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, UiError> {
    check_csrf(&session, &form.csrf)?;
    if !state.store.retry_delivery(&id).await? {
        return Err(UiError::Conflict(format!(
            "Delivery `{id}` is not dead (any more): only dead deliveries can be retried."
        )));
    }
    state.deliveries_ready.notify_one();
    let event: String = form
        .event
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    Ok(see_other(&format!("/events/{event}?done=retried")))
}
