//! Templates in action URLs, headers and bodies (and poll requests).
//!
//! Grammar (whitespace inside `{{ }}` is free):
//!
//! ```text
//! template   = { literal | "{{" expression "}}" }
//! expression = path [ "|" "default" ":" json-scalar ]  |  "secrets." NAME
//! path       = ("output" | "event" | "responses") { "." segment }
//! segment    = bare | '"' { char | '\"' | '\\' } '"'   (a bare segment of digits indexes an array)
//! NAME       = letter or _, then letters, digits, _
//! ```
//!
//! Segments follow the path grammar shared with condition rows (`template/path.rs`); unlike a
//! condition row, a template names its root (`headers.` and `meta.` are not available to a
//! delivery). `json-scalar` is a JSON string, number, `true`, `false` or `null`
//! (`| default: ""`). `{{ output }}` and `{{ event }}` alone stand for the whole value. A lone
//! `}}` is literal; a quoted key cannot hold `}}`. Action `fields` build a JSON object from
//! templates ([`fields`]).
//!
//! Values are escaped for where they land ([`Landing`]): inside a JSON string of a JSON body
//! they are JSON-escaped; at a value position of a JSON body (`{"n": {{ event.n }}}`) they are
//! written as JSON (text quoted, numbers with their exact digits); in a URL's path or query,
//! and in a form body, they are percent-encoded (RFC 3986 §2.1, everything but unreserved
//! characters); before the end of a URL's host, and secrets anywhere in a URL, they are
//! inserted as written and the whole URL is then checked; in a header value, CR, LF, NUL and
//! other control characters are refused (RFC 9110 §5.5). A path that does not exist, or is
//! null where text is needed, fails the render naming the path, unless a default is given.

mod escape;
pub mod fields;
#[cfg(test)]
mod fields_tests;
mod parse;
mod path;
#[cfg(test)]
mod path_tests;
#[cfg(test)]
mod tests;

use serde_json::Value;

use escape::Slot;
pub use escape::{Landing, kind as json_kind};
use path::Segment;

#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    parts: Vec<Part>,
    landing: Landing,
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Literal(String),
    Value {
        root: Root,
        path: Vec<Segment>,
        default: Option<Value>,
        slot: Slot,
    },
    Secret {
        name: String,
        slot: Slot,
    },
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Root {
    Output,
    Event,
    /// `responses.NAME.status|headers.X|body.path`: an earlier action's stored response (see
    /// `recipe::flow`); a dry run shows it as its reference.
    Responses,
}

impl Root {
    fn name(self) -> &'static str {
        match self {
            Root::Output => "output",
            Root::Event => "event",
            Root::Responses => "responses",
        }
    }
}

/// What values resolve against; `responses` is `None` in a dry run (shown as references).
struct Data<'v> {
    output: &'v Value,
    event: &'v Value,
    responses: Option<&'v Value>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TemplateError {
    #[error("unclosed `{{{{` at offset {offset}")]
    Unclosed { offset: usize },
    #[error("empty template expression `{{{{ }}}}` at offset {offset}")]
    Empty { offset: usize },
    #[error("unknown template root `{root}` in `{expr}` (use output, event or secrets){}", root_hint(.root))]
    UnknownRoot { root: String, expr: String },
    #[error("invalid path in `{expr}`: {reason}")]
    BadPath { expr: String, reason: String },
    #[error("invalid filter in `{expr}`: {reason}")]
    BadFilter { expr: String, reason: String },
    #[error("invalid secret reference `{expr}`: {reason}")]
    BadSecret { expr: String, reason: String },
    #[error("missing secret `{name}`")]
    MissingSecret { name: String },
    /// The path is not in the data: permanent (the data will not change on a retry).
    #[error(
        "`{{{{ {path} }}}}`: {reason}; give a default if it is optional, e.g. `{{{{ {path} | default: \"\" }}}}`"
    )]
    MissingPath { path: String, reason: String },
    /// The rendered value cannot go where it lands (a header with a line break...): permanent.
    #[error("{0}")]
    Unusable(String),
    /// The template does not fit where it is used (a JSON body that is not JSON...).
    #[error("{0}")]
    Invalid(String),
}

/// Why `headers.` and `meta.` (roots of condition rows) are not template roots.
fn root_hint(root: &str) -> &'static str {
    match root {
        "headers" | "meta" => {
            "; a delivery keeps the event's payload and the transform's output, not the \
             request headers or meta: copy what you need into the transform's output"
        }
        _ => "",
    }
}

impl TemplateError {
    /// Whether rendering again with the same data must fail again (no point in retrying).
    /// A missing secret is not permanent: setting it fixes the next attempt.
    pub fn is_permanent(&self) -> bool {
        !matches!(self, TemplateError::MissingSecret { .. })
    }
}

pub struct TemplateContext<'a> {
    pub output: &'a Value,
    pub event: &'a Value,
    /// Earlier actions' responses by action name (`{status, headers, body, truncated}`);
    /// null where there are none.
    pub responses: &'a Value,
    pub secrets: &'a dyn Fn(&str) -> Option<String>,
}

impl TemplateContext<'_> {
    fn data(&self) -> Data<'_> {
        Data {
            output: self.output,
            event: self.event,
            responses: Some(self.responses),
        }
    }
}

impl Template {
    /// Parses a template whose values are inserted as written ([`Landing::Text`]).
    pub fn parse(src: &str) -> Result<Template, TemplateError> {
        Self::parse_for(src, Landing::Text)
    }

    /// Parses and validates a template for where its result lands (run at recipe-check time).
    pub fn parse_for(src: &str, landing: Landing) -> Result<Template, TemplateError> {
        let mut parts = Vec::new();
        let mut rest = src;
        let mut offset = 0;
        let mut tracker = escape::Tracker::new(landing);
        while let Some(start) = rest.find("{{") {
            if start > 0 {
                tracker.literal(&rest[..start]);
                parts.push(Part::Literal(rest[..start].to_string()));
            }
            let open_at = offset + start;
            let after_open = &rest[start + 2..];
            let end = after_open
                .find("}}")
                .ok_or(TemplateError::Unclosed { offset: open_at })?;
            parts.push(parse::parse_expr(
                after_open[..end].trim(),
                open_at,
                &mut tracker,
            )?);
            let consumed = start + 2 + end + 2;
            rest = &rest[consumed..];
            offset += consumed;
        }
        if !rest.is_empty() {
            tracker.literal(rest);
            parts.push(Part::Literal(rest.to_string()));
        }
        let template = Template { parts, landing };
        escape::check_shape(&template.sample(), landing)?;
        Ok(template)
    }

    /// Names referenced by `{{ secrets.X }}`, in order of first appearance, without repeats.
    pub fn secret_names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for part in &self.parts {
            if let Part::Secret { name, .. } = part
                && !names.contains(name)
            {
                names.push(name.clone());
            }
        }
        names
    }

    /// `Some(name)` iff the whole template is exactly one `{{ secrets.NAME }}`.
    pub fn is_single_secret_ref(&self) -> Option<String> {
        match self.parts.as_slice() {
            [Part::Secret { name, .. }] => Some(name.clone()),
            _ => None,
        }
    }

    /// Renders, escaping every value for where it lands (see the module doc).
    pub fn render(&self, ctx: &TemplateContext) -> Result<String, TemplateError> {
        self.render_with(&ctx.data(), |name| {
            (ctx.secrets)(name).ok_or_else(|| TemplateError::MissingSecret {
                name: name.to_string(),
            })
        })
    }

    /// Like `render`, but every secret reference is rendered as the literal text
    /// `{{ secrets.NAME }}`, so dry runs never print secret values.
    pub fn render_redacted(&self, output: &Value, event: &Value) -> Result<String, TemplateError> {
        let data = Data {
            output,
            event,
            responses: None,
        };
        self.render_with(&data, |name| Ok(format!("{{{{ secrets.{name} }}}}")))
    }

    /// Whether the whole template is exactly one `{{ output.… }}` or `{{ event.… }}`
    /// (with or without a default): such a template can keep its value's JSON type.
    pub fn is_single_value(&self) -> bool {
        matches!(self.parts.as_slice(), [Part::Value { .. }])
    }

    /// Every `output.…` path the template reads, as written canonically (`output.id`).
    pub fn output_paths(&self) -> Vec<String> {
        let paths = self.parts.iter().filter_map(|part| match part {
            Part::Value {
                root: Root::Output,
                path,
                ..
            } => Some(path::show("output", path)),
            _ => None,
        });
        paths.collect()
    }

    /// Renders to a JSON value: a template that is exactly one `{{ path }}` gives the value
    /// itself, of any JSON type (number digits exact, `null` included, the default when the
    /// path is missing or null); any other template gives its text as a JSON string.
    pub fn render_value(&self, ctx: &TemplateContext) -> Result<Value, TemplateError> {
        match self.single_value(&ctx.data())? {
            Some(value) => Ok(value.clone()),
            None => self.render(ctx).map(Value::String),
        }
    }

    /// [`Template::render_value`] with secrets shown as their references: for dry runs.
    pub fn render_value_redacted(
        &self,
        output: &Value,
        event: &Value,
    ) -> Result<Value, TemplateError> {
        let data = Data {
            output,
            event,
            responses: None,
        };
        match self.single_value(&data)? {
            Some(value) => Ok(value.clone()),
            None => self.render_redacted(output, event).map(Value::String),
        }
    }

    fn single_value<'v>(&'v self, data: &Data<'v>) -> Result<Option<&'v Value>, TemplateError> {
        match self.parts.as_slice() {
            [
                Part::Value {
                    root: Root::Responses,
                    ..
                },
            ] if data.responses.is_none() => Ok(None),
            [
                Part::Value {
                    root,
                    path,
                    default,
                    ..
                },
            ] => resolve(*root, path, default.as_ref(), data).map(Some),
            _ => Ok(None),
        }
    }

    /// The names of the actions whose responses the template reads (`responses.NAME`).
    pub fn response_names(&self) -> Vec<String> {
        let names = self.parts.iter().filter_map(|part| match part {
            Part::Value {
                root: Root::Responses,
                path,
                ..
            } => path.first().map(|s| s.key.clone()),
            _ => None,
        });
        names.collect()
    }

    fn render_with(
        &self,
        data: &Data,
        secret: impl Fn(&str) -> Result<String, TemplateError>,
    ) -> Result<String, TemplateError> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Literal(text) => out.push_str(text),
                Part::Secret { name, slot } => {
                    escape::push(&mut out, *slot, &Value::String(secret(name)?), name)?
                }
                Part::Value {
                    root,
                    path,
                    default,
                    slot,
                } => {
                    let shown = path::show(root.name(), path);
                    if *root == Root::Responses && data.responses.is_none() {
                        out.push_str(&format!("{{{{ {shown} }}}}"));
                        continue;
                    }
                    let value = resolve(*root, path, default.as_ref(), data)?;
                    escape::push(&mut out, *slot, value, &shown)?;
                }
            }
        }
        escape::check_rendered(&out, self.landing)?;
        Ok(out)
    }

    /// The template with a harmless stand-in for every value, to check its shape.
    fn sample(&self) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Literal(text) => out.push_str(text),
                Part::Value { slot, .. } | Part::Secret { slot, .. } => {
                    out.push_str(escape::stand_in(*slot))
                }
            }
        }
        out
    }
}

/// The value at `root.path`; the default when it is missing or null; otherwise an error
/// naming the path.
fn resolve<'v>(
    root: Root,
    path: &[Segment],
    default: Option<&'v Value>,
    data: &Data<'v>,
) -> Result<&'v Value, TemplateError> {
    let value = match root {
        Root::Output => data.output,
        Root::Event => data.event,
        Root::Responses => {
            let responses = data.responses.unwrap_or(&Value::Null);
            if let [name, body, _, ..] = path
                && body.key == "body"
                && responses[&name.key]["truncated"] == Value::Bool(true)
            {
                return Err(TemplateError::MissingPath {
                    path: path::show(root.name(), path),
                    reason: format!(
                        "the response of `{}` was larger than the size kept and is stored \
                         truncated, so its body cannot be read as JSON",
                        name.key
                    ),
                });
            }
            responses
        }
    };
    match (path::lookup(value, root.name(), path), default) {
        (Ok(Value::Null), Some(default)) | (Err(_), Some(default)) => Ok(default),
        (Ok(value), _) => Ok(value),
        (Err(reason), None) => Err(TemplateError::MissingPath {
            path: path::show(root.name(), path),
            reason,
        }),
    }
}
