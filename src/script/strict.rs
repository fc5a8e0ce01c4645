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

use rhai::{Dynamic, Engine, EvalAltResult, NativeCallContext, Position, Token};

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
    } else if let Ok(c) = value.as_char() {
        format!("the text {:?}", c.to_string())
    } else if let Some(n) = value.read_lock::<ExactNumber>() {
        format!("the number {}", n.0)
    } else if value.is_bool() {
        format!("the bool {value}")
    } else {
        format!("the number {value}")
    }
}

#[derive(PartialEq)]
enum Kind {
    Text,
    Number,
    Nothing,
    Bool,
    Other,
}

fn kind(value: &Dynamic) -> Kind {
    if value.is_string() || value.is_char() {
        Kind::Text
    } else if value.is_int() || value.is_float() || value.is::<ExactNumber>() {
        Kind::Number
    } else if value.is_unit() {
        Kind::Nothing
    } else if value.is_bool() {
        Kind::Bool
    } else {
        Kind::Other
    }
}

/// The error for comparing `a op b` when their kinds do not compare (see the module doc).
fn mismatch(op: &str, a: &Dynamic, b: &Dynamic) -> Option<Box<EvalAltResult>> {
    let (ka, kb) = (kind(a), kind(b));
    let ordering = !matches!(op, "==" | "!=");
    let pair = |x: Kind, y: Kind| (ka == x && kb == y) || (ka == y && kb == x);
    let refused = pair(Kind::Text, Kind::Number)
        || (ordering
            && (pair(Kind::Nothing, Kind::Number)
                || pair(Kind::Bool, Kind::Number)
                || pair(Kind::Nothing, Kind::Text)));
    if !refused {
        return None;
    }
    let hint = if ka == Kind::Nothing || kb == Kind::Nothing {
        "a field that may be missing is read with ?. and tested first (e.g. \"x\" in event)"
    } else if ka == Kind::Text || kb == Kind::Text {
        "convert on purpose, e.g. parse_float(text) or parse_int(text), or compare text with text"
    } else {
        "compare values of the same kind"
    };
    Some(fault(format!(
        "cannot compare {} {op} {}: text, (), bools and numbers do not compare; {hint}",
        shown(a),
        shown(b)
    )))
}

/// The order of two values of the common kinds (integers, floats, text, bools), compared
/// here directly because a call back into Rhai costs several times more.
fn common_order(a: &Dynamic, b: &Dynamic) -> Option<Option<std::cmp::Ordering>> {
    if let (Ok(x), Ok(y)) = (a.as_int(), b.as_int()) {
        return Some(Some(x.cmp(&y)));
    }
    let float = |v: &Dynamic| {
        v.as_float()
            .ok()
            .or_else(|| v.as_int().ok().map(|i| i as f64))
    };
    if (a.is_float() || b.is_float())
        && let (Some(x), Some(y)) = (float(a), float(b))
    {
        return Some(x.partial_cmp(&y));
    }
    if let (Ok(x), Ok(y)) = (a.as_immutable_string_ref(), b.as_immutable_string_ref()) {
        return Some(Some(x.as_str().cmp(y.as_str())));
    }
    if let (Ok(x), Ok(y)) = (a.as_bool(), b.as_bool()) {
        return Some(Some(x.cmp(&y)));
    }
    None
}

fn answers(op: &str, order: Option<std::cmp::Ordering>) -> bool {
    use std::cmp::Ordering::{Equal, Greater, Less};
    match (op, order) {
        ("==", order) => order == Some(Equal),
        ("!=", order) => order != Some(Equal),
        ("<", order) => order == Some(Less),
        ("<=", order) => matches!(order, Some(Less | Equal)),
        (">", order) => order == Some(Greater),
        (">=", order) => matches!(order, Some(Greater | Equal)),
        _ => false,
    }
}

/// The comparison operators, each as (operator, stand-in custom operator, precedence).
/// Rhai answers `false` for mismatched kinds before any registered overload is consulted
/// (its fast built-in operators), so the parser maps each comparison token to a custom
/// operator of the same precedence whose function checks the kinds, then compares as Rhai
/// does. Arithmetic keeps Rhai's fast built-ins.
const COMPARISONS: [(&str, &str, u8); 6] = [
    ("==", "strict_eq", 90),
    ("!=", "strict_ne", 90),
    ("<", "strict_lt", 130),
    ("<=", "strict_le", 130),
    (">", "strict_gt", 130),
    (">=", "strict_ge", 130),
];

/// Registers the strict comparison operators (see [`COMPARISONS`]).
#[allow(deprecated)] // `on_parse_token` is marked volatile, not deprecated.
pub fn register(engine: &mut Engine) {
    for (op, name, precedence) in COMPARISONS {
        engine
            .register_custom_operator(name, precedence)
            .expect("a valid custom operator");
        engine.register_fn(
            name,
            move |ctx: NativeCallContext,
                  a: Dynamic,
                  b: Dynamic|
                  -> Result<bool, Box<EvalAltResult>> {
                if let Some(order) = common_order(&a, &b) {
                    return Ok(answers(op, order));
                }
                if let Some(error) = mismatch(op, &a, &b) {
                    return Err(error);
                }
                ctx.call_native_fn::<bool>(op, (a, b))
            },
        );
    }
    engine.on_parse_token(|token, _, _| {
        let stand_in = match token {
            Token::EqualsTo => "strict_eq",
            Token::NotEqualsTo => "strict_ne",
            Token::LessThan => "strict_lt",
            Token::LessThanEqualsTo => "strict_le",
            Token::GreaterThan => "strict_gt",
            Token::GreaterThanEqualsTo => "strict_ge",
            other => return other,
        };
        Token::Custom(Box::new(stand_in.into()))
    });
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
