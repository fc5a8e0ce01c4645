//! The form's submit buttons (`name="op"`): saving, and the edits that work without
//! JavaScript by re-rendering the form (add or remove an action, a condition row, a group, a
//! field row; pick a field; switch the filter to a script).

use super::{ActionForm, FieldRow, GroupForm, RecipeForm, RowForm};

/// What the submit button asked for; indexes count from 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Button {
    Save,
    /// Show the schedule's next runs.
    Preview,
    /// Re-render with the pasted sample in the field picker.
    LoadSample,
    AddAction,
    RemoveAction(usize),
    AddRow,
    RemoveRow(usize),
    AddGroup,
    RemoveGroup(usize),
    AddGroupRow(usize),
    /// `(group, row)`.
    RemoveGroupRow(usize, usize),
    /// Add a top-level condition row on the field chosen in the picker's select.
    PickRow,
    /// Rows → an editable script (one way).
    ToScript,
    /// The TOML tab, showing the form as it is (not the stored file).
    ToToml,
    /// Add a body mapping row to an action.
    AddField(usize),
    /// `(action, row)`.
    RemoveField(usize, usize),
    /// Set the trigger from the preset chosen in the "start from" select.
    UseTriggerPreset,
    /// Open the inputs step of the action preset chosen in its select.
    ChooseActionPreset,
    /// Add the action the open preset makes with the inputs typed.
    AddActionPreset,
    /// Anything else: shown again with a message, nothing saved.
    Unknown(String),
}

impl Button {
    /// `remove_group_row.1.0` → `RemoveGroupRow(1, 0)`.
    pub fn parse(text: &str) -> Button {
        let (name, args) = text.split_once('.').unwrap_or((text, ""));
        let numbers: Vec<usize> = args.split('.').filter_map(|n| n.parse().ok()).collect();
        match (name, numbers.as_slice()) {
            ("save", []) => Button::Save,
            ("preview", []) => Button::Preview,
            ("load_sample", []) => Button::LoadSample,
            ("add_action", []) => Button::AddAction,
            ("remove_action", [i]) => Button::RemoveAction(*i),
            ("add_row", []) => Button::AddRow,
            ("remove_row", [i]) => Button::RemoveRow(*i),
            ("add_group", []) => Button::AddGroup,
            ("remove_group", [g]) => Button::RemoveGroup(*g),
            ("add_group_row", [g]) => Button::AddGroupRow(*g),
            ("remove_group_row", [g, i]) => Button::RemoveGroupRow(*g, *i),
            ("pick_row", []) => Button::PickRow,
            ("to_script", []) => Button::ToScript,
            ("to_toml", []) => Button::ToToml,
            ("add_field", [a]) => Button::AddField(*a),
            ("remove_field", [a, i]) => Button::RemoveField(*a, *i),
            ("use_trigger_preset", []) => Button::UseTriggerPreset,
            ("choose_action_preset", []) => Button::ChooseActionPreset,
            ("add_action_preset", []) => Button::AddActionPreset,
            // Closing the inputs step is re-rendering without it.
            ("cancel_action_preset", []) => Button::Preview,
            _ => Button::Unknown(text.to_owned()),
        }
    }
}

fn remove<T>(list: &mut Vec<T>, index: usize) {
    if index < list.len() {
        list.remove(index);
    }
}

impl RecipeForm {
    /// Applies a button that edits the form itself; false for the others (save, preview,
    /// samples, presets, switching to a script), which the editor handles.
    pub fn press(&mut self, button: &Button) -> bool {
        let rows = &mut self.conditions;
        match *button {
            Button::AddAction => self.actions.push(ActionForm::blank()),
            Button::RemoveAction(i) => remove(&mut self.actions, i),
            Button::AddRow => rows.rows.push(RowForm::blank()),
            Button::RemoveRow(i) => remove(&mut rows.rows, i),
            Button::AddGroup => rows.groups.push(GroupForm::blank()),
            Button::RemoveGroup(g) => remove(&mut rows.groups, g),
            Button::AddGroupRow(g) => {
                if let Some(group) = rows.groups.get_mut(g) {
                    group.rows.push(RowForm::blank());
                }
            }
            Button::RemoveGroupRow(g, i) => {
                if let Some(group) = rows.groups.get_mut(g) {
                    remove(&mut group.rows, i);
                }
            }
            Button::PickRow if self.filter_mode == "script" => self.errors.top.push(
                "The filter is a script now, so a picked field cannot become a condition row: \
                 write it in the script instead."
                    .into(),
            ),
            Button::PickRow => rows.rows.push(RowForm {
                field: self.picked.clone(),
                ..RowForm::blank()
            }),
            Button::AddField(a) => {
                if let Some(action) = self.actions.get_mut(a) {
                    action.fields.push(FieldRow::default());
                }
            }
            Button::RemoveField(a, i) => {
                if let Some(action) = self.actions.get_mut(a) {
                    remove(&mut action.fields, i);
                }
            }
            _ => return false,
        }
        true
    }
}

impl RecipeForm {
    /// "Switch to script": the rows become the Rhai they compile to, in the script textarea.
    /// One way: the form does not turn a script back into rows.
    pub fn switch_to_script(&mut self) {
        let (conditions, errors) = self.conditions.to_conditions();
        if !errors.is_empty() {
            self.place_errors(&errors);
            return;
        }
        self.filter = compiled_rhai(&conditions);
        self.filter_mode = "script".into();
    }
}

/// The Rhai the rows compile to (what the filter runs), for display and "switch to script".
pub fn compiled_rhai(conditions: &crate::recipe::conditions::Conditions) -> String {
    conditions.to_rhai()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buttons_read_their_indexes_and_unknown_ones_are_kept_to_be_reported() {
        assert_eq!(Button::parse("save"), Button::Save);
        assert_eq!(
            Button::parse("remove_group_row.1.0"),
            Button::RemoveGroupRow(1, 0)
        );
        assert_eq!(Button::parse("remove_field.2.3"), Button::RemoveField(2, 3));
        assert_eq!(Button::parse("add_group_row.4"), Button::AddGroupRow(4));
        assert_eq!(
            Button::parse("remove_row"),
            Button::Unknown("remove_row".into())
        );
        assert_eq!(Button::parse("launch"), Button::Unknown("launch".into()));
    }

    #[test]
    fn row_buttons_add_and_remove_rows_groups_and_fields() {
        let mut form = RecipeForm::blank();
        form.press(&Button::AddRow);
        form.press(&Button::AddGroup);
        form.press(&Button::AddGroupRow(0));
        form.press(&Button::AddField(0));
        form.picked = "data.object.amount".into();
        form.press(&Button::PickRow);
        assert_eq!(form.conditions.rows.len(), 2);
        assert_eq!(form.conditions.rows[1].field, "data.object.amount");
        assert_eq!(form.conditions.groups[0].rows.len(), 2);
        assert_eq!(form.actions[0].fields.len(), 1);
        form.press(&Button::RemoveRow(0));
        form.press(&Button::RemoveGroupRow(0, 1));
        form.press(&Button::RemoveField(0, 0));
        form.press(&Button::RemoveGroupRow(7, 7));
        assert_eq!(form.conditions.rows[0].field, "data.object.amount");
        assert_eq!(form.conditions.groups[0].rows.len(), 1);
        assert!(form.actions[0].fields.is_empty());
        form.press(&Button::RemoveGroup(0));
        assert!(form.conditions.groups.is_empty());
        assert!(!form.press(&Button::Save));
    }
}
