//! `after = "NAME"`: an action that runs once another action of the run succeeded, and may read
//! its response (`{{ responses.NAME.status }}`, `.headers.x-id`, `.body.path`). Checked at
//! import: the name exists, is not the action itself, the `after` links form no cycle, and a
//! template reads only the responses of the actions it runs after (directly or through them).

use crate::recipe::Action;
use crate::recipe::error::FieldError;
use crate::recipe::file::ActionSection;

/// Each action's predecessor (an index into the actions), or the problems with `after` and
/// `responses.` templates, each naming the action's key.
pub fn predecessors(
    sections: &[ActionSection],
    actions: &[Action],
) -> Result<Vec<Option<usize>>, Vec<FieldError>> {
    let mut errors = Vec::new();
    let index_of = |name: &str| sections.iter().position(|s| s.name == name);
    let mut after = Vec::with_capacity(sections.len());
    for (i, section) in sections.iter().enumerate() {
        let field = format!("action[{i}].after");
        after.push(match section.after.as_deref() {
            None => None,
            Some(name) if name == section.name => {
                errors.push(FieldError::new(field, "an action cannot run after itself"));
                None
            }
            Some(name) => match index_of(name) {
                Some(j) => Some(j),
                None => {
                    let known: Vec<&str> = sections.iter().map(|s| s.name.as_str()).collect();
                    errors.push(FieldError::new(
                        field,
                        format!(
                            "`{name}` is not an action of this recipe (actions: {})",
                            known.join(", ")
                        ),
                    ));
                    None
                }
            },
        });
    }
    for start in 0..after.len() {
        let mut seen = vec![start];
        let mut at = after[start];
        while let Some(j) = at {
            if j == start {
                let names: Vec<&str> = seen.iter().map(|&k| sections[k].name.as_str()).collect();
                errors.push(FieldError::new(
                    format!("action[{start}].after"),
                    format!(
                        "forms a cycle: {} → {}",
                        names.join(" → "),
                        sections[start].name
                    ),
                ));
                break;
            }
            if seen.contains(&j) {
                break;
            }
            seen.push(j);
            at = after[j];
        }
    }
    if errors.is_empty() {
        errors.extend(response_reads(sections, actions, &after));
    }
    if errors.is_empty() {
        Ok(after)
    } else {
        Err(errors)
    }
}

/// A template may read `responses.NAME` only for an action it runs after (a response of any
/// other action may not exist yet when it runs).
fn response_reads(
    sections: &[ActionSection],
    actions: &[Action],
    after: &[Option<usize>],
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (i, action) in actions.iter().enumerate() {
        let mut ancestors = Vec::new();
        let mut at = after[i];
        while let Some(j) = at {
            ancestors.push(sections[j].name.as_str());
            at = after[j];
        }
        for (key, template) in action.templates() {
            for name in template.response_names() {
                if !ancestors.contains(&name.as_str()) {
                    errors.push(FieldError::new(
                        format!("action[{i}].{key}"),
                        format!(
                            "reads `responses.{name}`, but this action does not run after \
                             `{name}`: add `after = \"{name}\"` (or after an action that runs \
                             after it)"
                        ),
                    ));
                }
            }
        }
    }
    errors
}
