//! The recipes list and one recipe's page: webhook URL, curl example, recent events, test
//! panel; plus the buttons that act on a recipe (enable, disable, pause, resume, delete, rotate,
//! retry dead).

use std::collections::HashMap;
use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::Utc;

use super::events::{EventRow, event_row};
use super::format::{
    SchedulePreview, ago, curl_example, pretty_json, schedule_preview, verify_note, when,
};
use super::test_panel::TestPanel;
use super::{CsrfForm, Layout, UiError, check_csrf, page, see_other};
use crate::manage::{self, RecipeView};
use crate::recipe::presets::{self, PresetKind};
use crate::recipe::{Recipe, VerifyPreset};
use crate::store::{EventPage, Held, RecipeStats, StoredRecipe};
use crate::web::auth::UiSession;
use crate::web::state::AppState;

const RECENT_EVENTS: u32 = 10;

pub struct RecipeRow {
    pub view: RecipeView,
    /// Why the stored recipe no longer compiles (empty when it does).
    pub broken: String,
    pub last_event: String,
    pub last_event_at: String,
    /// Events received in the last 24 hours, by what became of them.
    pub stats: RecipeStats,
    /// Webhook calls its `verify` check refused (None: never).
    pub refused: Option<Refused>,
    /// What it holds while paused.
    pub held: Held,
}

/// "N refused calls, last: <reason> at <time>".
pub struct Refused {
    pub count: u64,
    pub last_reason: String,
    pub last_at: String,
    pub last_ago: String,
}

#[derive(Template)]
#[template(path = "recipes/list.html")]
struct ListPage {
    layout: Layout,
    recipes: Vec<RecipeRow>,
}

#[derive(Template)]
#[template(path = "recipes/show.html")]
pub(super) struct ShowPage {
    layout: Layout,
    row: RecipeRow,
    has_webhook: bool,
    curl: String,
    verify_note: String,
    schedule: Option<(String, SchedulePreview)>,
    /// Ticks skipped while paused: how many, and when the latest was due ("" when none).
    paused_ticks: (u64, String),
    events: Vec<EventRow>,
    test: TestPanel,
    /// The latest revisions, and how many there are.
    revisions: Vec<super::revisions::RevisionRow>,
    revision_count: usize,
}

#[derive(Template)]
#[template(path = "recipes/delete.html")]
struct DeletePage {
    layout: Layout,
    view: RecipeView,
}

pub(super) async fn find(state: &AppState, id: &str) -> Result<StoredRecipe, UiError> {
    state
        .store
        .get_recipe(id)
        .await?
        .ok_or_else(|| UiError::NotFound(format!("There is no recipe with id `{id}`.")))
}

pub(super) fn compiled(state: &AppState, stored: &StoredRecipe) -> (Option<Arc<Recipe>>, String) {
    match state.cache.get(stored) {
        Ok(recipe) => (Some(recipe), String::new()),
        Err(error) => (None, error.to_string()),
    }
}

/// Rows with the last 24 hours' numbers.
async fn rows(state: &AppState, recipes: &[StoredRecipe]) -> Result<Vec<RecipeRow>, UiError> {
    let since = Utc::now() - chrono::Duration::hours(24);
    let stats: HashMap<String, _> = state
        .store
        .recipe_stats(since)
        .await?
        .into_iter()
        .map(|s| (s.recipe_id.clone(), s))
        .collect();
    let manage::ListExtras { mut refusals, held } =
        manage::list_extras(state.store.as_ref()).await?;
    Ok(recipes
        .iter()
        .map(|stored| {
            let (recipe, broken) = compiled(state, stored);
            let stat = stats.get(&stored.id);
            let last = stat.and_then(|s| s.last_event_at);
            RecipeRow {
                view: manage::view(&state.public_base, stored, recipe.as_deref()),
                broken,
                last_event: last.map(ago).unwrap_or_else(|| "never".into()),
                last_event_at: last.map(when).unwrap_or_default(),
                stats: stat.cloned().unwrap_or_default(),
                refused: refusals.remove(&stored.id).map(|r| Refused {
                    count: r.count,
                    last_reason: r.last_reason,
                    last_at: when(r.last_at),
                    last_ago: ago(r.last_at),
                }),
                held: held.get(&stored.id).copied().unwrap_or_default(),
            }
        })
        .collect())
}

pub async fn list(
    req: HttpRequest,
    session: UiSession,
    state: web::Data<AppState>,
) -> Result<HttpResponse, UiError> {
    let recipes = state.store.list_recipes().await?;
    page(&ListPage {
        layout: Layout::new(&session, "recipes", &req),
        recipes: rows(&state, &recipes).await?,
    })
}

pub async fn show(
    req: HttpRequest,
    session: UiSession,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, UiError> {
    let page_data = show_page(&req, &session, &state, &id, None).await?;
    page(&page_data)
}

pub(super) async fn show_page(
    req: &HttpRequest,
    session: &UiSession,
    state: &AppState,
    id: &str,
    test: Option<TestPanel>,
) -> Result<ShowPage, UiError> {
    let stored = find(state, id).await?;
    let (recipe, _) = compiled(state, &stored);
    let row = rows(state, std::slice::from_ref(&stored))
        .await?
        .pop()
        .expect("one row per recipe");
    let summaries = state
        .store
        .page_events(&EventPage {
            recipe_id: Some(stored.id.clone()),
            limit: RECENT_EVENTS,
            ..EventPage::default()
        })
        .await?;
    let names = HashMap::from([(stored.id.clone(), stored.name.clone())]);
    let paused_ticks = match recipe.as_ref().and_then(|r| r.schedule.as_ref()) {
        Some(_) => {
            let ticks = state.store.paused_ticks(&stored.id).await?;
            (ticks.count, ticks.last.map(when).unwrap_or_default())
        }
        None => (0, String::new()),
    };
    let test = match test {
        Some(test) => test,
        None => {
            let (payload, headers) = latest_sample(
                state,
                summaries.first().map(|e| e.id.as_str()),
                &stored.id,
                recipe.as_deref(),
            )
            .await?;
            TestPanel {
                payload,
                headers,
                ..TestPanel::default()
            }
        }
    };
    let (revisions, revision_count) = super::revisions::latest(state, &stored.id).await?;
    Ok(ShowPage {
        layout: Layout::new(session, "recipes", req),
        revisions,
        revision_count,
        has_webhook: recipe.as_ref().is_some_and(|r| r.webhook.is_some()),
        curl: curl_example(&row.view.webhook_url, recipe.as_deref()),
        verify_note: verify_note(recipe.as_deref()),
        schedule: recipe
            .as_ref()
            .and_then(|r| r.schedule.as_ref())
            .map(|s| (s.cron.clone(), schedule_preview(&s.cron, s.timezone.name()))),
        paused_ticks,
        events: summaries.iter().map(|e| event_row(e, &names)).collect(),
        row,
        test,
    })
}

/// The test panel starts from the newest event's payload and headers: the shape the recipe
/// really gets. Before any event it starts from a sample of that shape, so a dry run with strict
/// field reads means something: the shipped example's payload (same id), else the sample (and
/// sample headers: GitHub's delivery id, Shopify's webhook id, …) of the trigger preset
/// matching the recipe's `verify`, else `{}`. Headers are a JSON object's text, or empty.
async fn latest_sample(
    state: &AppState,
    event_id: Option<&str>,
    recipe_id: &str,
    recipe: Option<&Recipe>,
) -> Result<(String, String), UiError> {
    let Some(id) = event_id else {
        let (payload, headers) = sample_payload(recipe_id, recipe);
        return Ok((
            payload.map_or_else(|| "{}".into(), |v| pretty_json(&v)),
            headers.map(|v| pretty_json(&v)).unwrap_or_default(),
        ));
    };
    Ok(state
        .store
        .get_event(id)
        .await?
        .map(|d| (pretty_json(&d.event.payload), pretty_json(&d.event.headers)))
        .unwrap_or_default())
}

/// The sample payload and its headers, when there is one.
fn sample_payload(
    recipe_id: &str,
    recipe: Option<&Recipe>,
) -> (Option<serde_json::Value>, Option<serde_json::Value>) {
    if let Some(sample) = presets::examples()
        .into_iter()
        .find(|e| e.id == recipe_id)
        .and_then(|e| e.sample)
    {
        return (Some(sample), None);
    }
    let Some(verify) = recipe.and_then(|r| r.webhook.as_ref()).map(|w| w.verify) else {
        return (None, None);
    };
    let preset = match verify {
        VerifyPreset::Slack => "slack-events",
        other => other.as_str(),
    };
    match presets::get(PresetKind::Trigger, preset) {
        Some(p) => (p.sample.clone(), p.sample_headers.clone()),
        None => (None, None),
    }
}

async fn toggle(
    session: UiSession,
    id: web::Path<String>,
    form: web::Form<CsrfForm>,
    state: web::Data<AppState>,
    enabled: bool,
) -> Result<HttpResponse, UiError> {
    check_csrf(&session, &form.csrf)?;
    let author = session.author();
    manage::set_enabled(
        state.store.as_ref(),
        state.cache.scripts(),
        &id,
        enabled,
        &author,
    )
    .await?;
    let done = if enabled { "enabled" } else { "disabled" };
    Ok(see_other(&format!("/recipes/{id}?done={done}")))
}

pub async fn enable(
    session: UiSession,
    id: web::Path<String>,
    form: web::Form<CsrfForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, UiError> {
    toggle(session, id, form, state, true).await
}

pub async fn disable(
    session: UiSession,
    id: web::Path<String>,
    form: web::Form<CsrfForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, UiError> {
    toggle(session, id, form, state, false).await
}

async fn set_paused(
    session: UiSession,
    id: web::Path<String>,
    form: web::Form<CsrfForm>,
    state: web::Data<AppState>,
    paused: bool,
) -> Result<HttpResponse, UiError> {
    check_csrf(&session, &form.csrf)?;
    manage::set_paused(state.store.as_ref(), &id, paused).await?;
    if !paused {
        state.events_ready.notify_one();
        state.deliveries_ready.notify_one();
    }
    let done = if paused { "paused" } else { "resumed" };
    Ok(see_other(&format!("/recipes/{id}?done={done}")))
}

/// Pause: an operator state, so file-managed recipes too.
pub async fn pause(
    session: UiSession,
    id: web::Path<String>,
    form: web::Form<CsrfForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, UiError> {
    set_paused(session, id, form, state, true).await
}

pub async fn resume(
    session: UiSession,
    id: web::Path<String>,
    form: web::Form<CsrfForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, UiError> {
    set_paused(session, id, form, state, false).await
}

pub async fn confirm_delete(
    req: HttpRequest,
    session: UiSession,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, UiError> {
    let stored = find(&state, &id).await?;
    let (recipe, _) = compiled(&state, &stored);
    page(&DeletePage {
        layout: Layout::new(&session, "recipes", &req),
        view: manage::view(&state.public_base, &stored, recipe.as_deref()),
    })
}

pub async fn delete(
    session: UiSession,
    id: web::Path<String>,
    form: web::Form<CsrfForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, UiError> {
    check_csrf(&session, &form.csrf)?;
    manage::delete_recipe(state.store.as_ref(), &id).await?;
    Ok(see_other("/?done=deleted"))
}

pub async fn rotate(
    session: UiSession,
    id: web::Path<String>,
    form: web::Form<CsrfForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, UiError> {
    check_csrf(&session, &form.csrf)?;
    manage::rotate_url(state.store.as_ref(), &id, state.settings.rotate_grace).await?;
    Ok(see_other(&format!("/recipes/{id}?done=rotated")))
}

pub async fn retry_dead(
    session: UiSession,
    id: web::Path<String>,
    form: web::Form<CsrfForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, UiError> {
    check_csrf(&session, &form.csrf)?;
    find(&state, &id).await?;
    state.store.retry_dead(&id).await?;
    state.deliveries_ready.notify_one();
    Ok(see_other(&format!("/recipes/{id}?done=retried")))
}
