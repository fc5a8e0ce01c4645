//! Starting points in the editor: trigger presets (applied with their defaults; the form then
//! shows what they set), action presets (pick one, fill its inputs, get an ordinary action)
//! and "new recipe from an example" (the recipes in `recipes/`). The presets are the data
//! files of `presets/`, read through `recipe::presets`.

use std::collections::BTreeMap;

use crate::recipe::RecipeFile;
use crate::recipe::presets::{self, InputKind, Preset, PresetKind};
use crate::web::ui::form::RecipeForm;
use crate::web::ui::format::pretty_json;

/// `(id, name, description)` of what the selects and lists offer.
pub struct Starters {
    pub triggers: Vec<(&'static str, &'static str, &'static str)>,
    pub actions: Vec<(&'static str, &'static str, &'static str)>,
    pub examples: Vec<(String, String, String)>,
}

impl Starters {
    pub fn load(with_examples: bool) -> Starters {
        let of = |kind| {
            presets::all()
                .iter()
                .filter(|p| p.kind == kind)
                .map(|p| (p.id.as_str(), p.name.as_str(), p.description.as_str()))
                .collect()
        };
        Starters {
            triggers: of(PresetKind::Trigger),
            actions: of(PresetKind::Action),
            examples: if with_examples {
                presets::examples()
                    .into_iter()
                    .map(|e| (e.id, e.name, e.description))
                    .collect()
            } else {
                Vec::new()
            },
        }
    }
}

/// The inputs step of "add action from preset".
pub struct PresetPanel {
    pub id: String,
    pub name: String,
    pub description: String,
    pub docs: String,
    pub inputs: Vec<InputView>,
    pub error: String,
}

pub struct InputView {
    /// Posted as `preset_input.NAME`.
    pub name: String,
    pub label: String,
    pub help: String,
    pub value: String,
    /// Templates take fields from the picker.
    pub template: bool,
    /// `choice` inputs: the allowed values.
    pub options: Vec<String>,
}

impl PresetPanel {
    /// The panel of an action preset, with the values typed so far (else the defaults).
    pub fn of(id: &str, typed: &BTreeMap<String, String>) -> Option<PresetPanel> {
        let preset = presets::get(PresetKind::Action, id)?;
        Some(PresetPanel {
            id: preset.id.clone(),
            name: preset.name.clone(),
            description: preset.description.clone(),
            docs: preset.docs.clone().unwrap_or_default(),
            inputs: preset
                .inputs
                .iter()
                .map(|input| InputView {
                    name: input.name.clone(),
                    label: input.label.clone(),
                    help: input.help.clone().unwrap_or_default(),
                    value: typed
                        .get(&input.name)
                        .or(input.default.as_ref())
                        .cloned()
                        .unwrap_or_default(),
                    template: matches!(input.kind, InputKind::Template | InputKind::Fields),
                    options: input.options.clone(),
                })
                .collect(),
            error: String::new(),
        })
    }
}

/// The recipe sections a preset produces, read as a recipe file (with a placeholder id and
/// name that the caller does not use).
fn sections(preset: &Preset, inputs: &BTreeMap<String, String>) -> Result<RecipeFile, String> {
    let table = preset.apply(inputs)?;
    let recipe = presets::compose("preset", "preset", &[table])?;
    toml::Value::Table(recipe)
        .try_into::<RecipeFile>()
        .map_err(|e| format!("the preset `{}` does not make a recipe: {e}", preset.id))
}

/// Sets the form's trigger, dedupe and (when the preset suggests one) filter from a trigger
/// preset with its default inputs, and its sample into the picker. Name and actions stay.
pub fn use_trigger(form: &mut RecipeForm, id: &str) -> Result<(), String> {
    let preset = presets::get(PresetKind::Trigger, id)
        .ok_or_else(|| format!("there is no trigger preset `{id}`"))?;
    let from = RecipeForm::from_file(&sections(preset, &BTreeMap::new())?);
    form.webhook = from.webhook;
    form.verify = from.verify;
    form.webhook_secret = from.webhook_secret;
    form.previous_secret = from.previous_secret;
    form.hmac_header = from.hmac_header;
    form.hmac_encoding = from.hmac_encoding;
    form.hmac_prefix = from.hmac_prefix;
    form.respond = from.respond;
    form.allow_get = from.allow_get;
    form.schedule = from.schedule;
    form.cron = from.cron;
    form.timezone = from.timezone;
    form.dedupe = from.dedupe;
    form.dedupe_window = from.dedupe_window;
    if !from.conditions.is_empty() || from.filter_mode == "script" {
        form.filter_mode = from.filter_mode;
        form.conditions = from.conditions;
        form.filter = from.filter;
    }
    if let Some(sample) = &preset.sample {
        form.sample = pretty_json(sample);
        form.sample_headers = preset
            .sample_headers
            .as_ref()
            .map(pretty_json)
            .unwrap_or_default();
    }
    Ok(())
}

/// Adds the action an action preset makes with these inputs; it replaces the form's only
/// action while that one is still blank (a new recipe's placeholder).
pub fn add_action(
    form: &mut RecipeForm,
    id: &str,
    inputs: &BTreeMap<String, String>,
) -> Result<(), String> {
    let preset = presets::get(PresetKind::Action, id)
        .ok_or_else(|| format!("there is no action preset `{id}`"))?;
    let file = sections(preset, inputs)?;
    let mut made = RecipeForm::from_file(&file).actions;
    if form.actions.len() == 1 && form.actions[0].is_blank() {
        form.actions.clear();
    }
    form.actions.append(&mut made);
    Ok(())
}

/// A new recipe's form from one of the shipped examples, its sample in the picker.
pub fn example(id: &str) -> Result<RecipeForm, String> {
    let example = presets::examples()
        .into_iter()
        .find(|e| e.id == id)
        .ok_or_else(|| format!("there is no example `{id}`"))?;
    let file: RecipeFile = toml::from_str(example.toml)
        .map_err(|e| format!("the example `{id}` does not read: {e}"))?;
    let mut form = RecipeForm::from_file(&file);
    if let Some(sample) = &example.sample {
        form.sample = pretty_json(sample);
    }
    Ok(form)
}
