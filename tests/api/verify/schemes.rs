//! Authorization scheme names are case-insensitive (RFC 9110 §11.1) everywhere a credential
//! is read: a token-verified hook (Basic, Bearer), the API and `/metrics` (Bearer). A token
//! hook's refusal says what was wrong with the credential it got, and lists every way to send
//! the token.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::{recipe, refused_with};
use crate::helpers::spawn_app_with;

const API_TOKEN: &str = "scheme-case-api-token";
const HOOK_TOKEN: &str = "scheme-case-hook-token";

#[tokio::test]
async fn authorization_scheme_names_are_case_insensitive_everywhere_a_credential_is_read() {
    let app = spawn_app_with(|s| s.api_token = Some(API_TOKEN.into())).await;
    app.set_secret("HOOK_TOKEN", HOOK_TOKEN).await;
    let hook = app
        .import(&recipe(
            "by-token",
            "verify = \"token\"\nsecret = \"{{ secrets.HOOK_TOKEN }}\"",
            "http://127.0.0.1:9/x",
        ))
        .await;
    let basic = STANDARD.encode(format!("sender:{HOOK_TOKEN}"));

    for scheme in ["Basic", "basic", "BASIC", "bAsIc"] {
        let response = app
            .http
            .post(app.hook_url(&hook))
            .header("authorization", format!("{scheme} {basic}"))
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 202, "hook, {scheme}");
    }
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let response = app
            .http
            .post(app.hook_url(&hook))
            .header("authorization", format!("{scheme} {HOOK_TOKEN}"))
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 202, "hook, {scheme}");
        for path in ["/api/recipes", "/metrics"] {
            let response = app
                .http
                .get(format!("{}{path}", app.address))
                .header("authorization", format!("{scheme} {API_TOKEN}"))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200, "{path}, {scheme}");
        }
    }
    // A wrong password under a lower-case scheme is still refused.
    let wrong = STANDARD.encode("sender:wrong");
    let response = app
        .http
        .post(app.hook_url(&hook))
        .header("authorization", format!("basic {wrong}"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}

/// Every way the `token` preset takes its token, as its refusals must list them.
const WAYS: [&str; 4] = [
    "Authorization: Bearer <token>",
    "Authorization: Basic` (password = token)",
    "X-Webhook-Token",
    "?token=",
];

#[tokio::test]
async fn a_token_refusal_names_the_credential_it_got_and_lists_every_way_to_send_the_token() {
    let app = spawn_app_with(|_| {}).await;
    app.set_secret("HOOK_TOKEN", HOOK_TOKEN).await;
    let hook = app
        .import(&recipe(
            "by-token",
            "verify = \"token\"\nsecret = \"{{ secrets.HOOK_TOKEN }}\"",
            "http://127.0.0.1:9/x",
        ))
        .await;
    let send = |authorization: Option<&str>| {
        let request = app.http.post(app.hook_url(&hook)).body("{}");
        match authorization {
            Some(value) => request.header("authorization", value),
            None => request,
        }
        .send()
    };

    let scheme = refused_with(send(Some(&format!("Token {HOOK_TOKEN}"))).await.unwrap()).await;
    assert!(
        scheme.starts_with("`Authorization` scheme `Token` is not accepted"),
        "{scheme}"
    );
    let missing = refused_with(send(None).await.unwrap()).await;
    assert!(
        missing.starts_with("missing token: send it as"),
        "{missing}"
    );
    for text in [&scheme, &missing] {
        for way in WAYS {
            assert!(text.contains(way), "`{way}` in {text}");
        }
        assert!(!text.contains(HOOK_TOKEN), "{text}");
    }

    let basic = refused_with(send(Some("Basic not-base64!")).await.unwrap()).await;
    assert_eq!(
        basic,
        "`authorization` header is malformed: Basic credentials are not base64 of `user:password`"
    );
    let no_user = STANDARD.encode(HOOK_TOKEN);
    let basic = refused_with(send(Some(&format!("Basic {no_user}"))).await.unwrap()).await;
    assert!(basic.contains("not base64 of `user:password`"), "{basic}");
    assert_eq!(app.event_count().await, 0);
}
