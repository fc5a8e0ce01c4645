//! Dry runs: what a recipe would do with a sample payload, including the exact requests its
//! actions would send (secrets shown as references). Sends nothing. Blocking (runs scripts).

use chrono::Utc;
use serde_json::{Value, json};

use super::{EventContext, Verdict, dedupe_key, filter_and_transform};
use crate::deliver::request::{PlannedRequest, add_webhook_headers, render_redacted};
use crate::recipe::conditions::CompiledConditions;
use crate::recipe::{Filter, Recipe};
use crate::script::ScriptEngine;
use crate::store::DeliveryStart;

/// The dry run as data: `filter` (true/false/null without a filter), `filter_reason` (why it
/// said no), `conditions` (for a rows filter: every row's verdict, `{path, field, op,
/// expected, seen, held, error}`, `seen` left out when the field is missing; null for a
/// script filter), `dedupe_key`, `output`,
/// `requests` (each `{action, request}`, `{action, skipped}` with the reason when its `when`
/// is false, or `{action, error}` when its templates cannot render, e.g. a missing path, or
/// its `delay_until` gives no instant; a delayed request has `scheduled_for`, RFC 3339; a
/// chained one `after`, the action it waits for, its `responses.` shown as references), `error` (the first such error when nothing else failed).
pub fn evaluate(
    scripts: &ScriptEngine,
    recipe: &Recipe,
    ctx: &EventContext,
    payload: &Value,
) -> Value {
    let key = match dedupe_key(scripts, recipe, ctx) {
        Ok(key) => key,
        Err(error) => return json!({ "error": error.to_string() }),
    };
    let conditions = match &recipe.filter {
        Some(Filter::Rows(rows)) => rows
            .rows
            .evaluate(&ctx.rows_input())
            .map(|verdict| json!(verdict.rows))
            .unwrap_or_else(|_| rows_despite_error(rows, ctx)),
        _ => Value::Null,
    };
    let verdict = match filter_and_transform(scripts, recipe, ctx) {
        Ok(verdict) => verdict,
        Err(error) => {
            return json!({ "dedupe_key": key, "conditions": conditions, "error": error.to_string() });
        }
    };
    let passed = recipe
        .filter
        .as_ref()
        .map(|_| matches!(verdict, Verdict::Passed { .. }));
    let (output, deliveries) = match verdict {
        Verdict::Passed { output, deliveries } => (output, deliveries),
        Verdict::Filtered { reason } => {
            return json!({ "dedupe_key": key, "filter": passed, "filter_reason": reason,
                "conditions": conditions, "output": null, "requests": [], "error": null });
        }
    };
    let requests: Vec<Value> = recipe
        .actions
        .iter()
        .zip(&deliveries)
        .map(|(action, planned)| {
            let due = match &planned.start {
                DeliveryStart::Skipped(reason) => {
                    return json!({ "action": action.name, "skipped": reason });
                }
                DeliveryStart::Failed(error) => {
                    return json!({ "action": action.name, "error": format!("action `{}`: {error}", action.name) });
                }
                DeliveryStart::Due(at) | DeliveryStart::Waiting(at) => *at,
            };
            let mut request = match render_redacted(action, &output, payload) {
                Ok(request) => request,
                Err(error) => {
                    return json!({ "action": action.name, "error": format!("action `{}`: {error}", action.name) });
                }
            };
            let _ =
                add_webhook_headers(&mut request, "<delivery id>", Utc::now().timestamp(), None);
            if let Some(name) = &action.signing_secret {
                request.headers.push((
                    "webhook-signature".into(),
                    format!("v1,<signed with {{{{ secrets.{name} }}}}>"),
                ));
            }
            let scheduled = (due > Utc::now() + chrono::Duration::milliseconds(500))
                .then(|| due.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
            let after = planned
                .after
                .filter(|_| matches!(planned.start, DeliveryStart::Waiting(_)))
                .map(|i| recipe.actions[i].name.clone());
            json!({ "action": action.name, "request": request_json(&request),
                "scheduled_for": scheduled, "after": after })
        })
        .collect();
    let error = requests.iter().find_map(|r| r.get("error").cloned());
    json!({ "dedupe_key": key, "filter": passed, "filter_reason": null, "conditions": conditions,
        "output": output, "requests": requests, "error": error })
}

/// Each row's verdict when one of them could not be decided (the run fails; the rows still
/// show what each saw).
fn rows_despite_error(rows: &CompiledConditions, ctx: &EventContext) -> Value {
    json!(rows.rows.row_verdicts(&ctx.rows_input()))
}

fn request_json(request: &PlannedRequest) -> Value {
    json!({
        "method": request.method.as_str(),
        "url": request.url,
        "headers": request.headers.iter().map(|(n, v)| json!([n, v])).collect::<Vec<_>>(),
        "body": String::from_utf8_lossy(&request.body),
    })
}
