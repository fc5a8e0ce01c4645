//! Paths inside `{{ }}`, in the path grammar shared with condition rows (issue 9):
//! dot-separated segments, each a bare key or a double-quoted key with `\"` and `\\` escapes
//! (`event.data."weird.key"`, `event."first name"`). A bare all-digit segment indexes an
//! array; a quoted one (`"0"`) is always a key. Bare keys here also accept non-ASCII letters
//! and other characters that are not whitespace, `.`, `"`, `|`, `{` or `}` (templates accepted
//! them before quoted keys existed).

use std::fmt;

use serde_json::Value;

use super::escape;

/// One step of a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub key: String,
    pub quoted: bool,
}

impl Segment {
    /// The array index this segment stands for, if it is bare and all digits.
    fn index(&self) -> Option<usize> {
        let digits = !self.key.is_empty() && self.key.bytes().all(|b| b.is_ascii_digit());
        (!self.quoted && digits).then(|| self.key.parse().unwrap_or(usize::MAX))
    }
}

impl fmt::Display for Segment {
    /// Canonical text: bare when that means the same, quoted (with escapes) otherwise.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bare_ok = !self.key.is_empty()
            && self.key.chars().all(is_bare)
            && !(self.quoted && self.key.bytes().all(|b| b.is_ascii_digit()));
        if bare_ok {
            return f.write_str(&self.key);
        }
        let escaped = self.key.replace('\\', "\\\\").replace('"', "\\\"");
        write!(f, "\"{escaped}\"")
    }
}

fn is_bare(c: char) -> bool {
    !c.is_whitespace() && !matches!(c, '.' | '"' | '|' | '{' | '}')
}

/// `root` then the segments, joined by dots (`event.data."weird.key"`).
pub fn show(root: &str, segments: &[Segment]) -> String {
    std::iter::once(root.to_string())
        .chain(segments.iter().map(Segment::to_string))
        .collect::<Vec<_>>()
        .join(".")
}

/// Splits `text` into dot-separated segments, stopping at the first whitespace or `|` outside
/// quotes; returns the segments and the unparsed rest. Errors name the problem.
pub fn parse_segments(text: &str) -> Result<(Vec<Segment>, &str), String> {
    let mut segments = Vec::new();
    let mut rest = text;
    loop {
        let segment = if let Some(quoted) = rest.strip_prefix('"') {
            let (key, after) = parse_quoted(quoted)?;
            rest = after;
            Segment { key, quoted: true }
        } else {
            let end = rest.find(|c: char| !is_bare(c)).unwrap_or(rest.len());
            let key = rest[..end].to_string();
            rest = &rest[end..];
            Segment { key, quoted: false }
        };
        if segment.key.is_empty() && !segment.quoted {
            return Err(match rest.chars().next() {
                None | Some('.') | Some('|') => "empty path segment".to_string(),
                Some(c) if c.is_whitespace() => "empty path segment".to_string(),
                Some(c) => format!(
                    "`{c}` cannot appear in a bare key; quote the key, e.g. `event.\"a{c}b\"`"
                ),
            });
        }
        segments.push(segment);
        match rest.strip_prefix('.') {
            Some(after) => rest = after,
            None => return Ok((segments, rest)),
        }
    }
}

/// The body of a `"..."` key (after the opening quote): the key and the text after its
/// closing quote.
pub fn parse_quoted(text: &str) -> Result<(String, &str), String> {
    let mut key = String::new();
    let mut chars = text.char_indices();
    while let Some((at, c)) = chars.next() {
        match c {
            '"' => return Ok((key, &text[at + 1..])),
            '\\' => match chars.next() {
                Some((_, escaped @ ('"' | '\\'))) => key.push(escaped),
                Some((_, other)) => {
                    return Err(format!(
                        "`\\{other}` is not an escape in a quoted key (only `\\\"` and `\\\\`)"
                    ));
                }
                None => break,
            },
            other => key.push(other),
        }
    }
    Err("a quoted key is not closed with `\"`".to_string())
}

/// The value at `segments` under `root` (named `name` in messages), or why there is none
/// ("the event has no field `amout`").
pub fn lookup<'v>(root: &'v Value, name: &str, segments: &[Segment]) -> Result<&'v Value, String> {
    let mut value = root;
    let mut at = name.to_string();
    for segment in segments {
        value = match value {
            Value::Array(items) if segment.index().is_some() => {
                let index = segment.index().unwrap_or(usize::MAX);
                items
                    .get(index)
                    .ok_or_else(|| format!("{at} has {} item(s), no item {segment}", items.len()))?
            }
            Value::Object(map) => map.get(&segment.key).ok_or_else(|| {
                let owner = if at == "event" {
                    "the event".to_string()
                } else {
                    at.clone()
                };
                format!("{owner} has no field `{segment}`")
            })?,
            Value::Null => return Err(format!("{at} is null")),
            other => return Err(format!("{at} is {}, not an object", escape::kind(other))),
        };
        at = format!("{at}.{segment}");
    }
    Ok(value)
}
