//! The recipe page's "Try it with curl" is accepted as shown: for a recipe that checks a
//! provider's signature the command signs its body (run here with bash, openssl and curl
//! against the real server), and where it cannot sign it says the request will be refused.

use super::form_post::{ok_html, unescape};
#[allow(clippy::wildcard_imports)]
use super::*;

fn recipe(id: &str, verify: &str) -> String {
    format!(
        "id = \"{id}\"\nname = \"{id}\"\n\n[trigger.webhook]\nverify = \"{verify}\"\nsecret = \"{{{{ secrets.HOOK_SECRET }}}}\"\n\n[[action]]\nname = \"a\"\nurl = \"https://hooks.example.com/a\"\n"
    )
}

fn curl_of(html: &str) -> String {
    let start = html.find("id=\"curl-example\"").expect("a curl example");
    let body = &html[start..];
    let body = &body[body.find('>').unwrap() + 1..];
    unescape(&body[..body.find("</pre>").unwrap()])
}

#[tokio::test]
async fn the_curl_of_a_signed_recipe_signs_and_is_accepted() {
    let (app, browser) = logged_in().await;
    app.set_secret("HOOK_SECRET", "whsec_test_secret_value")
        .await;
    let engine = ScriptEngine::new(ScriptLimits::default());
    for verify in ["github", "stripe", "slack", "shopify"] {
        let id = format!("signed-{verify}");
        import_source(
            app.store.as_ref(),
            &engine,
            &recipe(&id, verify),
            None,
            "test",
        )
        .await
        .expect("imports");
        let stored = app.store.get_recipe(&id).await.unwrap().unwrap();
        let html = ok_html(browser.get(&format!("/recipes/{id}")).await).await;
        let curl = curl_of(&html);
        assert!(curl.contains("export HOOK_SECRET"), "{curl}");
        let url = curl[curl.find("curl -X POST '").unwrap() + 14..]
            .split('\'')
            .next()
            .unwrap()
            .to_owned();
        let curl = curl.replace(&url, &app.hook_url(&stored)).replace(
            "curl -X POST",
            "curl -s -o /dev/null -w '%{http_code}' -X POST",
        );
        // tokio's Command: the server answering runs on this test's runtime.
        let out = tokio::process::Command::new("bash")
            .arg("-c")
            .arg(&curl)
            .env("HOOK_SECRET", "whsec_test_secret_value")
            .output()
            .await
            .expect("bash runs");
        let code = String::from_utf8_lossy(&out.stdout).to_string();
        assert_eq!(
            code,
            "202",
            "{verify}: {curl}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[tokio::test]
async fn a_curl_that_cannot_sign_says_it_will_be_refused() {
    let (app, browser) = logged_in().await;
    let engine = ScriptEngine::new(ScriptLimits::default());
    import_source(
        app.store.as_ref(),
        &engine,
        &recipe("std", "standard-webhooks"),
        None,
        "test",
    )
    .await
    .expect("imports");
    let html = ok_html(browser.get("/recipes/std").await).await;
    let curl = curl_of(&html);
    assert!(curl.starts_with("# Unsigned: this recipe checks a standard-webhooks signature, so this request is refused"), "{curl}");
}
