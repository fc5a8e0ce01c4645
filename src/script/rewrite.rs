//! The source rewrite done before compiling, and the map of positions back to the source as
//! written.
//!
//! - `x?.name` becomes `x?.get("name")`: Rhai's own `?.` only guards against `()` on its left,
//!   and `get` is the map function that gives `()` for a missing key (strict reads, see
//!   `strict.rs`).
//! - A number literal that an `i64` or `f64` cannot hold exactly (`12591154125385152738`,
//!   `0.1000000000000000055511`, `1e400`) becomes `_exact_literal("…")`, an exact number with
//!   the digits as written (see `number.rs`); Rhai would round it to the nearest float.
//! - A double-quoted string holding `${` is refused: Rhai keeps such text as written, which is
//!   never what its author meant.
//!
//! Strings (raw strings `#"…"#` too), characters and comments are left alone; text inside
//! `${…}` is code and rewritten.

use rhai::{FLOAT, INT, Position};

use super::number::{self, LITERAL_FN};

/// One rewritten span: on `line`, the `span` characters as written from 1-based `column` became
/// `prefix` characters, `inner` characters (the name, or the literal's digits without `_`
/// separators and leading zeros) and `suffix` characters.
#[derive(Debug, Clone, PartialEq)]
struct Rewrite {
    line: usize,
    column: usize,
    span: usize,
    prefix: usize,
    inner: usize,
    suffix: usize,
    /// A rewritten `?.name` (otherwise a number literal).
    optional_read: bool,
    /// The text wrapped (a name, or a literal's digits).
    text: String,
}

/// Where the rewrite moved text, in source order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rewrites(Vec<Rewrite>);

const GET_OPEN: &str = "get(\"";
const CLOSE: &str = "\")";

/// A double-quoted string holding `${`. Line and column (1-based) of the string.
#[derive(Debug, PartialEq)]
pub struct QuotedInterpolation {
    pub line: usize,
    pub column: usize,
}

impl QuotedInterpolation {
    pub const MESSAGE: &str = "text in double quotes does not fill in ${…}: write it between \
        back-ticks, e.g. `Paid ${event.amount}`";
}

/// Output being built, with the position in the source as written.
struct Writer {
    out: String,
    rewrites: Vec<Rewrite>,
    line: usize,
    column: usize,
}

impl Writer {
    fn copy(&mut self, chars: &[char]) {
        for &c in chars {
            self.out.push(c);
            if c == '\n' {
                self.line += 1;
                self.column = 1;
            } else {
                self.column += 1;
            }
        }
    }

    /// Writes `prefix`, `inner`, `suffix` in place of the `span` characters as written here.
    fn replace(&mut self, span: usize, prefix: &str, inner: &str, suffix: &str) {
        self.rewrites.push(Rewrite {
            line: self.line,
            column: self.column,
            span,
            prefix: prefix.chars().count(),
            inner: inner.chars().count(),
            suffix: suffix.chars().count(),
            optional_read: prefix == GET_OPEN,
            text: inner.to_string(),
        });
        self.out.push_str(prefix);
        self.out.push_str(inner);
        self.out.push_str(suffix);
        // Rewritten spans never hold a line break.
        self.column += span;
    }
}

/// Applies the rewrites listed in the module doc.
pub fn rewrite(source: &str) -> Result<(String, Rewrites), QuotedInterpolation> {
    let chars: Vec<char> = source.chars().collect();
    let mut w = Writer {
        out: String::with_capacity(source.len()),
        rewrites: Vec::new(),
        line: 1,
        column: 1,
    };
    // Stack of open contexts: '`' a back-tick string, '{' a `${` or a brace inside one.
    let mut stack: Vec<char> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if stack.last() == Some(&'`') {
            let len = match (c, next) {
                ('`', _) => {
                    stack.pop();
                    1
                }
                ('$', Some('{')) => {
                    stack.push('{');
                    2
                }
                _ => 1,
            };
            w.copy(&chars[i..i + len]);
            i += len;
            continue;
        }
        let end = match (c, next) {
            ('`', _) => {
                stack.push('`');
                i + 1
            }
            ('{', _) if !stack.is_empty() => {
                stack.push('{');
                i + 1
            }
            ('}', _) if stack.last() == Some(&'{') => {
                stack.pop();
                i + 1
            }
            ('"' | '\'', _) => {
                let end = quoted_end(&chars, i);
                if c == '"' && chars[i..end].windows(2).any(|p| p == ['$', '{']) {
                    return Err(QuotedInterpolation {
                        line: w.line,
                        column: w.column,
                    });
                }
                end
            }
            ('/', Some('/' | '*')) => comment_end(&chars, i),
            ('#', Some('#' | '"')) => raw_string_end(&chars, i).unwrap_or(i + 1),
            ('?', Some('.')) => match optional_read(&chars, i) {
                Some((start, end)) => {
                    w.copy(&chars[i..start]);
                    let name: String = chars[start..end].iter().collect();
                    w.replace(end - start, GET_OPEN, &name, CLOSE);
                    i = end;
                    continue;
                }
                None => i + 1,
            },
            (c, _) if c.is_alphabetic() || c == '_' => {
                let mut end = i + 1;
                while end < chars.len() && (chars[end].is_alphanumeric() || chars[end] == '_') {
                    end += 1;
                }
                end
            }
            (c, _) if c.is_ascii_digit() => {
                let (end, text) = number_literal(&chars, i);
                let negative_int = |t: &String| {
                    unary_minus_before(&chars, i) && format!("-{t}").parse::<INT>().is_ok()
                };
                if let Some(exact) = text
                    .filter(|t| !negative_int(t))
                    .as_deref()
                    .and_then(inexact)
                {
                    w.replace(end - i, &format!("{LITERAL_FN}(\""), &exact, CLOSE);
                    i = end;
                    continue;
                }
                end
            }
            _ => i + 1,
        };
        w.copy(&chars[i..end]);
        i = end;
    }
    Ok((w.out, Rewrites(w.rewrites)))
}

/// The end of the string or character literal at `start`, with backslash escapes.
fn quoted_end(chars: &[char], start: usize) -> usize {
    let mut j = start + 1;
    while j < chars.len() && chars[j] != chars[start] {
        j += if chars[j] == '\\' { 2 } else { 1 };
    }
    (j + 1).min(chars.len())
}

/// The end of the raw string (`#"…"#`, `##"…"##`) at `start`, if one starts there.
fn raw_string_end(chars: &[char], start: usize) -> Option<usize> {
    let hashes = chars[start..].iter().take_while(|&&c| c == '#').count();
    if chars.get(start + hashes) != Some(&'"') {
        return None;
    }
    let mut j = start + hashes + 1;
    while j < chars.len() {
        if chars[j] == '"'
            && chars[j + 1..]
                .iter()
                .take(hashes)
                .filter(|&&c| c == '#')
                .count()
                == hashes
        {
            return Some(j + 1 + hashes);
        }
        j += 1;
    }
    Some(chars.len())
}

/// For `?.` at `at` followed by a name that is not a method call: the name's span.
fn optional_read(chars: &[char], at: usize) -> Option<(usize, usize)> {
    let mut j = at + 2;
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
    (is_name && !matches!(chars.get(after), Some('(' | '!'))).then_some((start, j))
}

/// The number literal at `start`, lexed as Rhai's tokenizer does (`_` separators, one `.`
/// followed by a digit, an exponent `e`/`E` with an optional sign): its end, and its text
/// without separators (`None` for `0x`, `0o`, `0b` literals, which are integers).
fn number_literal(chars: &[char], start: usize) -> (usize, Option<String>) {
    let at = |j: usize| chars.get(j).copied();
    if chars[start] == '0' && matches!(at(start + 1), Some('x' | 'o' | 'b' | 'X' | 'O' | 'B')) {
        let mut j = start + 2;
        while at(j).is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
            j += 1;
        }
        return (j, None);
    }
    let mut text = String::new();
    let (mut j, mut period, mut exponent) = (start, false, false);
    while let Some(c) = at(j) {
        match c {
            '_' => {}
            '0'..='9' => text.push(c),
            '.' if !period => match at(j + 1) {
                Some('0'..='9') => {
                    text.push('.');
                    period = true;
                }
                // `1.)`: Rhai reads `1.0`.
                Some(n) if n != '_' && n != '.' && !n.is_alphabetic() => {
                    text.push_str(".0");
                    return (j + 1, Some(text));
                }
                _ => break,
            },
            'e' | 'E' if !exponent => match at(j + 1) {
                Some('0'..='9') => {
                    text.push('e');
                    (exponent, period) = (true, true);
                }
                Some(sign @ ('+' | '-')) => {
                    text.push('e');
                    text.push(sign);
                    (exponent, period) = (true, true);
                    j += 1;
                }
                _ => break,
            },
            _ => break,
        }
        j += 1;
    }
    (j, Some(text))
}

/// Whether a unary `-` stands right before `at` (Rhai then reads `-9223372036854775808` as
/// one integer).
fn unary_minus_before(chars: &[char], at: usize) -> bool {
    if at == 0 || chars[at - 1] != '-' {
        return false;
    }
    let operand_end =
        |c: &char| c.is_alphanumeric() || matches!(c, '_' | ')' | ']' | '}' | '"' | '\'' | '`');
    !chars[..at - 1]
        .iter()
        .rev()
        .find(|c| !c.is_whitespace())
        .is_some_and(operand_end)
}

/// The JSON text of a literal that neither `i64` nor `f64` holds exactly; `None` when one does.
fn inexact(text: &str) -> Option<String> {
    if text.parse::<INT>().is_ok() {
        return None;
    }
    if let Ok(float) = text.parse::<FLOAT>()
        && float.is_finite()
        && number::same_value(text, &format!("{float:e}"))
    {
        return None;
    }
    // JSON numbers have no leading zeros (RFC 8259 §6).
    let trimmed = text.trim_start_matches('0');
    Some(match trimmed.chars().next() {
        Some('0'..='9') => trimmed.to_string(),
        _ => format!("0{trimmed}"),
    })
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
    /// The position in the source as written for a position in the rewritten source: a
    /// position in added text points at the start of the span it wraps.
    pub fn original(&self, pos: Position) -> Position {
        let (Some(line), Some(column)) = (pos.line(), pos.position()) else {
            return pos;
        };
        let mut shift: isize = 0;
        for r in self.0.iter().filter(|r| r.line == line) {
            let start = r.at(shift);
            if column < start {
                break;
            }
            let inner = start + r.prefix..start + r.prefix + r.inner;
            if inner.contains(&column) && r.inner == r.span {
                return Position::new(line as u16, (r.column + column - inner.start) as u16);
            }
            if column < start + r.prefix + r.inner + r.suffix {
                return Position::new(line as u16, r.column as u16);
            }
            shift += r.growth();
        }
        Position::new(line as u16, column.saturating_add_signed(-shift) as u16)
    }

    /// The literal as written when `pos` (in the rewritten source) starts a rewritten number
    /// literal.
    pub fn literal_at(&self, pos: Position) -> Option<String> {
        self.at(pos)
            .filter(|r| !r.optional_read)
            .map(|r| r.text.clone())
    }

    /// Whether `pos` (in the rewritten source) is the `get` of a rewritten `?.name`.
    pub fn is_optional_read(&self, pos: Position) -> bool {
        self.at(pos).is_some_and(|r| r.optional_read)
    }

    /// The rewrite whose added text starts at `pos` (in the rewritten source).
    fn at(&self, pos: Position) -> Option<&Rewrite> {
        let (line, column) = (pos.line()?, pos.position()?);
        let mut shift: isize = 0;
        for r in self.0.iter().filter(|r| r.line == line) {
            if column == r.at(shift) {
                return Some(r);
            }
            shift += r.growth();
        }
        None
    }
}

impl Rewrite {
    /// Its column in the rewritten source, after earlier rewrites on the line moved it by
    /// `shift`.
    fn at(&self, shift: isize) -> usize {
        self.column.saturating_add_signed(shift)
    }

    /// How many characters longer the rewritten text is than the text as written.
    fn growth(&self) -> isize {
        (self.prefix + self.inner + self.suffix) as isize - self.span as isize
    }
}
