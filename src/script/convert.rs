//! JSON in and out of scripts, keeping every number's exact digits (see `number.rs`).
//!
//! serde_json runs with `arbitrary_precision`, so a `Value` holds numbers as sent; Rhai's own
//! serde bridge would turn such a number into a map, so the conversion is written out here.

use rhai::{Array, Dynamic, Map};
use serde_json::Value;

use super::number::{self, ExactNumber};

/// JSON → script value: objects become maps, arrays arrays, null `()`, numbers as in
/// [`number::to_dynamic`].
pub fn to_dynamic(value: &Value) -> Dynamic {
    match value {
        Value::Null => Dynamic::UNIT,
        Value::Bool(b) => Dynamic::from_bool(*b),
        Value::Number(n) => number::to_dynamic(n),
        Value::String(s) => Dynamic::from(s.clone()),
        Value::Array(items) => Dynamic::from_array(items.iter().map(to_dynamic).collect::<Array>()),
        Value::Object(map) => Dynamic::from_map(
            map.iter()
                .map(|(k, v)| (k.as_str().into(), to_dynamic(v)))
                .collect::<Map>(),
        ),
    }
}

/// Script value → JSON; `None` when some part has no JSON form (a function pointer, a
/// timestamp, an infinite or NaN float...). Characters become one-character strings.
pub fn to_json(value: &Dynamic) -> Option<Value> {
    if value.is_unit() {
        return Some(Value::Null);
    }
    if let Ok(b) = value.as_bool() {
        return Some(Value::Bool(b));
    }
    if let Ok(i) = value.as_int() {
        return Some(Value::from(i));
    }
    if let Ok(f) = value.as_float() {
        return serde_json::Number::from_f64(f).map(Value::Number);
    }
    if let Some(n) = value.read_lock::<ExactNumber>() {
        return number::to_json(&n).map(Value::Number);
    }
    if let Ok(s) = value.as_immutable_string_ref() {
        return Some(Value::String(s.to_string()));
    }
    if let Ok(c) = value.as_char() {
        return Some(Value::String(c.to_string()));
    }
    if let Ok(items) = value.as_array_ref() {
        return items
            .iter()
            .map(to_json)
            .collect::<Option<Vec<_>>>()
            .map(Value::Array);
    }
    if let Ok(map) = value.as_map_ref() {
        return map
            .iter()
            .map(|(k, v)| Some((k.to_string(), to_json(v)?)))
            .collect::<Option<serde_json::Map<_, _>>>()
            .map(Value::Object);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trips_with_exact_numbers() {
        let text = r#"{"big":12591154125385152738,"float":2.5,"huge":1e+400,"int":7,"list":[null,true,"x",{"n":1.50}],"long":0.1000000000000000055511,"negzero":-0}"#;
        let value: Value = serde_json::from_str(text).unwrap();
        let back = to_json(&to_dynamic(&value)).unwrap();
        assert_eq!(serde_json::to_string(&back).unwrap(), text);
    }

    #[test]
    fn values_without_a_json_form_are_refused() {
        assert_eq!(to_json(&Dynamic::from_float(f64::NAN)), None);
        assert_eq!(
            to_json(&Dynamic::from(rhai::FnPtr::new("f").unwrap())),
            None
        );
    }
}
