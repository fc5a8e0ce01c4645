//! Signed webhooks with a compressed body: every preset verifies a signature over the decoded
//! body (what senders that compress sign), and one over the compressed bytes as received; the
//! decoded body is what is stored. A signature over anything else is still refused.

use serde_json::Value;

use super::sign::{hex, mac, senders};
use super::{BODY, SECRET, import_with_secret, post, refused_with};
use crate::helpers::spawn_app;
use crate::ingest::encoding::gzip;

#[tokio::test]
async fn every_preset_verifies_a_gzip_body_signed_over_its_decoded_bytes() {
    for (preset, sender) in senders() {
        let app = spawn_app().await;
        let hook = import_with_secret(&app, preset, sender.webhook, "http://127.0.0.1:9/x").await;
        let signed = (sender.sign)(SECRET, BODY);

        let response = post(&app, &hook, BODY, &signed)
            .header("content-encoding", "gzip")
            .body(gzip(BODY.as_bytes()))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            202,
            "{preset}: {:?}",
            response.text().await
        );
        let id = response.json::<Value>().await.unwrap()["event_id"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(app.event(&id).await.event.body, BODY.as_bytes(), "{preset}");

        let tampered = gzip(BODY.replace("1200", "1300").as_bytes());
        let response = post(&app, &hook, BODY, &signed)
            .header("content-encoding", "gzip")
            .body(tampered)
            .send()
            .await
            .unwrap();
        refused_with(response).await;
        assert_eq!(app.event_count().await, 1, "{preset}");
    }
}

#[tokio::test]
async fn a_signature_over_the_compressed_bytes_as_received_verifies_too() {
    let app = spawn_app().await;
    let (preset, sender) = senders().into_iter().find(|(p, _)| *p == "github").unwrap();
    let hook = import_with_secret(&app, preset, sender.webhook, "http://127.0.0.1:9/x").await;
    let wire = gzip(BODY.as_bytes());
    let signature = format!("sha256={}", hex(&mac(SECRET.as_bytes(), &[&wire])));

    let response = post(&app, &hook, BODY, &[])
        .header("x-hub-signature-256", signature)
        .header("content-encoding", "gzip")
        .body(wire)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202, "{:?}", response.text().await);
    let id = response.json::<Value>().await.unwrap()["event_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(app.event(&id).await.event.body, BODY.as_bytes());
}
