//! "New recipe from an example" opens the example in the no-code form: its condition rows and
//! body field rows, not a filter script (tryout 9, finding 8).

use crate::ui::logged_in;

/// The examples that build their body with `fields` (the others keep a transform, the escape
/// hatch for what `fields` cannot do) and a key each sends.
const NO_CODE: [(&str, &str); 3] = [
    ("github-push-to-chat", "compare"),
    ("status-page-watcher", "text"),
    ("website-form-to-email", "ReplyTo"),
];

#[tokio::test]
async fn new_recipe_from_an_example_shows_its_condition_rows_and_body_field_rows() {
    let (_app, browser) = logged_in().await;
    // Each example and the field of its first condition row.
    for (id, first_field) in [
        ("github-push-to-chat", "ref"),
        ("payment-housekeeping", "type"),
        ("status-page-watcher", "status.indicator"),
        ("stripe-payment-to-slack", "type"),
        ("website-form-to-email", "email"),
    ] {
        let response = browser.get(&format!("/recipes/new?example={id}")).await;
        assert_eq!(response.status(), 200, "{id}");
        let html = response.text().await.unwrap();
        assert!(
            html.contains(&format!("name=\"when.0.field\" value=\"{first_field}\"")),
            "{id}: the example's first condition row in the form"
        );
        let field = NO_CODE.iter().find(|(example, _)| *example == id);
        if let Some((_, key)) = field {
            assert!(
                html.contains(&format!("value=\"{key}\""))
                    && html.contains("name=\"action.0.field.0.key\""),
                "{id}: body field rows with `{key}`"
            );
        }
    }
}
