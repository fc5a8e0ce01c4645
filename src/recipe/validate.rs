use super::action::Action;
use super::duration::parse_duration;
use super::error::FieldError;
use super::file::{FilterSection, RecipeFile, ScheduleSection, ScriptSection};
use super::flow;
use super::webhook::webhook_trigger;
use super::{DEFAULT_DEDUPE_WINDOW, Filter, Recipe, ScheduleTrigger};
use crate::recipe::template::Template;
use crate::script::{CompiledScript, ScriptEngine, ScriptKind};

const MAX_ID_LEN: usize = 64;

/// Names and descriptions are operator text stored as plain TEXT (PostgreSQL refuses U+0000) and
/// shown on one line: no control characters (U+0000–U+001F, U+007F–U+009F), except that a
/// description (`multiline`) may hold tabs and line breaks.
fn control_character(text: &str, multiline: bool) -> Option<String> {
    let allowed = |c: char| multiline && matches!(c, '\n' | '\t' | '\r');
    let bad = text.chars().find(|&c| c.is_control() && !allowed(c));
    bad.map(|c| format!("contains the control character U+{:04X}", c as u32))
}

pub fn validate(file: RecipeFile, engine: &ScriptEngine) -> Result<Recipe, Vec<FieldError>> {
    let mut errors = Vec::new();

    if let Err(message) = check_id(&file.id) {
        errors.push(FieldError::new("id", message));
    }
    if file.name.trim().is_empty() {
        errors.push(FieldError::new("name", "must not be empty"));
    }
    if let Some(message) = control_character(&file.name, false) {
        errors.push(FieldError::new("name", message));
    }
    if let Some(message) = control_character(&file.description, true) {
        errors.push(FieldError::new("description", message));
    }
    let webhook = file
        .trigger
        .webhook
        .as_ref()
        .and_then(|w| collect(&mut errors, webhook_trigger(w)));
    let schedule = file
        .trigger
        .schedule
        .as_ref()
        .and_then(|s| collect(&mut errors, schedule_trigger(s)));
    if file.trigger.webhook.is_none() && file.trigger.schedule.is_none() {
        errors.push(FieldError::new(
            "trigger",
            "needs [trigger.webhook] and/or [trigger.schedule]",
        ));
    }

    let mut compile =
        |kind: ScriptKind, field: &str, source: Option<&str>| -> Option<CompiledScript> {
            let source = source?;
            match engine.compile(kind, source) {
                Ok(script) => Some(script),
                Err(e) => {
                    errors.push(FieldError::new(field, e.to_string()));
                    None
                }
            }
        };
    let dedupe = compile(ScriptKind::Dedupe, "dedupe", file.dedupe.as_deref());
    let filter_script = file.filter.as_ref().and_then(|f| f.script.as_deref());
    let filter_script = compile(ScriptKind::Filter, "filter.script", filter_script);
    let transform = compile(
        ScriptKind::Transform,
        "transform.script",
        script_of(&file.transform),
    );

    let filter = match &file.filter {
        None => None,
        Some(section) => filter(section, filter_script, engine, &mut errors),
    };

    let dedupe_window = match file
        .dedupe_window
        .as_deref()
        .map(parse_duration)
        .transpose()
    {
        Ok(window) => window.unwrap_or(DEFAULT_DEDUPE_WINDOW),
        Err(e) => {
            errors.push(FieldError::new("dedupe_window", e));
            DEFAULT_DEDUPE_WINDOW
        }
    };
    let polls = file
        .trigger
        .schedule
        .as_ref()
        .is_some_and(|s| s.poll.is_some());
    if polls && file.dedupe.is_none() {
        errors.push(FieldError::new(
            "trigger.schedule.poll",
            "a poll needs a top-level `dedupe` expression: without it every poll would act again on every item it lists",
        ));
    }
    let sender_ids = webhook
        .as_ref()
        .is_some_and(|w| w.verify.delivery_id_header().is_some());
    if file.dedupe_window.is_some() && file.dedupe.is_none() && !sender_ids {
        errors.push(FieldError::new(
            "dedupe_window",
            "is set but there is no `dedupe` expression (and the webhook's verify preset sends no delivery id)",
        ));
    }

    if file.actions.is_empty() {
        errors.push(FieldError::new(
            "action",
            "a recipe needs at least one [[action]]",
        ));
    }
    let mut actions = Vec::new();
    for (i, section) in file.actions.iter().enumerate() {
        if let Some(action) = collect(
            &mut errors,
            Action::from_section(section, &format!("action[{i}]")),
        ) {
            if file.transform.is_none() {
                errors.extend(action.output_without_transform(&format!("action[{i}]")));
                errors.extend(flow::flow_output_without_transform(
                    section,
                    &format!("action[{i}]"),
                ));
            }
            if let Some(message) = control_character(&action.name, false) {
                errors.push(FieldError::new(format!("action[{i}].name"), message));
            }
            if actions.iter().any(|a: &Action| a.name == action.name) {
                errors.push(FieldError::new(
                    format!("action[{i}].name"),
                    format!("`{}` is used by another action of this recipe", action.name),
                ));
            }
            actions.push(action);
        }
    }

    let flows = if actions.len() == file.actions.len() {
        collect(
            &mut errors,
            flow::action_flows(&file.actions, &actions, engine),
        )
        .unwrap_or_default()
    } else {
        Vec::new()
    };

    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Recipe {
        file,
        webhook,
        schedule,
        dedupe,
        dedupe_window,
        filter,
        transform,
        actions,
        flows,
    })
}

/// `[filter]` is a script or rows, never both, never neither.
fn filter(
    section: &FilterSection,
    script: Option<CompiledScript>,
    engine: &ScriptEngine,
    errors: &mut Vec<FieldError>,
) -> Option<Filter> {
    match (section.script.is_some(), section.has_rows()) {
        (true, true) => {
            errors.push(FieldError::new(
                "filter",
                "has both `script` and condition rows (`match`/`when`/`any`); a filter is one or the other",
            ));
            None
        }
        (false, false) => {
            errors.push(FieldError::new(
                "filter",
                "is empty: give a `script`, or condition rows as [[filter.when]] / [[filter.any]]",
            ));
            None
        }
        (true, false) => script.map(Filter::Script),
        (false, true) if section.when.is_empty() && section.any.is_empty() => {
            errors.push(FieldError::new(
                "filter",
                "has `match` but no rows: add [[filter.when]] or [[filter.any]] rows",
            ));
            None
        }
        (false, true) => {
            collect(errors, section.rows().compile(engine, "filter")).map(Filter::Rows)
        }
    }
}

fn collect<T>(errors: &mut Vec<FieldError>, result: Result<T, Vec<FieldError>>) -> Option<T> {
    result.map_err(|e| errors.extend(e)).ok()
}

fn script_of(section: &Option<ScriptSection>) -> Option<&str> {
    section.as_ref().map(|s| s.script.as_str())
}

fn check_id(id: &str) -> Result<(), String> {
    let valid_chars = id
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    let starts_well = id.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
    if id.is_empty() || id.len() > MAX_ID_LEN || !valid_chars || !starts_well {
        return Err(format!(
            "`{id}` must be a slug: 1 to {MAX_ID_LEN} characters of a-z, 0-9, '-' and '_', starting with a letter or digit"
        ));
    }
    Ok(())
}

fn schedule_trigger(section: &ScheduleSection) -> Result<ScheduleTrigger, Vec<FieldError>> {
    let mut errors = Vec::new();
    if let Err(message) = parse_cron(&section.cron) {
        errors.push(FieldError::new("trigger.schedule.cron", message));
    }
    let timezone = match section.timezone.as_deref() {
        None => chrono_tz::UTC,
        Some(name) => name.parse::<chrono_tz::Tz>().unwrap_or_else(|_| {
            errors.push(FieldError::new(
                "trigger.schedule.timezone",
                format!("`{name}` is not an IANA time zone name (e.g. \"Europe/Berlin\")"),
            ));
            chrono_tz::UTC
        }),
    };
    if let Some(poll) = &section.poll {
        let raw = &poll.url;
        match Template::parse(raw) {
            Ok(_) if !raw.contains("{{") => {
                let scheme_ok = reqwest::Url::parse(raw)
                    .map(|u| matches!(u.scheme(), "http" | "https"))
                    .unwrap_or(false);
                if !scheme_ok {
                    errors.push(FieldError::new(
                        "trigger.schedule.poll.url",
                        format!("`{raw}` is not a valid http(s) URL"),
                    ));
                }
            }
            Ok(_) => {}
            Err(e) => errors.push(FieldError::new("trigger.schedule.poll.url", e.to_string())),
        }
        for (name, value) in &poll.headers {
            if let Err(e) = Template::parse(value) {
                errors.push(FieldError::new(
                    format!("trigger.schedule.poll.headers.{name}"),
                    e.to_string(),
                ));
            }
        }
        if let Some(items) = &poll.items
            && !items.is_empty()
            && !items.starts_with('/')
        {
            errors.push(FieldError::new(
                "trigger.schedule.poll.items",
                format!("`{items}` is not a JSON pointer (it must start with '/', e.g. \"/data\")"),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(ScheduleTrigger {
        cron: section.cron.clone(),
        timezone,
        poll: section.poll.clone(),
    })
}

/// Parses a cron expression the way the scheduler will (6 fields, seconds first).
pub fn parse_cron(expression: &str) -> Result<croner::Cron, String> {
    let fields = expression.split_whitespace().count();
    if !expression.trim_start().starts_with('@') && fields == 5 {
        return Err(format!(
            "`{expression}` has 5 fields; Switchyard cron expressions have seconds first (6 fields), e.g. \"0 {expression}\""
        ));
    }
    croner::parser::CronParser::builder()
        .seconds(croner::parser::Seconds::Required)
        .dom_and_dow(true)
        .build()
        .parse(expression)
        .map_err(|e| format!("`{expression}` is not a valid cron expression: {e}"))
}
