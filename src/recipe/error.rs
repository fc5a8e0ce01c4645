use std::fmt;

/// One problem with one field of a recipe: `action[0].url: not an http(s) URL`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for FieldError {
    /// `field: message`; a message that already starts with its field (condition rows name
    /// their row in the message too, for UIs that show only the message) is shown once.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let named = self
            .message
            .strip_prefix(self.field.as_str())
            .is_some_and(|rest| rest.starts_with(": "));
        if named {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.field, self.message)
        }
    }
}

/// Every problem found in one recipe, so a user fixes them all in one pass.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct RecipeError {
    /// The file the recipe came from, when it came from one.
    pub source_name: Option<String>,
    pub errors: Vec<FieldError>,
}

impl RecipeError {
    pub fn new(errors: Vec<FieldError>) -> Self {
        Self {
            source_name: None,
            errors,
        }
    }

    pub fn in_source(mut self, name: impl Into<String>) -> Self {
        self.source_name = Some(name.into());
        self
    }
}

impl fmt::Display for RecipeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.errors.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            match &self.source_name {
                Some(name) => write!(f, "{name}: {error}")?,
                None => write!(f, "{error}")?,
            }
        }
        Ok(())
    }
}

/// Turns a TOML syntax/shape error into a field error naming the key (when the error sits on
/// one: an unknown key, a wrong type) with line and column.
pub fn toml_error(source: &str, error: &toml::de::Error) -> FieldError {
    let message = with_hint(error.message().trim());
    let Some(span) = error.span() else {
        return FieldError::new("toml", message);
    };
    let (line, column) = line_and_column(source, span.start);
    let location = format!("line {line}, column {column}");
    match key_at(source, span.start) {
        Some(key) => FieldError::new(key, format!("{location}: {message}")),
        None => FieldError::new(location, message),
    }
}

/// The dotted path (`action[0].url`) of the innermost key or value at `offset`.
fn key_at(source: &str, offset: usize) -> Option<String> {
    use toml::de::{DeTable, DeValue};
    fn in_table(table: &DeTable<'_>, prefix: &str, offset: usize) -> Option<String> {
        table.iter().find_map(|(key, value)| {
            let path = match prefix {
                "" => key.get_ref().to_string(),
                _ => format!("{prefix}.{}", key.get_ref()),
            };
            in_value(value.get_ref(), &path, offset).or_else(|| {
                (key.span().contains(&offset) || value.span().contains(&offset)).then_some(path)
            })
        })
    }
    fn in_value(value: &DeValue<'_>, path: &str, offset: usize) -> Option<String> {
        match value {
            DeValue::Table(table) => in_table(table, path, offset),
            DeValue::Array(items) => items.iter().enumerate().find_map(|(i, item)| {
                let path = format!("{path}[{i}]");
                in_value(item.get_ref(), &path, offset)
                    .or_else(|| item.span().contains(&offset).then_some(path))
            }),
            _ => None,
        }
    }
    let document = DeTable::parse(source).ok()?;
    in_table(document.get_ref(), "", offset)
}

const TOP_LEVEL_KEYS: [&str; 6] = [
    "id",
    "name",
    "description",
    "enabled",
    "dedupe",
    "dedupe_window",
];

/// In TOML a key written after a `[table]` header belongs to that table, a common slip with
/// `dedupe`; say so instead of only "unknown field".
fn with_hint(message: &str) -> String {
    let misplaced = TOP_LEVEL_KEYS
        .iter()
        .find(|key| message.starts_with(&format!("unknown field `{key}`")));
    match misplaced {
        Some(key) => format!(
            "{message} (`{key}` is a top-level key: in TOML it must come before the first [table] header)"
        ),
        None => message.to_owned(),
    }
}

fn line_and_column(source: &str, offset: usize) -> (usize, usize) {
    let before = &source[..offset.min(source.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}
