//! Import several recipe documents at once (each reported on its own) and export them back.

use serde_json::Value;

use super::{recipe_toml, spawn_api};

const SEPARATOR: &str = "# --- switchyard recipe ---";

fn outcome(outcomes: &Value, i: usize) -> &Value {
    &outcomes.as_array().expect("outcomes array")[i]
}

#[tokio::test]
async fn import_reports_each_document_and_an_export_imports_back_unchanged() {
    let api = spawn_api().await;
    let first = format!(
        "# The first one, with a comment.\n{}",
        recipe_toml("first", "https://example.com/1", "#{ a: 1 }", r#"["0s"]"#)
    );
    let second = recipe_toml(
        "second",
        "https://example.com/2",
        "#{ b: 2 }",
        r#"["0s", "5s"]"#,
    );
    let invalid = recipe_toml("third", "not a url", "#{ c: 3 }", r#"["0s"]"#);
    let body = format!("{first}{SEPARATOR}\n{second}{SEPARATOR}\n{invalid}");

    let outcomes = api.post_toml("/api/import", &body).await.expect(200).json();
    assert_eq!(outcomes.as_array().unwrap().len(), 3, "{outcomes:#}");
    for (i, id) in [(0, "first"), (1, "second")] {
        let o = outcome(&outcomes, i);
        assert_eq!(o["result"], "created", "{o:#}");
        assert_eq!(o["id"], id);
        assert_eq!(o["error"], Value::Null);
        assert!(
            o["recipe"]["webhook_url"]
                .as_str()
                .is_some_and(|u| u.starts_with(&format!("{}/hooks/", api.app.address))),
            "{o:#}"
        );
    }
    let bad = outcome(&outcomes, 2);
    assert_eq!(bad["result"], "error", "{bad:#}");
    let message = bad["error"].as_str().expect("error message");
    assert!(message.contains("action[0].url"), "{message}");
    api.get("/api/recipes/third").await.expect_error(404);

    let export = api.get("/api/export?ids=first,second").await.expect(200);
    assert!(
        export
            .headers
            .get("content-type")
            .and_then(|c| c.to_str().ok())
            .is_some_and(|c| c.starts_with("application/toml")),
        "{:?}",
        export.headers
    );
    assert!(
        export.text.contains("# The first one, with a comment."),
        "{}",
        export.text
    );
    assert_eq!(export.text.matches(SEPARATOR).count(), 1, "{}", export.text);

    let urls_before: Vec<Value> = (0..2)
        .map(|i| outcome(&outcomes, i)["recipe"]["webhook_url"].clone())
        .collect();
    let again = api
        .post_toml("/api/import", &export.text)
        .await
        .expect(200)
        .json();
    assert_eq!(again.as_array().unwrap().len(), 2, "{again:#}");
    for (i, id) in ["first", "second"].iter().enumerate() {
        let o = outcome(&again, i);
        assert_eq!(o["id"], *id);
        assert_eq!(o["result"], "unchanged", "{o:#}");
        assert_eq!(o["recipe"]["webhook_url"], urls_before[i]);
    }

    // One id exports that recipe alone; no ids exports all; an unknown id is 404.
    let one = api.get("/api/export?ids=second").await.expect(200);
    assert_eq!(one.text.trim_end(), second.trim_end());
    let all = api.get("/api/export").await.expect(200);
    assert!(
        all.text.contains("id = \"first\"") && all.text.contains("id = \"second\""),
        "{}",
        all.text
    );
    let message = api
        .get("/api/export?ids=first,missing")
        .await
        .expect_error(404);
    assert!(message.contains("missing"), "{message}");

    // Changed documents report updated; the list holds exactly the two.
    let changed = export.text.replace("#{ b: 2 }", "#{ b: 3 }");
    let updated = api
        .post_toml("/api/import", &changed)
        .await
        .expect(200)
        .json();
    assert_eq!(outcome(&updated, 0)["result"], "unchanged");
    assert_eq!(outcome(&updated, 1)["result"], "updated");
    let mut listed = super::ids(&api.get("/api/recipes").await.expect(200).json());
    listed.sort();
    assert_eq!(listed, vec!["first", "second"]);
}
