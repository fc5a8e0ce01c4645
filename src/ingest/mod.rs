//! Inbound webhooks: `/hooks/{token}` (methods: see [`methods`]). The event is committed
//! before it is answered.

mod allowlist;
pub mod answer;
pub mod client_addr;
pub mod commit;
pub mod encoding;
pub mod error;
mod handshake;
pub mod methods;
pub mod payload;
pub mod rate_limit;
mod read;
pub mod respond;
pub mod signature;
pub mod split;
pub mod verify;

use std::sync::Arc;
use std::time::Duration;

use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use serde_json::json;
use tokio::sync::Notify;

use self::commit::GroupCommitter;
use self::error::IngestError;
use self::methods::Handling;
use self::payload::{headers_map, media_type, parse_body, parse_form};
use self::rate_limit::{HookLimiter, retry_after_secs};
use crate::engine::cache::RecipeCache;
use crate::ids::new_id;
use crate::recipe::{RespondMode, VerifyPreset};
use crate::store::{Inserted, NewEvent, SenderDelivery, Store};
use crate::telemetry::metrics::Metrics;

/// The id of the event a webhook stored (or, on a duplicate, of the first one).
pub const EVENT_ID_HEADER: &str = "switchyard-event-id";

/// The few handles the webhook endpoint needs; `startup` builds it next to the web's state.
pub struct HookState {
    pub store: Arc<dyn Store>,
    pub cache: Arc<RecipeCache>,
    pub committer: GroupCommitter,
    pub metrics: Arc<Metrics>,
    /// Woken when a webhook answered with its run (`respond = "result"`) planned deliveries.
    pub deliveries_ready: Arc<Notify>,
    /// Largest body accepted, in bytes, before and after decoding.
    pub body_limit: usize,
    /// How long the whole body may take to arrive.
    pub body_timeout: Duration,
    /// Peers whose `X-Forwarded-For`/`Forwarded` name the client (`allow_from` only).
    pub trusted_proxies: client_addr::TrustedProxies,
}

#[tracing::instrument(skip_all, fields(recipe))]
pub async fn receive_webhook(
    req: HttpRequest,
    token: web::Path<String>,
    body: web::Payload,
    state: web::Data<HookState>,
    limiter: web::Data<HookLimiter>,
) -> Result<HttpResponse, IngestError> {
    let stored = state
        .store
        .recipe_by_token(&token)
        .await
        .map_err(IngestError::StoreUnavailable)?
        .filter(|recipe| recipe.enabled)
        .ok_or(IngestError::UnknownHook)?;
    tracing::Span::current().record("recipe", stored.id.as_str());
    let recipe = state
        .cache
        .get(&stored)
        .map_err(|e| IngestError::Misconfigured(e.to_string()))?;
    let webhook = recipe.webhook.as_ref().ok_or(IngestError::UnknownHook)?;
    // First of all: a caller outside `allow_from` spends neither the rate limit nor a read.
    if let Err(refusal) = allowlist::check(webhook, &req, &state.trusted_proxies) {
        state.metrics.webhook_refused(&stored.id, refusal.kind());
        record_refusal(&state, &stored.id, &refusal.to_string()).await;
        return Err(refusal.into());
    }
    let handling = methods::handling(req.method(), webhook.takes_get())?;
    if handling == Handling::Options {
        return Ok(HttpResponse::NoContent()
            .insert_header(("Allow", methods::allow(webhook.takes_get())))
            .finish());
    }
    // HEAD is GET without content (RFC 9110 §9.3.2): the same limit, checks and parsing.
    let is_get = matches!(*req.method(), Method::GET | Method::HEAD);

    // Before the body is read: a refused call costs next to nothing. Handshakes count too.
    if let Err(wait) = limiter.take(state.store.as_ref(), &stored.id).await {
        tracing::info!(?wait, "webhook over its rate limit");
        return Err(IngestError::RateLimited {
            retry_after: retry_after_secs(wait),
        });
    }
    if let Some(answer) = handshake::from_query(webhook, &req, state.store.as_ref()).await? {
        return Ok(without_body_for_head(handling, answer));
    }
    if is_get && !webhook.allow_get {
        let handshake = webhook.handshake.map_or("", |h| h.as_str());
        return Err(IngestError::GetOnlyForHandshake(handshake));
    }

    let codings = encoding::codings(req.headers());
    let wire = read::read_limited(body, &req, state.body_limit, state.body_timeout).await?;
    let decoded = encoding::decode_wire(&wire, codings, state.body_limit)?;
    // The decoded bytes first (what senders sign), then the bytes as received.
    let candidates: Vec<&[u8]> = match &decoded {
        Some(decoded) => vec![decoded, &wire],
        None => vec![&wire],
    };
    if let Err(error) = verify::verify(webhook, &req, &candidates, state.store.as_ref()).await {
        if let IngestError::Refused(refusal) = &error {
            state.metrics.webhook_refused(&stored.id, refusal.kind());
            record_refusal(&state, &stored.id, &refusal.to_string()).await;
        }
        return Err(error);
    }
    let body = decoded.unwrap_or(wire);
    let payload = if is_get {
        let mut query = parse_form(req.query_string().as_bytes())?;
        if webhook.verify == VerifyPreset::Token
            && let Some(fields) = query.as_object_mut()
        {
            fields.remove("token");
        }
        query
    } else {
        parse_body(media_type(&req).as_deref(), &body)?
    };
    if let Some(answer) = handshake::from_body(webhook, &payload, state.store.as_ref()).await? {
        return Ok(answer);
    }
    if let Some(pointer) = &webhook.split {
        // Checked before anything is stored, HEAD included.
        split::items(&payload, pointer)?;
    }
    if handling == Handling::Head {
        // GET would store the event here; a HEAD only answers (safe method, RFC 9110 §9.2.1).
        return Ok(HttpResponse::Ok().finish());
    }

    let received_at = Utc::now();
    let sender = verify::delivery_id(webhook.verify, &req).map(|id| SenderDelivery {
        id,
        since: received_at - recipe.dedupe_window,
    });
    let event = NewEvent {
        id: new_id(),
        recipe_id: stored.id.clone(),
        trigger: "webhook".into(),
        received_at,
        content_type: req
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        headers: headers_map(&req, verify::credential_headers(webhook.verify)),
        body,
        payload,
    };
    // A paused recipe runs nothing in the request either: the event is stored, held, 202.
    if webhook.respond == RespondMode::Result && stored.paused_at.is_none() {
        return respond::answer_with_run(&state, recipe, stored.version, event, sender).await;
    }
    // Rendered before the commit: an answer that cannot be given stores nothing.
    let rendered = webhook
        .response
        .as_ref()
        .map(|response| answer::render(response, &event.payload, &serde_json::Value::Null))
        .transpose()?;
    if let Some(pointer) = &webhook.split {
        return split::accept(&state, event, sender, pointer, rendered).await;
    }
    let event_id = event.id.clone();
    let inserted = state
        .committer
        .commit_once(event, sender)
        .await
        .map_err(|e| IngestError::StoreUnavailable(unwrap_shared(e)))?;
    if let Inserted::Duplicate { event_id } = inserted {
        // The sender retried a delivery we already hold: acknowledge it, run nothing.
        let body = json!({ "event_id": event_id, "duplicate": true });
        let mut answer = answer::respond(rendered, StatusCode::OK, &body, &event_id);
        answer.headers_mut().insert(
            actix_web::http::header::HeaderName::from_static(respond::DUPLICATE_HEADER),
            actix_web::http::header::HeaderValue::from_static("true"),
        );
        return Ok(answer);
    }
    state.metrics.webhook_accepted(&stored.id);
    let body = json!({ "event_id": event_id });
    Ok(answer::respond(
        rendered,
        StatusCode::ACCEPTED,
        &body,
        &event_id,
    ))
}

/// A handshake's answer to HEAD: its status and headers, no content (RFC 9110 §9.3.2).
fn without_body_for_head(handling: Handling, answer: HttpResponse) -> HttpResponse {
    if handling != Handling::Head {
        return answer;
    }
    let mut head = HttpResponse::build(answer.status());
    for (name, value) in answer.headers() {
        head.insert_header((name.clone(), value.clone()));
    }
    head.finish()
}

/// Counts the refusal for the recipe; failing to count does not change the answer.
async fn record_refusal(state: &HookState, recipe_id: &str, reason: &str) {
    tracing::info!(reason, "webhook refused");
    if let Err(error) = state.store.record_refusal(recipe_id, reason).await {
        tracing::warn!(%error, "could not count a refused webhook");
    }
}

fn unwrap_shared(error: std::sync::Arc<crate::store::StoreError>) -> crate::store::StoreError {
    std::sync::Arc::try_unwrap(error)
        .unwrap_or_else(|shared| crate::store::StoreError::Unsupported(shared.to_string()))
}
