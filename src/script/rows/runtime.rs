//! The Rhai functions compiled condition rows call; each decides through [`compare::holds`].
//!
//! A row function returns a [`RowOutcome`] (held, not held, or could not be decided) instead
//! of throwing, so that `all_rows([..])` / `any_rows([..])` combine every row by the rule in
//! `outcome.rs`, which does not depend on the rows' order.
//!
//! `passes(outcome)` turns the final outcome into the filter's bool, or throws the error.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use regex::Regex;
use rhai::{Array, Dynamic, Engine, EvalAltResult};

use super::compare::{self, Expected};
use super::op::Op;
use super::outcome::Outcome;
use crate::script::convert;
use crate::script::translate::fault;

/// Rhai's name for [`FieldValue`].
const TYPE_NAME: &str = "field value";
/// Rhai's name for [`RowOutcome`].
const OUTCOME_NAME: &str = "row outcome";

/// Patterns seen by `matches`, compiled once per process (bounded: cleared when full).
const MAX_CACHED_PATTERNS: usize = 512;

static PATTERNS: LazyLock<Mutex<HashMap<(String, bool), Regex>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// A field read by a row: its path as text (for messages) and its value (`None`: missing).
#[derive(Debug, Clone)]
pub struct FieldValue {
    path: String,
    value: Option<Dynamic>,
}

/// A row's outcome in compiled rows: the error is the message.
pub type RowOutcome = Outcome<String>;

fn outcomes(items: Array) -> Result<Vec<RowOutcome>, Box<EvalAltResult>> {
    items
        .into_iter()
        .map(|item| {
            let name = item.type_name();
            item.try_cast::<RowOutcome>()
                .ok_or_else(|| fault(format!("all_rows/any_rows take row outcomes, not {name}")))
        })
        .collect()
}

fn all_rows(items: Array) -> Result<RowOutcome, Box<EvalAltResult>> {
    Ok(RowOutcome::combine(true, outcomes(items)?))
}

fn any_rows(items: Array) -> Result<RowOutcome, Box<EvalAltResult>> {
    Ok(RowOutcome::combine(false, outcomes(items)?))
}

fn passes(outcome: RowOutcome) -> Result<bool, Box<EvalAltResult>> {
    outcome.into_result().map_err(fault)
}

/// `field(root, segments)`: a string segment is a key, an integer an array index (or, on a
/// map, the key of that name).
fn field(root: Dynamic, segments: Array) -> FieldValue {
    let mut value = Some(root);
    let mut path = Vec::new();
    for segment in &segments {
        let key = segment.to_string();
        value = value.and_then(|v| {
            if let Ok(index) = segment.as_int()
                && let Ok(items) = v.as_array_ref()
            {
                return usize::try_from(index)
                    .ok()
                    .and_then(|i| items.get(i).cloned());
            }
            v.as_map_ref().ok()?.get(key.as_str()).cloned()
        });
        path.push(key);
    }
    FieldValue {
        path: path.join("."),
        value,
    }
}

fn decide(op: Op, field: &FieldValue, expected: Option<Dynamic>, ignore_case: bool) -> RowOutcome {
    RowOutcome::from_result(decide_result(op, field, expected, ignore_case))
}

fn decide_result(
    op: Op,
    field: &FieldValue,
    expected: Option<Dynamic>,
    ignore_case: bool,
) -> Result<bool, String> {
    let expected = match expected {
        None => Expected::None,
        Some(value) => convert::to_json(&value)
            .ok_or_else(|| "a row value has no JSON form".to_string())
            .and_then(|json| Expected::from_json(&json))?,
    };
    let seen = match &field.value {
        None => None,
        Some(value) => Some(
            convert::to_json(value)
                .ok_or_else(|| format!("{} holds a value that has no JSON form", field.path))?,
        ),
    };
    let regex = match (op, expected.text()) {
        (Op::Matches, Some(pattern)) => Some(pattern_for(pattern, ignore_case)?),
        _ => None,
    };
    compare::holds(
        op,
        &field.path,
        seen.as_ref(),
        &expected,
        ignore_case,
        regex.as_ref(),
    )
}

fn pattern_for(pattern: &str, ignore_case: bool) -> Result<Regex, String> {
    let key = (pattern.to_owned(), ignore_case);
    let mut cache = PATTERNS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(regex) = cache.get(&key) {
        return Ok(regex.clone());
    }
    let regex = compare::compile_regex(pattern, ignore_case)?;
    if cache.len() >= MAX_CACHED_PATTERNS {
        cache.clear();
    }
    cache.insert(key, regex.clone());
    Ok(regex)
}

/// Registers `field`, one function per operator (named [`Op::rhai_name`]) and the combiners
/// `all_rows`, `any_rows` and `passes`.
pub fn register(engine: &mut Engine) {
    engine
        .register_type_with_name::<FieldValue>(TYPE_NAME)
        .register_type_with_name::<RowOutcome>(OUTCOME_NAME)
        .register_fn("field", field)
        .register_fn("all_rows", all_rows)
        .register_fn("any_rows", any_rows)
        .register_fn("passes", passes);
    for op in Op::ALL {
        let name = op.rhai_name();
        if op.takes_value() {
            engine
                .register_fn(name, move |f: FieldValue, v: Dynamic| {
                    decide(op, &f, Some(v), false)
                })
                .register_fn(name, move |f: FieldValue, v: Dynamic, ignore_case: bool| {
                    decide(op, &f, Some(v), ignore_case)
                });
        } else {
            engine.register_fn(name, move |f: FieldValue| decide(op, &f, None, false));
        }
    }
}
