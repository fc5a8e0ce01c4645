//! `switchyard test`: the dry run from the command line.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use chrono::Utc;
use serde_json::{Value, json};

use crate::engine::EventContext;
use crate::engine::dry_run::evaluate;
use crate::recipe::Recipe;
use crate::script::{ScriptEngine, ScriptLimits};

pub fn run(
    limits: ScriptLimits,
    file: &Path,
    payload: &Path,
    headers: Option<&Path>,
    as_json: bool,
) -> anyhow::Result<ExitCode> {
    let scripts = ScriptEngine::new(limits);
    let source =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let recipe = match Recipe::from_toml(&source, &scripts) {
        Ok(recipe) => recipe,
        Err(error) => {
            eprintln!("{}", error.in_source(file.display().to_string()));
            return Ok(ExitCode::FAILURE);
        }
    };
    let payload = read_json(payload)?;
    let headers = match headers {
        Some(path) => read_json(path)?,
        None => json!({ "content-type": "application/json" }),
    };
    let trigger = match (&recipe.webhook, &recipe.schedule) {
        (Some(_), _) => "webhook",
        (None, Some(schedule)) if schedule.poll.is_some() => "poll",
        _ => "schedule",
    };
    let ctx = EventContext::new(recipe.id(), trigger, Utc::now(), payload.clone(), headers);
    let report = evaluate(&scripts, &recipe, &ctx, &payload);
    if as_json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report);
    }
    Ok(if report["error"].is_null() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn read_json(path: &Path) -> anyhow::Result<Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not valid JSON", path.display()))
}

/// One line per condition row: its verdict, the row, and the value it compared, e.g.
/// `  no   filter.when[0]: data.object.amount gt 1000 (saw 500)`.
fn print_rows(rows: &Value) {
    let Some(rows) = rows.as_array() else { return };
    println!("condition rows:");
    for row in rows {
        let verdict = match (row["held"].as_bool(), row["error"].as_str()) {
            (_, Some(_)) => "error",
            (Some(true), _) => "yes",
            _ => "no",
        };
        let expected = match &row["expected"] {
            Value::Null => String::new(),
            value => format!(" {value}"),
        };
        let seen = match row.get("seen") {
            Some(value) => format!("saw {value}"),
            None => "missing".to_owned(),
        };
        println!(
            "  {verdict:<5} {}: {} {}{expected} ({seen})",
            row["path"].as_str().unwrap_or_default(),
            row["field"].as_str().unwrap_or_default(),
            row["op"].as_str().unwrap_or_default(),
        );
        if let Some(error) = row["error"].as_str() {
            println!("        {error}");
        }
    }
}

fn print_report(report: &Value) {
    if let Some(key) = report["dedupe_key"].as_str() {
        println!("dedupe key: {key}");
    }
    print_rows(&report["conditions"]);
    if let Some(error) = report["error"].as_str() {
        println!("error: {error}");
        return;
    }
    match report["filter"].as_bool() {
        Some(true) => println!("filter: true (passes)"),
        Some(false) => {
            println!("filter: false (no action would run)");
            if let Some(reason) = report["filter_reason"].as_str() {
                println!("filtered because: {reason}");
            }
            return;
        }
        None => println!("filter: none (every event passes)"),
    }
    println!(
        "transform output:\n{}",
        serde_json::to_string_pretty(&report["output"]).unwrap_or_default()
    );
    for planned in report["requests"].as_array().into_iter().flatten() {
        let name = planned["action"].as_str().unwrap_or_default();
        if let Some(reason) = planned["skipped"].as_str() {
            println!("\naction {name}: skipped ({reason})");
            continue;
        }
        if let Some(after) = planned["after"].as_str() {
            println!("\naction {name}: waits for `{after}` to succeed");
        }
        if let Some(at) = planned["scheduled_for"].as_str() {
            println!("\naction {name}: scheduled for {at}");
        }
        let request = &planned["request"];
        println!(
            "\naction {}: {} {}",
            name,
            request["method"].as_str().unwrap_or_default(),
            request["url"].as_str().unwrap_or_default()
        );
        for header in request["headers"].as_array().into_iter().flatten() {
            println!(
                "  {}: {}",
                header[0].as_str().unwrap_or_default(),
                header[1].as_str().unwrap_or_default()
            );
        }
        println!("\n{}", request["body"].as_str().unwrap_or_default());
    }
}
