//! Recipes provisioned from files (`serve --recipes DIR`) are read-only through the API.

use reqwest::Method;
use serde_json::json;

use super::{recipe_toml, spawn_api_with};

#[tokio::test]
async fn a_file_managed_recipe_cannot_be_changed_disabled_or_deleted_through_the_api() {
    let dir = tempfile::tempdir().unwrap();
    let toml = recipe_toml(
        "from-file",
        "https://example.com/managed",
        "#{ v: 1 }",
        r#"["0s"]"#,
    );
    std::fs::write(dir.path().join("managed.toml"), &toml).unwrap();
    let recipes_dir = dir.path().to_owned();
    let api = spawn_api_with(|settings| settings.recipes_dir = Some(recipes_dir)).await;

    let recipe = api.get("/api/recipes/from-file").await.expect(200).json();
    let managed_by = recipe["managed_by"].as_str().expect("managed_by");
    assert!(managed_by.ends_with("managed.toml"), "{managed_by}");
    let before = recipe.clone();

    let changed = toml.replace("v: 1", "v: 2");
    let refusals = [
        (Method::POST, "/api/recipes", super::toml_body(&changed)),
        (Method::POST, "/api/recipes/from-file/disable", None),
        (Method::POST, "/api/recipes/from-file/enable", None),
        (Method::DELETE, "/api/recipes/from-file", None),
        (Method::POST, "/api/import", super::toml_body(&changed)),
    ];
    for (method, path, body) in refusals {
        let reply = api
            .call(method.clone(), path, Some(super::TOKEN), body)
            .await;
        if path == "/api/import" {
            // Import reports per document; the document is refused with the same reason.
            let outcomes = reply.expect(200).json();
            assert_eq!(outcomes[0]["result"], "error", "{outcomes:#}");
            let error = outcomes[0]["error"].as_str().unwrap();
            assert!(error.contains("managed.toml"), "{error}");
            continue;
        }
        let message = reply.expect_error(409);
        assert!(
            message.contains("managed.toml") && message.contains("from-file"),
            "{method} {path}: {message}"
        );
    }

    let after = api.get("/api/recipes/from-file").await.expect(200).json();
    assert_eq!(after, before, "nothing changed");
    let response = api
        .hook(recipe["webhook_url"].as_str().unwrap(), &json!({}))
        .await;
    assert_eq!(response.status(), 202, "still enabled and reachable");
}
