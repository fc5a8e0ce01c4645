//! The condition row operators (the rows model re-exports [`Op`] as `recipe::conditions::Op`).

use serde::{Deserialize, Serialize};

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

    /// The Rhai function that decides this operator in compiled rows (`in` is a Rhai keyword:
    /// `is_in`).
    pub fn rhai_name(self) -> &'static str {
        match self {
            Op::In => "is_in",
            op => op.name(),
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
