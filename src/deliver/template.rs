//! `{{ output.path }}`, `{{ event.path }}` and `{{ secrets.NAME }}` templates used in action
//! URLs, headers and bodies.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Literal(String),
    Output(Vec<String>),
    Event(Vec<String>),
    Secret(String),
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
    #[error("invalid secret reference `{expr}`: {reason}")]
    BadSecret { expr: String, reason: String },
    #[error("missing secret `{name}`")]
    MissingSecret { name: String },
}

pub struct TemplateContext<'a> {
    pub output: &'a Value,
    pub event: &'a Value,
    pub secrets: &'a dyn Fn(&str) -> Option<String>,
}

impl Template {
    /// Parses and validates a template (run at recipe-check time).
    pub fn parse(src: &str) -> Result<Template, TemplateError> {
        let mut parts = Vec::new();
        let mut rest = src;
        let mut offset = 0;
        while let Some(start) = rest.find("{{") {
            if start > 0 {
                parts.push(Part::Literal(rest[..start].to_string()));
            }
            let open_at = offset + start;
            let after_open = &rest[start + 2..];
            let end = after_open
                .find("}}")
                .ok_or(TemplateError::Unclosed { offset: open_at })?;
            parts.push(parse_expr(after_open[..end].trim(), open_at)?);
            let consumed = start + 2 + end + 2;
            rest = &rest[consumed..];
            offset += consumed;
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(rest.to_string()));
        }
        Ok(Template { parts })
    }

    /// Names referenced by `{{ secrets.X }}`, in order of first appearance, without repeats.
    pub fn secret_names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for part in &self.parts {
            if let Part::Secret(name) = part
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
            [Part::Secret(name)] => Some(name.clone()),
            _ => None,
        }
    }

    /// Renders. Strings are inserted as-is, numbers/bools as their JSON text, objects/arrays as
    /// compact JSON, null and missing paths as "" (empty).
    pub fn render(&self, ctx: &TemplateContext) -> Result<String, TemplateError> {
        self.render_with(ctx.output, ctx.event, |name| {
            (ctx.secrets)(name).ok_or_else(|| TemplateError::MissingSecret {
                name: name.to_string(),
            })
        })
    }

    /// Like `render`, but every secret reference is rendered as the literal text
    /// `{{ secrets.NAME }}`, so dry runs never print secret values.
    pub fn render_redacted(&self, output: &Value, event: &Value) -> String {
        self.render_with(output, event, |name| {
            Ok(format!("{{{{ secrets.{name} }}}}"))
        })
        .unwrap_or_default() // the redacting closure never fails
    }

    fn render_with(
        &self,
        output: &Value,
        event: &Value,
        secret: impl Fn(&str) -> Result<String, TemplateError>,
    ) -> Result<String, TemplateError> {
        let mut out = String::new();
        for part in &self.parts {
            let value = match part {
                Part::Literal(text) => {
                    out.push_str(text);
                    continue;
                }
                Part::Secret(name) => {
                    out.push_str(&secret(name)?);
                    continue;
                }
                Part::Output(path) => lookup(output, path),
                Part::Event(path) => lookup(event, path),
            };
            match value {
                None | Some(Value::Null) => {}
                Some(Value::String(s)) => out.push_str(s),
                Some(other) => out.push_str(&other.to_string()),
            }
        }
        Ok(out)
    }
}

fn lookup<'v>(root: &'v Value, path: &[String]) -> Option<&'v Value> {
    path.iter().try_fold(root, |value, segment| match value {
        Value::Array(items) if is_index(segment) => items.get(segment.parse::<usize>().ok()?),
        Value::Object(map) => map.get(segment),
        _ => None,
    })
}

fn is_index(segment: &str) -> bool {
    !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit())
}

fn parse_expr(expr: &str, offset: usize) -> Result<Part, TemplateError> {
    if expr.is_empty() {
        return Err(TemplateError::Empty { offset });
    }
    let shown = format!("{{{{ {expr} }}}}");
    if expr.contains(char::is_whitespace) || expr.contains('{') || expr.contains('}') {
        return Err(TemplateError::BadPath {
            expr: shown,
            reason: "a path is dot-separated names without spaces or braces".to_string(),
        });
    }
    let mut segments = expr.split('.');
    let root = segments.next().unwrap_or_default();
    let path: Vec<String> = segments.map(str::to_string).collect();
    if path.iter().any(String::is_empty) {
        return Err(TemplateError::BadPath {
            expr: shown,
            reason: "empty path segment".to_string(),
        });
    }
    match root {
        "output" => Ok(Part::Output(path)),
        "event" => Ok(Part::Event(path)),
        "secrets" => match path.as_slice() {
            [name] if is_secret_name(name) => Ok(Part::Secret(name.clone())),
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

fn is_secret_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn no_secrets(_: &str) -> Option<String> {
        None
    }

    fn render(src: &str, output: &Value, event: &Value) -> String {
        let ctx = TemplateContext {
            output,
            event,
            secrets: &|name| (name == "TOKEN").then(|| "s3cret".to_string()),
        };
        Template::parse(src).unwrap().render(&ctx).unwrap()
    }

    #[test]
    fn renders_paths_with_and_without_whitespace() {
        let out = json!({"user": {"name": "Ada", "age": 36}});
        let ev = json!({"id": "ev_1"});
        assert_eq!(
            render("hi {{output.user.name}} / {{  event.id  }}!", &out, &ev),
            "hi Ada / ev_1!"
        );
        assert_eq!(render("no templates here", &out, &ev), "no templates here");
        assert_eq!(render("", &out, &ev), "");
    }

    #[test]
    fn digit_segments_index_arrays() {
        let out = json!({"items": [{"name": "a"}, {"name": "b"}], "map": {"0": "zero"}});
        let ev = json!(null);
        assert_eq!(render("{{ output.items.1.name }}", &out, &ev), "b");
        assert_eq!(render("{{ output.items.9.name }}", &out, &ev), "");
        assert_eq!(render("{{ output.map.0 }}", &out, &ev), "zero");
    }

    #[test]
    fn value_kinds_render_as_documented() {
        let out = json!({"s": "text \"q\"", "n": 1.5, "i": -3, "b": true, "z": null,
                         "o": {"a": [1, 2]}, "a": ["x", {"y": null}]});
        let ev = json!({});
        assert_eq!(render("{{ output.s }}", &out, &ev), "text \"q\"");
        assert_eq!(
            render("{{ output.n }}|{{ output.i }}|{{ output.b }}", &out, &ev),
            "1.5|-3|true"
        );
        assert_eq!(
            render("[{{ output.z }}][{{ output.nope.deeper }}]", &out, &ev),
            "[][]"
        );
        assert_eq!(render("{{ output.o }}", &out, &ev), r#"{"a":[1,2]}"#);
        assert_eq!(render("{{ output.a }}", &out, &ev), r#"["x",{"y":null}]"#);
        assert_eq!(render("{{ output.s.x }}", &out, &ev), "");
    }

    #[test]
    fn bare_roots_render_whole_values() {
        let out = json!({"k": 1});
        let ev = json!("plain");
        assert_eq!(
            render("{{ output }} {{event}}", &out, &ev),
            r#"{"k":1} plain"#
        );
    }

    #[test]
    fn secrets_render_and_missing_ones_fail_by_name() {
        let null = json!(null);
        assert_eq!(
            render("Bearer {{ secrets.TOKEN }}", &null, &null),
            "Bearer s3cret"
        );
        let ctx = TemplateContext {
            output: &null,
            event: &null,
            secrets: &no_secrets,
        };
        let err = Template::parse("{{ secrets.SLACK_URL }}")
            .unwrap()
            .render(&ctx)
            .unwrap_err();
        assert_eq!(err.to_string(), "missing secret `SLACK_URL`");
    }

    #[test]
    fn redacted_render_never_shows_secret_values() {
        let t = Template::parse("{{event.id}}:{{secrets.TOKEN}}:{{ secrets.OTHER }}").unwrap();
        let text = t.render_redacted(&json!(null), &json!({"id": 7}));
        assert_eq!(text, "7:{{ secrets.TOKEN }}:{{ secrets.OTHER }}");
    }

    #[test]
    fn secret_names_and_single_ref() {
        let t = Template::parse("{{ secrets.A }} {{ output.x }} {{secrets._b2}} {{ secrets.A }}")
            .unwrap();
        assert_eq!(t.secret_names(), vec!["A".to_string(), "_b2".to_string()]);
        assert_eq!(t.is_single_secret_ref(), None);
        let single = Template::parse("{{secrets.WEBHOOK_SECRET}}").unwrap();
        assert_eq!(
            single.is_single_secret_ref(),
            Some("WEBHOOK_SECRET".to_string())
        );
        assert_eq!(
            Template::parse(" {{ secrets.A }}")
                .unwrap()
                .is_single_secret_ref(),
            None
        );
        assert_eq!(
            Template::parse("{{ output.A }}")
                .unwrap()
                .is_single_secret_ref(),
            None
        );
        assert!(Template::parse("plain").unwrap().secret_names().is_empty());
    }

    #[test]
    fn parse_errors_name_the_problem() {
        let err = |src: &str| Template::parse(src).unwrap_err().to_string();
        assert_eq!(
            err("{{ evnt.id }}"),
            "unknown template root `evnt` in `{{ evnt.id }}` (use output, event or secrets)"
        );
        assert_eq!(err("0123456789  {{ output.x"), "unclosed `{{` at offset 12");
        assert_eq!(
            err("ab{{}}"),
            "empty template expression `{{ }}` at offset 2"
        );
        assert!(err("{{ output..x }}").contains("empty path segment"));
        assert!(err("{{ output.x. }}").contains("empty path segment"));
        assert!(err("{{ output.a b }}").contains("without spaces"));
        assert!(err("{{ secrets.1X }}").contains("`1X` is not a valid secret name"));
        assert!(err("{{ secrets.A-B }}").contains("not a valid secret name"));
        assert!(err("{{ secrets }}").contains("name the secret"));
        assert!(err("{{ secrets.A.B }}").contains("single name"));
        assert!(matches!(
            Template::parse("{{ outputs.x }}"),
            Err(TemplateError::UnknownRoot { .. })
        ));
    }

    #[test]
    fn lone_closing_braces_are_literal() {
        let t = Template::parse(r#"{"a":{"b":"{{ output }}"}}"#).unwrap();
        let text = t.render_redacted(&json!("v"), &json!(null));
        assert_eq!(text, r#"{"a":{"b":"v"}}"#);
    }
}
