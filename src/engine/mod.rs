//! Decides what an event causes: dedupe key → filter → transform → planned deliveries.
//! The functions here do no I/O; `worker` feeds them from the store and writes the result back.

mod batch;
pub mod cache;
pub mod dry_run;
pub mod worker;

use serde_json::{Value, json};

use crate::recipe::conditions::EvalInput;
use crate::recipe::{Filter, Recipe};
use crate::script::{ScriptEngine, ScriptError, ScriptInput};
use crate::store::{
    DedupeClaim, DeliveryStart, DeliveryThrottle, EventRecord, NewDelivery, RunOutcome,
};

/// What a script sees of one event.
#[derive(Debug, Clone)]
pub struct EventContext {
    pub event: Value,
    pub headers: Value,
    pub meta: Value,
}

impl EventContext {
    pub fn new(
        recipe_id: &str,
        trigger: &str,
        received_at: chrono::DateTime<chrono::Utc>,
        payload: Value,
        headers: Value,
    ) -> Self {
        Self {
            event: payload,
            headers,
            meta: json!({
                "recipe": recipe_id,
                "trigger": trigger,
                "received_at": received_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            }),
        }
    }

    pub fn from_record(event: &EventRecord) -> Self {
        Self::new(
            &event.recipe_id,
            &event.trigger,
            event.received_at,
            event.payload.clone(),
            event.headers.clone(),
        )
    }

    /// The same values, for the direct evaluation of condition rows.
    pub fn rows_input(&self) -> EvalInput<'_> {
        EvalInput {
            event: &self.event,
            headers: &self.headers,
            meta: &self.meta,
            output: &Value::Null,
        }
    }

    fn input(&self) -> ScriptInput<'_> {
        ScriptInput {
            event: &self.event,
            headers: &self.headers,
            meta: &self.meta,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// The filter said no; `reason` says why, in the user's terms: for rows, each failed
    /// row with the value it saw (`data.object.amount = 500 is not greater than 1000`).
    Filtered { reason: String },
    /// The run passed: the transform output (the event itself when the recipe has no
    /// transform) and one planned delivery per action (due, or skipped by its `when`).
    Passed {
        output: Value,
        deliveries: Vec<NewDelivery>,
    },
}

/// The recipe's dedupe key for this event, if the recipe declares one. Blocking.
pub fn dedupe_key(
    scripts: &ScriptEngine,
    recipe: &Recipe,
    ctx: &EventContext,
) -> Result<Option<String>, ScriptError> {
    let Some(script) = &recipe.dedupe else {
        return Ok(None);
    };
    match scripts.eval_json(script, &ctx.input())? {
        Value::Null => Err(ScriptError::WrongType(
            "dedupe expression returned nothing (()) for this event; it must give a string or number".into(),
        )),
        Value::String(s) if s.is_empty() => Err(ScriptError::WrongType(
            "dedupe expression returned an empty string".into(),
        )),
        Value::String(s) => Ok(Some(s)),
        other => Ok(Some(other.to_string())),
    }
}

/// Runs the filter, then the transform. Blocking.
pub fn filter_and_transform(
    scripts: &ScriptEngine,
    recipe: &Recipe,
    ctx: &EventContext,
) -> Result<Verdict, ScriptError> {
    if let Some(filter) = &recipe.filter
        && let Some(reason) = filter_refusal(scripts, filter, ctx)?
    {
        return Ok(Verdict::Filtered { reason });
    }
    let output = match &recipe.transform {
        Some(transform) => scripts.eval_json(transform, &ctx.input())?,
        None => ctx.event.clone(),
    };
    let deliveries = plan_deliveries(scripts, recipe, ctx, &output)?;
    Ok(Verdict::Passed { output, deliveries })
}

/// Runs the filter's script (a script, or the rows' Rhai); `Some(reason)` when it says no.
/// For rows the reason and any error come from the direct evaluator, run only when the
/// script did not pass: it names the row and the value it saw.
fn filter_refusal(
    scripts: &ScriptEngine,
    filter: &Filter,
    ctx: &EventContext,
) -> Result<Option<String>, ScriptError> {
    let result = scripts.eval_bool(filter.script(), &ctx.input());
    let Filter::Rows(rows) = filter else {
        return Ok((!result?).then(|| "the filter script returned false".to_owned()));
    };
    if let Ok(true) = result {
        return Ok(None);
    }
    match (rows.rows.evaluate(&ctx.rows_input()), result) {
        (Err(error), _) => Err(ScriptError::Runtime(error.to_string())),
        (Ok(_), Err(error)) => Err(error),
        (Ok(verdict), Ok(_)) => {
            Ok(Some(verdict.reason.unwrap_or_else(|| {
                "the condition rows did not hold".to_owned()
            })))
        }
    }
}

/// The run an undecided event gets from its filter and transform `verdict`: `Failed` with the
/// script's message, `Filtered` with the reason, or `Done` with the output, the dedupe `key`
/// still to be claimed (taken even when seen for a `replay`) and one delivery per action.
/// The one place both the engine and `respond = "result"` webhooks build it.
pub fn run_outcome(
    recipe: &Recipe,
    key: Option<String>,
    verdict: Result<Verdict, ScriptError>,
    replay: bool,
) -> RunOutcome {
    match verdict {
        Err(error) => RunOutcome::Failed {
            error: error.to_string(),
        },
        Ok(Verdict::Filtered { reason }) => RunOutcome::Filtered { reason },
        Ok(Verdict::Passed { output, deliveries }) => RunOutcome::Done {
            output,
            dedupe: key.map(|key| DedupeClaim {
                key,
                window: recipe.dedupe_window,
                force: replay,
            }),
            deliveries,
        },
    }
}

/// One delivery per action, named by its index in the recipe version the run used: due now
/// (or after its `delay`, at its `delay_until`), skipped with the reason its `when` gave, or
/// dead when its `delay_until` gives no instant. A condition that cannot be decided fails the
/// run, naming the action. Blocking (a `when_script` runs).
pub fn plan_deliveries(
    scripts: &ScriptEngine,
    recipe: &Recipe,
    ctx: &EventContext,
    output: &Value,
) -> Result<Vec<NewDelivery>, ScriptError> {
    let now = chrono::Utc::now();
    // Each action's own start, before its `after` is taken into account.
    let mut own = Vec::with_capacity(recipe.actions.len());
    for (action, flow) in recipe.actions.iter().zip(&recipe.flows) {
        let skip = match &flow.when {
            None => None,
            Some(when) => when
                .skip_reason(scripts, &ctx.input(), output)
                .map_err(|error| {
                    ScriptError::Runtime(format!("action `{}`: when: {error}", action.name))
                })?,
        };
        own.push(match (skip, &flow.delay) {
            (Some(reason), _) => DeliveryStart::Skipped(reason),
            (None, None) => DeliveryStart::Due(now),
            (None, Some(delay)) => match delay.due(now, output, &ctx.event) {
                Ok(at) => DeliveryStart::Due(at),
                Err(error) => DeliveryStart::Failed(error),
            },
        });
    }
    let planned = (0..recipe.actions.len())
        .map(|index| throttled(recipe, chained(recipe, &own, index), output, &ctx.event))
        .collect();
    Ok(planned)
}

/// The action's delivery with its `after` applied: one that may run waits for its
/// predecessor; one whose predecessor (or any before it) was skipped by its `when` is skipped
/// for good; one whose predecessor is dead from the start is skipped until it is retried to
/// success. (`after` has no cycles: `check` refuses them.)
fn chained(recipe: &Recipe, own: &[DeliveryStart], index: usize) -> NewDelivery {
    let name = recipe.actions[index].name.clone();
    let delivery = |start, after| NewDelivery {
        action_index: index,
        action_name: name.clone(),
        start,
        after,
        throttle: None,
    };
    let (start, Some(before)) = (&own[index], recipe.flows[index].after) else {
        return delivery(own[index].clone(), None);
    };
    let before_name = &recipe.actions[before].name;
    let not_before = match start {
        DeliveryStart::Due(at) => *at,
        other => return delivery(other.clone(), None),
    };
    match chained(recipe, own, before).start {
        DeliveryStart::Skipped(_) => delivery(
            DeliveryStart::Skipped(format!("after: `{before_name}` was skipped")),
            None,
        ),
        DeliveryStart::Failed(_) => delivery(
            DeliveryStart::Skipped(format!("after: `{before_name}` did not succeed")),
            Some(before),
        ),
        DeliveryStart::Due(_) | DeliveryStart::Waiting(_) => {
            delivery(DeliveryStart::Waiting(not_before), Some(before))
        }
    }
}

/// The delivery with its action's throttle key rendered; a key that cannot be rendered makes
/// a delivery that would run dead, saying why (like a `delay_until` that gives no instant).
fn throttled(
    recipe: &Recipe,
    mut delivery: NewDelivery,
    output: &Value,
    event: &Value,
) -> NewDelivery {
    let index = delivery.action_index;
    let Some(throttle) = &recipe.flows[index].throttle else {
        return delivery;
    };
    if matches!(delivery.start, DeliveryStart::Skipped(_)) {
        return delivery;
    }
    match throttle.key_for(&recipe.actions[index].url, output, event) {
        Ok(key) => {
            delivery.throttle = Some(DeliveryThrottle {
                key,
                every_ms: throttle.every.map_or(0, |d| d.as_millis() as i64),
                concurrency: throttle.concurrency,
            });
        }
        Err(error) => delivery.start = DeliveryStart::Failed(error),
    }
    delivery
}

/// Runs blocking script work off the async executor so a slow script cannot stall ingest.
pub async fn off_executor<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(work)
        .await
        .expect("script evaluation panicked")
}
