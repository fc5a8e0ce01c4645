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
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
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

/// Turns a TOML syntax/shape error into a field error with line and column.
pub fn toml_error(source: &str, error: &toml::de::Error) -> FieldError {
    let location = error
        .span()
        .map(|span| {
            let (line, column) = line_and_column(source, span.start);
            format!("line {line}, column {column}")
        })
        .unwrap_or_else(|| "toml".to_owned());
    FieldError::new(location, error.message().trim().to_owned())
}

fn line_and_column(source: &str, offset: usize) -> (usize, usize) {
    let before = &source[..offset.min(source.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}
