//! Housekeeping polls: ask an API for its current list and turn unseen items into events.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::Method;
use serde_json::{Value, json};

use super::TickContext;
use crate::engine::{EventContext, dedupe_key, off_executor};
use crate::ids::new_id;
use crate::outbound::USER_AGENT;
use crate::outbound::client::{OutboundRequest, fetch};
use crate::outbound::redact::redact_text;
use crate::recipe::Recipe;
use crate::recipe::file::PollSection;
use crate::recipe::template::{Template, TemplateContext, json_kind};
use crate::store::{NewEvent, StoreError};

pub const MAX_POLL_RESPONSE: usize = 10 * 1024 * 1024;
pub const POLL_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a poll produced no events; stored as a failed poll run.
#[derive(Debug, thiserror::Error)]
pub enum PollError {
    #[error("{0}")]
    Failed(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Fetches the poll URL and returns one event per item whose dedupe key was not seen yet.
pub async fn poll_events(
    ctx: &TickContext,
    recipe: &std::sync::Arc<Recipe>,
    poll: &PollSection,
    scheduled_for: DateTime<Utc>,
) -> Result<Vec<NewEvent>, PollError> {
    let fail = |message: String| PollError::Failed(message);
    let (request, secrets) = render_request(ctx, poll, scheduled_for).await?;
    // What a failed poll stores must not carry the secrets it was called with.
    let fail_redacted = |message: String| fail(redact_text(&message, &secrets, false));
    let (status, body) = fetch(&ctx.client, &ctx.policy, request, MAX_POLL_RESPONSE)
        .await
        .map_err(|e| fail_redacted(format!("poll failed: {e}")))?;
    if !(200..300).contains(&status) {
        let snippet: String = String::from_utf8_lossy(&body).chars().take(200).collect();
        return Err(fail_redacted(format!(
            "poll answered HTTP {status}: {snippet}"
        )));
    }
    let document: Value = serde_json::from_slice(&body)
        .map_err(|e| fail(format!("poll response is not valid JSON: {e}")))?;
    let items = extract_items(document, poll.items.as_deref()).map_err(fail)?;

    let mut events = Vec::new();
    let received_at = Utc::now();
    for item in items {
        let event_ctx = EventContext::new(recipe.id(), "poll", received_at, item, json!({}));
        let (scripts, recipe_for_key, key_ctx) = (
            ctx.cache.scripts().clone(),
            recipe.clone(),
            event_ctx.clone(),
        );
        let key = off_executor(move || dedupe_key(&scripts, &recipe_for_key, &key_ctx)).await;
        // An item whose key cannot be computed still becomes an event: its run fails visibly.
        if let Ok(Some(key)) = key {
            let since = received_at - recipe.dedupe_window;
            if ctx.store.dedupe_key_seen(recipe.id(), &key, since).await? {
                continue;
            }
        }
        events.push(NewEvent {
            id: new_id(),
            recipe_id: recipe.id().to_owned(),
            trigger: "poll".into(),
            received_at,
            content_type: Some("application/json".into()),
            headers: json!({}),
            body: event_ctx.event.to_string().into_bytes(),
            payload: event_ctx.event,
        });
    }
    Ok(events)
}

/// The array at `pointer`; without a pointer, the body's elements when it is an array, else
/// the body as the one item.
pub fn extract_items(document: Value, pointer: Option<&str>) -> Result<Vec<Value>, String> {
    match pointer.filter(|p| !p.is_empty()) {
        Some(pointer) => match document.pointer(pointer) {
            Some(Value::Array(items)) => Ok(items.clone()),
            Some(other) => Err(format!(
                "poll response at `{pointer}` is {}, not an array",
                json_kind(other)
            )),
            None => Err(format!("poll response has nothing at `{pointer}`")),
        },
        None => match document {
            Value::Array(items) => Ok(items),
            other => Ok(vec![other]),
        },
    }
}

async fn render_request(
    ctx: &TickContext,
    poll: &PollSection,
    scheduled_for: DateTime<Utc>,
) -> Result<(OutboundRequest, HashMap<String, String>), PollError> {
    let fail = |message: String| PollError::Failed(message);
    let parse = |field: &str, src: &str| {
        Template::parse(src).map_err(|e| fail(format!("poll {field}: {e}")))
    };
    let url = parse("url", &poll.url)?;
    let headers = poll
        .headers
        .iter()
        .map(|(name, value)| Ok((name.clone(), parse(name, value)?)))
        .collect::<Result<Vec<_>, PollError>>()?;
    let body = poll.body.as_deref().map(|b| parse("body", b)).transpose()?;

    let mut secrets = HashMap::new();
    let names = std::iter::once(&url)
        .chain(headers.iter().map(|(_, t)| t))
        .chain(body.iter())
        .flat_map(Template::secret_names);
    for name in names {
        if let Some(value) = ctx.store.get_secret(&name).await? {
            secrets.insert(name, value);
        }
    }
    let lookup = |name: &str| secrets.get(name).cloned();
    let tick = json!({ "scheduled_for": scheduled_for.to_rfc3339() });
    let template_ctx = TemplateContext {
        responses: &serde_json::Value::Null,
        output: &tick,
        event: &tick,
        secrets: &lookup,
    };
    let render = |t: &Template| {
        t.render(&template_ctx)
            .map_err(|e| fail(format!("poll: {e}")))
    };
    let method = poll.method.as_deref().unwrap_or("GET").to_ascii_uppercase();
    let mut rendered_headers = vec![
        ("accept".to_owned(), "application/json".to_owned()),
        ("user-agent".to_owned(), USER_AGENT.to_owned()),
    ];
    for (name, template) in &headers {
        rendered_headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        rendered_headers.push((name.clone(), render(template)?));
    }
    let request = OutboundRequest {
        method: Method::from_bytes(method.as_bytes())
            .map_err(|_| fail(format!("poll method `{method}` is not valid")))?,
        url: render(&url)?,
        headers: rendered_headers,
        body: body
            .as_ref()
            .map(render)
            .transpose()?
            .unwrap_or_default()
            .into_bytes(),
        timeout: POLL_TIMEOUT,
    };
    Ok((request, secrets))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_come_from_the_pointer_the_array_body_or_the_whole_body() {
        let doc = json!({ "data": [{ "id": 1 }, { "id": 2 }] });
        assert_eq!(extract_items(doc.clone(), Some("/data")).unwrap().len(), 2);
        assert_eq!(extract_items(json!([1, 2, 3]), None).unwrap().len(), 3);
        assert_eq!(
            extract_items(json!({ "status": "ok" }), None).unwrap(),
            vec![json!({ "status": "ok" })]
        );
        let missing = extract_items(doc.clone(), Some("/items")).unwrap_err();
        assert!(missing.contains("nothing at `/items`"), "{missing}");
        let not_array = extract_items(json!({ "data": { "id": 1 } }), Some("/data")).unwrap_err();
        assert!(not_array.contains("an object, not an array"), "{not_array}");
    }
}
