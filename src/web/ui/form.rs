//! The editor's form: a recipe as the strings a user types, converted to and from the file
//! model, and validation errors placed beside the inputs they belong to.

use std::collections::BTreeMap;

pub use super::field_errors::Errors;

mod buttons;
mod conditions;
mod convert;
mod fields;
mod webhook_more;

pub use self::buttons::{Button, compiled_rhai};
pub use self::conditions::{ConditionsForm, GroupForm, RowForm, op_choices};
pub use self::convert::slug;
use self::convert::{
    action_form, header_lines, non_empty, parse_headers, parse_verify, retry_section, script,
    secret_name, secret_value,
};
pub use self::fields::FieldRow;

use crate::recipe::file::{
    ActionSection, FilterSection, PollSection, ScheduleSection, TriggerSection, WebhookSection,
};
use crate::recipe::{FieldError, RecipeFile, RespondMode, SignatureEncoding, VerifyPreset};

#[derive(Debug, Clone, Default)]
pub struct ActionForm {
    pub name: String,
    pub method: String,
    pub url: String,
    pub headers: String,
    pub body: String,
    pub timeout: String,
    pub retry: String,
    pub secret: String,
    /// The body mapping (`fields`) as key / template rows; empty: no mapping.
    pub fields: Vec<FieldRow>,
    /// The action's flow-control keys (`when`, `when_script`, `after`, `delay`...) as a JSON
    /// object, carried through the form unchanged (edited in the file); empty: none.
    pub flow: String,
    pub errors: Errors,
}

#[derive(Debug, Clone, Default)]
pub struct RecipeForm {
    pub id: String,
    pub name: String,
    pub description: String,
    pub enabled: bool,
    pub webhook: bool,
    pub verify: String,
    pub webhook_secret: String,
    pub previous_secret: String,
    /// `hmac-sha256` only: where the signature is and how it is written.
    pub hmac_header: String,
    pub hmac_encoding: String,
    pub hmac_prefix: String,
    pub respond: String,
    pub allow_get: bool,
    /// `split`, `handshake`, `handshake_secret`, `[response]` as TOML (`form::webhook_more`).
    pub webhook_more: String,
    pub schedule: bool,
    pub cron: String,
    pub timezone: String,
    pub poll: bool,
    pub poll_url: String,
    pub poll_method: String,
    pub poll_headers: String,
    pub poll_body: String,
    pub poll_items: String,
    pub dedupe: String,
    pub dedupe_window: String,
    /// `rows` (condition rows) or `script` (the Rhai in `filter`).
    pub filter_mode: String,
    pub conditions: ConditionsForm,
    pub filter: String,
    pub transform: String,
    pub actions: Vec<ActionForm>,
    /// A pasted sample event (JSON) for the field picker; not part of the recipe.
    pub sample: String,
    /// The pasted sample's request headers (a JSON object), optional.
    pub sample_headers: String,
    /// The path chosen in the picker's select (the no-JavaScript way to add a row on it).
    pub picked: String,
    /// The presets chosen in the "start from" and "add action from preset" selects, and the
    /// inputs typed for the action preset (`preset_input.NAME`).
    pub trigger_preset: String,
    pub action_preset: String,
    pub preset_inputs: BTreeMap<String, String>,
    pub errors: Errors,
}

pub const METHODS: [&str; 5] = ["POST", "PUT", "PATCH", "GET", "DELETE"];

impl ActionForm {
    pub fn blank() -> ActionForm {
        // No Content-Type prefilled: without one the request carries the type its body was
        // written for (JSON for fields or a JSON body), as a recipe file's action does.
        ActionForm {
            method: "POST".into(),
            ..ActionForm::default()
        }
    }

    /// Nothing that makes an action typed: no name, URL, body or body fields.
    pub fn is_blank(&self) -> bool {
        self.name.trim().is_empty()
            && self.url.trim().is_empty()
            && self.body.trim().is_empty()
            && self.fields.is_empty()
    }
}

impl RecipeForm {
    /// A new recipe: enabled, a plain webhook trigger, one empty action.
    pub fn blank() -> RecipeForm {
        RecipeForm {
            enabled: true,
            webhook: true,
            verify: "none".into(),
            respond: "accepted".into(),
            filter_mode: "rows".into(),
            conditions: ConditionsForm::blank(),
            actions: vec![ActionForm::blank()],
            ..RecipeForm::default()
        }
    }

    /// Reads the posted fields (`action.N.url` for the actions) and the button pressed.
    pub fn from_pairs(pairs: Vec<(String, String)>) -> (RecipeForm, Button) {
        let mut form = RecipeForm {
            conditions: ConditionsForm::blank(),
            ..RecipeForm::default()
        };
        let mut actions: BTreeMap<usize, ActionForm> = BTreeMap::new();
        let mut op = Button::Save;
        for (key, value) in pairs {
            // Browsers send textarea line breaks as CRLF.
            let value = value.replace("\r\n", "\n");
            if let Some(rest) = key.strip_prefix("action.") {
                let Some((index, field)) = rest.split_once('.') else {
                    continue;
                };
                let Ok(index) = index.parse::<usize>() else {
                    continue;
                };
                let action = actions.entry(index).or_default();
                match field {
                    "name" => action.name = value,
                    "method" => action.method = value,
                    "url" => action.url = value,
                    "headers" => action.headers = value,
                    "body" => action.body = value,
                    "timeout" => action.timeout = value,
                    "retry" => action.retry = value,
                    "secret" => action.secret = value,
                    "flow" => action.flow = value,
                    mapping => {
                        if let Some((row, input)) = mapping
                            .strip_prefix("field.")
                            .and_then(|r| r.split_once('.'))
                            .and_then(|(i, input)| Some((i.parse::<usize>().ok()?, input)))
                        {
                            let row = row.min(action.fields.len());
                            if row == action.fields.len() {
                                action.fields.push(FieldRow::default());
                            }
                            action.fields[row].read(input, value);
                        }
                    }
                }
                continue;
            }
            if let Some(input) = key.strip_prefix("preset_input.") {
                form.preset_inputs.insert(input.to_owned(), value);
                continue;
            }
            if ConditionsForm::owns(&key) {
                form.conditions.read(&key, value);
                continue;
            }
            let on = !value.is_empty();
            match key.as_str() {
                "id" => form.id = value,
                "name" => form.name = value,
                "description" => form.description = value,
                "enabled" => form.enabled = on,
                "webhook" => form.webhook = on,
                "verify" => form.verify = value,
                "webhook_secret" => form.webhook_secret = value,
                "previous_secret" => form.previous_secret = value,
                "hmac_header" => form.hmac_header = value,
                "hmac_encoding" => form.hmac_encoding = value,
                "hmac_prefix" => form.hmac_prefix = value,
                "respond" => form.respond = value,
                "allow_get" => form.allow_get = on,
                "webhook_more" => form.webhook_more = value,
                "schedule" => form.schedule = on,
                "cron" => form.cron = value,
                "timezone" => form.timezone = value,
                "poll" => form.poll = on,
                "poll_url" => form.poll_url = value,
                "poll_method" => form.poll_method = value,
                "poll_headers" => form.poll_headers = value,
                "poll_body" => form.poll_body = value,
                "poll_items" => form.poll_items = value,
                "dedupe" => form.dedupe = value,
                "dedupe_window" => form.dedupe_window = value,
                "filter_mode" => form.filter_mode = value,
                "filter" => form.filter = value,
                "transform" => form.transform = value,
                "sample" => form.sample = value,
                "sample_headers" => form.sample_headers = value,
                "picked" => form.picked = value,
                "trigger_preset" => form.trigger_preset = value,
                "action_preset" => form.action_preset = value,
                "op" => op = Button::parse(&value),
                _ => {}
            }
        }
        form.actions = actions.into_values().collect();
        if form.filter_mode.is_empty() {
            // A post without the mode (a script or an older page): a script when one is given.
            form.filter_mode = if form.filter.trim().is_empty() {
                "rows"
            } else {
                "script"
            }
            .into();
        }
        (form, op)
    }

    pub fn from_file(file: &RecipeFile) -> RecipeForm {
        let webhook = file.trigger.webhook.as_ref();
        let schedule = file.trigger.schedule.as_ref();
        let poll = schedule.and_then(|s| s.poll.as_ref());
        RecipeForm {
            id: file.id.clone(),
            name: file.name.clone(),
            description: file.description.clone(),
            enabled: file.enabled,
            webhook: webhook.is_some(),
            verify: webhook
                .map_or(VerifyPreset::None, |w| w.verify)
                .as_str()
                .into(),
            webhook_secret: secret_name(webhook.and_then(|w| w.secret.as_deref())),
            previous_secret: secret_name(webhook.and_then(|w| w.previous_secret.as_deref())),
            hmac_header: webhook.and_then(|w| w.header.clone()).unwrap_or_default(),
            hmac_encoding: match webhook.and_then(|w| w.encoding) {
                Some(SignatureEncoding::Base64) => "base64".into(),
                Some(SignatureEncoding::Hex) => "hex".into(),
                None => String::new(),
            },
            hmac_prefix: webhook.and_then(|w| w.prefix.clone()).unwrap_or_default(),
            respond: match webhook.map(|w| w.respond) {
                Some(RespondMode::Result) => "result".into(),
                _ => "accepted".into(),
            },
            allow_get: webhook.is_some_and(|w| w.allow_get),
            webhook_more: webhook_more::text(webhook),
            schedule: schedule.is_some(),
            cron: schedule.map(|s| s.cron.clone()).unwrap_or_default(),
            timezone: schedule
                .and_then(|s| s.timezone.clone())
                .unwrap_or_default(),
            poll: poll.is_some(),
            poll_url: poll.map(|p| p.url.clone()).unwrap_or_default(),
            poll_method: poll.and_then(|p| p.method.clone()).unwrap_or_default(),
            poll_headers: poll.map(|p| header_lines(&p.headers)).unwrap_or_default(),
            poll_body: poll.and_then(|p| p.body.clone()).unwrap_or_default(),
            poll_items: poll.and_then(|p| p.items.clone()).unwrap_or_default(),
            dedupe: file.dedupe.clone().unwrap_or_default(),
            dedupe_window: file.dedupe_window.clone().unwrap_or_default(),
            filter_mode: match &file.filter {
                Some(filter) if filter.script.is_some() => "script".into(),
                _ => "rows".into(),
            },
            conditions: file
                .filter
                .as_ref()
                .map_or_else(ConditionsForm::blank, |f| {
                    ConditionsForm::from_conditions(&f.rows())
                }),
            filter: file
                .filter
                .as_ref()
                .and_then(|s| s.script.clone())
                .unwrap_or_default(),
            transform: file
                .transform
                .as_ref()
                .map(|s| s.script.clone())
                .unwrap_or_default(),
            actions: file.actions.iter().map(action_form).collect(),
            errors: Errors::default(),
            ..RecipeForm::default()
        }
    }

    /// The recipe file the form describes, and the problems only the form can have (header
    /// lines that are not `Name: value`).
    pub fn to_file(&self) -> (RecipeFile, Vec<FieldError>) {
        let mut errors = Vec::new();
        let id = match self.id.trim() {
            "" => slug(&self.name),
            id => id.to_owned(),
        };
        let verify = parse_verify(&self.verify);
        // The signature's place is only written for the generic HMAC preset.
        let hmac = verify == VerifyPreset::HmacSha256;
        let mut webhook = self.webhook.then(|| WebhookSection {
            verify,
            secret: secret_value(&self.webhook_secret),
            previous_secret: secret_value(&self.previous_secret),
            header: non_empty(&self.hmac_header).filter(|_| hmac),
            encoding: match self.hmac_encoding.as_str() {
                "base64" if hmac => Some(SignatureEncoding::Base64),
                // hex is the default: not written.
                _ => None,
            },
            prefix: non_empty(&self.hmac_prefix).filter(|_| hmac),
            respond: if self.respond == "result" {
                RespondMode::Result
            } else {
                RespondMode::Accepted
            },
            allow_get: self.allow_get,
            ..WebhookSection::default()
        });
        if let Some(section) = webhook.as_mut() {
            webhook_more::apply(&self.webhook_more, section, &mut errors);
        }
        let poll = self.poll.then(|| PollSection {
            url: self.poll_url.trim().to_owned(),
            method: non_empty(&self.poll_method),
            headers: parse_headers(
                &self.poll_headers,
                "trigger.schedule.poll.headers",
                &mut errors,
            ),
            body: non_empty(&self.poll_body),
            items: non_empty(&self.poll_items),
        });
        let schedule = self.schedule.then(|| ScheduleSection {
            cron: self.cron.trim().to_owned(),
            timezone: non_empty(&self.timezone),
            poll,
        });
        let actions = self
            .actions
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let section = ActionSection {
                    name: a.name.trim().to_owned(),
                    method: non_empty(&a.method).unwrap_or_else(|| "POST".into()),
                    url: a.url.trim().to_owned(),
                    headers: parse_headers(
                        &a.headers,
                        &format!("action[{i}].headers"),
                        &mut errors,
                    ),
                    body: (!a.body.trim().is_empty()).then(|| a.body.clone()),
                    fields: fields::table_of(&a.fields).unwrap_or_else(|messages| {
                        let field = format!("action[{i}].fields");
                        errors.extend(messages.into_iter().map(|m| FieldError::new(&field, m)));
                        None
                    }),
                    timeout: non_empty(&a.timeout),
                    retry: retry_section(&a.retry),
                    secret: secret_value(&a.secret),
                    when_match: None,
                    when: Vec::new(),
                    when_script: None,
                    delay: None,
                    delay_until: None,
                    after: None,
                    rate: None,
                    concurrency: None,
                    key: None,
                };
                convert::with_flow(i, &a.flow, &mut errors, section)
            })
            .collect();
        let file = RecipeFile {
            id,
            name: self.name.trim().to_owned(),
            description: self.description.trim().to_owned(),
            enabled: self.enabled,
            trigger: TriggerSection { webhook, schedule },
            dedupe: non_empty(&self.dedupe),
            dedupe_window: non_empty(&self.dedupe_window),
            filter: self.filter_section(&mut errors),
            transform: script(&self.transform),
            actions,
        };
        (file, errors)
    }

    fn filter_section(&self, errors: &mut Vec<FieldError>) -> Option<FilterSection> {
        if self.filter_mode == "script" {
            return script(&self.filter).map(|s| FilterSection::from_script(s.script));
        }
        let (conditions, row_errors) = self.conditions.to_conditions();
        errors.extend(row_errors);
        (!self.conditions.is_empty()).then(|| FilterSection::from_rows(conditions))
    }
}

#[cfg(test)]
#[path = "form_tests.rs"]
mod tests;
