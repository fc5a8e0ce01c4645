//! The editor through the browser forms: create, errors beside fields, file-managed, TOML tab.

#[allow(clippy::wildcard_imports)]
use super::*;

fn editor_form<'a>(csrf: &'a str, filter: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("name", "Paid orders to CRM"),
        ("enabled", "on"),
        ("webhook", "on"),
        ("verify", "none"),
        ("respond", "accepted"),
        ("filter", filter),
        ("transform", "#{ order: event.id }"),
        ("action.0.name", "crm"),
        ("action.0.method", "PUT"),
        ("action.0.url", "https://crm.example.com/orders"),
        (
            "action.0.headers",
            "Content-Type: application/json\r\nX-Source: switchyard",
        ),
        ("action.0.retry", "0s, 5s, 5m"),
        ("op", "save"),
    ]
}

#[tokio::test]
async fn creating_a_recipe_through_the_editor_form_saves_it() {
    let (app, browser) = logged_in().await;
    let csrf = browser.csrf("/recipes/new").await;
    let saved = browser
        .post("/recipes/new", &editor_form(&csrf, "event.total > 10"))
        .await;
    assert_eq!(saved.status(), 303, "{}", saved.text().await.unwrap());
    assert_eq!(location(&saved), "/recipes/paid-orders-to-crm?done=created");

    let stored = app
        .store
        .get_recipe("paid-orders-to-crm")
        .await
        .unwrap()
        .expect("saved");
    assert_eq!(stored.name, "Paid orders to CRM");
    assert!(stored.source.contains("event.total > 10"));
    assert!(stored.source.contains("X-Source = \"switchyard\""));
    assert!(stored.source.contains("method = \"PUT\""));

    let page = browser.get(&location(&saved)).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains(&format!("/hooks/{}", stored.webhook_token)),
        "the URL in full"
    );
    assert!(html.contains("Recipe created."));
}

#[tokio::test]
async fn a_rhai_syntax_error_is_shown_beside_the_filter_with_what_was_typed() {
    let (app, browser) = logged_in().await;
    let csrf = browser.csrf("/recipes/new").await;
    let typed = "let limit = 10;\nlet x = ;\nevent.total > limit";
    let answer = browser
        .post("/recipes/new", &editor_form(&csrf, typed))
        .await;
    assert_eq!(answer.status(), 422);
    let html = answer.text().await.unwrap();

    // The error sits inside the filter's field, after its textarea, before the transform's.
    let filter = html.find("name=\"filter\"").expect("filter textarea");
    let transform = html.find("name=\"transform\"").expect("transform textarea");
    let error = html[filter..transform]
        .find("class=\"field-error\"")
        .map(|at| &html[filter + at..transform])
        .expect("an error beside the filter");
    assert!(error.contains("filter script, line 2, column 9"), "{error}");
    let kept = &html[filter..transform];
    assert!(
        kept.contains("let limit = 10;\nlet x = ;\nevent.total &#62; limit"),
        "{kept}"
    );
    assert!(
        html.contains("value=\"Paid orders to CRM\""),
        "the other fields are kept"
    );
    assert!(
        app.store.list_recipes().await.unwrap().is_empty(),
        "nothing saved"
    );
}

#[tokio::test]
async fn file_managed_recipes_are_read_only() {
    let (app, browser) = logged_in().await;
    let scripts = ScriptEngine::new(ScriptLimits::default());
    import_source(
        app.store.as_ref(),
        &scripts,
        RECIPE,
        Some("recipes/orders.toml".into()),
        "test",
    )
    .await
    .unwrap();

    let edit = browser
        .get("/recipes/orders/edit")
        .await
        .text()
        .await
        .unwrap();
    assert!(edit.contains("Managed by the file <code>recipes/orders.toml</code>"));
    assert!(edit.contains("<fieldset class=\"plain\" disabled>"));
    assert!(!edit.contains("Save changes"));
    let toml = browser
        .get("/recipes/orders/toml")
        .await
        .text()
        .await
        .unwrap();
    assert!(toml.contains("readonly"));

    let csrf = browser.csrf("/recipes/orders").await;
    let mut form = editor_form(&csrf, "true");
    form.retain(|(k, _)| *k != "name");
    form.push(("name", "Renamed"));
    let saved = browser.post("/recipes/orders/edit", &form).await;
    assert_eq!(saved.status(), 422);
    assert!(saved.text().await.unwrap().contains("recipes/orders.toml"));
    let disabled = browser
        .post("/recipes/orders/disable", &[("csrf", &csrf)])
        .await;
    assert_eq!(disabled.status(), 409);
    let deleted = browser
        .post("/recipes/orders/delete", &[("csrf", &csrf)])
        .await;
    assert_eq!(deleted.status(), 409);

    let stored = app.store.get_recipe("orders").await.unwrap().unwrap();
    assert_eq!(stored.name, "Orders");
    assert!(stored.enabled);
}

#[tokio::test]
async fn the_toml_tab_saves_the_same_recipe_and_keeps_its_id() {
    let (app, browser) = logged_in().await;
    app.import(RECIPE).await;
    let page = browser
        .get("/recipes/orders/toml")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("id = &#34;orders&#34;"),
        "the file is shown as written"
    );
    let csrf = csrf_in(&page);

    let edited = format!("# kept comment\n{}", RECIPE.replace("Orders", "Orders v2"));
    let saved = browser
        .post(
            "/recipes/orders/toml",
            &[("csrf", &csrf), ("source", &edited)],
        )
        .await;
    assert_eq!(saved.status(), 303);
    let stored = app.store.get_recipe("orders").await.unwrap().unwrap();
    assert_eq!(stored.name, "Orders v2");
    assert!(stored.source.starts_with("# kept comment"));

    let renamed = edited.replace("id = \"orders\"", "id = \"other\"");
    let refused = browser
        .post(
            "/recipes/orders/toml",
            &[("csrf", &csrf), ("source", &renamed)],
        )
        .await;
    assert_eq!(refused.status(), 422);
    assert!(app.store.get_recipe("other").await.unwrap().is_none());

    let broken = browser
        .post(
            "/recipes/orders/toml",
            &[("csrf", &csrf), ("source", "id = \n")],
        )
        .await;
    assert_eq!(broken.status(), 422);
    assert!(broken.text().await.unwrap().contains("line 1, column"));
}
