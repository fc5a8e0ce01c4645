//! The TOML a form save writes. A recipe saved from the form with no change keeps the text it
//! was read from (comments, quoting, inline tables and all); a changed recipe is written anew
//! but leaves out keys the stored file did not have whose value is only the default
//! (`enabled = true`, `verify = "none"`, `respond = "accepted"`, `method = "POST"`, …), so a
//! small edit gives a small diff.

use crate::recipe::RecipeFile;

/// The source to store for `file`: `stored` itself when it parses to the same recipe, else
/// `file` as TOML without the default-only keys `stored` left out. `Err` when `file` cannot
/// be written as TOML.
pub fn source_for(file: &RecipeFile, stored: Option<&str>) -> Result<String, String> {
    if let Some(text) = stored
        && toml::from_str::<RecipeFile>(text).ok().as_ref() == Some(file)
    {
        return Ok(text.to_owned());
    }
    // Through text, not `Table::try_from`: that writes TOML dates as private marker tables.
    let written = toml::to_string(file).map_err(|e| e.to_string())?;
    let mut table: toml::Table = written.parse().map_err(|e| format!("{e}"))?;
    let old = stored
        .and_then(|text| text.parse::<toml::Table>().ok())
        .unwrap_or_default();
    let mut candidates = Vec::new();
    absent_keys(&table, &old, &mut Vec::new(), &mut candidates);
    for path in candidates {
        let mut trial = table.clone();
        if remove(&mut trial, &path) && reads_as(&trial, file) {
            table = trial;
        }
    }
    toml::to_string_pretty(&table).map_err(|e| e.to_string())
}

fn reads_as(table: &toml::Table, file: &RecipeFile) -> bool {
    toml::to_string(table)
        .ok()
        .and_then(|text| toml::from_str::<RecipeFile>(&text).ok())
        .as_ref()
        == Some(file)
}

/// A step into a table (key) or an array of tables (index).
#[derive(Debug, Clone)]
enum Step {
    Key(String),
    Index(usize),
}

/// Paths of keys in `new` that `old` does not have (`old` empty: every key is a candidate
/// only at the top, and below it). Tables and arrays of tables are followed on both sides.
fn absent_keys(new: &toml::Table, old: &toml::Table, at: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    for (key, value) in new {
        at.push(Step::Key(key.clone()));
        match (value, old.get(key)) {
            (_, None) => out.push(at.clone()),
            (toml::Value::Table(inner), Some(toml::Value::Table(old_inner))) => {
                absent_keys(inner, old_inner, at, out);
            }
            (toml::Value::Array(items), Some(toml::Value::Array(old_items))) => {
                for (i, (item, old_item)) in items.iter().zip(old_items).enumerate() {
                    if let (toml::Value::Table(t), toml::Value::Table(o)) = (item, old_item) {
                        at.push(Step::Index(i));
                        absent_keys(t, o, at, out);
                        at.pop();
                    }
                }
            }
            _ => {}
        }
        at.pop();
    }
}

fn remove(table: &mut toml::Table, path: &[Step]) -> bool {
    let Some((Step::Key(last), parents)) = path.split_last() else {
        return false;
    };
    let mut here: &mut toml::Table = table;
    let mut steps = parents.iter().peekable();
    while let Some(step) = steps.next() {
        let Step::Key(key) = step else { return false };
        let Some(value) = here.get_mut(key) else {
            return false;
        };
        here = match (value, steps.peek()) {
            (toml::Value::Table(inner), _) => inner,
            (toml::Value::Array(items), Some(Step::Index(i))) => {
                steps.next();
                match items.get_mut(*i) {
                    Some(toml::Value::Table(inner)) => inner,
                    _ => return false,
                }
            }
            _ => return false,
        };
    }
    here.remove(last).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HAND_WRITTEN: &str = r#"# Written by hand.
id = "complex"
name = 'Complex'

[trigger.webhook]

[[filter.when]]
field = "created"
op = "gt"
value = 2024-05-01T00:00:00Z

[[filter.when]]
field = "tag"
op = "in"
value = ["a", "b"]

[[action]]
name = "hook"
url = "https://example.com/hook"
fields = { text = "{{ event.tag }}", meta = { n = 1, list = [1, [2, 3]] } }
"#;

    #[test]
    fn an_unchanged_recipe_keeps_the_text_it_was_read_from() {
        let file: RecipeFile = toml::from_str(HAND_WRITTEN).unwrap();
        assert_eq!(source_for(&file, Some(HAND_WRITTEN)).unwrap(), HAND_WRITTEN);
    }

    #[test]
    fn a_changed_recipe_adds_no_default_keys_and_keeps_dates() {
        let mut file: RecipeFile = toml::from_str(HAND_WRITTEN).unwrap();
        file.name = "Complex, renamed".into();
        let written = source_for(&file, Some(HAND_WRITTEN)).unwrap();
        for default in ["enabled", "verify", "respond", "method"] {
            assert!(!written.contains(default), "{default} added:\n{written}");
        }
        assert!(
            written.contains("value = 2024-05-01T00:00:00Z"),
            "{written}"
        );
        assert_eq!(toml::from_str::<RecipeFile>(&written).unwrap(), file);
        // A default the file did have stays.
        let with_enabled =
            HAND_WRITTEN.replace("name = 'Complex'", "name = 'Complex'\nenabled = true");
        let written = source_for(&file, Some(&with_enabled)).unwrap();
        assert!(written.contains("enabled = true"), "{written}");
    }
}
