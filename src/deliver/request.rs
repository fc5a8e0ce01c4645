//! Turns an action plus a run's output into the exact request that will be sent.

use reqwest::Method;
use serde_json::Value;

use super::sign::sign;
use crate::recipe::Action;
use crate::recipe::template::{TemplateContext, TemplateError};

use crate::outbound::USER_AGENT;

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PlannedRequest {
    #[serde(serialize_with = "method_as_str")]
    pub method: Method,
    pub url: String,
    pub headers: Vec<(String, String)>,
    #[serde(serialize_with = "body_as_text")]
    pub body: Vec<u8>,
}

fn method_as_str<S: serde::Serializer>(method: &Method, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(method.as_str())
}

fn body_as_text<S: serde::Serializer>(body: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&String::from_utf8_lossy(body))
}

/// Every secret name the action's templates and signing need.
pub fn secret_names(action: &Action) -> Vec<String> {
    let mut names: Vec<String> = action
        .templates()
        .into_iter()
        .flat_map(|(_, t)| t.secret_names())
        .chain(action.signing_secret.iter().cloned())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Renders url, headers and body with real secret values and, for a chained action, the
/// stored `responses` of the actions before it (by name; null otherwise).
pub fn render(
    action: &Action,
    output: &Value,
    event: &Value,
    responses: &Value,
    secrets: &dyn Fn(&str) -> Option<String>,
) -> Result<PlannedRequest, TemplateError> {
    let ctx = TemplateContext {
        responses,
        output,
        event,
        secrets,
    };
    let headers = action
        .headers
        .iter()
        .map(|(name, t)| Ok((name.clone(), t.render(&ctx)?)))
        .collect::<Result<Vec<_>, TemplateError>>()?;
    let body = match (&action.body, &action.fields) {
        (Some(t), _) => Some(t.render(&ctx)?.into_bytes()),
        (None, Some(fields)) => Some(fields.render(&ctx)?.to_string().into_bytes()),
        (None, None) => None,
    };
    Ok(assemble(
        action,
        action.url.render(&ctx)?,
        headers,
        body,
        output,
    ))
}

/// Renders with every secret shown as its `{{ secrets.NAME }}` reference: for dry runs.
pub fn render_redacted(
    action: &Action,
    output: &Value,
    event: &Value,
) -> Result<PlannedRequest, TemplateError> {
    let headers = action
        .headers
        .iter()
        .map(|(name, t)| Ok((name.clone(), t.render_redacted(output, event)?)))
        .collect::<Result<Vec<_>, TemplateError>>()?;
    let body = match (&action.body, &action.fields) {
        (Some(t), _) => Some(t.render_redacted(output, event)?.into_bytes()),
        (None, Some(fields)) => Some(
            fields
                .render_redacted(output, event)?
                .to_string()
                .into_bytes(),
        ),
        (None, None) => None,
    };
    let url = action.url.render_redacted(output, event)?;
    Ok(assemble(action, url, headers, body, output))
}

fn assemble(
    action: &Action,
    url: String,
    mut headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
    output: &Value,
) -> PlannedRequest {
    // The body says what it is when the action does not (see `body_content_type`).
    if !has_header(&headers, "content-type") {
        headers.push(("content-type".into(), action.default_content_type.into()));
    }
    let body = body.unwrap_or_else(|| output.to_string().into_bytes());
    if !has_header(&headers, "user-agent") {
        headers.push(("user-agent".into(), USER_AGENT.into()));
    }
    PlannedRequest {
        method: action.method.clone(),
        url,
        headers,
        body,
    }
}

fn has_header(headers: &[(String, String)], name: &str) -> bool {
    headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name))
}

/// Adds the Standard Webhooks headers: `webhook-id` (stable across retries of one delivery),
/// `webhook-timestamp`, and `webhook-signature` when a signing secret is given.
pub fn add_webhook_headers(
    request: &mut PlannedRequest,
    msg_id: &str,
    timestamp: i64,
    signing_secret: Option<&str>,
) -> Result<(), String> {
    request.headers.push(("webhook-id".into(), msg_id.into()));
    request
        .headers
        .push(("webhook-timestamp".into(), timestamp.to_string()));
    if let Some(secret) = signing_secret {
        let signature = sign(secret, msg_id, timestamp, &request.body)
            .map_err(|e| format!("cannot sign the request: the action's signing secret {e}"))?;
        request
            .headers
            .push(("webhook-signature".into(), signature));
    }
    Ok(())
}
