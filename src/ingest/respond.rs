//! `respond = "result"`: the request's evaluation is the event's run. The dedupe key is checked
//! first (a key seen runs no filter or transform), then filter and transform run once; event
//! and run commit together (`insert_evaluated`), and the answer is that run: what the caller
//! reads is what the actions receive. A duplicate answers with the first event's output.

use std::sync::Arc;

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderName, HeaderValue};
use chrono::Utc;
use serde_json::{Value, json};

use super::answer::{self, render};
use super::error::IngestError;
use super::{EVENT_ID_HEADER, HookState};
use crate::engine::{EventContext, dedupe_key, filter_and_transform, off_executor, run_outcome};
use crate::recipe::{Recipe, WebhookResponse};
use crate::store::{EarlierRun, Evaluated, EventStatus, NewEvent, RunOutcome, SenderDelivery};

/// Says that the request was seen before and acted on nothing: `true`, alongside the first
/// event's id in [`EVENT_ID_HEADER`] and that event's output as the body.
pub const DUPLICATE_HEADER: &str = "switchyard-duplicate";

/// Evaluates the event against `recipe` (stored as `version`), commits event and run, wakes
/// the delivery worker and answers: 200 with the output, 204 when filtered, 422 with the
/// script's message, or for a duplicate (sender retry or dedupe key) the first event's output
/// (200, or 204 without one) marked with [`DUPLICATE_HEADER`].
pub(super) async fn answer_with_run(
    state: &HookState,
    recipe: Arc<Recipe>,
    version: i64,
    event: NewEvent,
    sender: Option<SenderDelivery>,
) -> Result<HttpResponse, IngestError> {
    let ctx = EventContext::new(
        &event.recipe_id,
        &event.trigger,
        event.received_at,
        event.payload.clone(),
        event.headers.clone(),
    );
    let response = recipe.webhook.as_ref().and_then(|w| w.response.clone());
    let outcome = evaluate(state, recipe, ctx, &event.recipe_id).await?;
    let failure = match &outcome {
        RunOutcome::Failed { error } => Some(error.clone()),
        _ => None,
    };
    let output = match &outcome {
        RunOutcome::Done { output, .. } => Some(output.clone()),
        _ => None,
    };
    // Rendered before the commit: an answer that cannot be given stores nothing.
    let rendered = match (&response, &output) {
        (Some(response), Some(output)) => Some(render(response, &event.payload, output)?),
        _ => None,
    };
    let payload = response.as_ref().map(|_| event.payload.clone());
    let (event_id, recipe_id) = (event.id.clone(), event.recipe_id.clone());
    let evaluated = state
        .store
        .insert_evaluated(event, sender, version, outcome)
        .await
        .map_err(IngestError::StoreUnavailable)?;
    let shape = response.as_ref().zip(payload.as_ref());
    let status = match evaluated {
        Evaluated::SenderRetry { first } => return duplicate(Some(first), shape),
        Evaluated::Duplicate { first } => {
            state.metrics.webhook_accepted(&recipe_id);
            state.metrics.event_processed(&recipe_id, "duplicate");
            return duplicate(first, shape);
        }
        Evaluated::Stored { status } => status,
    };
    state.metrics.webhook_accepted(&recipe_id);
    state.metrics.event_processed(&recipe_id, status.as_str());
    Ok(match status {
        EventStatus::Failed => HttpResponse::UnprocessableEntity()
            .insert_header((EVENT_ID_HEADER, event_id.clone()))
            .json(json!({ "error": failure.unwrap_or_default(), "event_id": event_id })),
        EventStatus::Filtered => HttpResponse::NoContent()
            .insert_header((EVENT_ID_HEADER, event_id))
            .finish(),
        _ => {
            state.deliveries_ready.notify_one();
            let output = output.unwrap_or(Value::Null);
            answer::respond(rendered, StatusCode::OK, &output, &event_id)
        }
    })
}

/// The run the engine would decide for this event: `Duplicate` when its dedupe key was seen
/// within the window (filter and transform do not run), else from filter and transform.
async fn evaluate(
    state: &HookState,
    recipe: Arc<Recipe>,
    ctx: EventContext,
    recipe_id: &str,
) -> Result<RunOutcome, IngestError> {
    let scripts = state.cache.scripts().clone();
    // One blocking hop when the recipe has no dedupe key: the verdict comes with it.
    let (key, verdict, recipe, ctx, scripts) = off_executor(move || {
        let key = dedupe_key(&scripts, &recipe, &ctx);
        let verdict =
            matches!(key, Ok(None)).then(|| filter_and_transform(&scripts, &recipe, &ctx));
        (key, verdict, recipe, ctx, scripts)
    })
    .await;
    let key = match key {
        Err(error) => {
            return Ok(RunOutcome::Failed {
                error: error.to_string(),
            });
        }
        Ok(key) => key,
    };
    if let Some(verdict) = verdict {
        return Ok(run_outcome(&recipe, None, verdict, false));
    }
    let key = key.expect("a verdict is deferred only for a key");
    let since = Utc::now() - recipe.dedupe_window;
    if state
        .store
        .dedupe_key_seen(recipe_id, &key, since)
        .await
        .map_err(IngestError::StoreUnavailable)?
    {
        return Ok(RunOutcome::Duplicate { key });
    }
    let (verdict, recipe) = off_executor(move || {
        let verdict = filter_and_transform(&scripts, &recipe, &ctx);
        (verdict, recipe)
    })
    .await;
    Ok(run_outcome(&recipe, Some(key), verdict, false))
}

/// The answer to a request seen before: the first event's output, marked as a duplicate,
/// shaped by `[trigger.webhook.response]` (over this request's payload) when there is one.
fn duplicate(
    first: Option<EarlierRun>,
    shape: Option<(&WebhookResponse, &Value)>,
) -> Result<HttpResponse, IngestError> {
    let (event_id, output) =
        first.map_or((None, None), |first| (Some(first.event_id), first.output));
    if let (Some((response, payload)), Some(output), Some(event_id)) = (shape, &output, &event_id) {
        let rendered = render(response, payload, output)?;
        let mut answer = answer::respond(Some(rendered), StatusCode::OK, output, event_id);
        answer.headers_mut().insert(
            HeaderName::from_static(DUPLICATE_HEADER),
            HeaderValue::from_static("true"),
        );
        return Ok(answer);
    }
    let mut answer = match output {
        Some(_) => HttpResponse::Ok(),
        None => HttpResponse::NoContent(),
    };
    answer.insert_header((DUPLICATE_HEADER, "true"));
    if let Some(event_id) = event_id {
        answer.insert_header((EVENT_ID_HEADER, event_id));
    }
    Ok(match output {
        Some(output) => answer.json(output),
        None => answer.finish(),
    })
}
