//! Authorization scheme names are case-insensitive (RFC 9110 §11.1) everywhere a credential
//! is read: a token-verified hook (Basic, Bearer), the API and `/metrics` (Bearer).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::recipe;
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
