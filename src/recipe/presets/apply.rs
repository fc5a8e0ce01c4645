//! Turning a preset and the user's inputs into recipe sections: each value is checked for its
//! kind, then substituted into the parsed TOML's strings (never into TOML text, so no input can
//! add a key or end a string), and presets are put together into one recipe.

use std::collections::BTreeMap;
use std::ops::Range;

use super::{InputKind, Preset, PresetInput, PresetKind};
use crate::recipe::Action;
use crate::recipe::file::ActionSection;
use crate::recipe::template::Template;

/// A checked input value, ready to substitute.
pub(super) enum Resolved<'a> {
    Text(&'a str),
    Fields(toml::Table),
}

pub(super) fn apply(
    preset: &Preset,
    given: &BTreeMap<String, String>,
) -> Result<toml::Table, String> {
    if let Some(unknown) = given.keys().find(|name| preset.input(name).is_none()) {
        let known: Vec<&str> = preset.inputs.iter().map(|i| i.name.as_str()).collect();
        return Err(format!(
            "preset `{}` has no input `{unknown}` (its inputs: {})",
            preset.id,
            if known.is_empty() {
                "none".to_owned()
            } else {
                known.join(", ")
            }
        ));
    }
    let mut values = BTreeMap::new();
    let mut table = preset.recipe.clone();
    for input in &preset.inputs {
        let value = given
            .get(&input.name)
            .or(input.default.as_ref())
            .ok_or_else(|| format!("input `{}` ({}) is required", input.name, input.label))?;
        let resolved = check_value(input, value)
            .map_err(|e| format!("input `{}` ({}): {e}", input.name, input.label))?;
        if let Some(variant) = preset.variants.get(&input.name).and_then(|o| o.get(value)) {
            merge(&mut table, variant);
        }
        values.insert(input.name.as_str(), resolved);
    }
    for (_, value) in table.iter_mut() {
        substitute(value, &values)?;
    }
    if preset.kind == PresetKind::Action {
        check_action(&table)?;
    }
    Ok(table)
}

/// The action an action preset made, checked as `switchyard check` checks it, so a value that
/// passed its input rule but not the action's (a URL that is not one) is refused here already.
fn check_action(table: &toml::Table) -> Result<(), String> {
    let section = table
        .get("action")
        .and_then(toml::Value::as_array)
        .and_then(|actions| actions.first())
        .cloned()
        .ok_or("an action preset makes one [[action]]")?;
    let section: ActionSection = section.try_into().map_err(|e| format!("action: {e}"))?;
    Action::from_section(&section, "action")
        .map(drop)
        .map_err(|errors| {
            let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
            messages.join("; ")
        })
}

/// Checks `value` against the input's kind; a `fields` value comes back as its table.
pub(super) fn check_value<'a>(input: &PresetInput, value: &'a str) -> Result<Resolved<'a>, String> {
    if value.trim().is_empty() {
        return Err("must not be empty".into());
    }
    let multiline = matches!(input.kind, InputKind::Template | InputKind::Fields);
    if let Some(c) = value
        .chars()
        .find(|&c| c.is_control() && !(multiline && matches!(c, '\n' | '\r' | '\t')))
    {
        return Err(format!("contains the control character U+{:04X}", c as u32));
    }
    match input.kind {
        InputKind::Secret => {
            let mut chars = value.chars();
            let ok = chars
                .next()
                .is_some_and(|c| c.is_ascii_uppercase() || c == '_')
                && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
            if !ok {
                return Err(format!(
                    "`{value}` is not a secret name: A-Z, 0-9 and _, not starting with a digit (e.g. SLACK_WEBHOOK_URL)"
                ));
            }
        }
        InputKind::Template => {
            Template::parse(value).map_err(|e| format!("not a valid template: {e}"))?;
        }
        InputKind::Text => {
            if value.contains("{{") || value.contains("}}") {
                return Err(format!(
                    "`{value}` is plain text: it may not hold `{{{{` or `}}}}`"
                ));
            }
        }
        InputKind::Slug => {
            let ok = value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
            if !ok || value == "." || value == ".." {
                return Err(format!(
                    "`{value}` may hold only A-Z, a-z, 0-9, '_', '-' and '.'"
                ));
            }
        }
        InputKind::Choice => {
            if !input.options.iter().any(|o| o == value) {
                return Err(format!(
                    "`{value}` is not one of {}",
                    input.options.join(", ")
                ));
            }
        }
        InputKind::Fields => return fields_table(value).map(Resolved::Fields),
    }
    Ok(Resolved::Text(value))
}

/// A JSON object (as text) as a TOML table; JSON null has no TOML form and is refused.
fn fields_table(text: &str) -> Result<toml::Table, String> {
    let json: serde_json::Map<String, serde_json::Value> = serde_json::from_str(text)
        .map_err(|e| format!("must be a JSON object of field name → value or template: {e}"))?;
    if json.is_empty() {
        return Err("names no field".into());
    }
    fn convert(key: &str, value: serde_json::Value) -> Result<toml::Value, String> {
        use serde_json::Value as J;
        Ok(match value {
            J::Null => return Err(format!("field `{key}` is null, which a recipe cannot hold")),
            J::Bool(b) => toml::Value::Boolean(b),
            J::Number(n) => match (n.as_i64(), n.as_f64()) {
                (Some(i), _) => toml::Value::Integer(i),
                (None, Some(f)) => toml::Value::Float(f),
                _ => return Err(format!("field `{key}`: {n} is out of range")),
            },
            J::String(s) => toml::Value::String(s),
            J::Array(items) => toml::Value::Array(
                items
                    .into_iter()
                    .map(|v| convert(key, v))
                    .collect::<Result<_, _>>()?,
            ),
            J::Object(map) => toml::Value::Table(
                map.into_iter()
                    .map(|(k, v)| Ok((k.clone(), convert(&format!("{key}.{k}"), v)?)))
                    .collect::<Result<_, String>>()?,
            ),
        })
    }
    json.into_iter()
        .map(|(k, v)| Ok((k.clone(), convert(&k, v)?)))
        .collect()
}

/// Deep merge: tables merge key by key, anything else in `overlay` replaces what was there.
fn merge(base: &mut toml::Table, overlay: &toml::Table) {
    for (key, value) in overlay {
        match (base.get_mut(key), value) {
            (Some(toml::Value::Table(inner)), toml::Value::Table(over)) => merge(inner, over),
            _ => {
                base.insert(key.clone(), value.clone());
            }
        }
    }
}

fn substitute(
    value: &mut toml::Value,
    values: &BTreeMap<&str, Resolved<'_>>,
) -> Result<(), String> {
    match value {
        toml::Value::String(text) => {
            let refs = find_refs(text);
            if let [(range, name)] = refs.as_slice()
                && *range == (0..text.len())
                && let Some(Resolved::Fields(table)) = values.get(name.as_str())
            {
                *value = toml::Value::Table(table.clone());
                return Ok(());
            }
            let mut out = String::with_capacity(text.len());
            let mut last = 0;
            for (range, name) in &refs {
                out.push_str(&text[last..range.start]);
                match values.get(name.as_str()) {
                    Some(Resolved::Text(v)) => out.push_str(v),
                    Some(Resolved::Fields(_)) => {
                        return Err(format!("the fields input `{name}` must be a whole value"));
                    }
                    None => return Err(format!("`{{{{ input.{name} }}}}` names no input")),
                }
                last = range.end;
            }
            out.push_str(&text[last..]);
            *text = out;
        }
        toml::Value::Array(items) => {
            for item in items {
                substitute(item, values)?;
            }
        }
        toml::Value::Table(table) => {
            for (_, item) in table.iter_mut() {
                substitute(item, values)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Every `{{ input.NAME }}` in `text` (whitespace inside the braces is free), left to right.
fn find_refs(text: &str) -> Vec<(Range<usize>, String)> {
    let mut refs = Vec::new();
    let mut from = 0;
    while let Some(offset) = text[from..].find("{{") {
        let start = from + offset;
        let inner = &text[start + 2..];
        let body = inner.trim_start();
        let parsed = body.strip_prefix("input.").and_then(|after| {
            let len = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            let rest = after[len..].trim_start();
            (len > 0 && rest.starts_with("}}")).then(|| {
                let end = text.len() - rest.len() + 2;
                (start..end, after[..len].to_owned())
            })
        });
        match parsed {
            Some((range, name)) => {
                from = range.end;
                refs.push((range, name));
            }
            None => from = start + 2,
        }
    }
    refs
}

/// Whether `text` has a `{{ input.` that is not a whole `{{ input.NAME }}` (a typo in a preset
/// file, which would otherwise reach the recipe as a broken template).
pub(super) fn has_malformed_ref(text: &str) -> bool {
    let starts = text
        .match_indices("{{")
        .filter(|(i, _)| text[i + 2..].trim_start().starts_with("input."))
        .count();
    starts != find_refs(text).len()
}

/// `(input name, whether the reference is the whole string)` for every reference in `table`;
/// a malformed `{{ input.…` is listed with an empty name.
pub(super) fn input_refs(table: &toml::Table) -> Vec<(String, bool)> {
    fn walk(value: &toml::Value, out: &mut Vec<(String, bool)>) {
        match value {
            toml::Value::String(text) => {
                for (range, name) in find_refs(text) {
                    out.push((name, range == (0..text.len())));
                }
                if has_malformed_ref(text) {
                    out.push((String::new(), false));
                }
            }
            toml::Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            toml::Value::Table(t) => t.values().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    table.values().for_each(|v| walk(v, &mut out));
    out
}

/// One recipe from a recipe id and name plus preset outputs (a trigger's, then actions'):
/// their `[[action]]`s are concatenated in order; any other key set by two of them is an
/// error naming it.
pub fn compose(id: &str, name: &str, sections: &[toml::Table]) -> Result<toml::Table, String> {
    let mut recipe = toml::Table::new();
    recipe.insert("id".into(), id.into());
    recipe.insert("name".into(), name.into());
    let mut actions = Vec::new();
    for section in sections {
        for (key, value) in section {
            if key == "action" {
                actions.extend(value.as_array().into_iter().flatten().cloned());
            } else if recipe.insert(key.clone(), value.clone()).is_some() {
                return Err(format!("two presets both set `{key}`"));
            }
        }
    }
    if !actions.is_empty() {
        recipe.insert("action".into(), toml::Value::Array(actions));
    }
    Ok(recipe)
}
