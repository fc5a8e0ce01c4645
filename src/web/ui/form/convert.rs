//! Text the form holds ↔ values the file holds: header lines, secret names, retry lists.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{ActionForm, Errors};
use crate::recipe::action::secret_reference;
use crate::recipe::file::{ActionSection, FLOW_KEYS, RetrySection, ScriptSection};
use crate::recipe::{FieldError, VerifyPreset};

pub(super) fn action_form(section: &ActionSection) -> ActionForm {
    ActionForm {
        name: section.name.clone(),
        method: section.method.clone(),
        url: section.url.clone(),
        headers: header_lines(&section.headers),
        body: section.body.clone().unwrap_or_default(),
        timeout: section.timeout.clone().unwrap_or_default(),
        retry: section
            .retry
            .as_ref()
            .map(|r| r.schedule.join(", "))
            .unwrap_or_default(),
        secret: secret_name(section.secret.as_deref()),
        fields: section
            .fields
            .as_ref()
            .map(super::fields::rows_of)
            .unwrap_or_default(),
        flow: flow_of(section),
        errors: Errors::default(),
    }
}

/// The action's flow-control keys ([`FLOW_KEYS`]) as a JSON object; empty when it has none.
fn flow_of(section: &ActionSection) -> String {
    let Ok(Value::Object(all)) = serde_json::to_value(section) else {
        return String::new();
    };
    let flow: serde_json::Map<String, Value> = all
        .into_iter()
        .filter(|(key, _)| FLOW_KEYS.contains(&key.as_str()))
        .collect();
    if flow.is_empty() {
        String::new()
    } else {
        Value::Object(flow).to_string()
    }
}

/// The section with the flow-control keys the form carried (`flow`, see [`flow_of`]) put
/// back; a carried value that is not such an object is an error on `action[i].flow`.
pub(super) fn with_flow(
    i: usize,
    flow: &str,
    errors: &mut Vec<FieldError>,
    section: ActionSection,
) -> ActionSection {
    if flow.trim().is_empty() {
        return section;
    }
    let merged = serde_json::from_str::<serde_json::Map<String, Value>>(flow)
        .map_err(|e| e.to_string())
        .and_then(|keys| {
            if let Some(key) = keys.keys().find(|k| !FLOW_KEYS.contains(&k.as_str())) {
                return Err(format!("`{key}` is not a flow-control key"));
            }
            let Ok(Value::Object(mut all)) = serde_json::to_value(&section) else {
                return Err("the action does not serialise".into());
            };
            all.extend(keys);
            serde_json::from_value::<ActionSection>(Value::Object(all)).map_err(|e| e.to_string())
        });
    match merged {
        Ok(section) => section,
        Err(message) => {
            errors.push(FieldError::new(format!("action[{i}].flow"), message));
            section
        }
    }
}

pub(super) fn non_empty(value: &str) -> Option<String> {
    Some(value.trim().to_owned()).filter(|v| !v.is_empty())
}

pub(super) fn script(source: &str) -> Option<ScriptSection> {
    (!source.trim().is_empty()).then(|| ScriptSection {
        script: source.trim_end().to_owned(),
    })
}

pub(super) fn retry_section(text: &str) -> Option<RetrySection> {
    let schedule: Vec<String> = text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    (!schedule.is_empty()).then_some(RetrySection { schedule })
}

pub(super) fn parse_verify(value: &str) -> VerifyPreset {
    [
        VerifyPreset::None,
        VerifyPreset::Token,
        VerifyPreset::HmacSha256,
        VerifyPreset::Github,
        VerifyPreset::Stripe,
        VerifyPreset::Slack,
        VerifyPreset::Shopify,
        VerifyPreset::StandardWebhooks,
    ]
    .into_iter()
    .find(|preset| preset.as_str() == value)
    .unwrap_or_default()
}

/// The form asks for a secret's name; the file holds `{{ secrets.NAME }}`.
pub(super) fn secret_value(name: &str) -> Option<String> {
    match name.trim() {
        "" => None,
        reference if reference.contains("{{") => Some(reference.to_owned()),
        name => Some(format!("{{{{ secrets.{name} }}}}")),
    }
}

pub(super) fn secret_name(value: Option<&str>) -> String {
    match value {
        None => String::new(),
        Some(value) => secret_reference(value).unwrap_or_else(|_| value.to_owned()),
    }
}

pub(super) fn header_lines(headers: &BTreeMap<String, String>) -> String {
    headers
        .iter()
        .map(|(name, value)| format!("{name}: {value}"))
        .collect::<Vec<_>>()
        .join("\n")
}

pub(super) fn parse_headers(
    text: &str,
    field: &str,
    errors: &mut Vec<FieldError>,
) -> BTreeMap<String, String> {
    let mut headers = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match line.split_once(':') {
            Some((name, value)) if !name.trim().is_empty() => {
                headers.insert(name.trim().to_owned(), value.trim().to_owned());
            }
            _ => errors.push(FieldError::new(
                field,
                format!("line {}: `{}` is not `Name: value`", n + 1, line.trim()),
            )),
        }
    }
    headers
}

/// A recipe id from its name: `Stripe payment → Slack` → `stripe-payment-slack`.
pub fn slug(name: &str) -> String {
    let mut slug = String::new();
    for c in name.to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').chars().take(64).collect()
}

/// A JSON value as a TOML value (objects become tables); TOML has no null and no numbers
/// beyond 64 bits.
pub(super) fn json_to_toml(value: &Value) -> Result<toml::Value, String> {
    Ok(match value {
        Value::Null => {
            return Err("null cannot be written in a recipe file (TOML has no null)".into());
        }
        Value::Bool(b) => toml::Value::Boolean(*b),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => toml::Value::Integer(i),
            (None, Some(f)) if f.is_finite() => toml::Value::Float(f),
            _ => return Err(format!("the number {n} is too large for a recipe file")),
        },
        Value::String(s) => toml::Value::String(s.clone()),
        Value::Array(items) => {
            toml::Value::Array(items.iter().map(json_to_toml).collect::<Result<_, _>>()?)
        }
        // Tables inside lists (Adaptive Card `attachments`) and nested tables.
        Value::Object(map) => toml::Value::Table(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), json_to_toml(v)?)))
                .collect::<Result<_, String>>()?,
        ),
    })
}
