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

mod check;
#[cfg(test)]
mod check_tests;
mod eval;
#[cfg(test)]
mod order_tests;
#[cfg(test)]
mod path_check_tests;
#[cfg(test)]
mod prop_tests;
mod rhai;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

pub use check::{CheckedConditions, CheckedRow, MAX_GROUPS, MAX_ROWS};
pub use eval::{ConditionError, EvalInput, RowVerdict, Verdict};

use crate::recipe::FieldError;
pub use crate::script::rows::Op;
use crate::script::{CompiledScript, ScriptEngine, ScriptKind};

/// Rows compiled for one recipe version: checked rows (for the direct evaluator and the
/// reasons) and the Rhai expression they compile to, compiled by the script engine.
#[derive(Debug, Clone)]
pub struct CompiledConditions {
    pub rows: CheckedConditions,
    pub rhai: String,
    pub script: CompiledScript,
}

impl Conditions {
    /// Checks the rows and compiles their Rhai; errors name the row (`filter.when[2]`).
    pub fn compile(
        &self,
        engine: &ScriptEngine,
        prefix: &str,
    ) -> Result<CompiledConditions, Vec<FieldError>> {
        let rows = self.check(prefix)?;
        let rhai = rows.to_rhai();
        let script = engine
            .compile(ScriptKind::Filter, &rhai)
            .map_err(|e| vec![FieldError::new(prefix, format!("the rows' Rhai: {e}"))])?;
        Ok(CompiledConditions { rows, rhai, script })
    }
}

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
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "value_from_any"
    )]
    pub value: Option<toml::Value>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ignore_case: bool,
}

/// Reads a row value from TOML or JSON into the TOML value it stands for. JSON numbers arrive
/// (serde_json keeps their exact text) as a one-key map, and a date-time (TOML's, or written
/// back as JSON) as another. A number beyond 64 bits, or one a float would round, stays its
/// text, which compares as the same number.
fn value_from_any<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<toml::Value>, D::Error> {
    Ok(Option::<AnyValue>::deserialize(deserializer)?.map(|v| v.0))
}

struct AnyValue(toml::Value);

impl<'de> Deserialize<'de> for AnyValue {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(AnyVisitor).map(AnyValue)
    }
}

struct AnyVisitor;

impl<'de> serde::de::Visitor<'de> for AnyVisitor {
    type Value = toml::Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("text, a number, a boolean, a date-time or a list")
    }
    fn visit_bool<E>(self, v: bool) -> Result<toml::Value, E> {
        Ok(toml::Value::Boolean(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<toml::Value, E> {
        Ok(toml::Value::Integer(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<toml::Value, E> {
        Ok(i64::try_from(v)
            .map_or_else(|_| toml::Value::String(v.to_string()), toml::Value::Integer))
    }
    fn visit_f64<E>(self, v: f64) -> Result<toml::Value, E> {
        Ok(toml::Value::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<toml::Value, E> {
        Ok(toml::Value::String(v.to_owned()))
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<toml::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(AnyValue(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(toml::Value::Array(items))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<toml::Value, A::Error> {
        const NUMBER: &str = "$serde_json::private::Number";
        const DATETIME: &str = "$__toml_private_datetime";
        let mut table = toml::Table::new();
        while let Some(key) = map.next_key::<String>()? {
            let AnyValue(value) = map.next_value()?;
            match (key.as_str(), value.as_str()) {
                (NUMBER, Some(text)) => return Ok(number(text)),
                (DATETIME, Some(text)) => {
                    return text
                        .parse()
                        .map(toml::Value::Datetime)
                        .map_err(serde::de::Error::custom);
                }
                _ => table.insert(key, value),
            };
        }
        Ok(toml::Value::Table(table))
    }
}

fn number(text: &str) -> toml::Value {
    if let Ok(int) = text.parse::<i64>()
        && int.to_string() == text
    {
        return toml::Value::Integer(int);
    }
    let exact_float = text.parse::<f64>().ok().filter(|f| {
        f.is_finite() && serde_json::Number::from_f64(*f).is_some_and(|n| n.to_string() == text)
    });
    exact_float.map_or_else(|| toml::Value::String(text.to_owned()), toml::Value::Float)
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
