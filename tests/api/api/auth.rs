//! Bearer-token auth: the configured token and tokens created through the API; 401 otherwise.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::json;

use super::openapi::ROUTES;
use super::{Api, Body, Reply, TOKEN, json_body, recipe_toml, spawn_api, toml_body};
use crate::receiver::Receiver;

#[track_caller]
fn assert_unauthorized(reply: &Reply, what: &str) {
    assert_eq!(reply.status, 401, "{what}: {}", reply.text);
    assert_eq!(
        reply
            .headers
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok()),
        Some("Bearer"),
        "{what}: WWW-Authenticate"
    );
    assert!(
        reply.json()["error"].is_string(),
        "{what}: JSON error body, got {}",
        reply.text
    );
}

/// One call of the walk through every route: route (as in ROUTES), the path parameter, body,
/// and the status the right token gets.
struct Step {
    method: &'static str,
    route: &'static str,
    param: String,
    body: Body,
    status: u16,
}

fn step(method: &'static str, route: &'static str, param: &str, body: Body, status: u16) -> Step {
    Step {
        method,
        route,
        param: param.to_owned(),
        body,
        status,
    }
}

#[tokio::test]
async fn every_route_answers_401_without_the_right_bearer_token_and_2xx_with_it() {
    let api = spawn_api().await;
    let receiver = Receiver::start().await;
    receiver.always(500);
    let toml = recipe_toml(
        "walk",
        &receiver.url("/walk"),
        "#{ n: event.n }",
        r#"["0s"]"#,
    );
    let recipe = api.save(&toml, "created").await;
    let event_id = api.send(&recipe, &json!({ "n": 1 })).await;
    let detail = api.wait_for_status(&event_id, "dead").await;
    let delivery_id = detail["deliveries"][0]["id"].as_str().unwrap().to_owned();
    // A token to revoke in the walk (created directly so the walk creates its own too).
    let spare = api
        .post_json("/api/tokens", &json!({ "name": "spare" }))
        .await
        .expect(201)
        .json();
    let spare_id = spare["id"].as_str().unwrap();

    let steps = vec![
        step("GET", "/api/recipes", "", None, 200),
        step("POST", "/api/recipes", "", toml_body(&toml), 200),
        step("GET", "/api/recipes/{id}", "walk", None, 200),
        step("POST", "/api/recipes/{id}/disable", "walk", None, 200),
        step("POST", "/api/recipes/{id}/enable", "walk", None, 200),
        step("POST", "/api/recipes/{id}/rotate", "walk", None, 200),
        step("POST", "/api/recipes/{id}/pause", "walk", None, 200),
        step("POST", "/api/recipes/{id}/resume", "walk", None, 200),
        step("GET", "/api/recipes/{id}/revisions", "walk", None, 200),
        step(
            "GET",
            "/api/recipes/{id}/revisions/{version}",
            "walk",
            None,
            200,
        ),
        step(
            "POST",
            "/api/recipes/{id}/revisions/{version}/restore",
            "walk",
            None,
            200,
        ),
        step(
            "POST",
            "/api/recipes/{id}/test",
            "walk",
            json_body(&json!({ "n": 2 })),
            200,
        ),
        step("GET", "/api/events", "", None, 200),
        step("GET", "/api/events/{id}", &event_id, None, 200),
        step(
            "POST",
            "/api/deliveries/{id}/retry",
            &delivery_id,
            None,
            202,
        ),
        step("POST", "/api/recipes/{id}/retry-dead", "walk", None, 200),
        step("POST", "/api/events/{id}/replay", &event_id, None, 202),
        step(
            "PUT",
            "/api/secrets/{name}",
            "WALK_SECRET",
            json_body(&json!({ "value": "v" })),
            204,
        ),
        step("GET", "/api/secrets", "", None, 200),
        step("DELETE", "/api/secrets/{name}", "WALK_SECRET", None, 204),
        step(
            "POST",
            "/api/tokens",
            "",
            json_body(&json!({ "name": "walk" })),
            201,
        ),
        step("GET", "/api/tokens", "", None, 200),
        step("DELETE", "/api/tokens/{id}", spare_id, None, 204),
        step("POST", "/api/import", "", toml_body(&toml), 200),
        step("GET", "/api/export", "", None, 200),
        step("DELETE", "/api/recipes/{id}", "walk", None, 204),
        step("GET", "/api/presets", "", None, 200),
        step(
            "POST",
            "/api/presets/{kind}/{id}/apply",
            "slack",
            json_body(&json!({ "inputs": {} })),
            200,
        ),
    ];

    let walked: BTreeSet<(&str, &str)> = steps.iter().map(|s| (s.method, s.route)).collect();
    let routes: BTreeSet<(&str, &str)> = ROUTES.iter().copied().collect();
    assert_eq!(walked, routes, "the walk calls every route of ROUTES once");

    for step in steps {
        let method = Method::from_bytes(step.method.as_bytes()).unwrap();
        let path = step
            .route
            .replace("{id}", &step.param)
            .replace("{name}", &step.param)
            .replace("{kind}", "action")
            .replace("{version}", "1");
        let what = format!("{} {path}", step.method);
        for (label, token) in [
            ("no token", None),
            ("wrong token", Some("not-the-token")),
            ("empty token", Some("")),
            ("the token with a suffix", Some(&*format!("{TOKEN}x"))),
        ] {
            let reply = api
                .call(method.clone(), &path, token, step.body.clone())
                .await;
            assert_unauthorized(&reply, &format!("{what} with {label}"));
        }
        // Without the Bearer scheme the right token is not accepted either.
        let reply = api
            .app
            .http
            .request(method.clone(), api.url(&path))
            .header("authorization", TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 401, "{what} with a bare token");

        let reply = api.call(method, &path, Some(TOKEN), step.body).await;
        assert_eq!(reply.status, step.status, "{what}: {}", reply.text);
    }
}

#[tokio::test]
async fn a_refused_caller_gets_401_even_when_its_body_or_query_is_malformed() {
    let api = spawn_api().await;
    let not_json = || Some(("application/json", b"{not json".to_vec()));
    let cases: Vec<(Method, &str, Body)> = vec![
        (Method::POST, "/api/recipes/x/test", not_json()),
        (Method::PUT, "/api/secrets/NAME", not_json()),
        (Method::POST, "/api/tokens", not_json()),
        (
            Method::POST,
            "/api/tokens",
            Some(("text/plain", b"x".to_vec())),
        ),
        (Method::POST, "/api/recipes", not_json()),
        (
            Method::POST,
            "/api/import",
            Some(("text/plain", vec![0xff, 0xfe])),
        ),
        (Method::GET, "/api/events?limit=many", None),
        (Method::GET, "/api/export?ids=a&ids=b", None),
    ];
    // Auth and body parsing used to race; repeat to catch it.
    for _ in 0..5 {
        for (method, path, body) in &cases {
            for token in [None, Some("not-the-token")] {
                let reply = api.call(method.clone(), path, token, body.clone()).await;
                assert_unauthorized(&reply, &format!("{method} {path} with {token:?}"));
            }
        }
    }
    // With the right token, the same requests are refused for what they are, as JSON.
    for (method, path, body) in cases {
        let reply = api.call(method.clone(), path, Some(TOKEN), body).await;
        let status = reply.status;
        assert!(
            (400..500).contains(&status) && status != 401 && status != 404,
            "{method} {path}: {status} {}",
            reply.text
        );
        let message = reply.expect_error(status);
        assert!(!message.is_empty());
    }
}

#[tokio::test]
async fn a_created_token_works_is_shown_once_and_stops_working_when_revoked() {
    let api = spawn_api().await;
    let created = api
        .post_json("/api/tokens", &json!({ "name": "deploy bot" }))
        .await
        .expect(201)
        .json();
    let id = created["id"].as_str().expect("id").to_owned();
    let token = created["token"].as_str().expect("token").to_owned();
    assert!(token.len() >= 32, "a long random token: {token}");
    assert_ne!(token, TOKEN);

    let with_new = |method: Method, path: &'static str| {
        let api: &Api = &api;
        let token = token.clone();
        async move { api.call(method, path, Some(&token), None).await }
    };
    with_new(Method::GET, "/api/recipes").await.expect(200);
    with_new(Method::GET, "/api/secrets").await.expect(200);

    // Listed by id and name, never with the token itself (not even to its own bearer).
    for bearer in [TOKEN, token.as_str()] {
        let list = api
            .call(Method::GET, "/api/tokens", Some(bearer), None)
            .await
            .expect(200);
        assert!(
            !list.text.contains(&token),
            "token shown again: {}",
            list.text
        );
        let items = list.json();
        let item = items
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == id.as_str())
            .unwrap_or_else(|| panic!("created token listed: {items:#}"))
            .clone();
        assert_eq!(item["name"], "deploy bot");
        assert!(item.get("token").is_none(), "{item:#}");
    }

    // A second token is independent: revoking the first leaves it working.
    let other = api
        .post_json("/api/tokens", &json!({ "name": "other" }))
        .await
        .expect(201)
        .json();
    let other_token = other["token"].as_str().unwrap().to_owned();
    assert_ne!(other_token, token);

    api.delete(&format!("/api/tokens/{id}")).await.expect(204);
    let refused = with_new(Method::GET, "/api/recipes").await;
    assert_unauthorized(&refused, "a revoked token");
    api.call(Method::GET, "/api/recipes", Some(&other_token), None)
        .await
        .expect(200);
    api.delete(&format!("/api/tokens/{id}"))
        .await
        .expect_error(404);
    api.delete("/api/tokens/no-such-token")
        .await
        .expect_error(404);
    let listed = api.get("/api/tokens").await.expect(200).json();
    let revoked = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == id.as_str());
    if let Some(revoked) = revoked {
        assert!(
            revoked["revoked_at"].is_string(),
            "a listed revoked token says so: {revoked:#}"
        );
    }
}

#[tokio::test]
async fn a_token_needs_a_name() {
    let api = spawn_api().await;
    for body in [json!({ "name": "" }), json!({ "name": "   " })] {
        let message = api.post_json("/api/tokens", &body).await.expect_error(400);
        assert!(message.contains("name"), "{message}");
    }
    let listed = api.get("/api/tokens").await.expect(200).json();
    assert_eq!(listed, json!([]), "nothing created");
}
