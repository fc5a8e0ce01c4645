//! Strict reads and comparisons: nothing a script reads or compares is decided quietly.
//!
//! - Reading a map field that does not exist is an error naming the path
//!   (`Engine::set_fail_on_invalid_map_property`), except through `?.`: `event?.note` is `()`
//!   when `note` is missing, and `"note" in event` tests for it. Rhai's own `?.` only guards
//!   against `()` on its left, so before compiling, `x?.name` is rewritten to
//!   `x?.get("name")` (the map function that gives `()` for a missing key); [`Rewrites`] maps
//!   positions back to the source as written.
//! - Ordering text, `()` or a bool against a number (`"49.00" > 10`, `() > 10`), or testing
//!   text and a number for equality, is an error naming both values; Rhai would say `false`.

use rhai::{Dynamic, Engine, EvalAltResult, FLOAT, INT, ImmutableString, Position};

use super::number::ExactNumber;
use super::translate::fault;

/// Where the rewrite moved text: per rewritten `?.name`, its line, the 1-based column of
/// `name` in the source as written, and how many characters were added.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rewrites(Vec<(usize, usize, usize)>);

const GET_OPEN: &str = "get(\"";
const GET_CLOSE: &str = "\")";

/// A double-quoted string holding `${`: Rhai keeps such text as written, which is never what
/// its author meant. Line and column (1-based) of the string.
#[derive(Debug, PartialEq)]
pub struct QuotedInterpolation {
    pub line: usize,
    pub column: usize,
}

impl QuotedInterpolation {
    pub const MESSAGE: &str = "text in double quotes does not fill in ${…}: write it between \
        back-ticks, e.g. `Paid ${event.amount}`";
}

/// Rewrites every `?.name` that is not a method call (`?.name(`) to `?.get("name")`,
/// outside strings, characters and comments (text inside `${…}` is code and is rewritten).
pub fn rewrite_optional_reads(source: &str) -> Result<(String, Rewrites), QuotedInterpolation> {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let mut rewrites = Vec::new();
    let (mut line, mut column) = (1, 1);
    // Stack of open contexts: '`' a back-tick string, '{' a `${` or a brace inside one.
    let mut stack: Vec<char> = Vec::new();
    let mut i = 0;
    let advance = |c: char, line: &mut usize, column: &mut usize| {
        if c == '\n' {
            *line += 1;
            *column = 1;
        } else {
            *column += 1;
        }
    };
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let in_backtick = stack.last() == Some(&'`');
        if in_backtick {
            match (c, next) {
                ('`', _) => {
                    stack.pop();
                }
                ('$', Some('{')) => {
                    stack.push('{');
                    out.push_str("${");
                    column += 2;
                    i += 2;
                    continue;
                }
                _ => {}
            }
            out.push(c);
            advance(c, &mut line, &mut column);
            i += 1;
            continue;
        }
        match (c, next) {
            ('`', _) => stack.push('`'),
            ('{', _) if !stack.is_empty() => stack.push('{'),
            ('}', _) if stack.last() == Some(&'{') => {
                stack.pop();
            }
            ('"' | '\'', _) => {
                // A string or character literal, with backslash escapes.
                let mut j = i + 1;
                while j < chars.len() && chars[j] != c {
                    j += if chars[j] == '\\' { 2 } else { 1 };
                }
                let end = (j + 1).min(chars.len());
                if c == '"' && chars[i..end].windows(2).any(|w| w == ['$', '{']) {
                    return Err(QuotedInterpolation { line, column });
                }
                for &ch in &chars[i..end] {
                    out.push(ch);
                    advance(ch, &mut line, &mut column);
                }
                i = end;
                continue;
            }
            ('/', Some('/' | '*')) => {
                let end = comment_end(&chars, i);
                for &ch in &chars[i..end] {
                    out.push(ch);
                    advance(ch, &mut line, &mut column);
                }
                i = end;
                continue;
            }
            ('?', Some('.')) => {
                let mut j = i + 2;
                while j < chars.len() && matches!(chars[j], ' ' | '\t') {
                    j += 1;
                }
                let start = j;
                while j < chars.len() && (chars[j].is_alphanumeric() || chars[j] == '_') {
                    j += 1;
                }
                let mut after = j;
                while after < chars.len() && chars[after].is_whitespace() {
                    after += 1;
                }
                let is_name = start < j && !chars[start].is_ascii_digit();
                if is_name && !matches!(chars.get(after), Some('(' | '!')) {
                    let name: String = chars[start..j].iter().collect();
                    out.push_str("?.");
                    out.extend(&chars[i + 2..start]);
                    let name_column = column + (start - i);
                    out.push_str(&format!("{GET_OPEN}{name}{GET_CLOSE}"));
                    rewrites.push((line, name_column, GET_OPEN.len() + GET_CLOSE.len()));
                    column += j - i;
                    i = j;
                    continue;
                }
            }
            _ => {}
        }
        out.push(c);
        advance(c, &mut line, &mut column);
        i += 1;
    }
    Ok((out, Rewrites(rewrites)))
}

fn comment_end(chars: &[char], start: usize) -> usize {
    if chars[start + 1] == '/' {
        return (start..chars.len())
            .find(|&j| chars[j] == '\n')
            .unwrap_or(chars.len());
    }
    // Block comments nest in Rhai.
    let (mut depth, mut j) = (0usize, start);
    while j + 1 < chars.len() {
        match (chars[j], chars[j + 1]) {
            ('/', '*') => {
                depth += 1;
                j += 2;
            }
            ('*', '/') => {
                depth -= 1;
                j += 2;
                if depth == 0 {
                    return j;
                }
            }
            _ => j += 1,
        }
    }
    chars.len()
}

impl Rewrites {
    /// The position in the source as written for a position in the rewritten source.
    pub fn original(&self, pos: Position) -> Position {
        let (Some(line), Some(column)) = (pos.line(), pos.position()) else {
            return pos;
        };
        let mut shift = 0;
        for &(_, name_column, added) in self.0.iter().filter(|(l, ..)| *l == line) {
            let rewritten_start = name_column + shift;
            if column < rewritten_start {
                break;
            }
            if column < rewritten_start + GET_OPEN.len() {
                return Position::new(line as u16, name_column as u16);
            }
            shift += added;
            if column < name_column + shift {
                return Position::new(line as u16, name_column as u16);
            }
        }
        Position::new(line as u16, (column - shift) as u16)
    }
}

fn shown(value: &Dynamic) -> String {
    if value.is_unit() {
        "nothing (())".to_string()
    } else if let Ok(text) = value.as_immutable_string_ref() {
        format!("the text {:?}", text.as_str())
    } else if let Some(n) = value.read_lock::<ExactNumber>() {
        format!("the number {}", n.0)
    } else if value.is_bool() {
        format!("the bool {value}")
    } else {
        format!("the number {value}")
    }
}

fn mismatch(op: &str, a: &Dynamic, b: &Dynamic) -> Box<EvalAltResult> {
    let hint = if a.is_unit() || b.is_unit() {
        "a field that may be missing is read with ?. and tested first (e.g. \"x\" in event)"
    } else if a.is_string() || b.is_string() {
        "convert on purpose, e.g. parse_float(text) or parse_int(text), or compare text with text"
    } else {
        "compare values of the same kind"
    };
    fault(format!(
        "cannot compare {} {op} {}: text, (), bools and numbers do not compare; {hint}",
        shown(a),
        shown(b)
    ))
}

/// Registers comparison operators that fail for mismatched kinds (see the module doc).
pub fn register(engine: &mut Engine) {
    macro_rules! refuse {
        ($ops:expr, $a:ty, $b:ty) => {
            for op in $ops {
                engine.register_fn(
                    op,
                    move |a: $a, b: $b| -> Result<bool, Box<EvalAltResult>> {
                        Err(mismatch(op, &Dynamic::from(a), &Dynamic::from(b)))
                    },
                );
            }
        };
    }
    macro_rules! against_numbers {
        ($ops:expr, $other:ty) => {
            refuse!($ops, $other, INT);
            refuse!($ops, INT, $other);
            refuse!($ops, $other, FLOAT);
            refuse!($ops, FLOAT, $other);
            refuse!($ops, $other, ExactNumber);
            refuse!($ops, ExactNumber, $other);
        };
    }
    const ORDER: [&str; 4] = ["<", "<=", ">", ">="];
    const ALL: [&str; 6] = ["<", "<=", ">", ">=", "==", "!="];
    against_numbers!(ALL, ImmutableString);
    against_numbers!(ORDER, ());
    against_numbers!(ORDER, bool);
    refuse!(ORDER, ImmutableString, ());
    refuse!(ORDER, (), ImmutableString);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optional_reads_are_rewritten_outside_strings_and_comments() {
        let (out, _) = rewrite_optional_reads(
            "event?.note + \"a?.b\" + `x${event?.y}?.z` // c?.d\n/* e?.f */ x?.len() + m ?. k",
        )
        .unwrap();
        assert_eq!(
            out,
            "event?.get(\"note\") + \"a?.b\" + `x${event?.get(\"y\")}?.z` // c?.d\n/* e?.f */ x?.len() + m ?. get(\"k\")"
        );
    }

    #[test]
    fn positions_map_back_to_the_source_as_written() {
        let (_, rewrites) = rewrite_optional_reads("event?.note > x.y").unwrap();
        let map = |col| rewrites.original(Position::new(1, col)).position().unwrap();
        assert_eq!(map(1), 1);
        assert_eq!(map(8), 8, "get( points at the name");
        assert_eq!(map(13), 8, "inside the rewritten name");
        assert_eq!(map(22), 15, "after the rewrite");
        assert_eq!(rewrites.original(Position::new(2, 5)).position(), Some(5));
    }

    #[test]
    fn interpolation_in_double_quotes_is_refused_where_it_is_written() {
        assert_eq!(
            rewrite_optional_reads("let a = 1;\n  \"Paid ${a}\"").unwrap_err(),
            QuotedInterpolation { line: 2, column: 3 }
        );
        assert!(rewrite_optional_reads("`Paid ${a}` + \"$ {\" + '$'").is_ok());
    }
}
