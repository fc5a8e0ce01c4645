//! The OpenAPI document describes exactly the routes the API serves.

use std::collections::BTreeSet;

use reqwest::Method;

use super::spawn_api;

/// Every endpoint of the API, as the OpenAPI document names it. `auth.rs` calls each one (with
/// and without the right token), so a route missing here or in the document fails a test.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/api/recipes"),
    ("POST", "/api/recipes"),
    ("GET", "/api/recipes/{id}"),
    ("DELETE", "/api/recipes/{id}"),
    ("POST", "/api/recipes/{id}/enable"),
    ("POST", "/api/recipes/{id}/disable"),
    ("POST", "/api/recipes/{id}/rotate"),
    ("POST", "/api/recipes/{id}/test"),
    ("POST", "/api/recipes/{id}/retry-dead"),
    ("POST", "/api/recipes/{id}/pause"),
    ("POST", "/api/recipes/{id}/resume"),
    ("GET", "/api/recipes/{id}/revisions"),
    ("GET", "/api/recipes/{id}/revisions/{version}"),
    ("POST", "/api/recipes/{id}/revisions/{version}/restore"),
    ("GET", "/api/events"),
    ("GET", "/api/events/{id}"),
    ("POST", "/api/events/{id}/replay"),
    ("POST", "/api/deliveries/{id}/retry"),
    ("GET", "/api/secrets"),
    ("PUT", "/api/secrets/{name}"),
    ("DELETE", "/api/secrets/{name}"),
    ("GET", "/api/tokens"),
    ("POST", "/api/tokens"),
    ("DELETE", "/api/tokens/{id}"),
    ("POST", "/api/import"),
    ("GET", "/api/export"),
    ("GET", "/api/presets"),
    ("POST", "/api/presets/{kind}/{id}/apply"),
];

const HTTP_METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

#[tokio::test]
async fn the_openapi_document_is_public_openapi_3_json_listing_exactly_the_routes_of_the_api() {
    let api = spawn_api().await;
    let reply = api
        .call(Method::GET, "/api/openapi.json", None, None)
        .await
        .expect(200);
    let doc = reply.json();
    let version = doc["openapi"].as_str().expect("`openapi` version string");
    assert!(version.starts_with("3."), "OpenAPI 3.x, got {version}");
    assert!(doc["info"]["title"].is_string(), "{doc:#}");
    assert!(
        doc["components"]["securitySchemes"]["bearer"].is_object(),
        "the bearer scheme is described: {:#}",
        doc["components"]
    );

    let paths = doc["paths"].as_object().expect("`paths` object");
    let documented: BTreeSet<(String, String)> = paths
        .iter()
        .flat_map(|(path, item)| {
            let item = item.as_object().expect("path item object");
            HTTP_METHODS
                .iter()
                .filter(|m| item.contains_key(**m))
                .map(move |m| (m.to_uppercase(), path.clone()))
        })
        .collect();
    let expected: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();

    let undocumented: Vec<_> = expected.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "routes missing from the OpenAPI document: {undocumented:?}"
    );
    let unknown: Vec<_> = documented.difference(&expected).collect();
    assert!(
        unknown.is_empty(),
        "the document lists operations the tests do not know (add them to ROUTES and test them): {unknown:?}"
    );

    for (method, path) in ROUTES {
        let operation = &paths[*path][method.to_lowercase()];
        assert!(
            operation["responses"].is_object(),
            "{method} {path} documents its responses: {operation:#}"
        );
        assert!(
            operation["security"].to_string().contains("bearer"),
            "{method} {path} says it needs the bearer token: {operation:#}"
        );
    }
}

#[tokio::test]
async fn unknown_api_paths_answer_a_json_404_and_other_paths_the_error_page() {
    let api = spawn_api().await;
    let message = api.get("/api/no-such-route").await.expect_error(404);
    assert!(message.contains("/api/no-such-route"), "{message}");
    let page = api
        .app
        .http
        .get(format!("{}/no-such-page", api.app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 404);
    let content_type = page.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/html"), "{content_type}");
}
