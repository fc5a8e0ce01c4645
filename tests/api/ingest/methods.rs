//! Every method on every kind of hook URL answers what RFC 9110 says: 404 for a token that
//! names no enabled recipe, whatever the method; 405 with an `Allow` that lists exactly what the
//! hook accepts; HEAD wherever GET is, checked like GET (verification, rate limit) and
//! answered with no body and no event; OPTIONS 204 with `Allow`.

use reqwest::Method;
use switchyard::config::hook_rate::HookRate;

use super::plain_recipe;
use crate::helpers::{spawn_app, spawn_app_with};

const TOKEN: &str = "methods-hook-token";

const PLAIN: &str = "POST, PUT, OPTIONS";
const WITH_GET: &str = "GET, HEAD, POST, PUT, OPTIONS";

/// Which hook, its URL, the method, the status, the `Allow` header, whether an event is stored.
type Case<'a> = (&'a str, String, &'a str, u16, Option<&'a str>, bool);

#[tokio::test]
async fn every_method_on_every_hook_url_answers_per_rfc_9110_with_a_correct_allow() {
    let app = spawn_app().await;
    let url = "http://127.0.0.1:9/x";
    let plain = app.import(&plain_recipe("plain", "", "", url)).await;
    let get = app
        .import(&plain_recipe("by-get", "", "allow_get = true", url))
        .await;
    let off = app
        .import(&plain_recipe(
            "off",
            "enabled = false",
            "allow_get = true",
            url,
        ))
        .await;
    app.set_secret("HOOK_TOKEN", TOKEN).await;
    let guarded = app
        .import(&plain_recipe(
            "guarded",
            "",
            "allow_get = true\nverify = \"token\"\nsecret = \"{{ secrets.HOOK_TOKEN }}\"",
            url,
        ))
        .await;
    let with_token = format!("{}?token={TOKEN}", app.hook_url(&guarded));
    let unknown = format!("{}/hooks/not-a-real-token", app.address);

    let table: Vec<Case> = vec![
        (
            "plain",
            app.hook_url(&plain),
            "GET",
            405,
            Some(PLAIN),
            false,
        ),
        (
            "plain",
            app.hook_url(&plain),
            "HEAD",
            405,
            Some(PLAIN),
            false,
        ),
        ("plain", app.hook_url(&plain), "POST", 202, None, true),
        ("plain", app.hook_url(&plain), "PUT", 202, None, true),
        (
            "plain",
            app.hook_url(&plain),
            "DELETE",
            405,
            Some(PLAIN),
            false,
        ),
        (
            "plain",
            app.hook_url(&plain),
            "PATCH",
            405,
            Some(PLAIN),
            false,
        ),
        (
            "plain",
            app.hook_url(&plain),
            "OPTIONS",
            204,
            Some(PLAIN),
            false,
        ),
        ("allow_get", app.hook_url(&get), "GET", 202, None, true),
        ("allow_get", app.hook_url(&get), "HEAD", 200, None, false),
        ("allow_get", app.hook_url(&get), "POST", 202, None, true),
        ("allow_get", app.hook_url(&get), "PUT", 202, None, true),
        (
            "allow_get",
            app.hook_url(&get),
            "DELETE",
            405,
            Some(WITH_GET),
            false,
        ),
        (
            "allow_get",
            app.hook_url(&get),
            "PATCH",
            405,
            Some(WITH_GET),
            false,
        ),
        (
            "allow_get",
            app.hook_url(&get),
            "OPTIONS",
            204,
            Some(WITH_GET),
            false,
        ),
        // HEAD answers what GET would: the same check of the credentials, but no event.
        (
            "token, none given",
            app.hook_url(&guarded),
            "GET",
            401,
            None,
            false,
        ),
        (
            "token, none given",
            app.hook_url(&guarded),
            "HEAD",
            401,
            None,
            false,
        ),
        ("token, given", with_token.clone(), "GET", 202, None, true),
        ("token, given", with_token.clone(), "HEAD", 200, None, false),
    ]
    .into_iter()
    .chain(
        ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]
            .into_iter()
            .flat_map(|method| {
                [
                    ("unknown token", unknown.clone(), method, 404, None, false),
                    ("disabled", app.hook_url(&off), method, 404, None, false),
                ]
            }),
    )
    .collect();

    for (what, url, method, status, allow, stores) in table {
        let before = app.event_count().await;
        let response = app
            .http
            .request(Method::from_bytes(method.as_bytes()).unwrap(), &url)
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap();
        let case = format!("{method} on {what}");
        assert_eq!(response.status(), status, "{case}");
        assert_eq!(
            response
                .headers()
                .get("allow")
                .map(|v| v.to_str().unwrap().to_owned())
                .as_deref(),
            allow,
            "{case}: Allow"
        );
        let body = response.bytes().await.unwrap();
        if method == "HEAD" || status == 204 {
            assert!(body.is_empty(), "{case}: no body");
        }
        let stored = app.event_count().await - before;
        assert_eq!(stored, usize::from(stores), "{case}: events stored");
    }
}

#[tokio::test]
async fn a_head_counts_against_the_rate_limit_like_the_get_it_stands_for() {
    let app = spawn_app_with(|s| {
        s.hook_rate = HookRate::per_second(0.001);
        s.hook_burst = 2;
    })
    .await;
    let hook = app
        .import(&plain_recipe(
            "probed",
            "",
            "allow_get = true",
            "http://127.0.0.1:9/x",
        ))
        .await;
    let head = || app.http.head(app.hook_url(&hook)).send();
    assert_eq!(head().await.unwrap().status(), 200);
    assert_eq!(head().await.unwrap().status(), 200);
    let refused = head().await.unwrap();
    assert_eq!(refused.status(), 429, "HEAD over the limit");
    assert!(refused.headers().contains_key("retry-after"));
    let get = app.http.get(app.hook_url(&hook)).send().await.unwrap();
    assert_eq!(get.status(), 429, "the HEADs used the GET's budget");
    assert_eq!(app.event_count().await, 0);
}
