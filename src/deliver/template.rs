//! Templates in action URLs, headers and bodies (and poll requests).
//!
//! Grammar (whitespace inside `{{ }}` is free):
//!
//! ```text
//! template   = { literal | "{{" expression "}}" }
//! expression = path [ "|" "default" ":" json-scalar ]  |  "secrets." NAME
//! path       = ("output" | "event") { "." segment }     (a segment of digits indexes an array)
//! NAME       = letter or _, then letters, digits, _
//! ```
//!
//! `json-scalar` is a JSON string, number, `true`, `false` or `null` (`| default: ""`).
//! `{{ output }}` and `{{ event }}` alone stand for the whole value. A lone `}}` is literal.
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
#[cfg(test)]
mod tests;

use serde_json::Value;

pub use escape::Landing;
use escape::Slot;

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
        path: Vec<String>,
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
}

impl Root {
    fn name(self) -> &'static str {
        match self {
            Root::Output => "output",
            Root::Event => "event",
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TemplateError {
    #[error("unclosed `{{{{` at offset {offset}")]
    Unclosed { offset: usize },
    #[error("empty template expression `{{{{ }}}}` at offset {offset}")]
    Empty { offset: usize },
    #[error("unknown template root `{root}` in `{expr}` (use output, event or secrets)")]
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
    pub secrets: &'a dyn Fn(&str) -> Option<String>,
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
            parts.push(parse_expr(after_open[..end].trim(), open_at, &mut tracker)?);
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
        self.render_with(ctx.output, ctx.event, |name| {
            (ctx.secrets)(name).ok_or_else(|| TemplateError::MissingSecret {
                name: name.to_string(),
            })
        })
    }

    /// Like `render`, but every secret reference is rendered as the literal text
    /// `{{ secrets.NAME }}`, so dry runs never print secret values.
    pub fn render_redacted(&self, output: &Value, event: &Value) -> Result<String, TemplateError> {
        self.render_with(output, event, |name| {
            Ok(format!("{{{{ secrets.{name} }}}}"))
        })
    }

    fn render_with(
        &self,
        output: &Value,
        event: &Value,
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
                    let data = match root {
                        Root::Output => output,
                        Root::Event => event,
                    };
                    let shown = std::iter::once(root.name())
                        .chain(path.iter().map(String::as_str))
                        .collect::<Vec<_>>()
                        .join(".");
                    let value = match (lookup(data, *root, path), default) {
                        (Ok(Value::Null), Some(default)) | (Err(_), Some(default)) => default,
                        (Ok(value), _) => value,
                        (Err(reason), None) => {
                            return Err(TemplateError::MissingPath {
                                path: shown,
                                reason,
                            });
                        }
                    };
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

/// The value at `path`, or why there is none ("the event has no field `amout`").
fn lookup<'v>(root: &'v Value, name: Root, path: &[String]) -> Result<&'v Value, String> {
    let mut value = root;
    let mut at = name.name().to_string();
    for segment in path {
        value = match value {
            Value::Array(items) if is_index(segment) => {
                let index: usize = segment.parse().unwrap_or(usize::MAX);
                items
                    .get(index)
                    .ok_or_else(|| format!("{at} has {} item(s), no item {segment}", items.len()))?
            }
            Value::Object(map) => map.get(segment).ok_or_else(|| {
                let owner = if at == "event" {
                    "the event".to_string()
                } else {
                    at.clone()
                };
                format!("{owner} has no field `{segment}`")
            })?,
            Value::Null => return Err(format!("{at} is null")),
            other => return Err(format!("{at} is {}, not an object", escape::kind(other))),
        };
        at = format!("{at}.{segment}");
    }
    Ok(value)
}

fn is_index(segment: &str) -> bool {
    !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit())
}

fn parse_expr(
    expr: &str,
    offset: usize,
    tracker: &mut escape::Tracker,
) -> Result<Part, TemplateError> {
    if expr.is_empty() {
        return Err(TemplateError::Empty { offset });
    }
    let shown = format!("{{{{ {expr} }}}}");
    let (path_text, filter) = match expr.split_once('|') {
        Some((path, filter)) => (path.trim(), Some(filter.trim())),
        None => (expr, None),
    };
    if path_text.contains(char::is_whitespace) || path_text.contains(['{', '}']) {
        return Err(TemplateError::BadPath {
            expr: shown,
            reason: "a path is dot-separated names without spaces or braces".to_string(),
        });
    }
    let mut segments = path_text.split('.');
    let root = segments.next().unwrap_or_default();
    let path: Vec<String> = segments.map(str::to_string).collect();
    if path.iter().any(String::is_empty) {
        return Err(TemplateError::BadPath {
            expr: shown,
            reason: "empty path segment".to_string(),
        });
    }
    let default = filter.map(|f| parse_default(f, &shown)).transpose()?;
    let value = |root, slot| Part::Value {
        root,
        path: path.clone(),
        default: default.clone(),
        slot,
    };
    match root {
        "output" => Ok(value(Root::Output, tracker.slot(false))),
        "event" => Ok(value(Root::Event, tracker.slot(false))),
        "secrets" if default.is_some() => Err(TemplateError::BadFilter {
            expr: shown,
            reason: "a secret takes no default: set the secret".to_string(),
        }),
        "secrets" => match path.as_slice() {
            [name] if is_secret_name(name) => Ok(Part::Secret {
                name: name.clone(),
                slot: tracker.slot(true),
            }),
            [name] => Err(TemplateError::BadSecret {
                expr: shown,
                reason: format!(
                    "`{name}` is not a valid secret name (letters, digits and _, not starting with a digit)"
                ),
            }),
            [] => Err(TemplateError::BadSecret {
                expr: shown,
                reason: "name the secret, e.g. `{{ secrets.API_KEY }}`".to_string(),
            }),
            _ => Err(TemplateError::BadSecret {
                expr: shown,
                reason: "a secret is a single name, not a path".to_string(),
            }),
        },
        _ => Err(TemplateError::UnknownRoot {
            root: root.to_string(),
            expr: shown,
        }),
    }
}

/// `default: "text"` (or a JSON number, `true`, `false`, `null`).
fn parse_default(filter: &str, shown: &str) -> Result<Value, TemplateError> {
    let bad = |reason: String| TemplateError::BadFilter {
        expr: shown.to_string(),
        reason,
    };
    let (name, argument) = filter.split_once(':').unwrap_or((filter, ""));
    if name.trim() != "default" {
        return Err(bad(format!(
            "unknown filter `{}` (the only filter is `default: \"...\"`)",
            name.trim()
        )));
    }
    match serde_json::from_str::<Value>(argument.trim()) {
        Ok(value) if !value.is_array() && !value.is_object() => Ok(value),
        _ => Err(bad(
            "`default:` takes a JSON string, number, true, false or null, e.g. `default: \"\"`"
                .to_string(),
        )),
    }
}

fn is_secret_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}
