//! Reading an embedded preset file and checking it is self-consistent: its id and kind match
//! its path, its inputs are well formed and every `{{ input.NAME }}` names one of them.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use super::apply::{check_value, input_refs};
use super::{Example, InputKind, Preset, PresetInput, PresetKind};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PresetFile {
    preset: Header,
    recipe: toml::Table,
    #[serde(default)]
    variant: BTreeMap<String, BTreeMap<String, toml::Table>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    id: String,
    kind: PresetKind,
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    docs: Option<String>,
    #[serde(default, rename = "input")]
    inputs: Vec<PresetInput>,
}

const TRIGGER_KEYS: [&str; 4] = ["trigger", "dedupe", "dedupe_window", "filter"];

pub(super) fn parse(
    kind: &str,
    id: &str,
    source: &str,
    sample: Option<&str>,
    headers: Option<&str>,
) -> Result<Preset, String> {
    let file: PresetFile = toml::from_str(source).map_err(|e| e.to_string())?;
    let header = file.preset;
    if header.id != id {
        return Err(format!(
            "preset.id `{}` differs from the file name `{id}`",
            header.id
        ));
    }
    if header.kind.as_str() != kind {
        return Err(format!(
            "preset.kind `{}` differs from its folder `{kind}s`",
            header.kind.as_str()
        ));
    }
    check_inputs(&header.inputs)?;
    check_sections(header.kind, &file.recipe)?;
    for (name, options) in &file.variant {
        let input = header
            .inputs
            .iter()
            .find(|i| &i.name == name && i.kind == InputKind::Choice)
            .ok_or_else(|| format!("[variant.{name}] names no `choice` input"))?;
        for option in options.keys() {
            if !input.options.contains(option) {
                return Err(format!(
                    "[variant.{name}.{option}]: `{option}` is not one of its options"
                ));
            }
        }
    }
    let tables =
        std::iter::once(&file.recipe).chain(file.variant.values().flat_map(BTreeMap::values));
    for table in tables {
        for (name, whole) in input_refs(table) {
            if name.is_empty() {
                return Err("a `{{ input.` is not closed as `{{ input.NAME }}`".into());
            }
            let input = header
                .inputs
                .iter()
                .find(|i| i.name == name)
                .ok_or_else(|| format!("`{{{{ input.{name} }}}}` names no declared input"))?;
            if input.kind == InputKind::Fields && !whole {
                return Err(format!(
                    "the `fields` input `{name}` must be a whole string value: \"{{{{ input.{name} }}}}\""
                ));
            }
        }
    }
    let json = |what: &str, text: Option<&str>| -> Result<Option<Value>, String> {
        text.map(|t| serde_json::from_str(t).map_err(|e| format!("{id}.{what}.json: {e}")))
            .transpose()
    };
    Ok(Preset {
        id: header.id,
        kind: header.kind,
        name: header.name,
        description: header.description,
        docs: header.docs,
        inputs: header.inputs,
        sample: json("sample", sample)?,
        sample_headers: json("headers", headers)?,
        recipe: file.recipe,
        variants: file.variant,
    })
}

fn check_inputs(inputs: &[PresetInput]) -> Result<(), String> {
    for (i, input) in inputs.iter().enumerate() {
        let name = &input.name;
        let well_formed = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !well_formed {
            return Err(format!("input `{name}`: names are [a-z0-9_]+"));
        }
        if inputs[..i].iter().any(|other| &other.name == name) {
            return Err(format!("input `{name}` is declared twice"));
        }
        match (input.kind, input.options.is_empty()) {
            (InputKind::Choice, true) => {
                return Err(format!("input `{name}`: a choice needs `options`"));
            }
            (kind, false) if kind != InputKind::Choice => {
                return Err(format!("input `{name}`: only a choice has `options`"));
            }
            _ => {}
        }
        for (what, value) in [("default", &input.default), ("example", &input.example)] {
            if let Some(value) = value {
                check_value(input, value).map_err(|e| format!("input `{name}` {what}: {e}"))?;
            }
        }
    }
    Ok(())
}

fn check_sections(kind: PresetKind, recipe: &toml::Table) -> Result<(), String> {
    match kind {
        PresetKind::Trigger => {
            if let Some(key) = recipe.keys().find(|k| !TRIGGER_KEYS.contains(&k.as_str())) {
                return Err(format!(
                    "[recipe].{key}: a trigger preset produces only {}",
                    TRIGGER_KEYS.join(", ")
                ));
            }
            if !recipe.contains_key("trigger") {
                return Err("a trigger preset needs [recipe.trigger]".into());
            }
        }
        PresetKind::Action => {
            let one_action = recipe.len() == 1
                && recipe
                    .get("action")
                    .and_then(toml::Value::as_array)
                    .is_some_and(|a| a.len() == 1 && a[0].is_table());
            if !one_action {
                return Err("an action preset produces exactly one [[recipe.action]]".into());
            }
        }
    }
    Ok(())
}

pub(super) fn example(id: &str, source: &'static str, sample: Option<&str>) -> Example {
    let table: toml::Table = toml::from_str(source)
        .unwrap_or_else(|e| panic!("embedded example recipes/{id}.toml: {e}"));
    let text = |key: &str| {
        table
            .get(key)
            .and_then(toml::Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    Example {
        id: id.to_owned(),
        name: text("name"),
        description: text("description"),
        toml: source,
        sample: sample.map(|s| {
            serde_json::from_str(s)
                .unwrap_or_else(|e| panic!("embedded example recipes/{id}.payload.json: {e}"))
        }),
    }
}
