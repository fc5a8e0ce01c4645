//! The field picker: a sample event as a flat tree of every field's path (in the path grammar
//! of `recipe::path`), JSON type and sample value. The editor shows it as clickable paths
//! (`app.js` fills the focused condition or template input) and, without JavaScript, as a
//! `<select>` of the same paths.

use serde_json::Value;

use super::UiError;
use crate::store::{EventPage, Store};

/// At most this many fields are listed: a page stays light whatever the sample's size.
pub const MAX_FIELDS: usize = 400;
/// Array elements listed per array (the shape repeats; the first ones show it).
const MAX_ELEMENTS: usize = 5;
/// Bare first segments that select a root in `recipe::path`, not a payload key.
const ROOT_NAMES: [&str; 4] = ["event", "headers", "meta", "output"];
/// Sample values are cut to this many characters.
const MAX_SAMPLE_CHARS: usize = 60;

/// One field of the sample: `path` as a condition row or template writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleField {
    /// Canonical path text: `data.object.amount`, `items.0.sku`, `"data"."weird.key"`.
    pub path: String,
    /// `object`, `array`, `string`, `number`, `boolean` or `null`.
    pub kind: &'static str,
    /// The value shortened for display (objects and arrays: their size).
    pub sample: String,
    /// The value as a condition row's value input writes it (text unquoted unless it would
    /// read as a number, boolean or list); empty for objects and arrays.
    pub value: String,
    /// Nesting depth, 0 for top-level keys: the tree's indentation.
    pub depth: usize,
}

/// Where the picker's sample came from, shown above the tree.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sample {
    /// Empty when there is no sample; else e.g. "the latest event (2026-12-01 01:02 UTC)".
    pub source: String,
    pub fields: Vec<SampleField>,
    /// Set when the pasted sample is not JSON: the message says why.
    pub error: String,
}

impl Sample {
    /// The tree of an event payload, and of its request headers when known (`headers.NAME`).
    pub fn of(source: impl Into<String>, payload: &Value, headers: Option<&Value>) -> Sample {
        let mut fields = Vec::new();
        walk(payload, "", 0, &mut fields);
        if let Some(Value::Object(headers)) = headers {
            for (name, value) in headers {
                if fields.len() >= MAX_FIELDS {
                    break;
                }
                fields.push(leaf(
                    format!("headers.{}", segment(&name.to_ascii_lowercase())),
                    value,
                    0,
                ));
            }
        }
        Sample {
            source: source.into(),
            fields,
            error: String::new(),
        }
    }

    /// The tree of a pasted payload, or no sample for empty text.
    pub fn pasted_or_none(text: &str, headers: &str) -> Sample {
        if text.trim().is_empty() {
            Sample::default()
        } else {
            Sample::pasted(text, headers)
        }
    }

    /// The tree of a pasted payload and, optionally, its headers (a JSON object; empty for
    /// none). Text that is not JSON gives an error, not a tree.
    pub fn pasted(text: &str, headers: &str) -> Sample {
        let failed = |error: String| Sample {
            error,
            ..Sample::default()
        };
        let payload = match serde_json::from_str::<Value>(text) {
            Ok(payload) => payload,
            Err(e) => return failed(format!("The sample is not valid JSON: {e}")),
        };
        let headers = match headers.trim() {
            "" => None,
            text => match serde_json::from_str::<Value>(text) {
                Ok(headers @ Value::Object(_)) => Some(headers),
                Ok(_) => return failed("The sample headers must be a JSON object.".into()),
                Err(e) => return failed(format!("The sample headers are not valid JSON: {e}")),
            },
        };
        Sample::of("the sample payload", &payload, headers.as_ref())
    }
}

/// The picker's sample for a form: the pasted one when there is one, else the recipe's newest
/// stored event (payload and headers), else none.
pub async fn for_form(
    store: &dyn Store,
    pasted: &str,
    pasted_headers: &str,
    recipe_id: Option<&str>,
) -> Result<Sample, UiError> {
    if !pasted.trim().is_empty() {
        return Ok(Sample::pasted(pasted, pasted_headers));
    }
    let Some(recipe_id) = recipe_id else {
        return Ok(Sample::default());
    };
    let newest = store
        .page_events(&EventPage {
            recipe_id: Some(recipe_id.to_owned()),
            limit: 1,
            ..EventPage::default()
        })
        .await?;
    let Some(summary) = newest.first() else {
        return Ok(Sample::default());
    };
    Ok(match store.get_event(&summary.id).await? {
        Some(detail) => Sample::of(
            format!(
                "the latest event ({})",
                detail.event.received_at.format("%Y-%m-%d %H:%M:%S UTC")
            ),
            &detail.event.payload,
            Some(&detail.event.headers),
        ),
        None => Sample::default(),
    })
}

fn walk(value: &Value, prefix: &str, depth: usize, out: &mut Vec<SampleField>) {
    let children: Vec<(String, &Value)> = match value {
        Value::Object(map) => map.iter().map(|(k, v)| (segment(k), v)).collect(),
        Value::Array(items) => items
            .iter()
            .take(MAX_ELEMENTS)
            .enumerate()
            .map(|(i, v)| (i.to_string(), v))
            .collect(),
        _ => return,
    };
    for (segment, child) in children {
        if out.len() >= MAX_FIELDS {
            return;
        }
        let path = if prefix.is_empty() && ROOT_NAMES.contains(&segment.as_str()) {
            // A top-level key named like a root would read that root: `event.meta.page`
            // reads the payload's `meta`, `meta.page` would read Switchyard's (recipe::path).
            format!("event.{segment}")
        } else if prefix.is_empty() {
            segment
        } else {
            format!("{prefix}.{segment}")
        };
        out.push(leaf(path.clone(), child, depth));
        walk(child, &path, depth + 1, out);
    }
}

fn leaf(path: String, value: &Value, depth: usize) -> SampleField {
    let (kind, sample) = match value {
        Value::Object(map) => ("object", count(map.len(), "key")),
        Value::Array(items) => ("array", count(items.len(), "item")),
        Value::String(s) => ("string", shorten(&format!("\"{s}\""))),
        Value::Number(n) => ("number", n.to_string()),
        Value::Bool(b) => ("boolean", b.to_string()),
        Value::Null => ("null", "null".into()),
    };
    let value = match value {
        Value::Object(_) | Value::Array(_) => String::new(),
        Value::String(s) if serde_json::from_str::<Value>(s).is_ok() => {
            Value::from(s.as_str()).to_string()
        }
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    SampleField {
        path,
        kind,
        sample,
        value,
        depth,
    }
}

/// A key as a path segment: bare when it is `[A-Za-z0-9_-]+`, else double-quoted with `\"`
/// and `\\` escaped (the path grammar of `recipe::path`).
pub fn segment(key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare {
        key.to_owned()
    } else {
        format!("\"{}\"", key.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

fn shorten(text: &str) -> String {
    if text.chars().count() <= MAX_SAMPLE_CHARS {
        return text.to_owned();
    }
    let cut: String = text.chars().take(MAX_SAMPLE_CHARS - 1).collect();
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn paths(sample: &Sample) -> Vec<(&str, &str)> {
        sample
            .fields
            .iter()
            .map(|f| (f.path.as_str(), f.kind))
            .collect()
    }

    #[test]
    fn every_field_is_listed_with_its_path_type_and_sample_value() {
        let payload = json!({
            "type": "payment_intent.succeeded",
            "data": { "object": { "amount": 2000, "live": false, "note": null } },
            "items": [{ "sku": "A-1" }],
        });
        let sample = Sample::of("test", &payload, None);
        assert_eq!(
            paths(&sample),
            [
                ("data", "object"),
                ("data.object", "object"),
                ("data.object.amount", "number"),
                ("data.object.live", "boolean"),
                ("data.object.note", "null"),
                ("items", "array"),
                ("items.0", "object"),
                ("items.0.sku", "string"),
                ("type", "string"),
            ]
        );
        let amount = &sample.fields[2];
        assert_eq!((amount.sample.as_str(), amount.depth), ("2000", 2));
        assert_eq!(sample.fields[8].sample, "\"payment_intent.succeeded\"");
        // Picked as a condition value: text as typed, numbers as numbers.
        assert_eq!(sample.fields[8].value, "payment_intent.succeeded");
        assert_eq!(amount.value, "2000");
        let numeric_text = Sample::of("t", &json!({ "zip": "1234" }), None);
        assert_eq!(numeric_text.fields[0].value, "\"1234\"");
    }

    #[test]
    fn keys_the_bare_grammar_cannot_write_are_quoted() {
        let payload = json!({ "weird.key": { "with space": 1, "q\"uote\\": 2, "": 3 } });
        let sample = Sample::of("test", &payload, None);
        let listed: Vec<&str> = sample.fields.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            listed,
            [
                "\"weird.key\"",
                "\"weird.key\".\"\"",
                "\"weird.key\".\"q\\\"uote\\\\\"",
                "\"weird.key\".\"with space\"",
            ]
        );
    }

    #[test]
    fn headers_are_listed_under_the_headers_root_in_lower_case() {
        let sample = Sample::of(
            "test",
            &json!({}),
            Some(&json!({ "X-GitHub-Event": "push" })),
        );
        assert_eq!(paths(&sample), [("headers.x-github-event", "string")]);
    }

    #[test]
    fn top_level_keys_named_like_a_root_are_written_under_event() {
        let payload = json!({ "event": { "type": "message" }, "meta": { "page": 2 },
            "headers": { "x": "1" }, "output": 1, "type": "event_callback" });
        let sample = Sample::of("test", &payload, Some(&json!({ "x": "h" })));
        let listed: Vec<&str> = sample.fields.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            listed,
            [
                "event.event",
                "event.event.type",
                "event.headers",
                "event.headers.x",
                "event.meta",
                "event.meta.page",
                "event.output",
                "type",
                "headers.x",
            ]
        );
        // Each path parses back to the payload field that was listed.
        for field in &sample.fields[..8] {
            let parsed = crate::recipe::path::FieldPath::parse(&field.path).unwrap();
            assert_eq!(
                parsed.root(),
                crate::recipe::path::PathRoot::Event,
                "{}",
                field.path
            );
            assert_eq!(parsed.to_string(), field.path);
        }
        let page = crate::recipe::path::FieldPath::parse("event.meta.page").unwrap();
        assert_eq!(page.lookup(&payload), Some(&json!(2)));
    }

    #[test]
    fn big_samples_are_cut_to_a_page_sized_tree() {
        let long = "x".repeat(500);
        let payload = json!({ "list": (0..50).collect::<Vec<_>>(), "long": long });
        let sample = Sample::of("test", &payload, None);
        assert_eq!(sample.fields.len(), 1 + MAX_ELEMENTS + 1);
        assert_eq!(sample.fields[0].sample, "50 items");
        assert_eq!(sample.fields.last().unwrap().sample.chars().count(), 60);
        let huge: serde_json::Map<String, Value> =
            (0..1000).map(|i| (format!("k{i}"), json!(i))).collect();
        assert_eq!(
            Sample::of("t", &Value::Object(huge), None).fields.len(),
            MAX_FIELDS
        );
    }

    #[test]
    fn a_pasted_sample_that_is_not_json_says_why() {
        let sample = Sample::pasted("{ nope", "");
        assert!(sample.fields.is_empty());
        assert!(
            sample.error.starts_with("The sample is not valid JSON"),
            "{}",
            sample.error
        );
        let sample = Sample::pasted("{}", "[1]");
        assert_eq!(sample.error, "The sample headers must be a JSON object.");
    }

    #[test]
    fn pasted_headers_join_the_tree_under_the_headers_root() {
        let sample = Sample::pasted("{\"a\": 1}", "{\"X-GitHub-Event\": \"push\"}");
        assert_eq!(
            paths(&sample),
            [("a", "number"), ("headers.x-github-event", "string")]
        );
    }
}
