//! An action's body mapping (`fields`) as key / template rows: posted as
//! `action.N.field.M.key|value|literal`, converted to and from the file's TOML table.
//!
//! A row's key is the leaf's place in the table, written in the path grammar: nested tables
//! join with dots (`meta = { source = "x" }` → `meta.source`), a key holding a dot or a space
//! is quoted (`"customer.email"`), so the table rebuilds exactly as it was. A string leaf is a
//! template; any other leaf (number, boolean, list) is shown as JSON with `literal` set.

use serde_json::Value;

use super::convert::json_to_toml;
use crate::web::ui::picker::segment;

/// One key / template row.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldRow {
    pub key: String,
    pub value: String,
    /// The value is JSON (a number, boolean or list), not a template.
    pub literal: bool,
}

impl FieldRow {
    /// Reads `key`, `value` or `literal`; false for anything else.
    pub fn read(&mut self, input: &str, value: String) -> bool {
        match input {
            "key" => self.key = value,
            "value" => self.value = value,
            "literal" => self.literal = !value.is_empty(),
            _ => return false,
        }
        true
    }
}

/// The rows of a `fields` table, leaves in the table's (sorted) order.
pub fn rows_of(table: &toml::Table) -> Vec<FieldRow> {
    let mut rows = Vec::new();
    flatten(table, "", &mut rows);
    rows
}

fn flatten(table: &toml::Table, prefix: &str, rows: &mut Vec<FieldRow>) {
    for (key, value) in table {
        let key = match prefix {
            "" => segment(key),
            prefix => format!("{prefix}.{}", segment(key)),
        };
        match value {
            toml::Value::Table(inner) if !inner.is_empty() => flatten(inner, &key, rows),
            toml::Value::String(template) => rows.push(FieldRow {
                key,
                value: template.clone(),
                literal: false,
            }),
            other => rows.push(FieldRow {
                key,
                value: literal_text(other),
                literal: true,
            }),
        }
    }
}

/// The `fields` table the rows describe (`None` for no rows); `Err` lists each bad row as
/// "row N: why".
pub fn table_of(rows: &[FieldRow]) -> Result<Option<toml::Table>, Vec<String>> {
    let mut table = toml::Table::new();
    let mut errors = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        if let Err(message) = insert(&mut table, row) {
            errors.push(format!("row {}: {message}", i + 1));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok((!rows.is_empty()).then_some(table))
}

fn insert(table: &mut toml::Table, row: &FieldRow) -> Result<(), String> {
    let segments = split_key(row.key.trim())?;
    let value = if row.literal {
        literal_value(&row.value)?
    } else {
        toml::Value::String(row.value.clone())
    };
    let (last, parents) = segments.split_last().expect("split_key gives one or more");
    let mut here = table;
    for (depth, parent) in parents.iter().enumerate() {
        let entry = here
            .entry(parent.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        here = match entry {
            toml::Value::Table(inner) => inner,
            _ => {
                let taken: Vec<String> = segments[..=depth].iter().map(|s| segment(s)).collect();
                return Err(format!(
                    "`{}` needs `{}` to be an object, but it is a value already",
                    row.key.trim(),
                    taken.join(".")
                ));
            }
        };
    }
    if here.contains_key(last) {
        return Err(format!(
            "the key `{}` is given twice (or holds other keys)",
            row.key.trim()
        ));
    }
    here.insert(last.clone(), value);
    Ok(())
}

/// A literal leaf as the value box shows it: JSON (numbers, booleans, lists, lists of tables
/// such as Adaptive Card `attachments`), or TOML inline syntax when it holds a TOML date,
/// which JSON cannot write.
fn literal_text(value: &toml::Value) -> String {
    if has_datetime(value) {
        value.to_string()
    } else {
        serde_json::to_string(value).unwrap_or_default()
    }
}

fn has_datetime(value: &toml::Value) -> bool {
    match value {
        toml::Value::Datetime(_) => true,
        toml::Value::Array(items) => items.iter().any(has_datetime),
        toml::Value::Table(table) => table.values().any(has_datetime),
        _ => false,
    }
}

/// A literal value box back as a file value: JSON first, else a TOML inline value (dates).
fn literal_value(text: &str) -> Result<toml::Value, String> {
    match serde_json::from_str::<Value>(text) {
        Ok(json) => json_to_toml(&json),
        Err(json_error) => {
            let wrapped = format!("v = {}", text.trim());
            match wrapped.parse::<toml::Table>() {
                Ok(mut table) if table.len() == 1 => Ok(table.remove("v").expect("one key")),
                _ => Err(format!(
                    "`{}` is not a JSON value: {json_error}",
                    text.trim()
                )),
            }
        }
    }
}

/// `meta."a.b".c` → `["meta", "a.b", "c"]`: dots outside quotes separate, quoted keys take
/// `\"` and `\\`.
fn split_key(key: &str) -> Result<Vec<String>, String> {
    if key.is_empty() {
        return Err("the key is empty".into());
    }
    let mut segments = Vec::new();
    let mut chars = key.chars().peekable();
    loop {
        let mut segment = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') => break,
                    Some('\\') => match chars.next() {
                        Some(c @ ('"' | '\\')) => segment.push(c),
                        _ => return Err(format!("`{key}`: only \\\" and \\\\ escape in a key")),
                    },
                    Some(c) => segment.push(c),
                    None => return Err(format!("`{key}`: a quote is not closed")),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == '.' {
                    break;
                }
                if !(c.is_ascii_alphanumeric() || c == '_' || c == '-') {
                    return Err(format!(
                        "`{key}`: `{c}` needs the key in quotes (\"like this\")"
                    ));
                }
                segment.push(c);
                chars.next();
            }
            if segment.is_empty() {
                return Err(format!("`{key}` has an empty part"));
            }
        }
        segments.push(segment);
        match chars.next() {
            None => return Ok(segments),
            Some('.') => {}
            Some(c) => return Err(format!("`{key}`: `{c}` after a quoted key")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> toml::Table {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn nested_dotted_and_literal_keys_round_trip_exactly() {
        let fields = table(
            r#"
text = "Paid {{ event.data.object.amount }}"
amount = "{{ event.data.object.amount }}"
"customer.email" = "{{ event.data.object.receipt_email }}"
count = 3
tags = ["a", 1]
meta = { source = "stripe", "with space" = true }
"#,
        );
        let rows = rows_of(&fields);
        let keys: Vec<(&str, &str, bool)> = rows
            .iter()
            .map(|r| (r.key.as_str(), r.value.as_str(), r.literal))
            .collect();
        assert_eq!(
            keys,
            [
                ("amount", "{{ event.data.object.amount }}", false),
                ("count", "3", true),
                (
                    "\"customer.email\"",
                    "{{ event.data.object.receipt_email }}",
                    false
                ),
                ("meta.source", "stripe", false),
                ("meta.\"with space\"", "true", true),
                ("tags", "[\"a\",1]", true),
                ("text", "Paid {{ event.data.object.amount }}", false),
            ]
        );
        assert_eq!(table_of(&rows).unwrap(), Some(fields));
        assert_eq!(table_of(&[]).unwrap(), None);
    }

    #[test]
    fn rows_that_cannot_build_one_object_are_errors_naming_the_row() {
        let row = |key: &str, value: &str, literal: bool| FieldRow {
            key: key.into(),
            value: value.into(),
            literal,
        };
        let errors = table_of(&[
            row("a", "x", false),
            row("a.b", "y", false),
            row("a", "again", false),
            row("", "x", false),
            row("n", "{not json", true),
            row("bad key", "x", false),
            row("z", "null", true),
        ])
        .unwrap_err();
        assert_eq!(errors.len(), 6, "{errors:?}");
        assert!(errors[0].starts_with("row 2: `a.b` needs `a` to be an object"));
        assert!(errors[1].starts_with("row 3: the key `a` is given twice"));
        assert!(errors[2].starts_with("row 4: the key is empty"));
        assert!(errors[3].starts_with("row 5: `{not json` is not a JSON value"));
        assert!(
            errors[4].contains("needs the key in quotes"),
            "{}",
            errors[4]
        );
        assert!(
            errors[5].contains("null cannot be written"),
            "{}",
            errors[5]
        );
    }

    #[test]
    fn lists_of_tables_nested_lists_dates_and_empty_tables_round_trip() {
        let fields = table(
            r#"
type = "message"
attachments = [{ contentType = "application/vnd.microsoft.card.adaptive", content = { type = "AdaptiveCard", body = [{ type = "TextBlock", text = "{{ event.text }}" }] } }]
grid = [[1, 2], [3]]
since = 2024-05-01T00:00:00Z
days = [2024-05-01, 2024-05-02]
empty = {}
"#,
        );
        let rows = rows_of(&fields);
        let attachments = rows.iter().find(|r| r.key == "attachments").unwrap();
        assert!(attachments.literal);
        assert!(attachments.value.starts_with("[{"), "{}", attachments.value);
        let since = rows.iter().find(|r| r.key == "since").unwrap();
        assert_eq!(since.value, "2024-05-01T00:00:00Z");
        assert_eq!(table_of(&rows).unwrap(), Some(fields));
    }
}
