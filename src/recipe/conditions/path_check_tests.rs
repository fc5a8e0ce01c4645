//! `check` names every row problem with the row's path, in the message too (tryout 9 finding
//! 11), refuses number values for text operators (finding 12) and paths that can never exist
//! (finding 13).

use super::tests::{one, row, v};
use super::*;

fn message(rows: &Conditions) -> String {
    let errors = rows.check("filter").unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    errors[0].message.clone()
}

#[test]
fn every_row_error_message_starts_with_the_row_path() {
    let grouped = |r: ConditionRow| Conditions {
        any: vec![
            ConditionGroup {
                match_mode: MatchMode::All,
                when: vec![row("ok", Op::Exists, None)],
            },
            ConditionGroup {
                match_mode: MatchMode::All,
                when: vec![r],
            },
        ],
        ..Conditions::default()
    };
    let cases = [
        (row("amount", Op::Gt, v("\"abc\"")), "`gt` compares numbers"),
        (
            row("", Op::Exists, None),
            "field ``: the field path is empty",
        ),
        (row("a..b", Op::Exists, None), "empty segment"),
        (
            row("n", Op::StartsWith, v("2024")),
            "`starts_with` is a text operator",
        ),
    ];
    for (r, want) in cases {
        let text = message(&grouped(r));
        assert!(text.starts_with("filter.any[1].when[0]: "), "{text}");
        assert!(text.contains(want), "{text}\n  should contain: {want}");
        let errors = grouped(row("", Op::Exists, None))
            .check("filter")
            .unwrap_err();
        assert_eq!(
            errors[0].to_string(),
            "filter.any[1].when[0]: field ``: the field path is empty",
            "the path is shown once"
        );
    }
}

#[test]
fn text_operators_take_their_value_as_a_toml_string_and_refuse_numbers() {
    for op in [
        Op::Contains,
        Op::NotContains,
        Op::StartsWith,
        Op::EndsWith,
        Op::Matches,
    ] {
        let text = message(&one(row("order_no", op, v("2024"))));
        assert!(
            text.contains("text operators take their value as text, a TOML string in quotes")
                && text.contains("got the number 2024"),
            "{text}"
        );
        assert!(
            one(row("order_no", op, v("\"2024\"")))
                .check("filter")
                .is_ok()
        );
    }
    let float = message(&one(row("n", Op::Contains, v("1e3"))));
    assert!(float.contains("got the number 1000.0"), "{float}");
    let boolean = message(&one(row("n", Op::EndsWith, v("true"))));
    assert!(boolean.contains("got the boolean true"), "{boolean}");
}

#[test]
fn paths_that_can_never_exist_are_refused_with_the_reason() {
    let cases = [
        (
            "meta.foo",
            "`meta` holds only recipe, trigger, received_at; it has no `foo`",
        ),
        ("meta.recipe.x", "`meta.recipe` is text"),
        (
            "headers.a.b",
            "headers are flat: one header name after `headers.`",
        ),
        ("output.text", "`output.` is the transform's output"),
        ("", "the field path is empty"),
        ("  ", "the field path is empty"),
    ];
    for (field, want) in cases {
        let text = message(&one(row(field, Op::Exists, None)));
        assert!(text.starts_with("filter.when[0]: "), "{text}");
        assert!(
            text.contains(want),
            "{field}: {text}\n  should contain: {want}"
        );
    }
    for field in [
        "meta.recipe",
        "meta.trigger",
        "meta.received_at",
        "headers.x-github-event",
        "event.meta.foo",
        "event.headers.a.b",
        "\"meta\".foo",
    ] {
        assert!(
            one(row(field, Op::Exists, None)).check("filter").is_ok(),
            "{field} can exist"
        );
    }
}
