//! `[trigger.webhook.response]`: the status, headers, content type and body template a webhook
//! answers with. Templates read the event (the request's payload), or with
//! `respond = "result"` the transform's output as well; they are escaped for where they land
//! (a header value, a JSON, form or text body), exactly as action templates are.

use actix_web::http::header::{HeaderName, HeaderValue};

use super::error::FieldError;
use super::file::{RespondMode, ResponseSection};
use super::template::{Landing, Template};

/// Headers the server writes itself: the body's framing, the connection, the event id.
const RESERVED_HEADERS: [&str; 6] = [
    "content-type",
    "content-length",
    "transfer-encoding",
    "connection",
    "switchyard-event-id",
    "switchyard-duplicate",
];

/// A checked `[trigger.webhook.response]`.
#[derive(Debug, Clone)]
pub struct WebhookResponse {
    /// 200–299; `None`: the mode's own (202 for `accepted`, 200 for `result`).
    pub status: Option<u16>,
    /// Lower-case header name and its value template ([`Landing::Header`]).
    pub headers: Vec<(String, Template)>,
    /// The body template with the `Content-Type` it is sent with; `None`: the default body.
    pub body: Option<(Template, String)>,
}

/// Checks the section for a webhook answering in `respond` mode; every problem names its key.
pub(super) fn webhook_response(
    section: &ResponseSection,
    respond: RespondMode,
    errors: &mut Vec<FieldError>,
) -> Option<WebhookResponse> {
    let before = errors.len();
    let key = |name: &str| format!("trigger.webhook.response.{name}");
    if let Some(status) = section.status {
        if !(200..=299).contains(&status) {
            errors.push(FieldError::new(
                key("status"),
                format!(
                    "{status} is not a 2xx status: the answer tells the sender its call was received (use 200–299)"
                ),
            ));
        } else if matches!(status, 204 | 205) && section.body.is_some() {
            errors.push(FieldError::new(
                key("status"),
                format!("{status} cannot carry a body (RFC 9110 §15.3): remove `body` or use 200"),
            ));
        }
    }
    let mut headers = Vec::new();
    for (name, value) in &section.headers {
        let field = key(&format!("headers.{name}"));
        let lower = name.to_ascii_lowercase();
        if HeaderName::from_bytes(lower.as_bytes()).is_err() {
            errors.push(FieldError::new(
                field,
                format!("`{name}` is not a valid HTTP header name"),
            ));
            continue;
        }
        if RESERVED_HEADERS.contains(&lower.as_str()) {
            let hint = if lower == "content-type" {
                "set it with `content_type`"
            } else {
                "the server writes it"
            };
            errors.push(FieldError::new(
                field,
                format!("`{name}` is not settable: {hint}"),
            ));
            continue;
        }
        if let Some(template) = template(value, Landing::Header, &field, respond, errors) {
            headers.push((lower, template));
        }
    }
    let body = match (&section.body, &section.content_type) {
        (None, Some(_)) => {
            errors.push(FieldError::new(
                key("content_type"),
                "is set without a `body`: the default body is JSON (application/json)",
            ));
            None
        }
        (None, None) => None,
        (Some(body), content_type) => body_template(body, content_type.as_deref(), respond, errors),
    };
    (errors.len() == before).then_some(WebhookResponse {
        status: section.status,
        headers,
        body,
    })
}

/// The body template and its `Content-Type`: as given (its escaping follows it: JSON, form or
/// text), or, without one, JSON when the body starts with `{` or `[`, else plain text.
fn body_template(
    body: &str,
    content_type: Option<&str>,
    respond: RespondMode,
    errors: &mut Vec<FieldError>,
) -> Option<(Template, String)> {
    let field = "trigger.webhook.response.body";
    let content_type = match content_type.map(str::trim) {
        Some(given) => {
            if !given.contains('/') || HeaderValue::from_str(given).is_err() {
                errors.push(FieldError::new(
                    "trigger.webhook.response.content_type",
                    format!("`{given}` is not a media type such as `text/plain; charset=utf-8`"),
                ));
                return None;
            }
            given.to_owned()
        }
        None if body.trim_start().starts_with(['{', '[']) => "application/json".to_owned(),
        None => "text/plain; charset=utf-8".to_owned(),
    };
    let lower = content_type.to_ascii_lowercase();
    let landing = if lower.contains("json") {
        Landing::JsonBody
    } else if lower.contains("x-www-form-urlencoded") {
        Landing::FormBody
    } else {
        Landing::Text
    };
    let template = template(body, landing, field, respond, errors)?;
    Some((template, content_type))
}

/// A template of the section: parsed for `landing`, without secrets (the answer goes to
/// whoever called), and without `output.*` unless the webhook answers with its run.
fn template(
    source: &str,
    landing: Landing,
    field: &str,
    respond: RespondMode,
    errors: &mut Vec<FieldError>,
) -> Option<Template> {
    let template = match Template::parse_for(source, landing) {
        Ok(template) => template,
        Err(error) => {
            errors.push(FieldError::new(field, error.to_string()));
            return None;
        }
    };
    if let Some(name) = template.secret_names().first() {
        errors.push(FieldError::new(
            field,
            format!(
                "`{{{{ secrets.{name} }}}}` would send a secret to whoever calls the webhook: answers cannot use secrets"
            ),
        ));
        return None;
    }
    if let Some(name) = template.response_names().first() {
        errors.push(FieldError::new(
            field,
            format!(
                "`{{{{ responses.{name} }}}}`: actions' responses exist only inside chained actions (`after`), not in the webhook's answer"
            ),
        ));
        return None;
    }
    if respond == RespondMode::Accepted
        && let Some(path) = template.output_paths().first()
    {
        errors.push(FieldError::new(
            field,
            format!(
                "`{path}`: respond = \"accepted\" answers before any transform runs; use `event.…`, or respond = \"result\""
            ),
        ));
        return None;
    }
    Some(template)
}
