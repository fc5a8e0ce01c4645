//! `switchyard presets`: the app presets built into this binary and the example recipes.

use std::process::ExitCode;

use serde_json::json;

use crate::recipe::presets::{self, PresetKind};

/// Prints every preset with its inputs, then the examples; `--json` prints the same data as
/// `GET /api/presets`.
pub fn run(as_json: bool) -> anyhow::Result<ExitCode> {
    if as_json {
        let list = json!({ "presets": presets::all(), "examples": presets::examples() });
        println!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(ExitCode::SUCCESS);
    }
    for (kind, title) in [
        (PresetKind::Trigger, "Trigger presets"),
        (PresetKind::Action, "Action presets"),
    ] {
        println!("{title}:");
        for preset in presets::all().iter().filter(|p| p.kind == kind) {
            println!(
                "  {:<18} {} — {}",
                preset.id, preset.name, preset.description
            );
            for input in &preset.inputs {
                let value = match (&input.default, &input.example) {
                    (Some(default), _) => format!(" (default: {default})"),
                    (None, Some(example)) => format!(" (required, e.g. {example})"),
                    (None, None) => " (required)".to_owned(),
                };
                println!("      {}: {}{value}", input.name, input.label);
            }
        }
        println!();
    }
    println!("Examples (new recipe from an example):");
    for example in presets::examples() {
        println!("  {:<26} {}", example.id, example.name);
    }
    Ok(ExitCode::SUCCESS)
}
