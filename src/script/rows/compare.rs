//! What each condition operator means for each kind of value: the one place both the compiled
//! Rhai (`runtime.rs`) and the direct evaluator (`recipe::conditions`) decide a row.
//!
//! Rules (README "Condition rows" repeats them for users):
//! - A missing field fails the run for every operator except `exists` (false), `not_exists`
//!   (true) and `is_empty` (true). A field holding `null` exists, and is empty.
//! - A number, or a string in JSON number grammar (RFC 8259 §6: `"49.00"`, not `"007"`),
//!   compares as a number, exactly (no rounding: see `script::number`).
//! - A row value that is an RFC 3339 date-time (RFC 3339 §5.6) compares as an instant with
//!   `gt`/`gte`/`lt`/`lte` (the field must then be one too) and with `eq`/`ne`/`in` (when the
//!   field is one; otherwise as text).
//! - `eq`/`ne`/`in`/`not_in` compare any scalar: values of different kinds are unequal.
//!   `in`/`not_in` on a list or object field are errors.
//! - `gt`/`gte`/`lt`/`lte` need a number (or an instant) in the field: anything else is an
//!   error naming the field and value, never a quiet false.
//! - Text operators need text; `contains`/`not_contains` also look for an element of a list.
//!   `ignore_case` compares Unicode lower case.
//! - `is_true`/`is_false` need a boolean; `is_empty`/`not_empty` hold for `null`, `""`, `[]`
//!   and `{}` (numbers and booleans are never empty).

use std::cmp::Ordering;

use chrono::{DateTime, FixedOffset};
use regex::{Regex, RegexBuilder};
use serde_json::Value;

use super::op::Op;
use crate::script::number;

/// The compiled size limit of a `matches` pattern, in bytes (`RegexBuilder::size_limit`).
pub const REGEX_SIZE_LIMIT: usize = 256 * 1024;

/// A row's value, classified once.
#[derive(Debug, Clone, PartialEq)]
pub enum Expected {
    /// The operator takes no value.
    None,
    Bool(bool),
    /// A number or numeric string, as its exact text.
    Number(String),
    Text(String),
    /// An RFC 3339 date-time: the text as written and the instant.
    Instant(String, DateTime<FixedOffset>),
    List(Vec<Expected>),
}

impl Expected {
    /// Classifies a JSON row value; `Err` for null, objects and lists inside lists.
    pub fn from_json(value: &Value) -> Result<Expected, String> {
        Ok(match value {
            Value::Null => return Err("a value cannot be null".into()),
            Value::Bool(b) => Expected::Bool(*b),
            Value::Number(n) => Expected::Number(n.to_string()),
            Value::String(s) => Expected::from_text(s),
            Value::Array(items) => Expected::List(
                items
                    .iter()
                    .map(|item| match item {
                        Value::Array(_) | Value::Object(_) => {
                            Err("a list holds only text, numbers and booleans".to_string())
                        }
                        item => Expected::from_json(item),
                    })
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(_) => return Err("a value cannot be a table".into()),
        })
    }

    fn from_text(text: &str) -> Expected {
        if numeric(text) {
            return Expected::Number(text.to_owned());
        }
        match DateTime::parse_from_rfc3339(text) {
            Ok(at) => Expected::Instant(text.to_owned(), at),
            Err(_) => Expected::Text(text.to_owned()),
        }
    }

    /// The text a text operator looks for (`None` for booleans and lists).
    pub fn text(&self) -> Option<&str> {
        match self {
            Expected::Number(t) | Expected::Text(t) | Expected::Instant(t, _) => Some(t),
            _ => None,
        }
    }
}

/// Whether `text` is a number in JSON grammar.
fn numeric(text: &str) -> bool {
    text.parse::<serde_json::Number>().is_ok()
}

/// Compiles a `matches` pattern with the size limit.
pub fn compile_regex(pattern: &str, ignore_case: bool) -> Result<Regex, String> {
    RegexBuilder::new(pattern)
        .case_insensitive(ignore_case)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| format!("`{pattern}` is not a valid regular expression: {e}"))
}

/// A field value as shown in reasons and errors: JSON, cut at 80 characters.
pub fn shown(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(80) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text,
    }
}

/// One row, decided: does `op` hold for the field's value `seen` (`None`: missing)?
/// `field` names the field in errors; `regex` is the compiled pattern for `matches`.
pub fn holds(
    op: Op,
    field: &str,
    seen: Option<&Value>,
    expected: &Expected,
    ignore_case: bool,
    regex: Option<&Regex>,
) -> Result<bool, String> {
    let Some(seen) = seen else {
        return match op {
            Op::Exists => Ok(false),
            Op::NotExists | Op::IsEmpty => Ok(true),
            _ => Err(format!(
                "{field} is missing, so `{op}` cannot be decided (rows with `exists` or \
                 `not_exists` test whether a field is there)"
            )),
        };
    };
    let wrong = |needs: &str| format!("{field} = {} is not {needs}, as `{op}` needs", shown(seen));
    match op {
        Op::Exists => Ok(true),
        Op::NotExists => Ok(false),
        Op::IsEmpty => Ok(empty(seen)),
        Op::NotEmpty => Ok(!empty(seen)),
        Op::IsTrue | Op::IsFalse => match seen {
            Value::Bool(b) => Ok(*b == (op == Op::IsTrue)),
            _ => Err(wrong("true or false")),
        },
        Op::Eq => Ok(equal(seen, expected)),
        Op::Ne => Ok(!equal(seen, expected)),
        Op::In | Op::NotIn => {
            if matches!(seen, Value::Array(_) | Value::Object(_)) {
                return Err(wrong("a single value"));
            }
            let Expected::List(items) = expected else {
                return Err(format!("`{op}` needs a list of values"));
            };
            let found = items.iter().any(|item| equal(seen, item));
            Ok(found == (op == Op::In))
        }
        Op::Gt | Op::Gte | Op::Lt | Op::Lte => {
            let order = order(seen, expected).ok_or_else(|| match expected {
                Expected::Instant(..) => wrong("an RFC 3339 date-time"),
                _ => wrong("a number"),
            })?;
            Ok(match op {
                Op::Gt => order == Ordering::Greater,
                Op::Gte => order != Ordering::Less,
                Op::Lt => order == Ordering::Less,
                _ => order != Ordering::Greater,
            })
        }
        Op::Contains | Op::NotContains | Op::StartsWith | Op::EndsWith | Op::Matches => {
            text_op(op, seen, expected, ignore_case, regex).ok_or_else(|| wrong("text"))
        }
    }
}

fn empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
        Value::Bool(_) | Value::Number(_) => false,
    }
}

/// The number a field holds, as text: a JSON number or a numeric string.
fn number_text(value: &Value) -> Option<String> {
    match value {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if numeric(s) => Some(s.clone()),
        _ => None,
    }
}

fn equal(seen: &Value, expected: &Expected) -> bool {
    match (expected, seen) {
        (Expected::Number(want), seen) => number_text(seen)
            .and_then(|have| number::compare_text(&have, want))
            .is_some_and(|o| o == Ordering::Equal),
        (Expected::Instant(text, want), Value::String(s)) => {
            match DateTime::parse_from_rfc3339(s) {
                Ok(have) => have == *want,
                Err(_) => s == text,
            }
        }
        (Expected::Text(want), Value::String(s)) => s == want,
        (Expected::Bool(want), Value::Bool(b)) => b == want,
        _ => false,
    }
}

fn order(seen: &Value, expected: &Expected) -> Option<Ordering> {
    match expected {
        Expected::Number(want) => number::compare_text(&number_text(seen)?, want),
        Expected::Instant(_, want) => match seen {
            Value::String(s) => Some(DateTime::parse_from_rfc3339(s).ok()?.cmp(want)),
            _ => None,
        },
        _ => None,
    }
}

/// `None` when the field is not text (nor, for `contains`, a list).
fn text_op(
    op: Op,
    seen: &Value,
    expected: &Expected,
    ignore_case: bool,
    regex: Option<&Regex>,
) -> Option<bool> {
    let fold = |s: &str| {
        if ignore_case {
            s.to_lowercase()
        } else {
            s.to_owned()
        }
    };
    let want = fold(expected.text().unwrap_or_default());
    if let (Op::Contains | Op::NotContains, Value::Array(items)) = (op, seen) {
        let found = items
            .iter()
            .any(|item| item.as_str().is_some_and(|s| fold(s) == want) || equal(item, expected));
        return Some(found == (op == Op::Contains));
    }
    let Value::String(have) = seen else {
        return None;
    };
    let have_folded = fold(have);
    Some(match op {
        Op::Contains => have_folded.contains(&want),
        Op::NotContains => !have_folded.contains(&want),
        Op::StartsWith => have_folded.starts_with(&want),
        Op::EndsWith => have_folded.ends_with(&want),
        _ => regex.is_some_and(|r| r.is_match(have)),
    })
}
