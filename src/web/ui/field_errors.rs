//! Validation errors placed beside the editor inputs they belong to: `action[1].url` goes
//! under the second action's URL, `filter.script` under the filter; the rest on top.

use std::collections::HashMap;

use super::form::RecipeForm;
use crate::recipe::FieldError;

/// Messages by input name (`name`, `cron`, `filter`...); `top` holds what fits no input.
#[derive(Debug, Clone, Default)]
pub struct Errors {
    by_input: HashMap<String, Vec<String>>,
    pub top: Vec<String>,
}

impl Errors {
    pub fn get(&self, input: &str) -> String {
        self.by_input
            .get(input)
            .map(|m| m.join("; "))
            .unwrap_or_default()
    }

    pub fn is_empty(&self) -> bool {
        self.by_input.is_empty() && self.top.is_empty()
    }

    pub(super) fn add(&mut self, input: &str, message: String) {
        self.by_input
            .entry(input.to_owned())
            .or_default()
            .push(message);
    }
}

impl RecipeForm {
    /// Puts each error beside its input (`action[1].url` → action 2's URL field).
    pub fn place_errors(&mut self, errors: &[FieldError]) {
        for error in errors {
            if self.conditions.place_error(&error.field, &error.message) {
                continue;
            }
            match input_for(&error.field) {
                Some(Input::Action(i, "name" | "url"))
                    if i < self.actions.len() && self.actions[i].is_blank() =>
                {
                    // One plain message for an action left empty, not one per input.
                    let plain = format!(
                        "Action {} is empty: give it a name and the URL it posts to, add an \
                         app's action with \"Add an action for an app\", or remove it.",
                        i + 1
                    );
                    let errors = &mut self.actions[i].errors;
                    if errors.get("url").is_empty() {
                        errors.add("url", plain);
                    }
                }
                Some(Input::Action(i, input)) if i < self.actions.len() => {
                    self.actions[i].errors.add(input, error.message.clone());
                }
                Some(Input::Form(input)) => self.errors.add(input, error.message.clone()),
                _ => self.errors.top.push(error.to_string()),
            }
        }
    }
}

enum Input {
    Form(&'static str),
    Action(usize, &'static str),
}

fn input_for(field: &str) -> Option<Input> {
    if let Some(rest) = field.strip_prefix("action[") {
        let (index, rest) = rest.split_once(']')?;
        let index = index.parse().ok()?;
        let sub = rest.trim_start_matches('.');
        let input = match sub.split(['.', '[']).next().unwrap_or_default() {
            "name" => "name",
            "method" => "method",
            "url" => "url",
            "headers" => "headers",
            "body" => "body",
            "fields" => "fields",
            "timeout" => "timeout",
            "retry" => "retry",
            "secret" => "secret",
            _ => "card",
        };
        return Some(Input::Action(index, input));
    }
    let input = match field {
        "id" => "id",
        "name" => "name",
        "description" => "description",
        "dedupe" => "dedupe",
        "dedupe_window" => "dedupe_window",
        "trigger" => "trigger",
        "action" => "actions",
        "filter" | "filter.script" => "filter",
        f if f.starts_with("filter.") => "conditions",
        "transform" | "transform.script" => "transform",
        "trigger.webhook.verify" => "verify",
        "trigger.webhook.secret" => "webhook_secret",
        "trigger.webhook.previous_secret" => "previous_secret",
        "trigger.webhook.header" => "hmac_header",
        "trigger.webhook.encoding" => "hmac_encoding",
        "trigger.webhook.prefix" => "hmac_prefix",
        "trigger.webhook.respond" => "respond",
        "trigger.webhook.allow_get" => "allow_get",
        "trigger.webhook.more"
        | "trigger.webhook.split"
        | "trigger.webhook.handshake"
        | "trigger.webhook.handshake_secret" => "webhook_more",
        f if f.starts_with("trigger.webhook.response") => "webhook_more",
        "trigger.schedule.cron" => "cron",
        "trigger.schedule.timezone" => "timezone",
        "trigger.schedule.poll.url" => "poll_url",
        "trigger.schedule.poll.method" => "poll_method",
        "trigger.schedule.poll.body" => "poll_body",
        "trigger.schedule.poll.items" => "poll_items",
        f if f.starts_with("trigger.schedule.poll.headers") => "poll_headers",
        f if f.starts_with("trigger.schedule.poll") => "poll",
        f if f.starts_with("trigger.schedule") => "schedule",
        f if f.starts_with("trigger.webhook") => "webhook",
        _ => return None,
    };
    Some(Input::Form(input))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::ui::form::ActionForm;

    #[test]
    fn errors_land_beside_their_inputs() {
        let mut form = RecipeForm::blank();
        form.actions.push(ActionForm {
            name: "crm".into(),
            ..ActionForm::blank()
        });
        form.actions.push(ActionForm::blank());
        form.place_errors(&[
            FieldError::new("action[2].name", "must not be empty"),
            FieldError::new("action[2].url", "`` is not a valid URL"),
            FieldError::new("action[1].url", "bad"),
            FieldError::new("action[0].headers.X-A", "bad template"),
            FieldError::new("filter.script", "filter script, line 2, column 3: oops"),
            FieldError::new("line 3, column 1", "syntax"),
            FieldError::new("action[7].url", "no such action"),
        ]);
        assert_eq!(form.actions[1].errors.get("url"), "bad");
        assert_eq!(form.actions[0].errors.get("headers"), "bad template");
        assert!(form.errors.get("filter").contains("line 2, column 3"));
        assert_eq!(form.errors.top.len(), 2);
        // An action left empty gets one message in plain words.
        assert!(
            form.actions[2]
                .errors
                .get("url")
                .starts_with("Action 3 is empty: give it a name and the URL it posts to"),
            "{}",
            form.actions[2].errors.get("url")
        );
        assert_eq!(form.actions[2].errors.get("name"), "");
    }
}
