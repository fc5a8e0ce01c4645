//! Action `fields`: a JSON object body mapped from the event (or the transform's output)
//! without a script.
//!
//! ```toml
//! fields = { text = "Paid {{ event.data.object.id }}", amount = "{{ event.data.object.amount }}",
//!            "customer.email" = "{{ event.data.object.receipt_email }}", meta = { source = "stripe" } }
//! ```
//!
//! - Keys nest: a dotted key (`"customer.email"`) and an inline table (`customer = { email = … }`)
//!   build the same object. A key segment may be double-quoted to hold a dot
//!   (`'"weird.key"'`); digits are object keys, never array positions. A key set twice
//!   (`"a.b"` and `a = { b = … }`, or `a = "x"` and `"a.b"`) is an error naming both.
//! - A string that is exactly one `{{ path }}` (optionally `| default: …`) keeps the JSON type
//!   of the value: a number stays a number with its exact digits, likewise bools, null,
//!   objects and arrays.
//! - Any other string is a text template: values are inserted as text (a number as its exact
//!   digits, an object or array as compact JSON, null refused unless a default is given) and
//!   the result is a JSON string (escaped when the body is written).
//! - Numbers, bools and datetimes (as RFC 3339 text) are literal JSON. Arrays keep their
//!   elements in order; strings and tables inside them follow the same rules.
//! - A path that does not exist fails the delivery naming the path, unless a default is given.

use std::collections::BTreeMap;

use serde_json::Value;

use super::path::{Segment, parse_quoted};
use super::{Template, TemplateContext, TemplateError};

/// The compiled `fields` of an action: renders to a JSON object.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldMap {
    root: BTreeMap<String, Node>,
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Object(BTreeMap<String, Node>),
    Array(Vec<Node>),
    Literal(Value),
    Template(Template),
}

/// A problem in `fields`: `at` is the canonical key path under `fields` (`customer.email`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldsError {
    pub at: String,
    pub message: String,
}

/// A node under construction, with the key (as written in TOML) that set it.
enum Build {
    Object(BTreeMap<String, Build>, String),
    Done(Node, String),
}

impl FieldMap {
    /// Compiles the `fields` table; every problem is reported, each naming its key.
    pub fn parse(table: &toml::Table) -> Result<FieldMap, Vec<FieldsError>> {
        let mut errors = Vec::new();
        let root = build_table(table, &[], "", &mut errors);
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(FieldMap { root })
    }

    /// Every template in the map with its key path (`customer.email`, `tags.0`): for secret
    /// names and `output.…` checks.
    pub fn templates(&self) -> Vec<(String, &Template)> {
        let mut out = Vec::new();
        for (key, node) in &self.root {
            node.templates(std::slice::from_ref(key), &mut out);
        }
        out
    }

    /// The body as a JSON object, with real secret values.
    pub fn render(&self, ctx: &TemplateContext) -> Result<Value, TemplateError> {
        render_object(&self.root, &|t| t.render_value(ctx))
    }

    /// The body with every secret shown as its `{{ secrets.NAME }}` reference: for dry runs.
    pub fn render_redacted(&self, output: &Value, event: &Value) -> Result<Value, TemplateError> {
        render_object(&self.root, &|t| t.render_value_redacted(output, event))
    }
}

impl Node {
    fn templates<'a>(&'a self, at: &[String], out: &mut Vec<(String, &'a Template)>) {
        match self {
            Node::Object(map) => map
                .iter()
                .for_each(|(key, node)| node.templates(&push(at, key), out)),
            Node::Array(items) => items
                .iter()
                .enumerate()
                .for_each(|(i, node)| node.templates(&push(at, &i.to_string()), out)),
            Node::Literal(_) => {}
            Node::Template(template) => out.push((shown(at), template)),
        }
    }
}

type RenderOne<'a> = dyn Fn(&Template) -> Result<Value, TemplateError> + 'a;

fn render_object(map: &BTreeMap<String, Node>, one: &RenderOne) -> Result<Value, TemplateError> {
    let mut out = serde_json::Map::new();
    for (key, node) in map {
        out.insert(key.clone(), render_node(node, one)?);
    }
    Ok(Value::Object(out))
}

fn render_node(node: &Node, one: &RenderOne) -> Result<Value, TemplateError> {
    match node {
        Node::Object(map) => render_object(map, one),
        Node::Array(items) => items
            .iter()
            .map(|item| render_node(item, one))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        Node::Literal(value) => Ok(value.clone()),
        Node::Template(template) => one(template),
    }
}

/// Builds the object for `table`, found at `at` (canonical segments) and written as
/// `written` (TOML key path, empty at the top).
fn build_table(
    table: &toml::Table,
    at: &[String],
    written: &str,
    errors: &mut Vec<FieldsError>,
) -> BTreeMap<String, Node> {
    let mut tree: BTreeMap<String, Build> = BTreeMap::new();
    insert_table(&mut tree, at, table, written, errors);
    finish(tree)
}

/// Inserts `value` at `segments` below `at`, merging objects and refusing a key set twice.
fn insert(
    tree: &mut BTreeMap<String, Build>,
    at: &[String],
    segments: &[String],
    value: &toml::Value,
    written: &str,
    errors: &mut Vec<FieldsError>,
) {
    let (first, rest) = segments
        .split_first()
        .expect("a key has at least one segment");
    let here = push(at, first);
    let twice = |earlier: &str| {
        error(
            &here,
            format!("is set twice: by `{earlier}` and by `{written}`"),
        )
    };
    match (tree.get_mut(first), rest.is_empty(), value) {
        (Some(Build::Done(_, earlier)), _, _) => errors.push(twice(earlier)),
        (Some(Build::Object(children, _)), true, toml::Value::Table(table)) => {
            insert_table(children, &here, table, written, errors)
        }
        (Some(Build::Object(_, earlier)), true, _) => errors.push(twice(earlier)),
        (Some(Build::Object(children, _)), false, _) => {
            insert(children, &here, rest, value, written, errors)
        }
        (None, false, _) => {
            let mut children = BTreeMap::new();
            insert(&mut children, &here, rest, value, written, errors);
            tree.insert(first.clone(), Build::Object(children, written.to_string()));
        }
        (None, true, toml::Value::Table(table)) => {
            let mut children = BTreeMap::new();
            insert_table(&mut children, &here, table, written, errors);
            tree.insert(first.clone(), Build::Object(children, written.to_string()));
        }
        (None, true, _) => {
            if let Some(node) = leaf(value, &here, written, errors) {
                tree.insert(first.clone(), Build::Done(node, written.to_string()));
            }
        }
    }
}

/// Inserts the entries of an inline table written as `written`, found at `at`.
fn insert_table(
    tree: &mut BTreeMap<String, Build>,
    at: &[String],
    table: &toml::Table,
    written: &str,
    errors: &mut Vec<FieldsError>,
) {
    for (raw_key, inner) in table {
        match key_segments(raw_key) {
            Ok(keys) => insert(
                tree,
                at,
                &keys,
                inner,
                &join_written(written, raw_key),
                errors,
            ),
            Err(message) => errors.push(error(&push(at, raw_key), message)),
        }
    }
}

fn finish(tree: BTreeMap<String, Build>) -> BTreeMap<String, Node> {
    tree.into_iter()
        .map(|(key, build)| match build {
            Build::Object(children, _) => (key, Node::Object(finish(children))),
            Build::Done(node, _) => (key, node),
        })
        .collect()
}

/// A value that is not a table: a template, a literal, or an array of either.
fn leaf(
    value: &toml::Value,
    at: &[String],
    written: &str,
    errors: &mut Vec<FieldsError>,
) -> Option<Node> {
    match value {
        toml::Value::String(text) => match Template::parse(text) {
            Ok(template) => Some(Node::Template(template)),
            Err(e) => {
                errors.push(error(at, e.to_string()));
                None
            }
        },
        toml::Value::Integer(n) => Some(Node::Literal(Value::from(*n))),
        toml::Value::Float(x) => match serde_json::Number::from_f64(*x) {
            Some(number) => Some(Node::Literal(Value::Number(number))),
            None => {
                errors.push(error(at, format!("{x} is not a number JSON can carry")));
                None
            }
        },
        toml::Value::Boolean(b) => Some(Node::Literal(Value::Bool(*b))),
        toml::Value::Datetime(datetime) => Some(Node::Literal(Value::String(datetime.to_string()))),
        toml::Value::Array(items) => {
            let mut nodes = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let at = push(at, &i.to_string());
                let written = format!("{written}[{i}]");
                let node = match item {
                    toml::Value::Table(table) => {
                        Some(Node::Object(build_table(table, &at, &written, errors)))
                    }
                    other => leaf(other, &at, &written, errors),
                };
                nodes.extend(node);
            }
            Some(Node::Array(nodes))
        }
        toml::Value::Table(table) => Some(Node::Object(build_table(table, at, written, errors))),
    }
}

/// The segments of a key: split at dots outside double quotes; a quoted segment takes `\"`
/// and `\\` escapes. Unquoted segments may hold anything but `.` and `"` (spaces included).
fn key_segments(raw: &str) -> Result<Vec<String>, String> {
    let mut segments = Vec::new();
    let mut rest = raw;
    loop {
        let segment = match rest.strip_prefix('"') {
            Some(quoted) => {
                let (key, after) = parse_quoted(quoted).map_err(|e| format!("`{raw}`: {e}"))?;
                rest = after;
                key
            }
            None => {
                let end = rest.find(['.', '"']).unwrap_or(rest.len());
                let key = &rest[..end];
                rest = &rest[end..];
                if key.is_empty() {
                    return Err(format!(
                        "`{raw}` has an empty key segment (a dot at the start or end, or two in a row)"
                    ));
                }
                key.to_string()
            }
        };
        segments.push(segment);
        if rest.is_empty() {
            return Ok(segments);
        }
        rest = rest.strip_prefix('.').ok_or_else(|| {
            format!("`{raw}`: a quote may only enclose a whole key segment, e.g. `a.\"b.c\"`")
        })?;
    }
}

/// A TOML key path: `a.b`, with keys quoted where TOML needs it (`"a.b"`).
fn join_written(prefix: &str, raw_key: &str) -> String {
    let toml_bare = !raw_key.is_empty()
        && raw_key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    let key = if toml_bare {
        raw_key.to_string()
    } else {
        serde_json::Value::String(raw_key.to_string()).to_string()
    };
    match prefix {
        "" => key,
        prefix => format!("{prefix}.{key}"),
    }
}

fn push(at: &[String], key: &str) -> Vec<String> {
    let mut out = at.to_vec();
    out.push(key.to_string());
    out
}

fn error(at: &[String], message: String) -> FieldsError {
    FieldsError {
        at: shown(at),
        message,
    }
}

/// Canonical key path: `customer.email`, `"weird.key"`.
fn shown(at: &[String]) -> String {
    at.iter()
        .map(|key| {
            Segment {
                key: key.clone(),
                quoted: false,
            }
            .to_string()
        })
        .collect::<Vec<_>>()
        .join(".")
}
