//! Turning Rhai's errors into Switchyard's: clear messages with line and column.

use rhai::{Dynamic, EvalAltResult, LexError, ParseError, ParseErrorType, Position};

use super::deadline::WALL_TIME_TOKEN;
use super::limits::{MAX_RESULT_DEPTH, MAX_VARIABLES};
use super::rewrite::Rewrites;
use super::{CompileError, ScriptError, ScriptInput, ScriptKind, ScriptLimits, translate};

/// What a run's error message may draw on.
pub(crate) struct Context<'a> {
    pub kind: ScriptKind,
    pub limits: &'a ScriptLimits,
    /// The source as written (before the `?.` rewrite).
    pub source: &'a str,
    pub rewrites: &'a Rewrites,
    pub input: &'a ScriptInput<'a>,
}

pub(crate) fn compile_error(
    kind: ScriptKind,
    err: &ParseError,
    rewrites: &Rewrites,
) -> CompileError {
    let pos = rewrites.original(err.position());
    let message = match (err.err_type(), rewrites.literal_at(err.position())) {
        (ParseErrorType::ExprExpected(_), Some(literal)) => format!(
            "the number {literal} has more digits than an integer or float holds, and such a \
             number cannot be a switch case; compare with == instead (if x == {literal} {{ … }})"
        ),
        (err, _) => parse_message(err),
    };
    CompileError {
        kind,
        line: pos.line().unwrap_or(0),
        column: pos.position().unwrap_or(0),
        message,
    }
}

/// Rhai's parse errors in the user's terms (the ones a newcomer meets), Rhai's text otherwise.
fn parse_message(err: &ParseErrorType) -> String {
    let text = err.to_string();
    match err {
        ParseErrorType::UnexpectedEOF => "the script ends too early: something is missing at \
            the end (a value after an operator, or a closing ), ], } or quote)"
            .to_string(),
        ParseErrorType::BadInput(LexError::UnterminatedString) => {
            "text in quotes is not closed: add the closing quote".to_string()
        }
        ParseErrorType::BadInput(LexError::MalformedChar(chars)) => format!(
            "'{chars}': single quotes hold one character; write text in double quotes \
             (\"{chars}\") or back-ticks"
        ),
        ParseErrorType::BadInput(LexError::MalformedNumber(number)) if number.is_empty() => {
            "digits are missing after 0x, 0o or 0b".to_string()
        }
        ParseErrorType::BadInput(LexError::MalformedNumber(number)) => {
            format!("'{number}' is not a number")
        }
        ParseErrorType::BadInput(LexError::ImproperSymbol(symbol, _)) if symbol == "=" => {
            "'=' assigns a value: to compare, write ==".to_string()
        }
        ParseErrorType::BadInput(LexError::ImproperSymbol(symbol, _))
            if symbol == "===" || symbol == "!==" =>
        {
            format!("'{symbol}' is not an operator: write {}", &symbol[..2])
        }
        ParseErrorType::MissingToken(token, _) if token == ";" => {
            "expected ';' before this: statements are separated by ;".to_string()
        }
        ParseErrorType::MissingToken(token, description) => {
            format!("expected '{token}' {description}")
        }
        ParseErrorType::UnknownOperator(op) if op == "++" || op == "--" => {
            format!("'{op}' is not an operator: write x {}= 1", &op[..1])
        }
        ParseErrorType::UnknownOperator(op) => format!("'{op}' is not an operator"),
        ParseErrorType::PropertyExpected => "expected the name of a field after '.'".to_string(),
        ParseErrorType::Reserved(word) if word == "import" => {
            "'import' is not allowed: scripts cannot load modules".to_string()
        }
        // The disabled `eval` shows up as a bad symbol, or as a reserved word when a
        // function pointer is made to it at run time.
        _ if text.contains("'eval'") => "'eval' is not allowed in scripts".to_string(),
        ParseErrorType::VariableUndefined(name) => format!(
            "undefined variable '{name}' (scripts see event, headers, meta and their own \
             `let`s); did you mean event.{name}?"
        ),
        ParseErrorType::ExprTooDeep => "expressions are nested too deeply".to_string(),
        ParseErrorType::Reserved(word) if word == "$" => {
            "'$' is only special inside back-tick text: write `Paid ${amount}` with back-ticks \
             (`), not quotes, to insert a value into text"
                .to_string()
        }
        _ => text,
    }
}

pub(crate) fn runtime_error(ctx: &Context, err: EvalAltResult) -> ScriptError {
    let (kind, limits) = (ctx.kind, ctx.limits);
    // Errors inside script functions arrive wrapped, one layer per call: the root cause is
    // innermost, and the outermost layer tells where the script called into the function.
    let mut outer_call: Option<(String, Position)> = None;
    let mut root = err;
    while let EvalAltResult::ErrorInFunctionCall(name, _, inner, pos)
    | EvalAltResult::ErrorInModule(name, inner, pos) = root
    {
        outer_call.get_or_insert((name, pos));
        root = *inner;
    }
    let raw = match (root.position(), &outer_call) {
        (pos, Some((_, call_pos))) if pos.is_none() => *call_pos,
        (pos, _) => pos,
    };
    let pos = ctx.rewrites.original(raw);
    let outer_call = outer_call.map(|(name, pos)| (name, ctx.rewrites.original(pos)));

    let suffix = place(pos).map(|p| format!(" ({p})")).unwrap_or_default();
    let limit = |what: String| ScriptError::Limit(format!("{kind} stopped: {what}{suffix}"));
    match &root {
        EvalAltResult::ErrorTooManyOperations(..) => limit(format!(
            "too many operations (limit {})",
            limits.max_operations
        )),
        EvalAltResult::ErrorTerminated(token, ..) if is_wall_time(token) => limit(format!(
            "exceeded the wall-time limit of {:?}",
            limits.wall_time
        )),
        EvalAltResult::ErrorTerminated(..) => limit("terminated".to_string()),
        EvalAltResult::ErrorStackOverflow(..) => limit(format!(
            "function calls nested too deeply (limit {} levels)",
            limits.effective_call_levels()
        )),
        EvalAltResult::ErrorDataTooLarge(what, ..) => limit(data_too_large(what, limits)),
        EvalAltResult::ErrorTooManyVariables(..) => {
            limit(format!("too many variables (limit {MAX_VARIABLES})"))
        }
        EvalAltResult::ErrorTooManyModules(..) => limit("scripts cannot load modules".into()),
        _ => {
            let message = match &mut root {
                EvalAltResult::ErrorParsing(parse, ..) => parse_message(parse),
                other => translate::runtime_message(ctx, other, pos, raw)
                    .unwrap_or_else(|| other.clear_position().to_string()),
            };
            let context = match outer_call {
                Some((name, call_pos)) => {
                    let callee = if name.starts_with("anon$") {
                        "a closure".to_string()
                    } else {
                        format!("function '{name}'")
                    };
                    let called_at = place(call_pos).unwrap_or_else(|| "an unknown place".into());
                    format!(" (in {callee} called at {called_at})")
                }
                None => String::new(),
            };
            let prefix = match place(pos) {
                Some(p) => format!("{kind}, {p}"),
                None => kind.to_string(),
            };
            ScriptError::Runtime(format!("{prefix}: {message}{context}"))
        }
    }
}

fn is_wall_time(token: &Dynamic) -> bool {
    token
        .read_lock::<rhai::ImmutableString>()
        .is_some_and(|t| t.as_str() == WALL_TIME_TOKEN)
}

fn data_too_large(what: &str, limits: &ScriptLimits) -> String {
    if what.contains("string") {
        format!(
            "string too long (limit {} bytes of text in one value)",
            limits.max_string_size
        )
    } else if what.contains("array") {
        format!(
            "array too large (limit {} items in one value, nested arrays included)",
            limits.max_array_size
        )
    } else if what.contains("map") {
        format!(
            "object map too large (limit {} entries in one value, nested maps included)",
            limits.max_map_size
        )
    } else {
        format!("{what} too large")
    }
}

/// "line L, column C", when Rhai gave a position.
fn place(pos: Position) -> Option<String> {
    let line = pos.line()?;
    Some(match pos.position() {
        Some(column) => format!("line {line}, column {column}"),
        None => format!("line {line}"),
    })
}

/// A friendlier name than Rhai's `i64`/`f64`/`()` for messages.
pub(crate) fn type_name(value: &Dynamic) -> String {
    friendly_type(value.type_name())
}

/// A friendlier name for one of Rhai's type names.
pub(crate) fn friendly_type(name: &str) -> String {
    match name {
        "()" => "nothing (())".to_string(),
        "string" | "&str | ImmutableString | String" | "ImmutableString" => "string".to_string(),
        "i64" => "integer".to_string(),
        "f64" => "float".to_string(),
        "map" => "object".to_string(),
        other => other.to_string(),
    }
}

/// The first part of `value` that has no JSON form (a function pointer, a timestamp...).
pub(crate) fn non_json_part(value: &Dynamic) -> Option<String> {
    if value.is_unit()
        || value.is::<super::number::ExactNumber>()
        || value.is_bool()
        || value.is_int()
        || value.is_float()
        || value.is_string()
        || value.is_char()
    {
        return None;
    }
    if let Ok(items) = value.as_array_ref() {
        return items.iter().find_map(non_json_part);
    }
    if let Ok(map) = value.as_map_ref() {
        return map.values().find_map(non_json_part);
    }
    Some(type_name(value))
}

/// Rhai does not check a map grown by `m[key] = value` until it is used whole, and never
/// checks the final value, so a result could exceed the limits: measure it the way Rhai
/// does (totals over the whole value, nested parts included).
pub(crate) fn check_result_size(
    kind: ScriptKind,
    limits: &ScriptLimits,
    value: &Dynamic,
) -> Result<(), ScriptError> {
    let (items, entries, bytes) = measure(value);
    let over = |size: usize, limit: usize| limit > 0 && size > limit;
    let what = if over(bytes, limits.max_string_size) {
        "Length of string"
    } else if over(items, limits.max_array_size) {
        "Size of array"
    } else if over(entries, limits.max_map_size) {
        "Size of object map"
    } else {
        return Ok(());
    };
    Err(ScriptError::Limit(format!(
        "{kind} stopped: its result is too large: {}",
        data_too_large(what, limits)
    )))
}

/// A result nested deeper than JSON readers accept (serde_json stops before 128 levels) could be
/// stored but never read back: refuse it here, where walking it cannot hurt.
pub(crate) fn check_result_depth(kind: ScriptKind, value: &Dynamic) -> Result<(), ScriptError> {
    if deeper_than(value, MAX_RESULT_DEPTH) {
        return Err(ScriptError::Limit(format!(
            "{kind} stopped: its result is nested more than {MAX_RESULT_DEPTH} levels deep"
        )));
    }
    Ok(())
}

/// Whether arrays and maps in `value` nest more than `levels` deep (`[]` is one level).
fn deeper_than(value: &Dynamic, levels: usize) -> bool {
    if let Ok(items) = value.as_array_ref() {
        levels == 0 || items.iter().any(|item| deeper_than(item, levels - 1))
    } else if let Ok(map) = value.as_map_ref() {
        levels == 0 || map.values().any(|item| deeper_than(item, levels - 1))
    } else {
        false
    }
}

/// (array items, map entries, string bytes) in `value`, nested parts included.
fn measure(value: &Dynamic) -> (usize, usize, usize) {
    let add =
        |a: (usize, usize, usize), b: (usize, usize, usize)| (a.0 + b.0, a.1 + b.1, a.2 + b.2);
    if let Ok(items) = value.as_array_ref() {
        items
            .iter()
            .map(|v| add((1, 0, 0), measure(v)))
            .fold((0, 0, 0), add)
    } else if let Ok(map) = value.as_map_ref() {
        map.values()
            .map(|v| add((0, 1, 0), measure(v)))
            .fold((0, 0, 0), add)
    } else if let Ok(text) = value.as_immutable_string_ref() {
        (0, 0, text.len())
    } else if let Ok(blob) = value.as_blob_ref() {
        (blob.len(), 0, 0)
    } else {
        (0, 0, 0)
    }
}
