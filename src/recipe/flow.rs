//! Flow control on actions, checked at import: per-action conditions (`when` rows or
//! `when_script`).
//!
//! ```toml
//! [[action]]
//! name = "sales"
//! url = "https://chat.example/sales"
//! when_match = "all"                # all | any: how the `when` rows combine (default all)
//! [[action.when]]                   # rows exactly like [[filter.when]], also reading output.*
//! field = "data.amount"             # a path into the event, as in a filter
//! op = "gt"
//! value = 1000
//! ```
//!
//! A condition is decided by the engine in the run, after the transform, against the event
//! (bare paths and `event.`), `headers.`, `meta.` and `output.` (the transform's output). An
//! action whose condition is false is recorded as a `skipped` delivery with the reason; a
//! row that cannot be decided (a missing field, a value of the wrong kind) fails the run with
//! the row named, exactly as a filter row does.

use serde_json::Value;

use super::conditions::CheckedConditions;
use super::error::FieldError;
use super::file::ActionSection;
use crate::recipe::conditions::EvalInput;
use crate::script::{CompiledScript, ScriptEngine, ScriptError, ScriptInput, ScriptKind};

/// An action's compiled condition.
#[derive(Debug, Clone)]
pub enum ActionWhen {
    /// `[[action.when]]` rows, decided by the direct evaluator (which gives the reason).
    Rows(CheckedConditions),
    /// `when_script`, a Rhai expression returning a bool.
    Script(CompiledScript),
}

/// What the file says about when and in which order one action runs (parallel to
/// `Recipe::actions`).
#[derive(Debug, Clone, Default)]
pub struct ActionFlow {
    pub when: Option<ActionWhen>,
}

/// Every action's flow, or every problem with it (`action[1].when_script: ...`).
pub fn action_flows(
    sections: &[ActionSection],
    engine: &ScriptEngine,
) -> Result<Vec<ActionFlow>, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut flows = Vec::new();
    for (i, section) in sections.iter().enumerate() {
        let field = format!("action[{i}]");
        let when = match action_when(section, engine, &field) {
            Ok(when) => when,
            Err(e) => {
                errors.extend(e);
                None
            }
        };
        flows.push(ActionFlow { when });
    }
    if errors.is_empty() {
        Ok(flows)
    } else {
        Err(errors)
    }
}

fn action_when(
    section: &ActionSection,
    engine: &ScriptEngine,
    field: &str,
) -> Result<Option<ActionWhen>, Vec<FieldError>> {
    let has_rows = !section.when.is_empty();
    match (&section.when_script, has_rows) {
        (Some(_), true) => Err(vec![FieldError::new(
            format!("{field}.when_script"),
            "cannot be used together with [[action.when]] rows: a condition is one or the other",
        )]),
        (Some(source), false) => {
            if section.when_match.is_some() {
                return Err(vec![FieldError::new(
                    format!("{field}.when_match"),
                    "combines [[action.when]] rows; it has no meaning with `when_script`",
                )]);
            }
            engine
                .compile(ScriptKind::Condition, source)
                .map(|script| Some(ActionWhen::Script(script)))
                .map_err(|e| {
                    vec![FieldError::new(
                        format!("{field}.when_script"),
                        e.to_string(),
                    )]
                })
        }
        (None, true) => section
            .when_rows()
            .check_reading(field, true)
            .map(|rows| Some(ActionWhen::Rows(rows))),
        (None, false) if section.when_match.is_some() => Err(vec![FieldError::new(
            format!("{field}.when_match"),
            "is set but the action has no [[action.when]] rows",
        )]),
        (None, false) => Ok(None),
    }
}

impl ActionWhen {
    /// `None` when the action runs, `Some(reason)` when its condition is false; `Err` when
    /// the condition cannot be decided (the run fails with it). Blocking (a script runs).
    pub fn skip_reason(
        &self,
        scripts: &ScriptEngine,
        input: &ScriptInput,
        output: &Value,
    ) -> Result<Option<String>, ScriptError> {
        match self {
            ActionWhen::Script(script) => {
                let held = scripts.eval_bool_after(script, input, Some(output))?;
                Ok((!held).then(|| "when_script returned false".to_owned()))
            }
            ActionWhen::Rows(rows) => {
                let rows_input = EvalInput {
                    event: input.event,
                    headers: input.headers,
                    meta: input.meta,
                    output,
                };
                let verdict = rows
                    .evaluate(&rows_input)
                    .map_err(|e| ScriptError::Runtime(e.to_string()))?;
                Ok((!verdict.passed).then(|| {
                    let reason = verdict.reason.unwrap_or_default();
                    format!("when was false: {reason}")
                }))
            }
        }
    }
}
