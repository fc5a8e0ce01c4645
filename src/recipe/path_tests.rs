use proptest::prelude::*;
use serde_json::json;

use super::*;

fn keys(path: &FieldPath) -> Vec<&str> {
    path.segments().iter().map(|s| s.key.as_str()).collect()
}

#[test]
fn a_path_without_a_root_name_is_a_path_into_the_event() {
    let path = FieldPath::parse("data.object.amount").unwrap();
    assert_eq!(path.root(), PathRoot::Event);
    assert_eq!(keys(&path), ["data", "object", "amount"]);
    assert_eq!(
        FieldPath::parse("event.data.object.amount").unwrap(),
        path,
        "`event.` means the same"
    );
    assert_eq!(path.to_string(), "data.object.amount");
}

#[test]
fn headers_meta_and_output_select_their_roots() {
    let h = FieldPath::parse("headers.X-GitHub-Event").unwrap();
    assert_eq!(h.root(), PathRoot::Headers);
    assert_eq!(keys(&h), ["x-github-event"], "header names are lower-case");
    assert_eq!(h.to_string(), "headers.x-github-event");
    assert_eq!(
        FieldPath::parse("meta.received_at").unwrap().root(),
        PathRoot::Meta
    );
    assert_eq!(
        FieldPath::parse("output.text").unwrap().root(),
        PathRoot::Output
    );
}

#[test]
fn a_quoted_root_name_or_an_event_prefix_reaches_a_payload_key_of_that_name() {
    let quoted = FieldPath::parse("\"headers\".x").unwrap();
    assert_eq!(quoted.root(), PathRoot::Event);
    assert_eq!(keys(&quoted), ["headers", "x"]);
    let prefixed = FieldPath::parse("event.headers.x").unwrap();
    assert_eq!(prefixed.root(), PathRoot::Event);
    assert_eq!(prefixed.to_string(), "event.headers.x");
    assert_eq!(FieldPath::parse("event").unwrap().to_string(), "event");
}

#[test]
fn quoted_keys_hold_dots_spaces_and_escaped_quotes() {
    let path = FieldPath::parse(r#""data"."weird.key"."with space"."a\"b\\c""#).unwrap();
    assert_eq!(keys(&path), ["data", "weird.key", "with space", "a\"b\\c"]);
    assert_eq!(
        path.to_string(),
        r#"data."weird.key"."with space"."a\"b\\c""#
    );
}

#[test]
fn bad_paths_are_refused_with_the_position() {
    for (text, expected) in [
        ("", "empty"),
        ("a..b", "empty segment at position 3"),
        ("a.", "empty segment at position 3"),
        (".a", "empty segment at position 1"),
        ("a b", "` ` at position 2"),
        ("a.$x", "`$` at position 3"),
        ("\"open", "not closed"),
        (r#""a\n""#, "unknown escape"),
        ("\"a\"b", "`b` at position 4"),
    ] {
        let error = FieldPath::parse(text).unwrap_err();
        assert!(error.contains(expected), "{text:?}: {error}");
    }
}

#[test]
fn lookup_enters_objects_by_key_and_arrays_by_bare_index() {
    let event = json!({"items": [{"sku": "A1"}, {"sku": "B2"}], "map": {"0": "zero"}, "a.b": 1});
    let at = |p: &str| FieldPath::parse(p).unwrap().lookup(&event).cloned();
    assert_eq!(at("items.1.sku"), Some(json!("B2")));
    assert_eq!(at("items.2.sku"), None);
    assert_eq!(at("map.0"), Some(json!("zero")), "a digit key on an object");
    assert_eq!(at("\"items\".\"0\""), None, "a quoted digit never indexes");
    assert_eq!(at("\"a.b\""), Some(json!(1)));
    assert_eq!(at("items.x"), None);
    assert_eq!(at("items.1.sku.deeper"), None);
    assert_eq!(at("event"), Some(event.clone()));
}

fn segment() -> impl Strategy<Value = Segment> {
    (any::<bool>(), "[ -~é.]{0,6}").prop_map(|(quoted, key)| Segment { key, quoted })
}

proptest! {
    #[test]
    fn the_canonical_text_parses_back_to_the_same_path(
        root in prop_oneof![Just(PathRoot::Event), Just(PathRoot::Meta), Just(PathRoot::Output)],
        segments in proptest::collection::vec(segment(), 0..5),
    ) {
        let mut segments = segments;
        for s in &mut segments {
            // A bare key must be valid bare text; otherwise it is written quoted.
            if !s.is_bare_safe() { s.quoted = true; }
        }
        let path = FieldPath { root, segments };
        let reparsed = FieldPath::parse(&path.to_string()).unwrap();
        prop_assert_eq!(reparsed.root(), path.root());
        let a: Vec<_> = reparsed.segments().iter().map(|s| (&s.key, s.index())).collect();
        let b: Vec<_> = path.segments().iter().map(|s| (&s.key, s.index())).collect();
        prop_assert_eq!(a, b);
    }
}
