//! `split = "/items"`: one request, one event per element of the list at that JSON pointer.
//!
//! The request itself is stored as an event with status `split` (it keeps the body as sent and
//! runs nothing); each element becomes a pending event of its own, with the request's headers,
//! the element as its payload and its JSON as its body, so each gets its own dedupe key, run
//! and deliveries. Request and elements commit in one transaction before the `202`, which
//! lists them: `{"event_id": <request>, "event_ids": [<element>, …]}` in list order. An empty
//! list stores the request and starts nothing. A pointer to anything but a list (or to
//! nothing) is a 422 naming the pointer, and nothing is stored. A sender's retry of a split
//! delivery (same delivery id) stores nothing and answers `200` with the first request's id,
//! `"duplicate": true` and its elements' ids.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderName, HeaderValue};
use serde_json::{Value, json};

use super::HookState;
use super::answer::{self, Rendered};
use super::error::IngestError;
use super::respond::DUPLICATE_HEADER;
use crate::ids::new_id;
use crate::recipe::template::json_kind;
use crate::store::{NewEvent, SenderDelivery, SplitInserted};

/// At most this many elements per request: one request must not become an unbounded
/// transaction (a 1 MiB body of `0,` would be half a million events).
pub const MAX_ITEMS: usize = 10_000;

/// The elements of the list at `pointer` (`""`: the payload itself).
pub fn items<'p>(payload: &'p Value, pointer: &str) -> Result<&'p [Value], IngestError> {
    let problem = |problem: String| IngestError::SplitNotList {
        pointer: pointer.to_owned(),
        problem,
    };
    match payload.pointer(pointer) {
        Some(Value::Array(items)) if items.len() > MAX_ITEMS => Err(problem(format!(
            "the list has {} elements; at most {MAX_ITEMS} are split from one request",
            items.len()
        ))),
        Some(Value::Array(items)) => Ok(items),
        Some(other) => Err(problem(format!(
            "the payload has {} there, not a list",
            json_kind(other)
        ))),
        None => Err(problem("the payload has nothing there".to_owned())),
    }
}

/// Stores the request and one event per element, then answers (see the module doc).
pub(super) async fn accept(
    state: &HookState,
    parent: NewEvent,
    sender: Option<SenderDelivery>,
    pointer: &str,
    rendered: Option<Rendered>,
) -> Result<HttpResponse, IngestError> {
    let children: Vec<NewEvent> = items(&parent.payload, pointer)?
        .iter()
        .map(|item| NewEvent {
            id: new_id(),
            recipe_id: parent.recipe_id.clone(),
            trigger: parent.trigger.clone(),
            received_at: parent.received_at,
            content_type: Some("application/json".to_owned()),
            headers: parent.headers.clone(),
            body: item.to_string().into_bytes(),
            payload: item.clone(),
        })
        .collect();
    let inserted = state
        .committer
        .commit_split(&parent, sender, &children)
        .await
        .map_err(IngestError::StoreUnavailable)?;
    match inserted {
        SplitInserted::Stored => {
            state.metrics.webhook_accepted(&parent.recipe_id);
            let ids: Vec<&str> = children.iter().map(|c| c.id.as_str()).collect();
            let body = json!({ "event_id": parent.id, "event_ids": ids });
            Ok(answer::respond(
                rendered,
                StatusCode::ACCEPTED,
                &body,
                &parent.id,
            ))
        }
        SplitInserted::Duplicate { event_id, children } => {
            let body = json!({ "event_id": event_id, "duplicate": true, "event_ids": children });
            let mut answer = answer::respond(rendered, StatusCode::OK, &body, &event_id);
            answer.headers_mut().insert(
                HeaderName::from_static(DUPLICATE_HEADER),
                HeaderValue::from_static("true"),
            );
            Ok(answer)
        }
    }
}
