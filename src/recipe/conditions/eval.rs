//! Rows evaluated directly on JSON: the verdict of every row with the value it compared, and
//! the reason a filter failed (`data.object.amount = 500 is not greater than 1000`). It
//! decides exactly as the compiled Rhai does (a property test holds them together).
//!
//! The verdict does not depend on the rows' order: under `all` a decisively false row filters
//! the event even when another row could not be decided; only then does an undecided row fail
//! the run (`any` likewise with a row that holds). The rule is `script/rows/outcome.rs`.

use std::fmt;

use serde::Serialize;
use serde_json::Value;

use super::check::{CheckedConditions, CheckedRow};
use super::{Conditions, MatchMode, Op};
use crate::recipe::path::PathRoot;
use crate::script::rows::{self, compare};

/// What the rows read: the payload, the request headers (lower-case names), `meta` and, for
/// an action's `when` (decided after the transform), the transform's output (null for a
/// filter, whose rows cannot name `output.`).
pub struct EvalInput<'a> {
    pub event: &'a Value,
    pub headers: &'a Value,
    pub meta: &'a Value,
    pub output: &'a Value,
}

/// One row's outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RowVerdict {
    /// Where the row is in the file: `filter.when[0]`, `filter.any[1].when[0]`.
    pub path: String,
    /// The field as written in canonical form: `data.object.amount`.
    pub field: String,
    pub op: Op,
    /// The row's value (absent for operators without one).
    pub expected: Option<Value>,
    /// The field's value; `None` (left out of JSON) when the field is missing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seen: Option<Value>,
    pub held: bool,
    /// Why the row could not be decided (a missing field, a value of the wrong kind).
    pub error: Option<String>,
}

/// The filter's outcome: every row's verdict and, when it did not pass, why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    pub passed: bool,
    pub rows: Vec<RowVerdict>,
    pub reason: Option<String>,
}

/// A row that could not be decided, or a row that does not pass `check`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct ConditionError {
    /// `filter.when[1]`.
    pub row: String,
    pub message: String,
}

impl fmt::Display for ConditionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.row, self.message)
    }
}

impl Conditions {
    /// Checks the rows, then evaluates them (see [`CheckedConditions::evaluate`]).
    pub fn evaluate(&self, input: &EvalInput) -> Result<Verdict, ConditionError> {
        let checked = self.check("filter").map_err(|errors| ConditionError {
            row: errors[0].field.clone(),
            message: errors[0].message.clone(),
        })?;
        checked.evaluate(input)
    }
}

impl CheckedConditions {
    /// Every row's verdict; `Err` for the first row that decides the outcome but cannot be
    /// decided itself (a missing field for `gt`, text for `is_true`...).
    pub fn evaluate(&self, input: &EvalInput) -> Result<Verdict, ConditionError> {
        let when: Vec<RowVerdict> = self.when.iter().map(|r| row(r, input)).collect();
        let groups: Vec<Vec<RowVerdict>> = self
            .groups
            .iter()
            .map(|(_, rows)| rows.iter().map(|r| row(r, input)).collect())
            .collect();
        let passed = self.outcome(&when, &groups)?;
        let reason = (!passed).then(|| self.reason(&when, &groups));
        let rows = when
            .into_iter()
            .chain(groups.into_iter().flatten())
            .collect();
        Ok(Verdict {
            passed,
            rows,
            reason,
        })
    }

    /// Every row's verdict, without deciding the outcome (for showing rows when one of them
    /// could not be decided).
    pub fn row_verdicts(&self, input: &EvalInput) -> Vec<RowVerdict> {
        let groups = self.groups.iter().flat_map(|(_, rows)| rows);
        self.when
            .iter()
            .chain(groups)
            .map(|r| row(r, input))
            .collect()
    }

    fn outcome(
        &self,
        when: &[RowVerdict],
        groups: &[Vec<RowVerdict>],
    ) -> Result<bool, ConditionError> {
        self.top_outcome(when, groups).into_result()
    }

    /// The top level: the `when` rows (when there are any) and any group (when there are any).
    fn top_outcome(&self, when: &[RowVerdict], groups: &[Vec<RowVerdict>]) -> Outcome {
        let mut parts = Vec::new();
        if !when.is_empty() {
            parts.push(combine(self.match_mode, when));
        }
        if !groups.is_empty() {
            let each = self
                .groups
                .iter()
                .zip(groups)
                .map(|((mode, _), rows)| combine(*mode, rows));
            parts.push(Outcome::combine(false, each));
        }
        Outcome::combine(true, parts)
    }

    /// Why the filter said no: the decisively false rows, each with its path, of the part
    /// that decided (the `when` rows, or else every group).
    fn reason(&self, when: &[RowVerdict], groups: &[Vec<RowVerdict>]) -> String {
        if !when.is_empty() && combine(self.match_mode, when) == Outcome::NotHeld {
            return list_reason(self.match_mode, when);
        }
        let parts: Vec<String> = groups
            .iter()
            .zip(&self.groups)
            .enumerate()
            .map(|(g, (rows, (mode, _)))| format!("group {}: {}", g + 1, list_reason(*mode, rows)))
            .collect();
        format!("no group held ({})", parts.join("; "))
    }
}

type Outcome = rows::Outcome<ConditionError>;

/// One list of rows, by the rule in `script/rows/outcome.rs`.
fn combine(mode: MatchMode, rows: &[RowVerdict]) -> Outcome {
    let each = rows.iter().map(|row| match &row.error {
        Some(message) => Outcome::Error(ConditionError {
            row: row.path.clone(),
            message: message.clone(),
        }),
        None => Outcome::from_result(Ok(row.held)),
    });
    Outcome::combine(mode == MatchMode::All, each)
}

fn list_reason(mode: MatchMode, rows: &[RowVerdict]) -> String {
    let failed: Vec<String> = rows
        .iter()
        .filter(|r| !r.held && r.error.is_none())
        .map(explain)
        .collect();
    match mode {
        MatchMode::All => failed.join("; "),
        MatchMode::Any => format!("none held: {}", failed.join("; ")),
    }
}

/// `filter.when[0]: data.object.amount = 500 is not greater than 1000`.
fn explain(row: &RowVerdict) -> String {
    let mut text = format!("{}: {}", row.path, row.field);
    if let Some(seen) = &row.seen {
        text.push_str(&format!(" = {}", compare::shown(seen)));
    }
    text.push(' ');
    text.push_str(row.op.negated_label());
    if let Some(expected) = &row.expected {
        text.push(' ');
        text.push_str(&compare::shown(expected));
    }
    text
}

fn row(row: &CheckedRow, input: &EvalInput) -> RowVerdict {
    let root = match row.field.root() {
        PathRoot::Event => input.event,
        PathRoot::Headers => input.headers,
        PathRoot::Meta => input.meta,
        PathRoot::Output => input.output,
    };
    let field = row.field.to_string();
    let seen = row.field.lookup(root);
    let decided = compare::holds(
        row.op,
        &field,
        seen,
        &row.expected,
        row.ignore_case,
        row.regex.as_ref(),
    );
    RowVerdict {
        path: row.at.clone(),
        field,
        op: row.op,
        expected: row.value.clone(),
        seen: seen.cloned(),
        held: decided.as_ref().is_ok_and(|held| *held),
        error: decided.err(),
    }
}
