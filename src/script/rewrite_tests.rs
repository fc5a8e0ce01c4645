//! The source rewrite: optional reads, exact number literals, positions mapped back.

use rhai::Position;

use super::rewrite::{QuotedInterpolation, rewrite};

fn rewritten(source: &str) -> String {
    rewrite(source).unwrap().0
}

#[test]
fn optional_reads_are_rewritten_outside_strings_and_comments() {
    assert_eq!(
        rewritten(
            "event?.note + \"a?.b\" + `x${event?.y}?.z` // c?.d\n/* e?.f */ x?.len() + m ?. k"
        ),
        "event?.get(\"note\") + \"a?.b\" + `x${event?.get(\"y\")}?.z` // c?.d\n/* e?.f */ x?.len() + m ?. get(\"k\")"
    );
}

#[test]
fn positions_map_back_to_the_source_as_written() {
    let (_, rewrites) = rewrite("event?.note > x.y").unwrap();
    let map = |col| rewrites.original(Position::new(1, col)).position().unwrap();
    assert_eq!(map(1), 1);
    assert_eq!(map(8), 8, "get( points at the name");
    assert_eq!(map(13), 8, "the rewritten name's first character");
    assert_eq!(map(14), 9, "inside the rewritten name");
    assert_eq!(map(22), 15, "after the rewrite");
    assert_eq!(rewrites.original(Position::new(2, 5)).position(), Some(5));
    assert!(rewrites.is_optional_read(Position::new(1, 8)));
    assert!(!rewrites.is_optional_read(Position::new(1, 1)));
}

#[test]
fn interpolation_in_double_quotes_is_refused_where_it_is_written() {
    assert_eq!(
        rewrite("let a = 1;\n  \"Paid ${a}\"").unwrap_err(),
        QuotedInterpolation { line: 2, column: 3 }
    );
    assert!(rewrite("`Paid ${a}` + \"$ {\" + '$'").is_ok());
}

#[test]
fn number_literals_that_i64_and_f64_cannot_hold_become_exact_numbers() {
    let exact = |digits: &str| format!("_exact_literal(\"{digits}\")");
    for (source, expected) in [
        ("12591154125385152738", exact("12591154125385152738")),
        (
            "0.1000000000000000055511",
            exact("0.1000000000000000055511"),
        ),
        ("1e400", exact("1e400")),
        ("1E-400", exact("1e-400")),
        ("12_591_154_125_385_152_738", exact("12591154125385152738")),
        (
            "-12591154125385152739",
            format!("-{}", exact("12591154125385152739")),
        ),
        ("0012591154125385152738", exact("12591154125385152738")),
        // 2^63: a float holds its value, but would write it back as 9.223372036854776e18.
        ("9223372036854775808", exact("9223372036854775808")),
        (
            "x -9223372036854775808",
            format!("x -{}", exact("9223372036854775808")),
        ),
        (
            "f(12591154125385152738.)",
            format!("f({})", exact("12591154125385152738.0")),
        ),
        (
            "`${12591154125385152738}`",
            format!("`${{{}}}`", exact("12591154125385152738")),
        ),
    ] {
        assert_eq!(rewritten(source), expected, "{source}");
    }
    // Literals a plain integer or float holds exactly, and digits that are not literals.
    for source in [
        "42",
        "-9223372036854775808",
        "x = -9223372036854775808",
        "0.1",
        "1.50",
        "1e3",
        "2.5e-3",
        "0xFFFF_FFFF",
        "0b1010",
        "x12591154125385152738",
        "\"12591154125385152738\"",
        "'1' // 12591154125385152738",
        "`12591154125385152738`",
        "#\"a\"b 12591154125385152738 x?.y\"#",
        "##\"a\"# 12591154125385152738\"##",
        "1.to_string()",
        "[1,2][0..1]",
    ] {
        assert_eq!(rewritten(source), source, "{source}");
    }
}

#[test]
fn positions_after_an_exact_literal_map_back() {
    let (_, rewrites) = rewrite("12591154125385152738 + x").unwrap();
    let map = |col| rewrites.original(Position::new(1, col)).position().unwrap();
    // `_exact_literal("` is 16 characters, `")` 2.
    assert_eq!(map(1), 1);
    assert_eq!(map(17), 1);
    assert_eq!(map(40), 22, "the + after the literal");
    assert!(!rewrites.is_optional_read(Position::new(1, 1)));
}

#[test]
fn positions_after_a_literal_written_with_separators_map_back() {
    let source = "12_591_154_125_385_152_738 + x?.y";
    let (rewritten, rewrites) = rewrite(source).unwrap();
    let plus = rewritten.find('+').unwrap() + 1;
    let y = rewritten.find("get").unwrap() + 1;
    let map = |col: usize| {
        rewrites
            .original(Position::new(1, col as u16))
            .position()
            .unwrap()
    };
    assert_eq!(map(plus), source.find('+').unwrap() + 1);
    assert_eq!(map(y), source.find('y').unwrap() + 1);
    assert!(rewrites.is_optional_read(Position::new(1, y as u16)));
    assert_eq!(
        rewrites.literal_at(Position::new(1, 1)).as_deref(),
        Some("12591154125385152738")
    );
}
