//! Recipes through the API: create/update by id (TOML or JSON), validation, list/get/delete,
//! enable/disable, rotate.

use serde_json::{Value, json};

use super::{recipe_toml, spawn_api, spawn_api_with};
use crate::helpers::grace;
use crate::receiver::Receiver;

pub(super) fn greeting_recipe(id: &str, url: &str, greeting: &str) -> String {
    recipe_toml(
        id,
        url,
        &format!("#{{ text: \"{greeting} \" + event.name }}"),
        r#"["0s"]"#,
    )
}

#[tokio::test]
async fn posting_toml_creates_then_answers_unchanged_then_updated_with_the_same_webhook_url() {
    let api = spawn_api().await;
    let receiver = Receiver::start().await;
    let url = receiver.url("/greet");

    let created = api
        .post_toml("/api/recipes", &greeting_recipe("greet", &url, "Hello"))
        .await
        .expect(201)
        .json();
    assert_eq!(created["result"], "created");
    let recipe = &created["recipe"];
    assert_eq!(recipe["id"], "greet");
    assert_eq!(recipe["name"], "Recipe greet");
    assert_eq!(recipe["enabled"], true);
    assert_eq!(recipe["triggers"], json!(["webhook"]));
    assert_eq!(recipe["managed_by"], Value::Null);
    let webhook_url = recipe["webhook_url"].as_str().unwrap().to_owned();
    let prefix = format!("{}/hooks/", api.app.address);
    assert!(
        webhook_url.starts_with(&prefix) && webhook_url.len() > prefix.len() + 20,
        "{webhook_url} is {prefix} + a long token"
    );
    assert_eq!(
        recipe["source"],
        greeting_recipe("greet", &url, "Hello"),
        "the file is kept as written"
    );

    let again = api
        .save(&greeting_recipe("greet", &url, "Hello"), "unchanged")
        .await;
    assert_eq!(again["webhook_url"], webhook_url.as_str());
    assert_eq!(again["version"], recipe["version"]);

    let updated = api
        .save(&greeting_recipe("greet", &url, "Hi"), "updated")
        .await;
    assert_eq!(updated["webhook_url"], webhook_url.as_str());
    assert!(updated["version"].as_i64() > recipe["version"].as_i64());

    // The URL works and the update is what runs.
    let event_id = api.send(&updated, &json!({ "name": "Ada" })).await;
    api.wait_for_status(&event_id, "delivered").await;
    let requests = receiver.wait_for(1, super::DEADLINE).await;
    assert_eq!(requests[0].json(), json!({ "text": "Hi Ada" }));
}

#[tokio::test]
async fn a_json_body_with_the_structure_of_the_file_saves_the_same_recipe() {
    let api = spawn_api().await;
    let receiver = Receiver::start().await;
    let file = json!({
        "id": "from-json",
        "name": "From JSON",
        "description": "written by a program",
        "trigger": { "webhook": {} },
        "filter": { "script": "event.amount > 10" },
        "transform": { "script": "#{ amount: event.amount }" },
        "action": [{
            "name": "send",
            "url": receiver.url("/json"),
            "retry": { "schedule": ["0s"] },
        }],
    });
    let created = api
        .post_json("/api/recipes", &file)
        .await
        .expect(201)
        .json();
    assert_eq!(created["result"], "created");
    let recipe = &created["recipe"];
    assert_eq!(recipe["id"], "from-json");
    assert_eq!(recipe["description"], "written by a program");
    assert!(
        recipe["webhook_url"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{}/hooks/", api.app.address))
    );
    let again = api
        .post_json("/api/recipes", &file)
        .await
        .expect(200)
        .json();
    assert_eq!(again["result"], "unchanged");

    // The stored source is a TOML file that exports and round-trips through TOML.
    let source = recipe["source"].as_str().unwrap();
    assert!(source.contains("id = \"from-json\""), "{source}");
    api.save(source, "unchanged").await;

    let filtered = api.send(recipe, &json!({ "amount": 5 })).await;
    api.wait_for_status(&filtered, "filtered").await;
    let passed = api.send(recipe, &json!({ "amount": 50 })).await;
    api.wait_for_status(&passed, "delivered").await;
    let requests = receiver.wait_for(1, super::DEADLINE).await;
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].json(), json!({ "amount": 50 }));

    // A JSON body that does not have the file's structure is refused too.
    let bad = json!({ "id": "bad-json", "name": "x", "colour": "red" });
    let message = api.post_json("/api/recipes", &bad).await.expect_error(422);
    assert!(message.contains("colour"), "{message}");
    api.get("/api/recipes/bad-json").await.expect_error(404);
}

fn field_error<'a>(errors: &'a Value, field: &str) -> &'a str {
    errors
        .as_array()
        .expect("`errors` array")
        .iter()
        .find(|e| e["field"] == field)
        .unwrap_or_else(|| panic!("no error for `{field}` in {errors:#}"))["message"]
        .as_str()
        .expect("message")
}

#[tokio::test]
async fn an_invalid_recipe_is_422_naming_each_field_and_nothing_is_stored() {
    let api = spawn_api().await;
    let broken = r#"id = "broken"
name = "Broken"

[trigger.webhook]

[filter]
script = '''
event.amount >
'''

[[action]]
name = "send"
url = "not a url"
"#;
    let reply = api.post_toml("/api/recipes", broken).await.expect(422);
    let json = reply.json();
    let error = json["error"].as_str().expect("error");
    assert!(
        error.contains("filter.script") && error.contains("action[0].url"),
        "{error}"
    );
    let script = field_error(&json["errors"], "filter.script");
    assert!(
        script.contains("line") && script.contains("column"),
        "line and column in {script}"
    );
    let url = field_error(&json["errors"], "action[0].url");
    assert!(url.contains("not a url"), "{url}");
    api.get("/api/recipes/broken").await.expect_error(404);

    let unknown_key = "id = \"typo\"\nname = \"Typo\"\ncolour = \"red\"\n[trigger.webhook]\n\
                       [[action]]\nname = \"a\"\nurl = \"https://example.com/\"\n";
    let json = api
        .post_toml("/api/recipes", unknown_key)
        .await
        .expect(422)
        .json();
    assert!(
        json["error"].as_str().unwrap().contains("colour"),
        "{json:#}"
    );
    let errors = json["errors"].as_array().unwrap();
    assert!(
        errors
            .iter()
            .any(|e| e["message"].as_str().unwrap().contains("colour")),
        "{json:#}"
    );
    api.get("/api/recipes/typo").await.expect_error(404);

    let not_toml = api
        .post_toml("/api/recipes", "id = [unclosed")
        .await
        .expect_error(422);
    assert!(not_toml.contains("line"), "{not_toml}");

    // An invalid update leaves the stored recipe as it was.
    let receiver = Receiver::start().await;
    let good = greeting_recipe("keep", &receiver.url("/keep"), "Hello");
    let saved = api.save(&good, "created").await;
    let bad_update = good.replace("event.name }", "event.name");
    api.post_toml("/api/recipes", &bad_update)
        .await
        .expect_error(422);
    let stored = api.get("/api/recipes/keep").await.expect(200).json();
    assert_eq!(stored["source"], good.as_str());
    assert_eq!(stored["version"], saved["version"]);
    let listed = api.get("/api/recipes").await.expect(200).json();
    assert_eq!(super::ids(&listed), vec!["keep"]);
}

#[tokio::test]
async fn recipes_are_listed_and_fetched_by_id_and_unknown_ids_are_404() {
    let api = spawn_api().await;
    assert_eq!(api.get("/api/recipes").await.expect(200).json(), json!([]));
    let a = api
        .save(
            &greeting_recipe("alpha", "https://example.com/a", "A"),
            "created",
        )
        .await;
    let b = api
        .save(
            &greeting_recipe("beta", "https://example.com/b", "B"),
            "created",
        )
        .await;
    let listed = api.get("/api/recipes").await.expect(200).json();
    let mut listed_ids = super::ids(&listed);
    listed_ids.sort();
    assert_eq!(listed_ids, vec!["alpha", "beta"]);
    for recipe in [&a, &b] {
        let id = recipe["id"].as_str().unwrap();
        let fetched = api
            .get(&format!("/api/recipes/{id}"))
            .await
            .expect(200)
            .json();
        assert_eq!(fetched["webhook_url"], recipe["webhook_url"]);
        assert_eq!(fetched["source"], recipe["source"]);
    }
    assert_ne!(a["webhook_url"], b["webhook_url"]);

    let message = api.get("/api/recipes/gamma").await.expect_error(404);
    assert!(message.contains("gamma"), "{message}");
    for action in ["enable", "disable", "rotate", "retry-dead"] {
        api.post(&format!("/api/recipes/gamma/{action}"))
            .await
            .expect_error(404);
    }
    api.post_json("/api/recipes/gamma/test", &json!({}))
        .await
        .expect_error(404);
    api.delete("/api/recipes/gamma").await.expect_error(404);
}

#[tokio::test]
async fn deleting_a_recipe_answers_204_then_404_and_its_webhook_url_stops_working() {
    let api = spawn_api().await;
    let recipe = api
        .save(
            &greeting_recipe("doomed", "https://example.com/x", "Bye"),
            "created",
        )
        .await;
    let url = recipe["webhook_url"].as_str().unwrap();
    api.delete("/api/recipes/doomed").await.expect(204);
    api.get("/api/recipes/doomed").await.expect_error(404);
    api.delete("/api/recipes/doomed").await.expect_error(404);
    assert_eq!(api.hook(url, &json!({ "name": "x" })).await.status(), 404);
    assert_eq!(api.get("/api/recipes").await.expect(200).json(), json!([]));
    assert_eq!(api.app.event_count().await, 0);

    // Saving it again makes a new recipe with a new URL; the old one stays dead.
    let again = api
        .save(
            &greeting_recipe("doomed", "https://example.com/x", "Bye"),
            "created",
        )
        .await;
    assert_ne!(again["webhook_url"], recipe["webhook_url"]);
    assert_eq!(api.hook(url, &json!({ "name": "x" })).await.status(), 404);
}

#[tokio::test]
async fn a_disabled_recipe_refuses_webhooks_and_exports_enabled_false_keeping_its_comments() {
    let api = spawn_api().await;
    let receiver = Receiver::start().await;
    let toml = format!(
        r#"# Tell the team about every signup.
id = "signups"
name = "Signups"   # shown in the UI

[trigger.webhook]

# Only real people.
[filter]
script = 'event.bot != true'

[[action]]
name = "send"    # the team channel
url = "{}"
"#,
        receiver.url("/signups")
    );
    let recipe = api.save(&toml, "created").await;
    let url = recipe["webhook_url"].as_str().unwrap().to_owned();

    let disabled = api
        .post("/api/recipes/signups/disable")
        .await
        .expect(200)
        .json();
    assert_eq!(disabled["enabled"], false);
    assert_eq!(disabled["webhook_url"], url.as_str(), "the URL is kept");
    assert_eq!(api.hook(&url, &json!({ "bot": false })).await.status(), 404);
    let fetched = api.get("/api/recipes/signups").await.expect(200).json();
    assert_eq!(fetched["enabled"], false);

    let export = api.get("/api/export?ids=signups").await.expect(200);
    assert!(export.text.contains("enabled = false"), "{}", export.text);
    for comment in [
        "# Tell the team about every signup.",
        "# shown in the UI",
        "# Only real people.",
        "# the team channel",
    ] {
        assert!(
            export.text.contains(comment),
            "{comment} kept: {}",
            export.text
        );
    }
    // Disabling twice is harmless.
    let twice = api
        .post("/api/recipes/signups/disable")
        .await
        .expect(200)
        .json();
    assert_eq!(twice["enabled"], false);

    let enabled = api
        .post("/api/recipes/signups/enable")
        .await
        .expect(200)
        .json();
    assert_eq!(enabled["enabled"], true);
    let export = api.get("/api/export?ids=signups").await.expect(200);
    assert!(export.text.contains("enabled = true"), "{}", export.text);
    assert!(
        export.text.contains("# Only real people."),
        "{}",
        export.text
    );
    let event_id = api.send(&enabled, &json!({ "bot": false })).await;
    api.wait_for_status(&event_id, "delivered").await;
    grace().await;
    assert_eq!(
        receiver.requests().len(),
        1,
        "the disabled time sent nothing"
    );
}

#[tokio::test]
async fn webhook_urls_are_shown_with_the_public_url() {
    let api = spawn_api_with(|settings| {
        settings.public_url = Some("https://hooks.example.com/".into());
    })
    .await;
    let recipe = api
        .save(
            &greeting_recipe("public", "https://example.com/x", "Hi"),
            "created",
        )
        .await;
    let url = recipe["webhook_url"].as_str().unwrap();
    assert!(url.starts_with("https://hooks.example.com/hooks/"), "{url}");
    // The same token is served on the real address.
    let token = url.rsplit('/').next().unwrap();
    let response = api
        .hook(
            &format!("{}/hooks/{token}", api.app.address),
            &json!({ "name": "x" }),
        )
        .await;
    assert_eq!(response.status(), 202);
}
