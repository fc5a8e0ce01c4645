//! HEAD on an `allow_get` hook answers what GET would (RFC 9110 §9.3.2): every preset checks
//! the credentials of a HEAD as it checks a GET's, counts a refusal, and stores nothing.

use reqwest::Method;

use super::import_with_secret;
use super::sign::{Headers, Sender, pair, senders};
use super::{SECRET, refused_with};
use crate::helpers::spawn_app;

fn token(secret: &str, _body: &str) -> Headers {
    vec![pair("X-Webhook-Token", secret.to_owned())]
}

fn every_preset() -> Vec<(&'static str, Sender)> {
    let mut presets = senders();
    presets.push((
        "token",
        Sender {
            webhook: "verify = \"token\"",
            sign: token,
        },
    ));
    presets
}

#[tokio::test]
async fn head_with_valid_credentials_is_200_and_without_is_401_for_every_preset() {
    for (preset, sender) in every_preset() {
        let app = spawn_app().await;
        let webhook = format!("{}\nallow_get = true", sender.webhook);
        let hook = import_with_secret(&app, preset, &webhook, "http://127.0.0.1:9/x").await;
        // A HEAD has no body: the signature is over the empty body, as a GET's would be.
        let head = |headers: Headers| {
            headers.into_iter().fold(
                app.http.request(Method::HEAD, app.hook_url(&hook)),
                |request, (name, value)| request.header(name, value),
            )
        };

        let signed = head((sender.sign)(SECRET, "")).send().await.unwrap();
        assert_eq!(signed.status(), 200, "{preset}: valid credentials");
        assert!(
            signed.bytes().await.unwrap().is_empty(),
            "{preset}: no body"
        );

        let unsigned = head(Vec::new()).send().await.unwrap();
        assert_eq!(unsigned.status(), 401, "{preset}: no credentials");
        let wrong = head((sender.sign)("another secret", ""))
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status(), 401, "{preset}: another secret");

        // The GET it stands for is refused the same way, with the reason in its body.
        let get = app.http.get(app.hook_url(&hook)).send().await.unwrap();
        refused_with(get).await;
        assert_eq!(
            app.event_count().await,
            0,
            "{preset}: a HEAD stores nothing"
        );
        let refusals = app.store.list_refusals().await.unwrap();
        assert_eq!(refusals[0].count, 3, "{preset}: HEAD refusals are counted");
    }
}
