//! Field paths, as condition rows and templates write them: `data.object.amount`,
//! `items.0.sku`, `"data"."weird.key"`, `headers.x-github-event`, `meta.received_at`.
//!
//! Grammar: dot-separated segments; a segment is a bare key (`[A-Za-z0-9_-]+`) or a
//! double-quoted key in which `\"` and `\\` are the only escapes. A bare all-digit segment
//! indexes an array (on an object it is the key of that name); a quoted segment is always a
//! key. The first segment, when bare, selects the root: `headers` (request headers, names
//! lower-case: a header segment is lower-cased, since header names are case-insensitive,
//! RFC 9110 §5.1), `meta` (`recipe`, `trigger`, `received_at`), `output` (the transform
//! output, in action templates only) or `event` (the payload, also the root of any other path:
//! `data.object.amount` is `event.data.object.amount`). To reach a payload key named like a
//! root, write `event.headers` or quote it: `"headers".x`.

use std::fmt;

use serde_json::Value;

/// The keys `meta` holds (set for every run by the engine): the recipe id, the trigger
/// (`webhook`, `schedule`) and when the event was received (RFC 3339, UTC).
pub const META_KEYS: [&str; 3] = ["recipe", "trigger", "received_at"];

/// Which value a path starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PathRoot {
    Event,
    Headers,
    Meta,
    Output,
}

impl PathRoot {
    /// The root's name as written in paths and scripts (`event`, `headers`, `meta`, `output`).
    pub fn name(self) -> &'static str {
        match self {
            PathRoot::Event => "event",
            PathRoot::Headers => "headers",
            PathRoot::Meta => "meta",
            PathRoot::Output => "output",
        }
    }

    fn from_bare(segment: &str) -> Option<PathRoot> {
        match segment {
            "event" => Some(PathRoot::Event),
            "headers" => Some(PathRoot::Headers),
            "meta" => Some(PathRoot::Meta),
            "output" => Some(PathRoot::Output),
            _ => None,
        }
    }
}

/// One segment after the root: a key, and whether it was written in quotes (then it never
/// indexes an array).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Segment {
    pub key: String,
    pub quoted: bool,
}

impl Segment {
    /// The array index this segment stands for: a bare all-digit segment.
    pub fn index(&self) -> Option<usize> {
        let digits = !self.key.is_empty() && self.key.bytes().all(|b| b.is_ascii_digit());
        if self.quoted || !digits {
            return None;
        }
        self.key.parse().ok()
    }

    fn is_bare_safe(&self) -> bool {
        !self.key.is_empty()
            && self
                .key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    }
}

impl fmt::Display for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.key.bytes().all(|b| b.is_ascii_digit());
        if self.is_bare_safe() && !(self.quoted && digits) {
            return f.write_str(&self.key);
        }
        f.write_str("\"")?;
        for c in self.key.chars() {
            match c {
                '"' => f.write_str("\\\"")?,
                '\\' => f.write_str("\\\\")?,
                c => write!(f, "{c}")?,
            }
        }
        f.write_str("\"")
    }
}

/// A parsed field path: a root and the segments below it (possibly none: the whole root).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FieldPath {
    root: PathRoot,
    segments: Vec<Segment>,
}

impl FieldPath {
    /// Parses a path; the error says what is wrong and where (1-based character position).
    pub fn parse(text: &str) -> Result<FieldPath, String> {
        if text.trim().is_empty() {
            return Err("the field path is empty".into());
        }
        let mut segments = split(text)?;
        let first = &segments[0];
        let root = match (first.quoted, PathRoot::from_bare(&first.key)) {
            (false, Some(root)) => {
                segments.remove(0);
                root
            }
            _ => PathRoot::Event,
        };
        if root == PathRoot::Headers {
            for segment in &mut segments {
                segment.key = segment.key.to_ascii_lowercase();
            }
        }
        Ok(FieldPath { root, segments })
    }

    pub fn root(&self) -> PathRoot {
        self.root
    }

    /// Why this path can never name a value, if it cannot: `meta.` holds only
    /// [`META_KEYS`] (text, so nothing below them), and headers are flat (one name after
    /// `headers.`, whose values are text). `None` for every other path.
    pub fn never_exists(&self) -> Option<String> {
        let depth = self.segments.len();
        match self.root {
            PathRoot::Meta => match self.segments.first() {
                Some(key) if !META_KEYS.contains(&key.key.as_str()) => Some(format!(
                    "`meta` holds only {}; it has no `{}`",
                    META_KEYS.join(", "),
                    key.key
                )),
                Some(key) if depth > 1 => {
                    Some(format!("`meta.{}` is text; nothing is below it", key.key))
                }
                _ => None,
            },
            PathRoot::Headers if depth > 1 => Some(format!(
                "headers are flat: one header name after `headers.` (e.g. `headers.{}`), \
                 and a header's value is text",
                self.segments[0].key
            )),
            _ => None,
        }
    }

    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// The value at this path below `root_value` (the value of [`Self::root`]); `None` when
    /// some segment does not exist. Objects are entered by key; arrays by a bare index.
    pub fn lookup<'a>(&self, root_value: &'a Value) -> Option<&'a Value> {
        self.segments
            .iter()
            .try_fold(root_value, |value, segment| match value {
                Value::Object(map) => map.get(&segment.key),
                Value::Array(items) => segment.index().and_then(|i| items.get(i)),
                _ => None,
            })
    }
}

/// The canonical text: payload paths without `event.` unless their first key is a root name
/// or the path is the whole payload; keys quoted only when they need it.
impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let first_is_root_name = self
            .segments
            .first()
            .is_some_and(|s| PathRoot::from_bare(&s.key).is_some());
        let mut parts: Vec<String> = Vec::new();
        if self.root != PathRoot::Event || self.segments.is_empty() || first_is_root_name {
            parts.push(self.root.name().to_owned());
        }
        parts.extend(self.segments.iter().map(ToString::to_string));
        f.write_str(&parts.join("."))
    }
}

fn split(text: &str) -> Result<Vec<Segment>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut segments = Vec::new();
    let mut i = 0;
    loop {
        let start = i;
        let segment = if chars.get(i) == Some(&'"') {
            let mut key = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => {
                        return Err(format!(
                            "the quoted key at position {} is not closed",
                            start + 1
                        ));
                    }
                    Some('"') => break,
                    Some('\\') => match chars.get(i + 1) {
                        Some(c @ ('"' | '\\')) => {
                            key.push(*c);
                            i += 1;
                        }
                        _ => {
                            return Err(format!(
                                "unknown escape at position {}: inside quotes only \\\" and \\\\ are escapes",
                                i + 1
                            ));
                        }
                    },
                    Some(c) => key.push(*c),
                }
                i += 1;
            }
            i += 1;
            Segment { key, quoted: true }
        } else {
            while chars
                .get(i)
                .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
            {
                i += 1;
            }
            if i == start {
                return Err(match chars.get(i) {
                    None | Some('.') => format!("empty segment at position {}", i + 1),
                    Some(c) => format!(
                        "`{c}` at position {} cannot be in a bare key (A-Z, a-z, 0-9, '_', '-'); quote the key, e.g. \"my key\"",
                        i + 1
                    ),
                });
            }
            Segment {
                key: chars[start..i].iter().collect(),
                quoted: false,
            }
        };
        segments.push(segment);
        match chars.get(i) {
            None => return Ok(segments),
            Some('.') => i += 1,
            Some(c) => {
                return Err(format!(
                    "`{c}` at position {} is not allowed here: segments are separated by '.'{}",
                    i + 1,
                    if segment_was_bare(&segments) {
                        "; quote a key holding other characters, e.g. \"my key\""
                    } else {
                        ""
                    }
                ));
            }
        }
    }
}

fn segment_was_bare(segments: &[Segment]) -> bool {
    segments.last().is_some_and(|s| !s.quoted)
}

#[cfg(test)]
#[path = "path_tests.rs"]
mod tests;
