//! Where a template's values land, and how each is escaped there.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;

use super::TemplateError;

/// Where a whole template's result goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Landing {
    /// Values inserted as written (poll requests and other plain text).
    Text,
    /// An action URL: percent-encoding after the host, the URL checked after rendering.
    Url,
    /// A header value: control characters (CR, LF, NUL...) refused.
    Header,
    /// A JSON body: JSON-escaped inside strings, JSON values elsewhere; checked to be JSON.
    JsonBody,
    /// An `application/x-www-form-urlencoded` body: values percent-encoded.
    FormBody,
}

/// How one `{{ }}` is escaped, decided by what precedes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Slot {
    Text,
    Header,
    JsonString,
    JsonValue,
    Component,
    /// A component of a URL's path, where `.` and `..` would move up the path.
    PathComponent,
}

/// RFC 3986 §2.3: only unreserved characters stay as they are.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Follows the literal text of a template to tell each value's [`Slot`].
pub(super) struct Tracker {
    landing: Landing,
    started: bool,
    in_json_string: bool,
    escaped: bool,
    in_authority: bool,
    in_query: bool,
}

impl Tracker {
    pub(super) fn new(landing: Landing) -> Self {
        Self {
            landing,
            started: false,
            in_json_string: false,
            escaped: false,
            in_authority: true,
            in_query: false,
        }
    }

    pub(super) fn literal(&mut self, text: &str) {
        match self.landing {
            Landing::JsonBody => {
                for c in text.chars() {
                    match (self.in_json_string, self.escaped, c) {
                        (true, true, _) => self.escaped = false,
                        (true, false, '\\') => self.escaped = true,
                        (_, _, '"') => self.in_json_string = !self.in_json_string,
                        _ => {}
                    }
                }
            }
            Landing::Url => {
                let rest = match (self.started, text.find("://")) {
                    (false, Some(at)) => &text[at + 3..],
                    _ => text,
                };
                self.in_authority &= !rest.contains(['/', '?', '#']);
                self.in_query |= !self.in_authority && rest.contains(['?', '#']);
            }
            _ => {}
        }
        self.started = true;
    }

    pub(super) fn slot(&mut self, secret: bool) -> Slot {
        self.started = true;
        match self.landing {
            Landing::Text => Slot::Text,
            Landing::Header => Slot::Header,
            Landing::JsonBody if self.in_json_string => Slot::JsonString,
            Landing::JsonBody => Slot::JsonValue,
            Landing::FormBody => Slot::Component,
            // Secrets are the operator's own configuration (a whole webhook URL, a path with
            // slashes): inserted as written, like everything before the end of the host.
            Landing::Url if secret || self.in_authority => Slot::Text,
            Landing::Url if self.in_query => Slot::Component,
            Landing::Url => Slot::PathComponent,
        }
    }
}

/// A JSON value's kind with its article, for messages: "a number", "an object", "null".
pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a bool",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Appends `value` escaped for `slot`; `shown` names it in errors (`event.name`).
pub(super) fn push(
    out: &mut String,
    slot: Slot,
    value: &Value,
    shown: &str,
) -> Result<(), TemplateError> {
    if slot == Slot::JsonValue {
        out.push_str(&value.to_string());
        return Ok(());
    }
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Null => {
            return Err(TemplateError::MissingPath {
                path: shown.to_string(),
                reason: format!("{shown} is null, and text is needed here"),
            });
        }
        other => other.to_string(),
    };
    match slot {
        Slot::Text => out.push_str(&text),
        Slot::Header => {
            if let Some(c) = text.chars().find(|c| c.is_control() && *c != '\t') {
                return Err(TemplateError::Unusable(format!(
                    "`{{{{ {shown} }}}}` cannot go in a header value: it holds the control \
                     character {c:?} (line breaks and NUL could end the header)"
                )));
            }
            out.push_str(&text);
        }
        Slot::JsonString => {
            let quoted = Value::String(text).to_string();
            out.push_str(&quoted[1..quoted.len() - 1]);
        }
        Slot::PathComponent if text == "." || text == ".." => {
            return Err(TemplateError::Unusable(format!(
                "`{{{{ {shown} }}}}` is {text:?}, which would move along the URL's path \
                 instead of naming a segment"
            )));
        }
        Slot::Component | Slot::PathComponent => out.extend(utf8_percent_encode(&text, COMPONENT)),
        Slot::JsonValue => unreachable!("handled above"),
    }
    Ok(())
}

/// What stands in for a value when the template's shape is checked.
pub(super) fn stand_in(slot: Slot) -> &'static str {
    match slot {
        Slot::JsonValue => "0",
        _ => "x",
    }
}

/// Checks a template's shape with stand-ins for its values (at recipe-check time).
pub(super) fn check_shape(sample: &str, landing: Landing) -> Result<(), TemplateError> {
    if landing == Landing::JsonBody
        && let Err(error) = serde_json::from_str::<Value>(sample)
    {
        return Err(TemplateError::Invalid(format!(
            "the body is not valid JSON once its templates are filled in ({error}); put text \
             values inside quotes (\"{{{{ event.name }}}}\") and numbers or objects without \
             ({{{{ event.amount }}}}), or set a Content-Type that is not JSON"
        )));
    }
    Ok(())
}

/// Checks a rendered result where a value could have changed its meaning.
pub(super) fn check_rendered(rendered: &str, landing: Landing) -> Result<(), TemplateError> {
    if landing != Landing::Url || rendered.contains("{{ secrets.") {
        return Ok(());
    }
    match reqwest::Url::parse(rendered) {
        Ok(url) if matches!(url.scheme(), "http" | "https") => Ok(()),
        Ok(url) => Err(TemplateError::Unusable(format!(
            "the rendered URL uses `{}`, not http or https",
            url.scheme()
        ))),
        Err(error) => Err(TemplateError::Unusable(format!(
            "the rendered URL is not a valid URL: {error}"
        ))),
    }
}
