//! Rhai's run-time errors in the user's terms: which field was missing, which values did not
//! compare, what a function was given. The caller adds the script kind, line and column.

use rhai::{Dynamic, EvalAltResult, Position};
use serde_json::Value;

use super::errors::{Context, friendly_type};
use super::strict;

/// An error raised by Switchyard's own script functions: its text is the whole message.
#[derive(Debug, Clone)]
pub(crate) struct Fault(pub String);

/// A run-time error carrying `message` as is.
pub(crate) fn fault(message: String) -> Box<EvalAltResult> {
    EvalAltResult::ErrorRuntime(Dynamic::from(Fault(message)), Position::NONE).into()
}

/// The message for `err` in the user's terms, or `None` to keep Rhai's own. `pos` is the
/// position in the source as written, `raw` the one in the rewritten source.
pub(crate) fn runtime_message(
    ctx: &Context,
    err: &EvalAltResult,
    pos: Position,
    raw: Position,
) -> Option<String> {
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
        EvalAltResult::ErrorDotExpr(text, ..) => dot_expr(ctx, text, pos),
        EvalAltResult::ErrorFunctionNotFound(signature, ..)
            if ctx.rewrites.is_optional_read(raw) =>
        {
            let actual = signature.split_once(" (")?.1.split(',').next()?;
            Some(not_an_object(ctx, pos, actual.trim_start_matches("&mut ")))
        }
        EvalAltResult::ErrorFunctionNotFound(signature, ..) => Some(function_not_found(signature)),
        EvalAltResult::ErrorMismatchDataType(expected, actual, ..) => {
            Some(mismatch(ctx, expected, actual, pos))
        }
        EvalAltResult::ErrorMismatchOutputType(expected, actual, ..) => Some(format!(
            "the result must be {}, got {}",
            a_type(expected),
            a_type(actual)
        )),
        EvalAltResult::ErrorArrayBounds(len, index, ..) => Some(format!(
            "index {index} is outside the array, which has {len} item(s) (indexes 0 to {})",
            len.saturating_sub(1)
        )),
        EvalAltResult::ErrorStringBounds(len, index, ..) => Some(format!(
            "index {index} is outside the text, which has {len} character(s)"
        )),
        EvalAltResult::ErrorIndexingType(what, ..) => Some(indexing_type(what)),
        EvalAltResult::ErrorVariableNotFound(name, ..) => Some(variable_not_found(name)),
        EvalAltResult::ErrorArithmetic(text, ..) => Some(arithmetic(text)),
        _ => None,
    }
}

/// `Unknown property 'x' - a getter is not registered for type 'string'` and the setter form.
fn dot_expr(ctx: &Context, text: &str, pos: Position) -> Option<String> {
    let (_, rest) = text.split_once("for type '")?;
    let (type_name, _) = rest.split_once('\'')?;
    if text.starts_with("No writable property") {
        let path = path_at(ctx.source, pos).unwrap_or_default();
        let (parent, name) = split_path(&path);
        let owner = owner_of(ctx, &parent, type_name);
        return Some(format!(
            "{path}: cannot set the field \"{name}\": {owner}, not an object; only objects \
             have fields"
        ));
    }
    Some(not_an_object(ctx, pos, type_name))
}

/// "event.s.x: event.s is the text "hi", not an object, so it has no field "x"".
fn not_an_object(ctx: &Context, pos: Position, type_name: &str) -> String {
    let path = path_at(ctx.source, pos).unwrap_or_default();
    let (parent, name) = split_path(&path);
    if parent == "event" && ctx.input.event.is_string() {
        return format!(
            "{path}: the event is text, not a JSON object: the body did not arrive as JSON \
             (or a form), so `event` is the body as text and has no field \"{name}\"; send \
             JSON with a JSON Content-Type, or read the text itself (e.g. event.contains(\"x\"))"
        );
    }
    format!(
        "{path}: {}, not an object, so it has no field \"{name}\"",
        owner_of(ctx, &parent, type_name)
    )
}

/// `event.data?.amout` → (`event.data`, `amout`), without `?` marks.
fn split_path(path: &str) -> (String, String) {
    let (parent, name) = path.rsplit_once('.').unwrap_or(("", path));
    (parent.trim_end_matches('?').to_string(), name.to_string())
}

/// "event.s is the text "hi"" from the input when the path reads it, otherwise from Rhai's
/// type name ("p is an integer").
fn owner_of(ctx: &Context, parent: &str, type_name: &str) -> String {
    let subject = match parent {
        "event" => "the event".to_string(),
        "" => "the value".to_string(),
        other => other.to_string(),
    };
    let shown = value_at(ctx, parent)
        .filter(|v| !v.is_object())
        .map(|v| strict::shown(&super::convert::to_dynamic(v)))
        .unwrap_or_else(|| a_type(type_name));
    format!("{subject} is {shown}")
}

/// A type in a sentence: "an integer", "text", "an array".
fn a_type(type_name: &str) -> String {
    let name = friendly_type(type_name);
    match name.as_str() {
        "string" => "text".to_string(),
        "char" => "a character".to_string(),
        n if n.starts_with("nothing") => n.to_string(),
        n if n.starts_with(['a', 'e', 'i', 'o', 'u']) => format!("an {n}"),
        n => format!("a {n}"),
    }
}

/// `expected string, got integer`; for an index (`event.m[0]`, `event.items["a"]`), what the
/// value is indexed by.
fn mismatch(ctx: &Context, expected: &str, actual: &str, pos: Position) -> String {
    let (expected, actual) = (friendly_type(expected), a_type(actual));
    let Some(before) = indexed_path(ctx.source, pos) else {
        return format!("expected {}, got {actual}", a_type(&expected));
    };
    if before == "event" && ctx.input.event.is_string() {
        return "the event is text, not a JSON object: the body did not arrive as JSON (or a \
                form), so it has no fields to index"
            .to_string();
    }
    match expected.as_str() {
        "string" => format!(
            "{before} is an object, indexed by text keys (e.g. {before}[\"name\"]), not by \
             {actual}"
        ),
        _ => {
            format!("{before} is indexed by integer positions (e.g. {before}[0]), not by {actual}")
        }
    }
}

/// When `pos` is the index inside `path[…]`: the path before the `[`, e.g. `event.m`.
fn indexed_path(source: &str, pos: Position) -> Option<String> {
    let line = source.lines().nth(pos.line()?.checked_sub(1)?)?;
    let chars: Vec<char> = line.chars().collect();
    let at = pos.position()?.checked_sub(1)?.min(chars.len());
    let open = chars[..at].iter().rposition(|c| !c.is_whitespace())?;
    if chars[open] != '[' {
        return None;
    }
    let path = path_before(&chars, open, |c| c.is_alphanumeric() || c == '_');
    Some(if path.is_empty() {
        "the value".to_string()
    } else {
        path
    })
}

/// `bool [i64]` → "cannot use [ ] on a bool".
fn indexing_type(what: &str) -> String {
    let type_name = what.split(" [").next().unwrap_or(what);
    if type_name == "()" {
        return "cannot use [ ] on nothing (()): the value is missing or null; read optional \
                fields with ?. and test them first"
            .to_string();
    }
    format!(
        "cannot use [ ] on {}: only arrays, objects and text take an index",
        a_type(type_name)
    )
}

/// A name the script uses but does not define (at run time: inside a `fn`).
fn variable_not_found(name: &str) -> String {
    if super::VARIABLES.contains(&name) {
        return format!(
            "'{name}' is not visible inside a fn: functions see only their parameters; pass it \
             in, e.g. f({name})"
        );
    }
    format!(
        "'{name}' is not defined (scripts see event, headers, meta and their own `let`s); did \
         you mean event.{name}?"
    )
}

/// `Division by zero: 1 / 0`, `Addition overflow: … + 1`.
fn arithmetic(text: &str) -> String {
    let (what, expr) = text.split_once(": ").unwrap_or((text, ""));
    if what.contains("by zero") {
        format!("division by zero: {expr}")
    } else if what.contains("overflow") {
        format!(
            "{expr}: the result does not fit in a 64-bit integer; compute with floats on \
             purpose (e.g. x.to_float())"
        )
    } else {
        text.to_string()
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
        _ if name.starts_with("anon$") => format!(
            "a closure was called with arguments it does not take ({})",
            kinds.join(", ")
        ),
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
    let plain = name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    let optional = if !plain && !parent.is_empty() {
        // `headers?.x-github-delivery` would read as a subtraction, and a strict index fails
        // like a field read: `get` gives nothing for a missing key.
        format!("{parent}.get(\"{name}\")")
    } else if parent.is_empty() {
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
    let keys: Vec<String> = value_at(ctx, path)?
        .as_object()?
        .keys()
        .take(30)
        .cloned()
        .collect();
    Some(keys)
}

/// The input value at `path` (`event.data.object`), when the path reads the input.
fn value_at<'a>(ctx: &'a Context, path: &str) -> Option<&'a Value> {
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
    Some(value)
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

/// The dotted path that ends just before `at` (and its `.` or `?.`), index segments such as
/// `[0]` included.
fn path_before(chars: &[char], at: usize, is_part: impl Fn(char) -> bool) -> String {
    let mut end = at;
    while end > 0 && matches!(chars[end - 1], '.' | '?') {
        end -= 1;
    }
    let mut begin = end;
    while begin > 0 {
        let c = chars[begin - 1];
        if is_part(c) || matches!(c, '.' | '?') {
            begin -= 1;
        } else if c == ']' {
            match chars[..begin - 1].iter().rposition(|&c| c == '[') {
                Some(open) => begin = open,
                None => break,
            }
        } else {
            break;
        }
    }
    chars[begin..end].iter().collect()
}
