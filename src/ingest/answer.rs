//! What a webhook answers: the default JSON (`202 {"event_id"}`, a run's output, ...) or, with
//! `[trigger.webhook.response]`, its status, headers and body rendered over this request's
//! event (and the output with `respond = "result"`). A template that cannot be rendered (a path
//! the payload lacks, a header value with a line break) is a 422 naming it, given before
//! anything is stored wherever the answer can be known before the commit.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use serde_json::Value;

use super::EVENT_ID_HEADER;
use super::error::IngestError;
use crate::recipe::WebhookResponse;
use crate::recipe::template::TemplateContext;

/// A configured answer, rendered.
#[derive(Debug, Clone)]
pub struct Rendered {
    status: Option<u16>,
    headers: Vec<(String, String)>,
    /// Content type and text.
    body: Option<(String, String)>,
}

/// Renders `response` over `event` and `output` (`Value::Null` when the webhook answers before
/// any transform runs; `check` refuses `output.*` there).
pub fn render(
    response: &WebhookResponse,
    event: &Value,
    output: &Value,
) -> Result<Rendered, IngestError> {
    let no_secrets = |_: &str| None;
    let ctx = TemplateContext {
        output,
        event,
        responses: &Value::Null,
        secrets: &no_secrets,
    };
    let mut headers = Vec::with_capacity(response.headers.len());
    for (name, template) in &response.headers {
        let value = template
            .render(&ctx)
            .map_err(|e| IngestError::Response(format!("headers.{name}: {e}")))?;
        headers.push((name.clone(), value));
    }
    let body = match &response.body {
        Some((template, content_type)) => {
            let text = template
                .render(&ctx)
                .map_err(|e| IngestError::Response(format!("body: {e}")))?;
            Some((content_type.clone(), text))
        }
        None => None,
    };
    Ok(Rendered {
        status: response.status,
        headers,
        body,
    })
}

/// The answer: `rendered`'s parts where it has them, else `default_status` and the JSON
/// `default_body`; the event's id in [`EVENT_ID_HEADER`] either way.
pub fn respond(
    rendered: Option<Rendered>,
    default_status: StatusCode,
    default_body: &Value,
    event_id: &str,
) -> HttpResponse {
    let rendered = rendered.unwrap_or(Rendered {
        status: None,
        headers: Vec::new(),
        body: None,
    });
    let status = rendered
        .status
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(default_status);
    let mut answer = HttpResponse::build(status);
    answer.insert_header((EVENT_ID_HEADER, event_id));
    for (name, value) in rendered.headers {
        answer.append_header((name, value));
    }
    match rendered.body {
        Some((content_type, text)) => answer.content_type(content_type).body(text),
        None if matches!(status.as_u16(), 204 | 205) => answer.finish(),
        None => answer.json(default_body),
    }
}
