//! The filter's condition rows as the form holds them: strings per input, read from posted
//! `when.N.field|op|value|ignore_case`, `match`, `group.G.match` and `group.G.when.N.*`, and
//! converted to and from `recipe::conditions::Conditions`.
//!
//! A row's value is typed as JSON reads it: `1000` is a number, `true` a boolean,
//! `"42"` (quoted) the text 42; anything that is not JSON is text as typed
//! (`payment_intent.succeeded`). For `in`/`not_in` the value is a list: a JSON array, or items
//! separated by commas, each typed the same way. Values render back in the same syntax, so a
//! row round-trips unchanged.

use serde_json::Value;

use super::convert::json_to_toml;
use crate::recipe::FieldError;
use crate::recipe::conditions::{ConditionGroup, ConditionRow, Conditions, MatchMode, Op};

/// One row as typed; `error` is the message shown under it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RowForm {
    pub field: String,
    /// The operator's file name (`gt`), empty on a fresh row.
    pub op: String,
    pub value: String,
    pub ignore_case: bool,
    pub error: String,
}

/// One `[[filter.any]]` group.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupForm {
    /// `all` or `any`.
    pub match_mode: String,
    pub rows: Vec<RowForm>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConditionsForm {
    /// `all` or `any`: how the top-level rows combine.
    pub match_mode: String,
    pub rows: Vec<RowForm>,
    pub groups: Vec<GroupForm>,
}

/// `(name, label, takes a value, is a text operator)` of every operator, for the select.
pub fn op_choices() -> Vec<(&'static str, &'static str, bool, bool)> {
    Op::ALL
        .iter()
        .map(|op| (op.name(), op.label(), op.takes_value(), op.is_text()))
        .collect()
}

impl RowForm {
    pub fn blank() -> RowForm {
        RowForm {
            op: Op::Eq.name().into(),
            ..RowForm::default()
        }
    }

    fn read(&mut self, field: &str, value: String) {
        match field {
            "field" => self.field = value,
            "op" => self.op = value,
            "value" => self.value = value,
            "ignore_case" => self.ignore_case = !value.is_empty(),
            _ => {}
        }
    }

    fn from_row(row: &ConditionRow) -> RowForm {
        RowForm {
            field: row.field.clone(),
            op: row.op.name().into(),
            value: row.value.as_ref().map(value_text).unwrap_or_default(),
            ignore_case: row.ignore_case,
            error: String::new(),
        }
    }

    /// The row in the file model; `Err` names what is wrong in the form's own terms.
    fn to_row(&self) -> Result<ConditionRow, String> {
        let op = Op::ALL
            .into_iter()
            .find(|op| op.name() == self.op)
            .ok_or_else(|| format!("`{}` is not an operator", self.op))?;
        let text = self.value.trim();
        let value = if !op.takes_value() {
            if !text.is_empty() {
                return Err(format!(
                    "“{}” takes no value: clear the value `{text}`",
                    op.label()
                ));
            }
            None
        } else if text.is_empty() {
            return Err(format!(
                "“{}” needs a value (write \"\" for empty text)",
                op.label()
            ));
        } else if op.takes_list() {
            Some(list_value(text)?)
        } else if op.is_text() {
            // Text operators look at text: `2024` or `1e3` typed here is that text, not a
            // number; a quoted `"2024"` is the same text.
            Some(toml::Value::String(
                match serde_json::from_str::<Value>(text) {
                    Ok(Value::String(quoted)) => quoted,
                    _ => self.value.clone(),
                },
            ))
        } else if let Ok(date) = text.parse::<toml::value::Datetime>() {
            // A TOML date in the file (`value = 2024-05-01T00:00:00Z`) stays a date.
            Some(toml::Value::Datetime(date))
        } else {
            Some(json_to_toml(&scalar(&self.value))?)
        };
        Ok(ConditionRow {
            field: self.field.trim().to_owned(),
            op,
            value,
            ignore_case: self.ignore_case,
        })
    }
}

impl GroupForm {
    pub fn blank() -> GroupForm {
        GroupForm {
            match_mode: "all".into(),
            rows: vec![RowForm::blank()],
        }
    }
}

impl ConditionsForm {
    pub fn blank() -> ConditionsForm {
        ConditionsForm {
            match_mode: "all".into(),
            ..ConditionsForm::default()
        }
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty() && self.groups.is_empty()
    }

    /// Whether a posted key is one of the rows' inputs.
    pub fn owns(key: &str) -> bool {
        key == "match" || key.starts_with("when.") || key.starts_with("group.")
    }

    /// Reads one posted input of the rows; false when the key is not one of them.
    pub fn read(&mut self, key: &str, value: String) -> bool {
        if key == "match" {
            self.match_mode = value;
        } else if let Some(rest) = key.strip_prefix("when.") {
            let Some((index, field)) = indexed(rest) else {
                return false;
            };
            at(&mut self.rows, index, RowForm::default).read(field, value);
        } else if let Some(rest) = key.strip_prefix("group.") {
            let Some((g, field)) = indexed(rest) else {
                return false;
            };
            let group = at(&mut self.groups, g, GroupForm::default);
            if field == "match" {
                group.match_mode = value;
            } else if let Some((index, field)) = field.strip_prefix("when.").and_then(indexed) {
                at(&mut group.rows, index, RowForm::default).read(field, value);
            }
        } else {
            return false;
        }
        true
    }

    pub fn from_conditions(conditions: &Conditions) -> ConditionsForm {
        ConditionsForm {
            match_mode: match_text(conditions.match_mode),
            rows: conditions.when.iter().map(RowForm::from_row).collect(),
            groups: conditions
                .any
                .iter()
                .map(|g| GroupForm {
                    match_mode: match_text(g.match_mode),
                    rows: g.when.iter().map(RowForm::from_row).collect(),
                })
                .collect(),
        }
    }

    /// The rows in the file model, and what only the form can get wrong (a value that does not
    /// fit its operator), named like the file's own errors: `filter.when[0]`,
    /// `filter.any[1].when[0]`.
    pub fn to_conditions(&self) -> (Conditions, Vec<FieldError>) {
        let mut errors = Vec::new();
        let mut rows = |rows: &[RowForm], prefix: String| -> Vec<ConditionRow> {
            rows.iter()
                .enumerate()
                .filter_map(|(i, row)| match row.to_row() {
                    Ok(row) => Some(row),
                    Err(message) => {
                        let field = format!("{prefix}.when[{i}]");
                        errors.push(FieldError::new(field, format!("row {}: {message}", i + 1)));
                        None
                    }
                })
                .collect()
        };
        let when = rows(&self.rows, "filter".into());
        let any = self
            .groups
            .iter()
            .enumerate()
            .map(|(g, group)| ConditionGroup {
                match_mode: parse_match(&group.match_mode),
                when: rows(&group.rows, format!("filter.any[{g}]")),
            })
            .collect();
        let conditions = Conditions {
            match_mode: parse_match(&self.match_mode),
            when,
            any,
        };
        (conditions, errors)
    }

    /// Puts an error named `filter.when[i]…` or `filter.any[g].when[i]…` under its row;
    /// false when the name points at no row.
    pub fn place_error(&mut self, field: &str, message: &str) -> bool {
        let Some(rest) = field.strip_prefix("filter.") else {
            return false;
        };
        let (rows, rest) = match rest.strip_prefix("any[") {
            Some(rest) => {
                let Some((g, rest)) = bracketed(rest) else {
                    return false;
                };
                match self.groups.get_mut(g) {
                    Some(group) => (&mut group.rows, rest.trim_start_matches('.')),
                    None => return false,
                }
            }
            None => (&mut self.rows, rest),
        };
        let row = rest
            .strip_prefix("when[")
            .and_then(bracketed)
            .and_then(|(i, _)| rows.get_mut(i));
        match row {
            Some(row) => {
                if !row.error.is_empty() {
                    row.error.push_str("; ");
                }
                row.error.push_str(message);
                true
            }
            None => false,
        }
    }
}

fn indexed(rest: &str) -> Option<(usize, &str)> {
    let (index, field) = rest.split_once('.')?;
    Some((index.parse().ok()?, field))
}

fn bracketed(rest: &str) -> Option<(usize, &str)> {
    let (index, rest) = rest.split_once(']')?;
    Some((index.parse().ok()?, rest))
}

/// The element at a posted index: indexes come in order, but a gap must not panic.
fn at<T>(list: &mut Vec<T>, index: usize, make: fn() -> T) -> &mut T {
    // Posted forms are small; an absurd index is capped instead of allocating for it.
    let index = index.min(list.len());
    if index == list.len() {
        list.push(make());
    }
    &mut list[index]
}

fn match_text(mode: MatchMode) -> String {
    if mode.is_all() { "all" } else { "any" }.into()
}

fn parse_match(text: &str) -> MatchMode {
    if text == "any" {
        MatchMode::Any
    } else {
        MatchMode::All
    }
}

/// `1000` → number, `true` → boolean, `"42"` → text, anything not JSON → the text as typed.
fn scalar(text: &str) -> Value {
    match serde_json::from_str::<Value>(text) {
        Ok(value) => value,
        Err(_) => Value::String(text.to_owned()),
    }
}

fn list_value(text: &str) -> Result<toml::Value, String> {
    let items = if text.starts_with('[') {
        match serde_json::from_str::<Value>(text) {
            Ok(Value::Array(items)) => items,
            _ => return Err(format!("`{text}` is not a JSON list")),
        }
    } else {
        text.split(',').map(|item| scalar(item.trim())).collect()
    };
    json_to_toml(&Value::Array(items))
}

/// A file value in the form's syntax (the inverse of `scalar` and `list_value`).
fn value_text(value: &toml::Value) -> String {
    match value {
        toml::Value::String(s)
            if !s.is_empty() && s.trim() == s && scalar(s) == Value::String(s.clone()) =>
        {
            s.clone()
        }
        toml::Value::String(s) => Value::String(s.clone()).to_string(),
        toml::Value::Array(items) => {
            let texts: Vec<String> = items.iter().map(value_text).collect();
            let plain = items.iter().all(|i| !i.is_array() && !i.is_table())
                && texts
                    .iter()
                    .all(|t| !t.is_empty() && !t.contains(',') && !t.starts_with('['));
            if plain && !texts.is_empty() {
                texts.join(", ")
            } else {
                serde_json::to_string(&serde_json::to_value(items).unwrap_or_default())
                    .unwrap_or_default()
            }
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
#[path = "conditions_tests.rs"]
mod tests;
