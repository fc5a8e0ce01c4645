//! Rhai's run-time errors in the user's terms: which field was missing, which values did not
//! compare, what a function was given. The caller adds the script kind, line and column.

use rhai::{Dynamic, EvalAltResult, Position};
use serde_json::Value;

use super::errors::{Context, friendly_type};

/// An error raised by Switchyard's own script functions: its text is the whole message.
#[derive(Debug, Clone)]
pub(crate) struct Fault(pub String);

/// A run-time error carrying `message` as is.
pub(crate) fn fault(message: String) -> Box<EvalAltResult> {
    EvalAltResult::ErrorRuntime(Dynamic::from(Fault(message)), Position::NONE).into()
}

/// The message for `err` in the user's terms, or `None` to keep Rhai's own.
pub(crate) fn runtime_message(ctx: &Context, err: &EvalAltResult, pos: Position) -> Option<String> {
    match err {
        EvalAltResult::ErrorRuntime(value, ..) => value.read_lock::<Fault>().map(|f| f.0.clone()),
        EvalAltResult::ErrorPropertyNotFound(name, ..) => Some(missing_field(ctx, name, pos)),
        EvalAltResult::ErrorDotExpr(text, ..) if text.contains("for type '()'") => {
            let path = path_at(ctx.source, pos).unwrap_or_default();
            let (parent, _) = path.rsplit_once('.').unwrap_or((&path, ""));
            Some(format!(
                "{path}: cannot read a field of nothing (()): {} is missing or null; \
                 read optional fields with ?. at every step (e.g. event?.a?.b)",
                parent.trim_end_matches('?')
            ))
        }
        EvalAltResult::ErrorFunctionNotFound(signature, ..) => Some(function_not_found(signature)),
        EvalAltResult::ErrorMismatchDataType(expected, actual, ..) => Some(format!(
            "expected {}, got {}",
            friendly_type(expected),
            friendly_type(actual)
        )),
        EvalAltResult::ErrorArrayBounds(len, index, ..) => Some(format!(
            "index {index} is outside the array, which has {len} item(s) (indexes 0 to {})",
            len.saturating_sub(1)
        )),
        EvalAltResult::ErrorStringBounds(len, index, ..) => Some(format!(
            "index {index} is outside the text, which has {len} character(s)"
        )),
        EvalAltResult::ErrorIndexingType(what, ..) => Some(format!("cannot index into {what}")),
        _ => None,
    }
}

/// `Function not found: + (string, ())` → what was applied to which kinds of value.
fn function_not_found(signature: &str) -> String {
    let (name, args) = signature
        .split_once(" (")
        .map(|(n, a)| (n, a.strip_suffix(')').unwrap_or(a)))
        .unwrap_or((signature, ""));
    let kinds: Vec<String> = args
        .split(", ")
        .filter(|a| !a.is_empty())
        .map(|a| friendly_type(a.trim_start_matches("&mut ")))
        .collect();
    let hint = if kinds.iter().any(|k| k.starts_with("nothing")) {
        "; a value is missing or null (read optional fields with ?. and test them first)"
    } else {
        ""
    };
    let operator = !name.starts_with(|c: char| c.is_alphanumeric() || c == '_');
    match kinds.as_slice() {
        [a, b] if operator => format!("cannot apply {name} to {a} and {b}{hint}"),
        [a] if operator => format!("cannot apply {name} to {a}{hint}"),
        [] => format!("no function '{name}' without arguments"),
        _ => format!("no function '{name}' takes ({}){hint}", kinds.join(", ")),
    }
}

/// "event.amout: the event has no field "amout" (fields: amount, currency)".
fn missing_field(ctx: &Context, name: &str, pos: Position) -> String {
    let path = path_at(ctx.source, pos)
        .filter(|p| p.ends_with(name))
        .unwrap_or_else(|| name.to_string());
    let parent = path[..path.len() - name.len()]
        .trim_end_matches('.')
        .trim_end_matches('?')
        .to_string();
    let owner = match parent.as_str() {
        "event" => "the event".to_string(),
        "" => "the map".to_string(),
        other => other.to_string(),
    };
    let fields = fields_of(ctx, &parent)
        .map(|keys| match keys.is_empty() {
            true => " (it has no fields)".to_string(),
            false => format!(" (fields: {})", keys.join(", ")),
        })
        .unwrap_or_default();
    let optional = if parent.is_empty() {
        format!("?.{name}")
    } else {
        format!("{parent}?.{name}")
    };
    format!(
        "{path}: {owner} has no field \"{name}\"{fields}; if it is optional, read it with \
         {optional} or test \"{name}\" in {}",
        if parent.is_empty() {
            "the map"
        } else {
            &parent
        }
    )
}

/// The keys of the object at `path` (`event.data.object`) in the script's input.
fn fields_of(ctx: &Context, path: &str) -> Option<Vec<String>> {
    let mut segments = path.split('.').map(|s| s.trim_end_matches('?'));
    let mut value: &Value = match segments.next()? {
        "event" => ctx.input.event,
        "headers" => ctx.input.headers,
        "meta" => ctx.input.meta,
        _ => return None,
    };
    for segment in segments {
        value = match value {
            Value::Object(map) => map.get(segment)?,
            _ => return None,
        };
    }
    let keys: Vec<String> = value.as_object()?.keys().take(30).cloned().collect();
    Some(keys)
}

/// The dotted path that ends with the name at `pos` in the source as written, e.g.
/// `event.data.amout` or `p.amount`; `None` when the text there is not a plain path.
fn path_at(source: &str, pos: Position) -> Option<String> {
    let line = source.lines().nth(pos.line()?.checked_sub(1)?)?;
    let chars: Vec<char> = line.chars().collect();
    let mut start = pos.position()?.checked_sub(1)?;
    if chars.get(start) == Some(&'"') && start > 0 && chars[start - 1] == '[' {
        start -= 1;
    }
    let is_part = |c: char| c.is_alphanumeric() || c == '_';
    let mut end = start;
    if chars.get(start) == Some(&'[') {
        // `parent["name"]`: shown as `parent.name`.
        let close = chars[start..].iter().position(|&c| c == ']')? + start;
        let key: String = chars[start + 1..close].iter().collect();
        let key = key.trim().trim_matches('"');
        let parent = path_before(&chars, start, is_part);
        return Some(if parent.is_empty() {
            key.to_string()
        } else {
            format!("{parent}.{key}")
        });
    }
    while end < chars.len() && is_part(chars[end]) {
        end += 1;
    }
    let parent = path_before(&chars, start, is_part);
    let name: String = chars[start..end].iter().collect();
    let dot = if chars.get(start.wrapping_sub(2)) == Some(&'?') {
        "?."
    } else {
        "."
    };
    (end > start).then(|| match parent.is_empty() {
        true => name.clone(),
        false => format!("{parent}{dot}{name}"),
    })
}

/// The dotted path that ends just before `at` (and its `.` or `?.`).
fn path_before(chars: &[char], at: usize, is_part: impl Fn(char) -> bool) -> String {
    let mut end = at;
    while end > 0 && matches!(chars[end - 1], '.' | '?') {
        end -= 1;
    }
    let mut begin = end;
    while begin > 0 && (is_part(chars[begin - 1]) || matches!(chars[begin - 1], '.' | '?')) {
        begin -= 1;
    }
    chars[begin..end].iter().collect()
}
