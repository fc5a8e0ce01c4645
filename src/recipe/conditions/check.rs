//! Rows checked at import: each row's path parsed, its value classified for its operator and
//! its pattern compiled, or every problem named with the row (`filter.any[0].when[1]`).

use regex::Regex;
use serde_json::Value;

use super::{ConditionRow, Conditions, MatchMode, Op};
use crate::recipe::FieldError;
use crate::recipe::path::{FieldPath, PathRoot};
use crate::script::rows::compare::{self, Expected};

/// Most rows in one list (`when`, or one group's `when`): compiled rows chain `&&`/`||`, and
/// every link is a level of the script's expression depth (default limit 64).
pub const MAX_ROWS: usize = 32;
/// Most `[[filter.any]]` groups.
pub const MAX_GROUPS: usize = 16;

/// One row, ready to decide.
#[derive(Debug, Clone)]
pub struct CheckedRow {
    /// Where the row is in the file: `filter.when[0]`.
    pub at: String,
    pub field: FieldPath,
    pub op: Op,
    /// The row's value as JSON (`None` for operators without one), as shown in reasons.
    pub value: Option<Value>,
    pub expected: Expected,
    pub ignore_case: bool,
    pub regex: Option<Regex>,
}

/// Every row of a filter, checked: the top-level rows and the groups.
#[derive(Debug, Clone)]
pub struct CheckedConditions {
    pub match_mode: MatchMode,
    pub when: Vec<CheckedRow>,
    pub groups: Vec<(MatchMode, Vec<CheckedRow>)>,
}

impl Conditions {
    /// Checks every row; `prefix` names the section in errors (`filter`). A filter runs
    /// before the transform: `output.` fields are refused.
    pub fn check(&self, prefix: &str) -> Result<CheckedConditions, Vec<FieldError>> {
        self.check_reading(prefix, false)
    }

    /// Checks every row; `output` says whether the rows may read `output.` (an action's
    /// `when`, decided after the transform).
    pub fn check_reading(
        &self,
        prefix: &str,
        output: bool,
    ) -> Result<CheckedConditions, Vec<FieldError>> {
        let mut errors = Vec::new();
        let lists = Lists { output };
        let when = lists.check(&self.when, &format!("{prefix}.when"), &mut errors);
        if self.any.len() > MAX_GROUPS {
            errors.push(row_error(
                &format!("{prefix}.any"),
                &format!("has {} groups; at most {MAX_GROUPS}", self.any.len()),
            ));
        }
        let mut groups = Vec::new();
        for (g, group) in self.any.iter().enumerate() {
            let at = format!("{prefix}.any[{g}].when");
            if group.when.is_empty() {
                errors.push(row_error(
                    &format!("{prefix}.any[{g}]"),
                    "a group needs at least one [[…any.when]] row",
                ));
            }
            groups.push((group.match_mode, lists.check(&group.when, &at, &mut errors)));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(CheckedConditions {
            match_mode: self.match_mode,
            when,
            groups,
        })
    }
}

/// How lists of rows are checked: whether they may read `output.`.
struct Lists {
    output: bool,
}

impl Lists {
    fn check(
        &self,
        rows: &[ConditionRow],
        at: &str,
        errors: &mut Vec<FieldError>,
    ) -> Vec<CheckedRow> {
        if rows.len() > MAX_ROWS {
            errors.push(row_error(
                at,
                &format!("has {} rows; at most {MAX_ROWS}", rows.len()),
            ));
        }
        rows.iter()
            .enumerate()
            .filter_map(|(i, row)| {
                let at = format!("{at}[{i}]");
                check_row(row, &at, self.output)
                    .map_err(|message| errors.push(row_error(&at, &message)))
                    .ok()
            })
            .collect()
    }
}

/// An error about one row (or list) whose message also starts with the row's path, so that a
/// UI showing only the message beside the row still names it the same way as everywhere
/// else (`filter.any[1].when[0]: …`).
fn row_error(at: &str, message: &str) -> FieldError {
    FieldError::new(at, format!("{at}: {message}"))
}

fn check_row(row: &ConditionRow, at: &str, output: bool) -> Result<CheckedRow, String> {
    let field = FieldPath::parse(&row.field).map_err(|e| format!("field `{}`: {e}", row.field))?;
    if let Some(why) = field.never_exists() {
        return Err(format!("field `{}` can never exist: {why}", row.field));
    }
    if field.root() == PathRoot::Output && !output {
        return Err(format!(
            "field `{}`: `output.` is the transform's output, which a filter runs before; \
             filters read the event, `headers.` and `meta.`",
            row.field
        ));
    }
    let op = row.op;
    if row.ignore_case && !op.is_text() {
        return Err(format!(
            "`ignore_case` applies only to the text operators (contains, not_contains, \
             starts_with, ends_with, matches), not to `{op}`"
        ));
    }
    let value = match (&row.value, op.takes_value()) {
        (None, false) => None,
        (Some(_), false) => return Err(format!("`{op}` takes no `value`")),
        (None, true) if op.takes_list() => {
            return Err(format!(
                "`{op}` needs a `value`: a list, e.g. [\"a\", \"b\"]"
            ));
        }
        (None, true) => return Err(format!("`{op}` needs a `value`")),
        (Some(value), true) => Some(to_json(value)?),
    };
    let expected = match &value {
        None => Expected::None,
        Some(value) => Expected::from_json(value)?,
    };
    check_value_for(op, &expected, value.as_ref())?;
    let regex = match (op, expected.text()) {
        (Op::Matches, Some(pattern)) => Some(compare::compile_regex(pattern, row.ignore_case)?),
        _ => None,
    };
    Ok(CheckedRow {
        at: at.to_owned(),
        field,
        op,
        value,
        expected,
        ignore_case: row.ignore_case,
        regex,
    })
}

/// Whether the value's kind suits the operator.
fn check_value_for(op: Op, expected: &Expected, value: Option<&Value>) -> Result<(), String> {
    let shown = value.map(compare::shown).unwrap_or_default();
    match (op, expected) {
        (Op::In | Op::NotIn, Expected::List(items)) if items.is_empty() => {
            Err(format!("`{op}` needs at least one value in its list"))
        }
        (Op::In | Op::NotIn, Expected::List(_)) => Ok(()),
        (Op::In | Op::NotIn, _) => Err(format!(
            "`{op}` needs a list of values, e.g. [\"a\", \"b\"]; got {shown}"
        )),
        (_, Expected::List(_)) if op == Op::Eq || op == Op::Ne => Err(format!(
            "`{op}` compares one value; for a list use `{}`",
            if op == Op::Eq { "in" } else { "not_in" }
        )),
        (Op::Gt | Op::Gte | Op::Lt | Op::Lte, Expected::Number(_) | Expected::Instant(..)) => {
            Ok(())
        }
        (Op::Gt | Op::Gte | Op::Lt | Op::Lte, _) => Err(format!(
            "`{op}` compares numbers or RFC 3339 date-times (e.g. 2024-05-01T00:00:00Z); {shown} is neither"
        )),
        (_, _) if op.is_text() => match expected {
            Expected::Text(_) | Expected::Number(_) | Expected::Instant(..)
                if matches!(value, Some(Value::String(_))) =>
            {
                Ok(())
            }
            _ => Err(format!(
                "`{op}` is a text operator: text operators take their value as text, a TOML \
                 string in quotes (e.g. \"2024\"); got {}",
                kind_of(value)
            )),
        },
        (_, Expected::List(_)) => Err(format!("`{op}` does not take a list")),
        _ => Ok(()),
    }
}

/// A TOML row value as JSON. A TOML date-time needs a date, a time and an offset (it then
/// compares as an instant); NaN and infinities are refused.
fn to_json(value: &toml::Value) -> Result<Value, String> {
    Ok(match value {
        toml::Value::String(s) => Value::String(s.clone()),
        toml::Value::Integer(i) => Value::from(*i),
        toml::Value::Float(f) => serde_json::Number::from_f64(*f)
            .map(Value::Number)
            .ok_or_else(|| format!("{f} is not a number a field can be compared with"))?,
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(at) => {
            if at.date.is_none() || at.time.is_none() || at.offset.is_none() {
                return Err(format!(
                    "{at} needs a date, a time and an offset to be an instant, e.g. 2024-05-01T00:00:00Z"
                ));
            }
            Value::String(at.to_string())
        }
        toml::Value::Array(items) => {
            Value::Array(items.iter().map(to_json).collect::<Result<_, _>>()?)
        }
        toml::Value::Table(_) => return Err("a value cannot be a table".into()),
    })
}

/// A row value named by its kind, for messages: `the number 2024`, `the list [1]`.
fn kind_of(value: Option<&Value>) -> String {
    let Some(value) = value else {
        return "no value".into();
    };
    let kind = match value {
        Value::Number(_) => "the number",
        Value::Bool(_) => "the boolean",
        Value::Array(_) => "the list",
        Value::String(_) => "the text",
        Value::Null | Value::Object(_) => "the value",
    };
    format!("{kind} {}", compare::shown(value))
}
