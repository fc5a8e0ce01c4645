//! Flow control on actions, checked at import: per-action conditions (`when` rows or
//! `when_script`) and delays (`delay`, `delay_until`).
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
//!
//! `delay = "10m"` makes the delivery due that long after the run; `delay_until` is a template
//! over `event.`/`output.` rendered in the run, giving an RFC 3339 instant or Unix seconds
//! (an instant in the past is due at once; one that does not render or parse makes the
//! delivery dead, with no call, saying why). Either way the delivery is an ordinary queued
//! delivery due later: it survives restarts.

mod chain;
pub mod throttle;

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::conditions::CheckedConditions;
use super::duration::parse_duration;
use super::error::FieldError;
use super::file::ActionSection;
use super::template::{Landing, Template, TemplateContext};
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
    pub delay: Option<Delay>,
    /// `after`: the index of the action this one runs after.
    pub after: Option<usize>,
    /// `rate`, `concurrency` and `key`.
    pub throttle: Option<throttle::Throttle>,
}

/// When a delivery becomes due, relative to its run.
#[derive(Debug, Clone)]
pub enum Delay {
    /// `delay`: this long after the run.
    For(Duration),
    /// `delay_until`: the instant the template renders to.
    Until(Template),
}

/// Longest `delay` accepted (a year): a longer one is almost surely a unit slip.
const MAX_DELAY: Duration = Duration::from_secs(366 * 24 * 3600);

/// Every action's flow, or every problem with it (`action[1].when_script: ...`). `actions`
/// are the compiled actions (for the `responses.` their templates read).
pub fn action_flows(
    sections: &[ActionSection],
    actions: &[crate::recipe::Action],
    engine: &ScriptEngine,
) -> Result<Vec<ActionFlow>, Vec<FieldError>> {
    let mut errors = Vec::new();
    let after = match chain::predecessors(sections, actions) {
        Ok(after) => after,
        Err(e) => {
            errors.extend(e);
            vec![None; sections.len()]
        }
    };
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
        let delay = match delay(section, &field) {
            Ok(delay) => delay,
            Err(e) => {
                errors.push(e);
                None
            }
        };
        let throttle = match throttle::throttle(section, actions.get(i), &field) {
            Ok(throttle) => throttle,
            Err(e) => {
                errors.extend(e);
                None
            }
        };
        flows.push(ActionFlow {
            when,
            delay,
            after: after[i],
            throttle,
        });
    }
    if errors.is_empty() {
        Ok(flows)
    } else {
        Err(errors)
    }
}

/// Without a transform there is no output: a `when` row or a `delay_until` that reads
/// `output.…` would fail every run, so `check` says so (`field` is e.g. `action[0]`).
pub fn flow_output_without_transform(section: &ActionSection, field: &str) -> Vec<FieldError> {
    let hint = "no transform: output.* is empty; read the event (event.…) or add a [transform]";
    let mut errors: Vec<FieldError> = section
        .when
        .iter()
        .enumerate()
        .filter(|(_, row)| row.field == "output" || row.field.starts_with("output."))
        .map(|(j, row)| {
            FieldError::new(
                format!("{field}.when[{j}].field"),
                format!("`{}`: {hint}", row.field),
            )
        })
        .collect();
    if let Some(text) = &section.delay_until
        && let Ok(template) = Template::parse_for(text, Landing::Text)
        && let Some(path) = template.output_paths().first()
    {
        errors.push(FieldError::new(
            format!("{field}.delay_until"),
            format!("`{{{{ {path} }}}}`: {hint}"),
        ));
    }
    errors
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

fn delay(section: &ActionSection, field: &str) -> Result<Option<Delay>, FieldError> {
    match (&section.delay, &section.delay_until) {
        (Some(_), Some(_)) => Err(FieldError::new(
            format!("{field}.delay_until"),
            "cannot be used together with `delay`: give a duration or an instant, not both",
        )),
        (Some(text), None) => match parse_duration(text) {
            Ok(d) if d > MAX_DELAY => Err(FieldError::new(
                format!("{field}.delay"),
                format!("`{text}` is longer than the most a delay may be (366 days)"),
            )),
            Ok(d) => Ok(Some(Delay::For(d))),
            Err(message) => Err(FieldError::new(format!("{field}.delay"), message)),
        },
        (None, Some(text)) => {
            let template = Template::parse_for(text, Landing::Text)
                .map_err(|e| FieldError::new(format!("{field}.delay_until"), e.to_string()))?;
            if !template.secret_names().is_empty() {
                return Err(FieldError::new(
                    format!("{field}.delay_until"),
                    "reads a secret; an instant comes from the event or the output",
                ));
            }
            if let Some(name) = template.response_names().first() {
                return Err(FieldError::new(
                    format!("{field}.delay_until"),
                    format!(
                        "reads `responses.{name}`, but an action's instant is decided in the run, before any action has answered; an instant comes from the event or the output"
                    ),
                ));
            }
            if !text.contains("{{") {
                parse_instant(text)
                    .map_err(|e| FieldError::new(format!("{field}.delay_until"), e))?;
            }
            Ok(Some(Delay::Until(template)))
        }
        (None, None) => Ok(None),
    }
}

impl Delay {
    /// When a delivery of a run at `now` is due: never before `now` (an instant in the past
    /// is due at once). `Err` says why `delay_until` gives no instant.
    pub fn due(
        &self,
        now: DateTime<Utc>,
        output: &Value,
        event: &Value,
    ) -> Result<DateTime<Utc>, String> {
        let at = match self {
            Delay::For(d) => now + chrono::Duration::from_std(*d).unwrap_or(chrono::Duration::MAX),
            Delay::Until(template) => {
                let no_secrets = |_: &str| None;
                let ctx = TemplateContext {
                    responses: &serde_json::Value::Null,
                    output,
                    event,
                    secrets: &no_secrets,
                };
                let text = template
                    .render(&ctx)
                    .map_err(|e| format!("delay_until: {e}"))?;
                let at = parse_instant(&text).map_err(|e| format!("delay_until: {e}"))?;
                let latest =
                    now + chrono::Duration::from_std(MAX_DELAY).unwrap_or(chrono::Duration::MAX);
                if at > latest {
                    return Err(format!(
                        "delay_until: `{}` is {}, more than 366 days ahead (the most a delay may be); Unix milliseconds? give seconds",
                        text.trim(),
                        at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                    ));
                }
                at
            }
        };
        Ok(at.max(now))
    }
}

/// An RFC 3339 instant (`2024-05-01T09:00:00Z`) or Unix seconds (`1714554000`, fractions
/// allowed).
pub fn parse_instant(text: &str) -> Result<DateTime<Utc>, String> {
    let text = text.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(at.with_timezone(&Utc));
    }
    if let Ok(seconds) = text.parse::<f64>()
        && seconds.is_finite()
        && let Some(at) = DateTime::from_timestamp_millis((seconds * 1000.0).round() as i64)
    {
        return Ok(at);
    }
    Err(format!(
        "`{text}` is not an instant: give an RFC 3339 date-time (2024-05-01T09:00:00Z) or Unix seconds"
    ))
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

#[cfg(test)]
mod tests;
