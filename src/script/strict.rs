//! Strict reads and comparisons: nothing a script reads or compares is decided quietly.
//!
//! - Reading a map field that does not exist is an error naming the path
//!   (`Engine::set_fail_on_invalid_map_property`), except through `?.`: `event?.note` is `()`
//!   when `note` is missing, and `"note" in event` tests for it (`?.` is rewritten before
//!   compiling, see `rewrite.rs`).
//! - Comparisons (`==`, `!=`, `<`, `<=`, `>`, `>=`) answer only between values of one kind,
//!   and fail naming both values otherwise, where Rhai would quietly say `false`:
//!
//!   | left \ right | number | text | bool | () | array | object |
//!   | --- | --- | --- | --- | --- | --- | --- |
//!   | number | all six | error | error | `==` `!=` | error | error |
//!   | text | error | all six | error | `==` `!=` | error | error |
//!   | bool | error | error | all six (`false < true`) | `==` `!=` | error | error |
//!   | () | `==` `!=` | `==` `!=` | `==` `!=` | `==` `!=` | `==` `!=` | `==` `!=` |
//!   | array | error | error | error | `==` `!=` | `==` `!=` | error |
//!   | object | error | error | error | `==` `!=` | error | `==` `!=` |
//!
//!   "error" also covers the operators a cell does not list (`() > 10`, `[1] < [2]`). `x == ()`
//!   tests for a missing or null value, so it answers for every kind. Arrays and objects are
//!   equal when they hold the same keys or number of items and each pair is equal under these
//!   same rules (so `[1] == ["1"]` fails too). Text includes characters; numbers include exact
//!   numbers, compared exactly. Values of other types (timestamps, function pointers) compare
//!   only with their own type, as Rhai does.
//! - `x in items` (and `items.contains(x)`, `items.index_of(x)`) compares under the same
//!   rules, and fails when a non-empty array holds nothing `x` could equal (`"1" in [1, 2]`).

use std::cmp::Ordering;

use rhai::{Array, Dynamic, Engine, EvalAltResult, NativeCallContext, Token};

use super::convert;
use super::number::{self, ExactNumber};
use super::translate::fault;

type Fallible<T> = Result<T, Box<EvalAltResult>>;

/// A value as shown in messages: `the text "49.00"`, `the array [1,2]`.
pub(crate) fn shown(value: &Dynamic) -> String {
    if value.is_unit() {
        return "nothing (())".to_string();
    }
    if let Ok(text) = value.as_immutable_string_ref() {
        return format!("the text {}", clip(format!("{:?}", text.as_str())));
    }
    if let Ok(c) = value.as_char() {
        return format!("the text {:?}", c.to_string());
    }
    if let Some(n) = value.read_lock::<ExactNumber>() {
        return format!("the number {}", n.0);
    }
    let json = || convert::to_json(value).map_or_else(|| value.to_string(), |v| v.to_string());
    match kind(value) {
        Kind::Bool => format!("the bool {value}"),
        Kind::Number => format!("the number {value}"),
        Kind::Array => format!("the array {}", clip(json())),
        Kind::Map => format!("the object {}", clip(json())),
        _ => format!("a {}", value.type_name()),
    }
}

/// At most 60 characters of `text`, marked when cut.
fn clip(text: String) -> String {
    match text.char_indices().nth(60) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text,
    }
}

#[derive(PartialEq, Clone, Copy)]
enum Kind {
    Text,
    Number,
    Nothing,
    Bool,
    Array,
    Map,
    Other,
}

impl Kind {
    fn plural(self) -> &'static str {
        match self {
            Kind::Text => "text",
            Kind::Number => "numbers",
            Kind::Nothing => "nothing (())",
            Kind::Bool => "bools",
            Kind::Array => "arrays",
            Kind::Map => "objects",
            Kind::Other => "values of other types",
        }
    }
}

fn kind(value: &Dynamic) -> Kind {
    if value.is_string() || value.is_char() {
        Kind::Text
    } else if value.is_int() || value.is_float() || value.is::<ExactNumber>() {
        Kind::Number
    } else if value.is_unit() {
        Kind::Nothing
    } else if value.is_bool() {
        Kind::Bool
    } else if value.is_array() {
        Kind::Array
    } else if value.is_map() {
        Kind::Map
    } else {
        Kind::Other
    }
}

/// The error for `a op b` when the table in the module doc refuses it, `None` when it answers.
fn refusal(op: &str, a: &Dynamic, b: &Dynamic) -> Option<Box<EvalAltResult>> {
    let (ka, kb) = (kind(a), kind(b));
    let equality = matches!(op, "==" | "!=");
    let either = |k: Kind| ka == k || kb == k;
    let answers = match (ka == kb, equality) {
        (_, true) if either(Kind::Nothing) => true,
        (true, _) if ka == Kind::Other => a.type_name() == b.type_name(),
        (true, true) => true,
        (true, false) => matches!(ka, Kind::Number | Kind::Text | Kind::Bool),
        (false, _) => false,
    };
    if answers {
        return None;
    }
    let reason = if ka == kb {
        format!("{} have no order", ka.plural())
    } else if either(Kind::Nothing) {
        "nothing (()) has no order".to_string()
    } else {
        format!("{} and {} do not compare", ka.plural(), kb.plural())
    };
    let hint = if either(Kind::Nothing) {
        "a field that may be missing is read with ?. and tested first (e.g. \"x\" in event)"
    } else if either(Kind::Array) || either(Kind::Map) {
        "compare one item or field (e.g. x[0], x.name), or test len() or contains()"
    } else if either(Kind::Text) && either(Kind::Number) {
        "convert on purpose, e.g. parse_float(text) or parse_int(text), or compare text with text"
    } else if either(Kind::Bool) {
        "compare a bool with true or false"
    } else {
        "compare values of the same kind"
    };
    Some(fault(format!(
        "cannot compare {} {op} {}: {reason}; {hint}",
        shown(a),
        shown(b)
    )))
}

/// Where `x` is in `items`: items that `x` could equal are compared with [`equal`]; when the
/// array is not empty and holds none (`"1" in [1, 2]`), the test fails naming both.
fn position(ctx: &NativeCallContext, items: &Array, x: &Dynamic) -> Fallible<Option<usize>> {
    let mut comparable = items.is_empty() || x.is_unit();
    for (at, item) in items.iter().enumerate() {
        if item.is_unit() || refusal("==", item, x).is_none() {
            comparable = true;
            if equal(ctx, item, x)? {
                return Ok(Some(at));
            }
        }
    }
    if comparable {
        return Ok(None);
    }
    Err(fault(format!(
        "cannot test whether {} is in {}: the array holds no {}, so the answer could only be \
         false; convert on purpose (e.g. parse_int(text), x.to_string()) or test a value of the \
         items' kind",
        shown(x),
        shown(&Dynamic::from_array(items.clone())),
        kind(x).plural()
    )))
}

/// `a == b` under the table in the module doc, arrays and objects item by item.
fn equal(ctx: &NativeCallContext, a: &Dynamic, b: &Dynamic) -> Fallible<bool> {
    if let Some(order) = common_order(a, b) {
        return Ok(order == Some(Ordering::Equal));
    }
    if let Some(error) = refusal("==", a, b) {
        return Err(error);
    }
    if let (Ok(x), Ok(y)) = (a.as_array_ref(), b.as_array_ref()) {
        if x.len() != y.len() {
            return Ok(false);
        }
        for (x, y) in x.iter().zip(y.iter()) {
            if !equal(ctx, x, y)? {
                return Ok(false);
            }
        }
        return Ok(true);
    }
    if let (Ok(x), Ok(y)) = (a.as_map_ref(), b.as_map_ref()) {
        if x.len() != y.len() || x.keys().any(|k| !y.contains_key(k)) {
            return Ok(false);
        }
        for (key, x) in x.iter() {
            if !equal(ctx, x, &y[key])? {
                return Ok(false);
            }
        }
        return Ok(true);
    }
    if a.is_unit() || b.is_unit() {
        return Ok(a.is_unit() && b.is_unit());
    }
    if kind(a) == Kind::Number {
        return Ok(number::compare(a, b) == Some(Ordering::Equal));
    }
    ctx.call_native_fn::<bool>("==", (a.clone(), b.clone()))
}

/// The order of two values of the common kinds (integers, floats, text, bools), compared
/// here directly because a call back into Rhai costs several times more.
fn common_order(a: &Dynamic, b: &Dynamic) -> Option<Option<Ordering>> {
    if let (Ok(x), Ok(y)) = (a.as_int(), b.as_int()) {
        return Some(Some(x.cmp(&y)));
    }
    let float = |v: &Dynamic| {
        v.as_float()
            .ok()
            .or_else(|| v.as_int().ok().map(|i| i as f64))
    };
    if (a.is_float() || b.is_float())
        && let (Some(x), Some(y)) = (float(a), float(b))
    {
        return Some(x.partial_cmp(&y));
    }
    if let (Ok(x), Ok(y)) = (a.as_immutable_string_ref(), b.as_immutable_string_ref()) {
        return Some(Some(x.as_str().cmp(y.as_str())));
    }
    if let (Ok(x), Ok(y)) = (a.as_bool(), b.as_bool()) {
        return Some(Some(x.cmp(&y)));
    }
    None
}

fn answers(op: &str, order: Option<Ordering>) -> bool {
    use std::cmp::Ordering::{Equal, Greater, Less};
    match (op, order) {
        ("==", order) => order == Some(Equal),
        ("!=", order) => order != Some(Equal),
        ("<", order) => order == Some(Less),
        ("<=", order) => matches!(order, Some(Less | Equal)),
        (">", order) => order == Some(Greater),
        (">=", order) => matches!(order, Some(Greater | Equal)),
        _ => false,
    }
}

/// The comparison operators, each as (operator, stand-in custom operator, precedence).
/// Rhai answers `false` for mismatched kinds before any registered overload is consulted
/// (its fast built-in operators), so the parser maps each comparison token to a custom
/// operator of the same precedence whose function checks the kinds, then compares as Rhai
/// does. Arithmetic keeps Rhai's fast built-ins.
const COMPARISONS: [(&str, &str, u8); 6] = [
    ("==", "strict_eq", 90),
    ("!=", "strict_ne", 90),
    ("<", "strict_lt", 130),
    ("<=", "strict_le", 130),
    (">", "strict_gt", 130),
    (">=", "strict_ge", 130),
];

/// Registers the strict comparison operators (see [`COMPARISONS`]).
#[allow(deprecated)] // `on_parse_token` is marked volatile, not deprecated.
pub fn register(engine: &mut Engine) {
    // `x in items`, `items.contains(x)`, `items.index_of(x)`: Rhai's own answer `false` (-1)
    // for `"1" in [1, 2]`.
    engine
        .register_fn(
            "contains",
            |ctx: NativeCallContext, items: &mut Array, x: Dynamic| {
                position(&ctx, items, &x).map(|at| at.is_some())
            },
        )
        .register_fn(
            "index_of",
            |ctx: NativeCallContext, items: &mut Array, x: Dynamic| {
                position(&ctx, items, &x).map(|at| at.map_or(-1, |i| i as rhai::INT))
            },
        );
    for (op, name, precedence) in COMPARISONS {
        engine
            .register_custom_operator(name, precedence)
            .expect("a valid custom operator");
        engine.register_fn(
            name,
            move |ctx: NativeCallContext,
                  a: Dynamic,
                  b: Dynamic|
                  -> Result<bool, Box<EvalAltResult>> {
                if let Some(order) = common_order(&a, &b) {
                    return Ok(answers(op, order));
                }
                if let Some(error) = refusal(op, &a, &b) {
                    return Err(error);
                }
                match op {
                    "==" => equal(&ctx, &a, &b),
                    "!=" => equal(&ctx, &a, &b).map(|same| !same),
                    _ if kind(&a) == Kind::Number => Ok(answers(op, number::compare(&a, &b))),
                    _ => ctx.call_native_fn::<bool>(op, (a, b)),
                }
            },
        );
    }
    engine.on_parse_token(|token, _, _| {
        let stand_in = match token {
            Token::EqualsTo => "strict_eq",
            Token::NotEqualsTo => "strict_ne",
            Token::LessThan => "strict_lt",
            Token::LessThanEqualsTo => "strict_le",
            Token::GreaterThan => "strict_gt",
            Token::GreaterThanEqualsTo => "strict_ge",
            other => return other,
        };
        Token::Custom(Box::new(stand_in.into()))
    });
}
