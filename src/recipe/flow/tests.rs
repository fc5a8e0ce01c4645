use chrono::{TimeZone, Utc};
use serde_json::json;

use crate::recipe::Recipe;
use crate::script::{ScriptEngine, ScriptLimits};

fn check(actions: &str) -> Result<Recipe, String> {
    let source = format!("id = \"r\"\nname = \"r\"\n[trigger.webhook]\n{actions}");
    Recipe::from_toml(&source, &ScriptEngine::new(ScriptLimits::default())).map_err(|e| {
        e.errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    })
}

fn delay_until(template: &str) -> super::Delay {
    let recipe = check(&format!(
        "[[action]]\nname = \"a\"\nurl = \"https://example.com/\"\ndelay_until = \"{template}\"\n"
    ))
    .expect("accepted");
    recipe.flows[0].delay.clone().expect("a delay")
}

#[test]
fn delay_until_reading_a_response_is_refused_at_check() {
    // The instant is rendered in the run, before any action has answered: such a template
    // could only ever make the delivery dead.
    let errors = check(
        "[[action]]\nname = \"a\"\nurl = \"https://example.com/\"\n\
         [[action]]\nname = \"b\"\nurl = \"https://example.com/\"\nafter = \"a\"\n\
         delay_until = \"{{ responses.a.body.at }}\"\n",
    )
    .expect_err("refused");
    assert!(
        errors.contains("action[1].delay_until: reads `responses.a`"),
        "{errors}"
    );
}

#[test]
fn a_literal_delay_until_is_parsed_at_check() {
    let errors = check(
        "[[action]]\nname = \"a\"\nurl = \"https://example.com/\"\ndelay_until = \"next tuesday\"\n",
    )
    .expect_err("refused");
    assert!(
        errors.contains("action[0].delay_until: `next tuesday` is not an instant"),
        "{errors}"
    );
    delay_until("2024-05-01T09:00:00Z");
}

#[test]
fn delay_until_more_than_a_year_ahead_is_refused_naming_milliseconds() {
    let now = Utc.with_ymd_and_hms(2024, 5, 1, 0, 0, 0).unwrap();
    let delay = delay_until("{{ event.at }}");
    // Unix milliseconds (what JavaScript's Date.now() gives) read as seconds land tens of
    // thousands of years ahead: the delivery would wait for ever, so it is refused instead.
    for at in [json!(1_714_554_000_000_i64), json!("1e12")] {
        let error = delay
            .due(now, &json!({}), &json!({ "at": at }))
            .expect_err("refused");
        assert!(
            error.starts_with("delay_until: `") && error.contains("more than 366 days ahead"),
            "{error}"
        );
        assert!(error.contains("Unix milliseconds?"), "{error}");
    }
    let in_300_days = now + chrono::Duration::days(300);
    assert_eq!(
        delay
            .due(now, &json!({}), &json!({ "at": in_300_days.timestamp() }))
            .unwrap(),
        in_300_days
    );
}

#[test]
fn output_in_when_rows_or_delay_until_without_a_transform_is_refused_at_check() {
    // Without a transform the output is empty: every run would fail on these.
    let errors = check(
        "[[action]]\nname = \"a\"\nurl = \"https://example.com/\"\n\
         delay_until = \"{{ output.at }}\"\n\
         [[action.when]]\nfield = \"data.amount\"\nop = \"gt\"\nvalue = 1\n\
         [[action.when]]\nfield = \"output.total\"\nop = \"gt\"\nvalue = 1\n",
    )
    .expect_err("refused");
    assert!(
        errors.contains("action[0].when[1].field: `output.total`: no transform"),
        "{errors}"
    );
    assert!(
        errors.contains("action[0].delay_until: `{{ output.at }}`: no transform"),
        "{errors}"
    );
    assert!(!errors.contains("when[0]"), "{errors}");
    let with_transform = format!(
        "[transform]\nscript = '#{{ at: 1, total: 2 }}'\n{}",
        "[[action]]\nname = \"a\"\nurl = \"https://example.com/\"\n\
         delay_until = \"{{ output.at }}\"\n\
         [[action.when]]\nfield = \"output.total\"\nop = \"gt\"\nvalue = 1\n"
    );
    check(&with_transform).expect("accepted with a transform");
}
