//! The editor's pages: the form (with the field picker, condition rows and the presets) and
//! the TOML tab.

use askama::Template;

use super::starters::{PresetPanel, Starters};
use crate::recipe::FieldError;
use crate::web::ui::Layout;
use crate::web::ui::form::{METHODS, RecipeForm, compiled_rhai, op_choices};
use crate::web::ui::format::{SchedulePreview, schedule_preview};
use crate::web::ui::picker::Sample;

/// `(value, label)` of the verify presets.
pub(super) const VERIFY_OPTIONS: [(&str, &str); 8] = [
    ("none", "None: anyone with the URL may call it"),
    ("token", "Token: the caller sends a shared secret"),
    ("hmac-sha256", "HMAC-SHA256 signature in a header you name"),
    ("github", "GitHub (X-Hub-Signature-256)"),
    ("stripe", "Stripe (Stripe-Signature)"),
    ("slack", "Slack (X-Slack-Signature)"),
    ("shopify", "Shopify (X-Shopify-Hmac-Sha256)"),
    ("standard-webhooks", "Standard Webhooks (webhook-signature)"),
];

pub(super) const NEW_RECIPE_TOML: &str = r#"id = "my-recipe"
name = "My recipe"
description = ""

[trigger.webhook]
verify = "none"

# Go on only when every row holds (match = "any": when one does).
[[filter.when]]
field = "type"
op = "eq"
value = "order.created"

[[action]]
name = "notify"
method = "POST"
url = "https://example.com/hook"
fields = { text = "New order {{ event.id }}" }
"#;

#[derive(Template)]
#[template(path = "editor/form.html")]
pub(super) struct FormPage {
    layout: Layout,
    form: RecipeForm,
    is_new: bool,
    managed_by: String,
    preview: Option<SchedulePreview>,
    methods: [&'static str; 5],
    verify_options: [(&'static str, &'static str); 8],
    sample: Sample,
    /// `(name, label, takes a value, is a text operator)` for the operator selects.
    ops: Vec<(&'static str, &'static str, bool, bool)>,
    /// The Rhai the condition rows compile to, shown read-only under them.
    compiled: String,
    starters: Starters,
    /// The inputs step of "add action from preset", while it is open.
    panel: Option<PresetPanel>,
}

impl FormPage {
    pub(super) fn new(
        layout: Layout,
        form: RecipeForm,
        is_new: bool,
        managed_by: String,
        sample: Sample,
    ) -> FormPage {
        let preview = (form.schedule && !form.cron.trim().is_empty())
            .then(|| schedule_preview(&form.cron, &form.timezone));
        let compiled = match form.conditions.to_conditions() {
            (rows, errors) if errors.is_empty() && !form.conditions.is_empty() => {
                compiled_rhai(&rows)
            }
            _ => String::new(),
        };
        FormPage {
            layout,
            form,
            is_new,
            managed_by,
            preview,
            methods: METHODS,
            verify_options: VERIFY_OPTIONS,
            sample,
            ops: op_choices(),
            compiled,
            starters: Starters::load(is_new),
            panel: None,
        }
    }

    pub(super) fn with_panel(self, panel: Option<PresetPanel>) -> FormPage {
        FormPage { panel, ..self }
    }

    fn post_to(&self) -> String {
        if self.is_new {
            "/recipes/new".into()
        } else {
            format!("/recipes/{}/edit", self.form.id)
        }
    }
}

#[derive(Template)]
#[template(path = "editor/toml.html")]
pub(super) struct TomlPage {
    pub(super) layout: Layout,
    /// Empty for a new recipe.
    pub(super) id: String,
    pub(super) source: String,
    pub(super) errors: Vec<FieldError>,
    pub(super) managed_by: String,
}
