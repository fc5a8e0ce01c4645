//! Recipe revisions through the API: each save that changes the recipe is a revision naming
//! the token that made it; a diff between two shows the changed line; restoring an old one is a
//! new revision with its text, and the recipe runs with it.

use serde_json::{Value, json};

use super::{Api, recipe_toml, spawn_api, toml_body};
use crate::receiver::Receiver;

/// `{version, author}` of each listed revision, newest first.
fn listed(revisions: &Value) -> Vec<(i64, String)> {
    revisions
        .as_array()
        .expect("a list")
        .iter()
        .map(|r| {
            (
                r["version"].as_i64().unwrap(),
                r["author"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

async fn named_token(api: &Api, name: &str) -> String {
    let created = api
        .post_json("/api/tokens", &json!({ "name": name }))
        .await
        .expect(201)
        .json();
    created["token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn two_saves_are_two_revisions_with_authors_a_diff_and_a_restore_that_runs() {
    let api = spawn_api().await;
    let receiver = Receiver::start().await;
    let v1 = recipe_toml("rev", &receiver.url("/hook"), "#{ v: 1 }", r#"["0s"]"#);
    let v2 = v1.replace("v: 1", "v: 2");
    api.save(&v1, "created").await;
    api.save(&v1, "unchanged").await;
    let deployer = named_token(&api, "ci-deploy").await;
    let saved = api
        .call(
            reqwest::Method::POST,
            "/api/recipes",
            Some(&deployer),
            toml_body(&v2),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(saved["recipe"]["version"], 2);

    let list = api
        .get("/api/recipes/rev/revisions")
        .await
        .expect(200)
        .json();
    assert_eq!(
        listed(&list),
        [
            (2, "token ci-deploy".to_owned()),
            (1, "token SWITCHYARD_API_TOKEN".to_owned())
        ],
        "the unchanged save made no revision: {list:#}"
    );
    assert!(list[0]["created_at"].is_string(), "{list:#}");

    let one = api
        .get("/api/recipes/rev/revisions/1")
        .await
        .expect(200)
        .json();
    assert_eq!(one["source"], v1.as_str());
    let compared = api
        .get("/api/recipes/rev/revisions/2?compare=1")
        .await
        .expect(200)
        .json();
    let changed: Vec<(String, String)> = compared["diff"]
        .as_array()
        .expect("diff")
        .iter()
        .filter(|l| l["tag"] != "same")
        .map(|l| {
            (
                l["tag"].as_str().unwrap().into(),
                l["text"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        changed,
        [
            ("removed".to_owned(), "script = '#{ v: 1 }'".to_owned()),
            ("added".to_owned(), "script = '#{ v: 2 }'".to_owned())
        ]
    );

    let restored = api
        .post("/api/recipes/rev/revisions/1/restore")
        .await
        .expect(200)
        .json();
    assert_eq!(restored["result"], "updated");
    assert_eq!(restored["recipe"]["version"], 3);
    let three = api
        .get("/api/recipes/rev/revisions/3")
        .await
        .expect(200)
        .json();
    assert_eq!(three["source"], v1.as_str(), "the old text, exactly");
    assert_eq!(
        three["author"],
        "token SWITCHYARD_API_TOKEN (restored from version 1)"
    );

    let again = api
        .post("/api/recipes/rev/revisions/3/restore")
        .await
        .expect(200)
        .json();
    assert_eq!(
        again["result"], "unchanged",
        "restoring the current text changes nothing"
    );
    let list = api
        .get("/api/recipes/rev/revisions")
        .await
        .expect(200)
        .json();
    assert_eq!(listed(&list).len(), 3, "{list:#}");

    let event = api.send(&restored["recipe"], &json!({})).await;
    let detail = api.wait_for_status(&event, "delivered").await;
    assert_eq!(detail["runs"][0]["recipe_version"], 3);
    let sent = receiver.wait_for(1, super::DEADLINE).await;
    assert_eq!(
        sent[0].json(),
        json!({ "v": 1 }),
        "it ran with the restored text"
    );
}

#[tokio::test]
async fn unknown_recipes_and_versions_are_404s_naming_them_and_change_nothing() {
    let api = spawn_api().await;
    let toml = recipe_toml("known", "https://example.com/x", "#{}", r#"["0s"]"#);
    api.save(&toml, "created").await;

    let message = api
        .get("/api/recipes/nope/revisions")
        .await
        .expect_error(404);
    assert!(message.contains("`nope`"), "{message}");
    let message = api
        .get("/api/recipes/known/revisions/7")
        .await
        .expect_error(404);
    assert!(
        message.contains("known") && message.contains("version 7"),
        "{message}"
    );
    let message = api
        .get("/api/recipes/known/revisions/x")
        .await
        .expect_error(404);
    assert!(message.contains("`x`"), "{message}");
    let message = api
        .post("/api/recipes/known/revisions/9/restore")
        .await
        .expect_error(404);
    assert!(message.contains("version 9"), "{message}");
    let list = api
        .get("/api/recipes/known/revisions")
        .await
        .expect(200)
        .json();
    assert_eq!(listed(&list).len(), 1, "nothing changed: {list:#}");
}

#[tokio::test]
async fn a_file_managed_recipe_lists_its_file_as_author_and_refuses_a_restore() {
    let dir = tempfile::tempdir().unwrap();
    let toml = recipe_toml("filed", "https://example.com/f", "#{}", r#"["0s"]"#);
    std::fs::write(dir.path().join("filed.toml"), &toml).unwrap();
    let recipes_dir = dir.path().to_owned();
    let api = super::spawn_api_with(|settings| settings.recipes_dir = Some(recipes_dir)).await;
    let list = api
        .get("/api/recipes/filed/revisions")
        .await
        .expect(200)
        .json();
    let author = list[0]["author"].as_str().unwrap();
    assert!(
        author.starts_with("file ") && author.ends_with("filed.toml"),
        "{author}"
    );
    let message = api
        .post("/api/recipes/filed/revisions/1/restore")
        .await
        .expect_error(409);
    assert!(message.contains("filed.toml"), "{message}");
}
