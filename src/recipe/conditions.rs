//! Condition rows: a filter written as *field / operator / value* instead of a script.
//!
//! ```toml
//! [filter]
//! match = "all"                  # all | any: how the top-level rows combine (default all)
//! [[filter.when]]
//! field = "data.object.amount"   # a path, see `path.rs`
//! op = "gt"
//! value = 1000
//! [[filter.any]]                 # groups: "(A and B) or C"
//! [[filter.any.when]]
//! field = "type"
//! op = "eq"
//! value = "charge.refunded"
//! ```
//!
//! The filter passes when the top-level rows hold (combined by `match`; no rows hold
//! trivially) and, when there are groups, at least one group holds (each group's rows
//! combined by its own `match`). One level of grouping only. What each operator means for
//! each kind of value is in `conditions/ops.rs`; how rows are checked at import in
//! `conditions/check.rs`; rows compile to Rhai in `conditions/rhai.rs` and are evaluated
//! directly (with the reason a filter failed) in `conditions/eval.rs`.

use serde::{Deserialize, Serialize};

/// How rows combine.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MatchMode {
    /// Every row holds (AND).
    #[default]
    All,
    /// At least one row holds (OR).
    Any,
}

impl MatchMode {
    pub fn is_all(&self) -> bool {
        *self == MatchMode::All
    }
}

/// A filter as rows: `match`, `when` rows and `any` groups, named as in the file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Conditions {
    #[serde(rename = "match", default, skip_serializing_if = "MatchMode::is_all")]
    pub match_mode: MatchMode,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub when: Vec<ConditionRow>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub any: Vec<ConditionGroup>,
}

/// One `[[filter.any]]` group: rows combined by the group's own `match`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConditionGroup {
    #[serde(rename = "match", default, skip_serializing_if = "MatchMode::is_all")]
    pub match_mode: MatchMode,
    #[serde(default)]
    pub when: Vec<ConditionRow>,
}

/// One row: `field` (a path), `op`, `value` (a TOML value: a list for `in`/`not_in`, absent
/// for the operators that take none) and `ignore_case` (text operators only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConditionRow {
    pub field: String,
    pub op: Op,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<toml::Value>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ignore_case: bool,
}

/// The operators, with their file names (`snake_case`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Eq,
    Ne,
    Contains,
    NotContains,
    StartsWith,
    EndsWith,
    Matches,
    Gt,
    Gte,
    Lt,
    Lte,
    Exists,
    NotExists,
    IsEmpty,
    NotEmpty,
    IsTrue,
    IsFalse,
    In,
    NotIn,
}

impl Op {
    pub const ALL: [Op; 19] = [
        Op::Eq,
        Op::Ne,
        Op::Contains,
        Op::NotContains,
        Op::StartsWith,
        Op::EndsWith,
        Op::Matches,
        Op::Gt,
        Op::Gte,
        Op::Lt,
        Op::Lte,
        Op::Exists,
        Op::NotExists,
        Op::IsEmpty,
        Op::NotEmpty,
        Op::IsTrue,
        Op::IsFalse,
        Op::In,
        Op::NotIn,
    ];

    /// The name in files (`not_contains`).
    pub fn name(self) -> &'static str {
        match self {
            Op::Eq => "eq",
            Op::Ne => "ne",
            Op::Contains => "contains",
            Op::NotContains => "not_contains",
            Op::StartsWith => "starts_with",
            Op::EndsWith => "ends_with",
            Op::Matches => "matches",
            Op::Gt => "gt",
            Op::Gte => "gte",
            Op::Lt => "lt",
            Op::Lte => "lte",
            Op::Exists => "exists",
            Op::NotExists => "not_exists",
            Op::IsEmpty => "is_empty",
            Op::NotEmpty => "not_empty",
            Op::IsTrue => "is_true",
            Op::IsFalse => "is_false",
            Op::In => "in",
            Op::NotIn => "not_in",
        }
    }

    /// A human label for UIs and reasons ("is greater than").
    pub fn label(self) -> &'static str {
        match self {
            Op::Eq => "is equal to",
            Op::Ne => "is not equal to",
            Op::Contains => "contains",
            Op::NotContains => "does not contain",
            Op::StartsWith => "starts with",
            Op::EndsWith => "ends with",
            Op::Matches => "matches the pattern",
            Op::Gt => "is greater than",
            Op::Gte => "is at least",
            Op::Lt => "is less than",
            Op::Lte => "is at most",
            Op::Exists => "exists",
            Op::NotExists => "does not exist",
            Op::IsEmpty => "is empty",
            Op::NotEmpty => "is not empty",
            Op::IsTrue => "is true",
            Op::IsFalse => "is false",
            Op::In => "is one of",
            Op::NotIn => "is none of",
        }
    }

    /// The label of the opposite outcome, for reasons ("is not greater than").
    pub fn negated_label(self) -> &'static str {
        match self {
            Op::Eq => "is not equal to",
            Op::Ne => "is equal to",
            Op::Contains => "does not contain",
            Op::NotContains => "contains",
            Op::StartsWith => "does not start with",
            Op::EndsWith => "does not end with",
            Op::Matches => "does not match the pattern",
            Op::Gt => "is not greater than",
            Op::Gte => "is less than",
            Op::Lt => "is not less than",
            Op::Lte => "is greater than",
            Op::Exists => "does not exist",
            Op::NotExists => "exists",
            Op::IsEmpty => "is not empty",
            Op::NotEmpty => "is empty",
            Op::IsTrue => "is not true",
            Op::IsFalse => "is not false",
            Op::In => "is none of",
            Op::NotIn => "is one of",
        }
    }

    /// Whether the row needs a `value` (a list for `in`/`not_in`).
    pub fn takes_value(self) -> bool {
        !matches!(
            self,
            Op::Exists | Op::NotExists | Op::IsEmpty | Op::NotEmpty | Op::IsTrue | Op::IsFalse
        )
    }

    /// Text operators: the only ones that accept `ignore_case`, and that need text to look at.
    pub fn is_text(self) -> bool {
        matches!(
            self,
            Op::Contains | Op::NotContains | Op::StartsWith | Op::EndsWith | Op::Matches
        )
    }

    /// Whether the value is a list (`in`, `not_in`).
    pub fn takes_list(self) -> bool {
        matches!(self, Op::In | Op::NotIn)
    }
}

impl std::fmt::Display for Op {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod model_tests {
    use super::*;
    use crate::recipe::file::FilterSection;

    const ROWS: &str = r#"
match = "any"
[[when]]
field = "data.object.amount"
op = "gt"
value = 1000
[[when]]
field = "type"
op = "starts_with"
value = "payment"
ignore_case = true
[[any]]
[[any.when]]
field = "tags"
op = "in"
value = ["a", "b"]
[[any]]
match = "any"
[[any.when]]
field = "x"
op = "not_exists"
"#;

    #[test]
    fn rows_read_with_the_file_names_and_write_back_the_same() {
        let section: FilterSection = toml::from_str(ROWS).unwrap();
        let rows = section.rows();
        assert_eq!(rows.match_mode, MatchMode::Any);
        assert_eq!(rows.when[0].op, Op::Gt);
        assert_eq!(rows.when[0].value, Some(toml::Value::Integer(1000)));
        assert!(rows.when[1].ignore_case);
        assert_eq!(rows.any.len(), 2);
        assert_eq!(rows.any[1].when[0].op, Op::NotExists);
        assert_eq!(rows.any[1].when[0].value, None);
        let written = toml::to_string(&section).unwrap();
        let back: FilterSection = toml::from_str(&written).unwrap();
        assert_eq!(back, section);
    }

    #[test]
    fn every_op_has_its_snake_case_name_in_files() {
        for op in Op::ALL {
            let text = format!("field = \"a\"\nop = \"{}\"\n", op.name());
            let row: ConditionRow = toml::from_str(&text).unwrap();
            assert_eq!(row.op, op);
            assert!(!op.label().is_empty() && op.label() != op.negated_label());
        }
        let unknown = toml::from_str::<ConditionRow>("field = \"a\"\nop = \"greater\"\n");
        assert!(
            unknown
                .unwrap_err()
                .to_string()
                .contains("unknown variant `greater`")
        );
    }
}
