//! One `{{ expression }}`: a path with an optional default, or a secret reference.

use serde_json::Value;

use super::escape;
use super::path::{self, Segment};
use super::{Part, Root, TemplateError};

pub(super) fn parse_expr(
    expr: &str,
    offset: usize,
    tracker: &mut escape::Tracker,
) -> Result<Part, TemplateError> {
    if expr.is_empty() {
        return Err(TemplateError::Empty { offset });
    }
    let shown = format!("{{{{ {expr} }}}}");
    let bad_path = |reason: String| TemplateError::BadPath {
        expr: shown.clone(),
        reason,
    };
    let (mut segments, rest) = path::parse_segments(expr).map_err(bad_path)?;
    let rest = rest.trim_start();
    let filter = match rest.strip_prefix('|') {
        Some(filter) => Some(filter.trim()),
        None if rest.is_empty() => None,
        None => {
            return Err(bad_path(
                "a path is dot-separated names without spaces or braces; quote a key that \
                 has them, e.g. `event.\"first name\"`"
                    .to_string(),
            ));
        }
    };
    let first = segments.remove(0);
    let root = if first.quoted { "" } else { first.key.as_str() };
    let path = segments;
    let default = filter.map(|f| parse_default(f, &shown)).transpose()?;
    let value = |root, slot| Part::Value {
        root,
        path: path.clone(),
        default: default.clone(),
        slot,
    };
    match root {
        "output" => Ok(value(Root::Output, tracker.slot(false))),
        "event" => Ok(value(Root::Event, tracker.slot(false))),
        "responses" if path.is_empty() => Err(bad_path(
            "name the action, e.g. `{{ responses.create_customer.body.id }}`".to_string(),
        )),
        "responses" => Ok(value(Root::Responses, tracker.slot(false))),
        "secrets" if default.is_some() => Err(TemplateError::BadFilter {
            expr: shown,
            reason: "a secret takes no default: set the secret".to_string(),
        }),
        "secrets" => match path.as_slice() {
            [
                Segment {
                    key: name,
                    quoted: false,
                },
            ] if is_secret_name(name) => Ok(Part::Secret {
                name: name.clone(),
                slot: tracker.slot(true),
            }),
            [Segment { key: name, .. }] => Err(TemplateError::BadSecret {
                expr: shown,
                reason: format!(
                    "`{name}` is not a valid secret name (letters, digits and _, not starting with a digit)"
                ),
            }),
            [] => Err(TemplateError::BadSecret {
                expr: shown,
                reason: "name the secret, e.g. `{{ secrets.API_KEY }}`".to_string(),
            }),
            _ => Err(TemplateError::BadSecret {
                expr: shown,
                reason: "a secret is a single name, not a path".to_string(),
            }),
        },
        _ => Err(TemplateError::UnknownRoot {
            root: first.to_string(),
            expr: shown,
        }),
    }
}

/// `default: "text"` (or a JSON number, `true`, `false`, `null`).
fn parse_default(filter: &str, shown: &str) -> Result<Value, TemplateError> {
    let bad = |reason: String| TemplateError::BadFilter {
        expr: shown.to_string(),
        reason,
    };
    let (name, argument) = filter.split_once(':').unwrap_or((filter, ""));
    if name.trim() != "default" {
        return Err(bad(format!(
            "unknown filter `{}` (the only filter is `default: \"...\"`)",
            name.trim()
        )));
    }
    match serde_json::from_str::<Value>(argument.trim()) {
        Ok(value) if !value.is_array() && !value.is_object() => Ok(value),
        _ => Err(bad(
            "`default:` takes a JSON string, number, true, false or null, e.g. `default: \"\"`"
                .to_string(),
        )),
    }
}

fn is_secret_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}
