//! A validated outbound action, built from its file section. A delivery names the recipe
//! version its run used, so a later edit of the recipe never changes a delivery already queued.

use std::time::Duration;

use reqwest::Method;

use super::duration::{default_schedule, parse_duration};
use super::error::FieldError;
use super::file::ActionSection;
use crate::recipe::template::fields::FieldMap;
use crate::recipe::template::{Landing, Template};

pub const DEFAULT_ACTION_TIMEOUT: Duration = Duration::from_secs(15);
const MAX_ACTION_TIMEOUT: Duration = Duration::from_secs(300);
const ALLOWED_METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

#[derive(Debug, Clone)]
pub struct Action {
    pub name: String,
    pub method: Method,
    pub url: Template,
    pub headers: Vec<(String, Template)>,
    pub body: Option<Template>,
    /// The body as a JSON object mapped key by key (never together with `body`).
    pub fields: Option<FieldMap>,
    /// The `Content-Type` sent when `headers` set none, decided by how the body is escaped
    /// (`body_content_type`: JSON for a JSON body, plain text for a body written as is).
    pub default_content_type: &'static str,
    pub timeout: Duration,
    pub retry_schedule: Vec<Duration>,
    /// Name of the secret that signs calls (Standard Webhooks).
    pub signing_secret: Option<String>,
}

impl Action {
    /// `field` is the prefix used in messages, e.g. `action[1]`.
    pub fn from_section(section: &ActionSection, field: &str) -> Result<Action, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut err = |key: &str, message: String| {
            errors.push(FieldError::new(format!("{field}.{key}"), message));
        };

        if section.name.trim().is_empty() {
            err("name", "must not be empty".into());
        }
        let method = section.method.to_ascii_uppercase();
        if !ALLOWED_METHODS.contains(&method.as_str()) {
            err(
                "method",
                format!(
                    "`{}` is not one of {}",
                    section.method,
                    ALLOWED_METHODS.join(", ")
                ),
            );
        }
        let url = match Template::parse_for(&section.url, Landing::Url) {
            Ok(template) => {
                if let Err(message) = check_url_template(&section.url) {
                    err("url", message);
                }
                Some(template)
            }
            Err(e) => {
                err("url", e.to_string());
                None
            }
        };
        let mut headers = Vec::new();
        for (name, value) in &section.headers {
            if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
                err("headers", format!("`{name}` is not a valid header name"));
                continue;
            }
            match Template::parse_for(value, Landing::Header) {
                Ok(t) => headers.push((name.clone(), t)),
                Err(e) => err(&format!("headers.{name}"), e.to_string()),
            }
        }
        let landing = body_landing(section);
        let body = match section
            .body
            .as_deref()
            .map(|body| Template::parse_for(body, landing))
            .transpose()
        {
            Ok(body) => body,
            Err(e) => {
                err("body", e.to_string());
                None
            }
        };
        let fields = match &section.fields {
            None => None,
            Some(table) => {
                if section.body.is_some() {
                    err(
                        "fields",
                        "cannot be used together with `body`: the body is either the object \
                         built from `fields` or the `body` template; remove one"
                            .into(),
                    );
                }
                if let Some(content_type) = content_type(section)
                    && !content_type.contains("json")
                {
                    err(
                        "fields",
                        format!(
                            "builds a JSON body, but the action's Content-Type is \
                             `{content_type}`: remove the header (application/json is sent) \
                             or use `body` for a body that is not JSON"
                        ),
                    );
                }
                match FieldMap::parse(table) {
                    Ok(map) => Some(map),
                    Err(problems) => {
                        for problem in problems {
                            err(&format!("fields.{}", problem.at), problem.message);
                        }
                        None
                    }
                }
            }
        };
        let timeout = match section.timeout.as_deref().map(parse_duration).transpose() {
            Ok(Some(t)) if t.is_zero() || t > MAX_ACTION_TIMEOUT => {
                err(
                    "timeout",
                    format!("must be between 1ms and {}s", MAX_ACTION_TIMEOUT.as_secs()),
                );
                DEFAULT_ACTION_TIMEOUT
            }
            Ok(t) => t.unwrap_or(DEFAULT_ACTION_TIMEOUT),
            Err(e) => {
                err("timeout", e);
                DEFAULT_ACTION_TIMEOUT
            }
        };
        let retry_schedule = match &section.retry {
            None => default_schedule(),
            Some(retry) if retry.schedule.is_empty() => {
                err(
                    "retry.schedule",
                    "needs at least one entry (the first attempt)".into(),
                );
                default_schedule()
            }
            Some(retry) => {
                let parsed: Result<Vec<_>, _> =
                    retry.schedule.iter().map(|s| parse_duration(s)).collect();
                parsed.unwrap_or_else(|e| {
                    err("retry.schedule", e);
                    default_schedule()
                })
            }
        };
        let signing_secret = match &section.secret {
            None => None,
            Some(value) => match secret_reference(value) {
                Ok(name) => Some(name),
                Err(message) => {
                    err("secret", message);
                    None
                }
            },
        };

        match (
            errors.is_empty(),
            url,
            Method::from_bytes(method.as_bytes()),
        ) {
            (true, Some(url), Ok(method)) => Ok(Action {
                name: section.name.clone(),
                method,
                url,
                headers,
                body,
                fields,
                default_content_type: body_content_type(section),
                timeout,
                retry_schedule,
                signing_secret,
            }),
            _ => Err(errors),
        }
    }
}

impl Action {
    /// Every template of the action with its key (`url`, `headers.X-Id`, `body`,
    /// `fields.customer.email`).
    pub fn templates(&self) -> Vec<(String, &Template)> {
        let mut out = vec![("url".to_string(), &self.url)];
        for (name, template) in &self.headers {
            out.push((format!("headers.{name}"), template));
        }
        out.extend(self.body.iter().map(|body| ("body".to_string(), body)));
        for (key, template) in self.fields.iter().flat_map(FieldMap::templates) {
            out.push((format!("fields.{key}"), template));
        }
        out
    }

    /// Without a transform there is no output to read: each `{{ output.… }}` is an error
    /// (`field` prefixes the keys, e.g. `action[0]`).
    pub fn output_without_transform(&self, field: &str) -> Vec<FieldError> {
        let mut errors = Vec::new();
        for (key, template) in self.templates() {
            for path in template.output_paths() {
                let event_path = format!("event{}", &path["output".len()..]);
                errors.push(FieldError::new(
                    format!("{field}.{key}"),
                    format!(
                        "`{{{{ {path} }}}}`: no transform: output.* is empty; use event.* \
                         (`{{{{ {event_path} }}}}`) or add a [transform]"
                    ),
                ));
            }
        }
        errors
    }
}

/// The action's Content-Type header as written, lower-case.
fn content_type(section: &ActionSection) -> Option<String> {
    section
        .headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("content-type"))
        .map(|(_, value)| value.to_ascii_lowercase())
}

/// How a body template escapes its values: by the action's Content-Type, or, without one,
/// JSON when the body looks like JSON (starts with `{` or `[`) and plain text otherwise.
fn body_landing(section: &ActionSection) -> Landing {
    match content_type(section) {
        Some(t) if t.contains("json") => Landing::JsonBody,
        Some(t) if t.contains("x-www-form-urlencoded") => Landing::FormBody,
        Some(_) => Landing::Text,
        None => match section.body.as_deref().map(str::trim_start) {
            Some(body) if body.starts_with(['{', '[']) => Landing::JsonBody,
            _ => Landing::Text,
        },
    }
}

/// The `Content-Type` that says how the body was written, for an action whose headers set
/// none: `application/json` for a JSON body (the transform output or the `fields` object,
/// and a `body` template rendered with JSON escaping: one starting with `{` or `[`, which
/// includes a body that is exactly one `{{ path }}`, written as a JSON value), and
/// `text/plain; charset=utf-8` for a body whose values are inserted as written.
fn body_content_type(section: &ActionSection) -> &'static str {
    match (section.body.is_some(), body_landing(section)) {
        (false, _) | (true, Landing::JsonBody) => "application/json",
        (true, Landing::FormBody) => "application/x-www-form-urlencoded",
        (true, _) => "text/plain; charset=utf-8",
    }
}

/// A URL without templates must be a full http(s) URL; one with templates must at least not
/// start with a literal that is something else.
fn check_url_template(raw: &str) -> Result<(), String> {
    let literal_prefix = raw.split("{{").next().unwrap_or_default();
    if literal_prefix.len() == raw.len() {
        let url =
            reqwest::Url::parse(raw).map_err(|e| format!("`{raw}` is not a valid URL: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("`{raw}` must use http or https"));
        }
        return Ok(());
    }
    let could_be_http = ["http://", "https://"]
        .iter()
        .any(|scheme| scheme.starts_with(literal_prefix) || literal_prefix.starts_with(scheme));
    if !could_be_http {
        return Err(format!("`{raw}` must start with http:// or https://"));
    }
    Ok(())
}

/// Secrets are never written in recipe files: a secret field must be exactly `{{ secrets.NAME }}`.
pub fn secret_reference(value: &str) -> Result<String, String> {
    Template::parse(value)
        .ok()
        .and_then(|t| t.is_single_secret_ref())
        .ok_or_else(|| {
            "must be a reference like \"{{ secrets.NAME }}\"; secret values are never written in recipe files"
                .to_owned()
        })
}

#[cfg(test)]
#[path = "action_tests.rs"]
mod tests;
