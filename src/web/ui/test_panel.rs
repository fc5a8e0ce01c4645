//! The test panel of a recipe's page: a dry run of a sample payload (filter verdict,
//! transform output, the exact requests; nothing sent) or a stored "manual" test event.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};

use super::format::pretty_json;
use super::recipes::{compiled, find, show_page};
use super::{UiError, check_csrf, render, see_other};
use crate::ids::new_id;
use crate::manage;
use crate::recipe::conditions::Op;
use crate::store::{NewEvent, StoredRecipe};
use crate::web::auth::UiSession;
use crate::web::state::AppState;

#[derive(Default)]
pub struct TestPanel {
    pub payload: String,
    pub headers: String,
    pub error: String,
    pub report: Option<TestReport>,
}

pub struct TestReport {
    pub error: String,
    pub verdict: &'static str,
    pub passed: bool,
    /// Why the filter said no (`data.object.amount = 500 is not greater than 1000`).
    pub reason: String,
    /// A rows filter: each row's verdict, in file order.
    pub rows: Vec<RowView>,
    pub dedupe_key: String,
    pub output: String,
    pub requests: Vec<PlannedView>,
}

/// One condition row's verdict: what it compared and whether it held.
pub struct RowView {
    /// Where the row is: `filter.when[0]`.
    pub path: String,
    pub field: String,
    /// The operator's label (`is greater than`).
    pub op: String,
    pub expected: String,
    /// The field's value as JSON, or "(missing)".
    pub seen: String,
    pub held: bool,
    pub error: String,
}

pub struct PlannedView {
    pub action: String,
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

#[derive(Deserialize)]
pub struct TestForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    payload: String,
    #[serde(default)]
    headers: String,
    #[serde(default)]
    op: String,
}

/// Dry run (nothing sent, nothing stored) or "send test event" (stored like a real one).
#[tracing::instrument(skip_all, fields(recipe = %id))]
pub async fn test(
    req: HttpRequest,
    session: UiSession,
    id: web::Path<String>,
    form: web::Form<TestForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, UiError> {
    check_csrf(&session, &form.csrf)?;
    let stored = find(&state, &id).await?;
    let mut panel = TestPanel {
        payload: form.payload.replace("\r\n", "\n"),
        headers: form.headers.replace("\r\n", "\n"),
        ..TestPanel::default()
    };
    let (recipe, broken) = compiled(&state, &stored);
    let parsed = parse_sample(&panel.payload, &panel.headers);
    match (recipe, parsed) {
        (None, _) => panel.error = format!("The recipe does not compile: {broken}"),
        (_, Err(message)) => panel.error = message,
        (Some(_), Ok((payload, headers))) if form.op == "send" => {
            let event_id = send_test_event(&state, &stored, payload, headers).await?;
            return Ok(see_other(&format!("/events/{event_id}")));
        }
        (Some(recipe), Ok((payload, headers))) => {
            let report = manage::test_recipe(state.cache.scripts(), recipe, payload, headers).await;
            panel.report = Some(test_report(&report));
        }
    }
    let status = if panel.error.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    render(
        status,
        &show_page(&req, &session, &state, &id, Some(panel)).await?,
    )
}

fn parse_sample(payload: &str, headers: &str) -> Result<(Value, Value), String> {
    if payload.trim().is_empty() {
        return Err("Paste a sample payload (JSON) first.".into());
    }
    let payload: Value =
        serde_json::from_str(payload).map_err(|e| format!("The payload is not valid JSON: {e}"))?;
    let headers = match headers.trim() {
        "" => json!({ "content-type": "application/json" }),
        text => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => Value::Object(
                map.into_iter()
                    .map(|(k, v)| (k.to_ascii_lowercase(), v))
                    .collect(),
            ),
            Ok(_) => return Err("Headers must be a JSON object of name → value.".into()),
            Err(e) => return Err(format!("The headers are not valid JSON: {e}")),
        },
    };
    Ok((payload, headers))
}

async fn send_test_event(
    state: &AppState,
    stored: &StoredRecipe,
    payload: Value,
    headers: Value,
) -> Result<String, UiError> {
    let event = NewEvent {
        id: new_id(),
        recipe_id: stored.id.clone(),
        trigger: "manual".into(),
        received_at: Utc::now(),
        content_type: Some("application/json".into()),
        headers,
        body: payload.to_string().into_bytes(),
        payload,
    };
    let id = event.id.clone();
    state
        .committer
        .commit(event)
        .await
        .map_err(|e| UiError::Conflict(format!("The event could not be stored: {e}")))?;
    state.events_ready.notify_one();
    Ok(id)
}

fn test_report(report: &Value) -> TestReport {
    let text = |v: &Value| match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let (verdict, passed) = match report.get("filter") {
        Some(Value::Bool(true)) => ("passed the filter", true),
        Some(Value::Bool(false)) => ("filtered out: no action would run", false),
        _ => ("no filter: every event passes", true),
    };
    let requests = report["requests"]
        .as_array()
        .map(|list| list.iter().map(planned_view).collect())
        .unwrap_or_default();
    let rows = report["conditions"]
        .as_array()
        .map(|rows| rows.iter().map(row_view).collect())
        .unwrap_or_default();
    TestReport {
        error: text(&report["error"]),
        verdict,
        passed,
        reason: text(&report["filter_reason"]),
        rows,
        dedupe_key: text(&report["dedupe_key"]),
        output: match report.get("output") {
            None | Some(Value::Null) => String::new(),
            Some(output) => pretty_json(output),
        },
        requests,
    }
}

fn row_view(row: &Value) -> RowView {
    let op = serde_json::from_value::<Op>(row["op"].clone())
        .map(Op::label)
        .unwrap_or_default();
    let json_text = |v: &Value| match v {
        Value::Null => String::new(),
        other => other.to_string(),
    };
    RowView {
        path: row["path"].as_str().unwrap_or_default().to_owned(),
        field: row["field"].as_str().unwrap_or_default().to_owned(),
        op: op.to_owned(),
        expected: json_text(&row["expected"]),
        seen: row
            .get("seen")
            .map_or_else(|| "(missing)".to_owned(), Value::to_string),
        held: row["held"].as_bool().unwrap_or(false),
        error: row["error"].as_str().unwrap_or_default().to_owned(),
    }
}

fn planned_view(planned: &Value) -> PlannedView {
    let request = &planned["request"];
    let str_of = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let body = str_of(&request["body"]);
    PlannedView {
        action: str_of(&planned["action"]),
        method: str_of(&request["method"]),
        url: str_of(&request["url"]),
        headers: request["headers"]
            .as_array()
            .map(|headers| {
                headers
                    .iter()
                    .map(|pair| (str_of(&pair[0]), str_of(&pair[1])))
                    .collect()
            })
            .unwrap_or_default(),
        // JSON bodies read better indented.
        body: serde_json::from_str::<Value>(&body)
            .map(|v| pretty_json(&v))
            .unwrap_or(body),
    }
}
