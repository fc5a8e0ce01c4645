//! Rows → one Rhai expression, compiled once per recipe version and run by the script engine
//! under its limits. The functions it calls are in `script/rows` (`field`, one per operator,
//! and `all_rows`/`any_rows`/`passes`, which combine every row's outcome without depending
//! on the rows' order: see `script/rows/runtime.rs`).
//!
//! ```text
//! passes(all_rows([
//!   gt(field(event, ["data", "object", "amount"]), 1000),
//!   eq(field(event, ["type"]), "payment_intent.succeeded")
//! ]))
//! ```

use std::fmt::Write;

use serde_json::Value;

use super::Conditions;
use super::MatchMode;
use super::check::{CheckedConditions, CheckedRow};

impl Conditions {
    /// The Rhai expression these rows compile to (shown read-only by the editor). A row that
    /// does not pass `check` becomes a `throw` naming the row and the problem.
    pub fn to_rhai(&self) -> String {
        match self.check("filter") {
            Ok(checked) => checked.to_rhai(),
            Err(errors) => {
                let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
                format!("throw {}", string_literal(&text.join("; ")))
            }
        }
    }
}

impl CheckedConditions {
    /// The Rhai expression: the top-level rows combined by `match`, and (when there are
    /// groups) at least one group; every list combined by `all_rows`/`any_rows`.
    pub fn to_rhai(&self) -> String {
        let when = (!self.when.is_empty()).then(|| list(self.match_mode, &self.when, ""));
        let groups = (!self.groups.is_empty()).then(|| {
            let parts: Vec<String> = self
                .groups
                .iter()
                .map(|(mode, rows)| format!("    {}", list(*mode, rows, "    ")))
                .collect();
            format!("any_rows([\n{}\n  ])", parts.join(",\n"))
        });
        match (when, groups) {
            (None, None) => "true".into(),
            (Some(when), None) => format!("passes({when})"),
            (None, Some(groups)) => format!("passes({groups})"),
            (Some(_), Some(groups)) => {
                let when = list(self.match_mode, &self.when, "  ");
                format!("passes(all_rows([\n  {when},\n  {groups}\n]))")
            }
        }
    }
}

/// `all_rows([..])` or `any_rows([..])`, one row a line, indented under `indent`.
fn list(mode: MatchMode, rows: &[CheckedRow], indent: &str) -> String {
    let combiner = match mode {
        MatchMode::All => "all_rows",
        MatchMode::Any => "any_rows",
    };
    let rows: Vec<String> = rows
        .iter()
        .map(|r| format!("{indent}  {}", row(r)))
        .collect();
    format!("{combiner}([\n{}\n{indent}])", rows.join(",\n"))
}

fn row(row: &CheckedRow) -> String {
    let mut segments = Vec::new();
    for segment in row.field.segments() {
        segments.push(match segment.index() {
            Some(index) => index.to_string(),
            None => string_literal(&segment.key),
        });
    }
    let mut call = format!(
        "{}(field({}, [{}])",
        row.op.rhai_name(),
        row.field.root().name(),
        segments.join(", ")
    );
    if let Some(value) = &row.value {
        let _ = write!(call, ", {}", literal(value));
    }
    if row.ignore_case {
        call.push_str(", true");
    }
    call.push(')');
    call
}

/// A row value as a Rhai literal. Numbers that are not small integers are written as their
/// text in quotes: a numeric string compares as the same number (see `compare.rs`).
fn literal(value: &Value) -> String {
    match value {
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => match n.to_string().parse::<i64>() {
            Ok(i) if i.unsigned_abs() < (1 << 62) && i.to_string() == n.to_string() => {
                if i < 0 {
                    format!("({i})")
                } else {
                    i.to_string()
                }
            }
            _ => string_literal(&n.to_string()),
        },
        Value::String(s) => string_literal(s),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(literal).collect();
            format!("[{}]", items.join(", "))
        }
        // `check` refuses null and tables as row values.
        Value::Null | Value::Object(_) => "()".into(),
    }
}

/// A double-quoted Rhai string. `$` is escaped so that no `${` appears inside double quotes
/// (which the script engine refuses as a likely mistake); control characters as `\u`.
fn string_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '$' => out.push_str("\\x24"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
