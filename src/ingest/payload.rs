//! Turns a raw request into what scripts see: JSON → map, form → map, anything else → text.
//! An empty body is an empty event, `{}`, whatever the declared type: providers send pings
//! with no body under a JSON type, and a script tests `event.field` the same way either way.

use actix_web::HttpRequest;
use serde_json::{Map, Value};

use super::error::IngestError;

/// The content type without parameters, lower-cased (`application/json`).
pub fn media_type(req: &HttpRequest) -> Option<String> {
    let raw = req.headers().get("content-type")?.to_str().ok()?;
    let media = raw.split(';').next()?.trim().to_ascii_lowercase();
    (!media.is_empty()).then_some(media)
}

/// The event of a (decoded) body: `{}` when empty (zero bytes; for JSON also only whitespace,
/// which JSON ignores), a map for JSON objects and forms, any JSON value, or else the text.
pub fn parse_body(media_type: Option<&str>, body: &[u8]) -> Result<Value, IngestError> {
    let is_json = media_type.is_some_and(|m| m == "application/json" || m.ends_with("+json"));
    if body.is_empty() || (is_json && body.iter().all(u8::is_ascii_whitespace)) {
        return Ok(Value::Object(Map::new()));
    }
    match media_type {
        _ if is_json => {
            serde_json::from_slice(body).map_err(|e| IngestError::MalformedJson(e.to_string()))
        }
        Some("application/x-www-form-urlencoded") => parse_form(body),
        _ => Ok(Value::String(String::from_utf8_lossy(body).into_owned())),
    }
}

/// Form fields as a map; a field given more than once becomes an array.
pub fn parse_form(body: &[u8]) -> Result<Value, IngestError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
        .map_err(|e| IngestError::MalformedForm(e.to_string()))?;
    let mut map = Map::new();
    for (key, value) in pairs {
        match map.get_mut(&key) {
            None => {
                map.insert(key, Value::String(value));
            }
            Some(Value::Array(values)) => values.push(Value::String(value)),
            Some(existing) => {
                let first = existing.take();
                *existing = Value::Array(vec![first, Value::String(value)]);
            }
        }
    }
    Ok(Value::Object(map))
}

/// Header names lower-cased; repeated headers joined with ", ". `redact` names headers whose
/// values are credentials and must not be stored.
pub fn headers_map(req: &HttpRequest, redact: &[&str]) -> Value {
    let mut map = Map::new();
    for (name, value) in req.headers() {
        let name = name.as_str().to_ascii_lowercase();
        let value = if redact.contains(&name.as_str()) {
            "[redacted]".to_owned()
        } else {
            String::from_utf8_lossy(value.as_bytes()).into_owned()
        };
        match map.get_mut(&name) {
            Some(Value::String(existing)) => {
                existing.push_str(", ");
                existing.push_str(&value);
            }
            _ => {
                map.insert(name, Value::String(value));
            }
        }
    }
    Value::Object(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_objects_become_maps_and_bad_json_names_the_problem() {
        let value = parse_body(Some("application/json"), br#"{"a": 1}"#).unwrap();
        assert_eq!(value["a"], 1);
        let error = parse_body(Some("application/json"), b"{\"a\": ").unwrap_err();
        assert!(error.to_string().contains("EOF while parsing"), "{error}");
    }

    #[test]
    fn form_bodies_become_maps_with_repeated_fields_as_arrays() {
        let value = parse_form(b"name=Ada&tag=a&tag=b&msg=hi+there").unwrap();
        assert_eq!(value["name"], "Ada");
        assert_eq!(value["msg"], "hi there");
        assert_eq!(value["tag"], serde_json::json!(["a", "b"]));
    }

    #[test]
    fn an_empty_body_is_an_empty_event_whatever_the_type() {
        for media_type in [
            Some("application/json"),
            Some("application/cloudevents+json"),
            Some("application/x-www-form-urlencoded"),
            Some("text/plain"),
            Some("application/octet-stream"),
            None,
        ] {
            assert_eq!(parse_body(media_type, b"").unwrap(), serde_json::json!({}));
        }
        assert_eq!(
            parse_body(Some("application/json"), b" \r\n").unwrap(),
            serde_json::json!({})
        );
        // Whitespace is text, though.
        assert_eq!(
            parse_body(Some("text/plain"), b" ").unwrap(),
            Value::from(" ")
        );
    }

    #[test]
    fn other_content_types_are_kept_as_text() {
        let value = parse_body(Some("text/plain"), b"hello").unwrap();
        assert_eq!(value, Value::String("hello".into()));
        assert_eq!(parse_body(None, b"x").unwrap(), Value::String("x".into()));
    }
}
