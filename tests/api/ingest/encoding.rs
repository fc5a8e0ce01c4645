//! Request bodies at the edge: `Content-Encoding` (gzip, deflate; others 415), the body limit
//! on the decoded size, and empty bodies (an empty event, `{}`, whatever the declared type and
//! encoding).

use std::io::Write;

use flate2::Compression;
use flate2::write::{DeflateEncoder, GzEncoder, ZlibEncoder};
use serde_json::{Value, json};
use switchyard::store::EventStatus;

use super::{error_of, plain_recipe};
use crate::helpers::{TestApp, WAIT, spawn_app, spawn_app_with};
use crate::receiver::Receiver;

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn zlib(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = ZlibEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn raw_deflate(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = DeflateEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

async fn post_encoded(
    app: &TestApp,
    recipe: &switchyard::store::StoredRecipe,
    content_type: Option<&str>,
    encoding: &str,
    body: Vec<u8>,
) -> reqwest::Response {
    let mut request = app
        .http
        .post(app.hook_url(recipe))
        .header("content-encoding", encoding)
        .body(body);
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    request.send().await.unwrap()
}

async fn event_id(response: reqwest::Response) -> String {
    assert_eq!(response.status(), 202, "{:?}", response.text().await);
    let answer: Value = response.json().await.unwrap();
    answer["event_id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn gzip_and_deflate_json_bodies_are_decoded_stored_and_delivered_as_json() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    let recipe = app
        .import(&plain_recipe("zipped", "", "", &receiver.url("/in")))
        .await;
    let raw = br#"{"order": "o1", "total": 12}"#;
    let cases = [
        ("gzip", gzip(raw)),
        ("x-gzip", gzip(raw)),
        ("deflate", zlib(raw)),
        ("deflate", raw_deflate(raw)),
        ("gzip, gzip", gzip(&gzip(raw))),
        ("identity", raw.to_vec()),
    ];
    let count = cases.len();
    for (encoding, body) in cases {
        let response = post_encoded(&app, &recipe, Some("application/json"), encoding, body).await;
        let id = event_id(response).await;
        let stored = app.event(&id).await.event;
        assert_eq!(stored.body, raw, "{encoding}: the decoded bytes are stored");
        assert_eq!(
            stored.payload,
            json!({ "order": "o1", "total": 12 }),
            "{encoding}"
        );
        app.wait_for_event(&id, |d| d.event.status == EventStatus::Delivered)
            .await;
    }
    for delivered in receiver.wait_for(count, WAIT).await {
        assert_eq!(delivered.json(), json!({ "order": "o1", "total": 12 }));
    }
}

#[tokio::test]
async fn a_gzip_text_body_is_stored_as_the_decoded_text() {
    let app = spawn_app().await;
    let recipe = app
        .import(&plain_recipe("text", "", "", "http://127.0.0.1:9/x"))
        .await;
    let response = post_encoded(&app, &recipe, Some("text/plain"), "gzip", gzip(b"hello")).await;
    let stored = app.event(&event_id(response).await).await.event;
    assert_eq!(stored.payload, json!("hello"));
    assert_eq!(stored.body, b"hello");
}

#[tokio::test]
async fn an_unsupported_content_encoding_is_415_with_accept_encoding_and_stores_nothing() {
    let app = spawn_app().await;
    let recipe = app
        .import(&plain_recipe("picky", "", "", "http://127.0.0.1:9/x"))
        .await;
    for encoding in ["br", "zstd", "gzip, br", "compress"] {
        let response = post_encoded(
            &app,
            &recipe,
            Some("application/json"),
            encoding,
            b"{}".to_vec(),
        )
        .await;
        assert_eq!(response.status(), 415, "{encoding}");
        assert_eq!(response.headers()["accept-encoding"], "gzip, deflate");
        let error = error_of(response).await;
        assert!(error.contains("is not supported"), "{encoding}: {error}");
    }
    assert_eq!(app.event_count().await, 0);
}

#[tokio::test]
async fn a_decompression_bomb_is_413_and_stores_nothing() {
    let app = spawn_app_with(|s| s.body_limit = 1024 * 1024).await;
    let recipe = app
        .import(&plain_recipe("bomb", "", "", "http://127.0.0.1:9/x"))
        .await;
    // 10 MB of zeros in about 10 KB: small on the wire, over the limit once decoded.
    let bomb = gzip(&vec![0u8; 10 * 1024 * 1024]);
    assert!(bomb.len() < 64 * 1024);
    let response = post_encoded(&app, &recipe, Some("text/plain"), "gzip", bomb).await;
    assert_eq!(response.status(), 413);
    assert!(
        error_of(response)
            .await
            .contains("larger than the limit of 1048576 bytes")
    );

    let response = post_encoded(&app, &recipe, None, "gzip", b"not gzip".to_vec()).await;
    assert_eq!(response.status(), 400);
    assert!(error_of(response).await.contains("not valid gzip"));
    assert_eq!(app.event_count().await, 0);
}

#[tokio::test]
async fn an_empty_body_is_an_empty_event_whatever_the_content_type() {
    let app = spawn_app().await;
    let recipe = app
        .import(&plain_recipe("pings", "", "", "http://127.0.0.1:9/x"))
        .await;
    for content_type in [
        Some("application/json"),
        Some("application/json; charset=utf-8"),
        Some("application/x-www-form-urlencoded"),
        Some("text/plain"),
        None,
    ] {
        let response = app.post_raw(&recipe, content_type, "").await;
        let id = event_id(response).await;
        assert_eq!(
            app.event(&id).await.event.payload,
            json!({}),
            "{content_type:?}"
        );
    }
    let response = post_encoded(&app, &recipe, Some("application/json"), "gzip", gzip(b"")).await;
    let id = event_id(response).await;
    assert_eq!(
        app.event(&id).await.event.payload,
        json!({}),
        "empty once decoded"
    );
}

#[tokio::test]
async fn an_empty_body_is_an_empty_event_whatever_the_content_encoding() {
    let app = spawn_app().await;
    let recipe = app
        .import(&plain_recipe("empty-pings", "", "", "http://127.0.0.1:9/x"))
        .await;
    // Zero bytes on the wire decode to zero bytes, also under a coding this server refuses.
    let encodings = [
        "gzip",
        "x-gzip",
        "deflate",
        "gzip, deflate",
        "identity",
        "br",
    ];
    let types = [
        Some("application/json"),
        Some("application/x-www-form-urlencoded"),
        Some("text/plain"),
        None,
    ];
    for encoding in encodings {
        for content_type in types {
            let response = post_encoded(&app, &recipe, content_type, encoding, Vec::new()).await;
            let id = event_id(response).await;
            let stored = app.event(&id).await.event;
            let case = format!("{encoding} / {content_type:?}");
            assert_eq!(stored.payload, json!({}), "{case}");
            assert!(stored.body.is_empty(), "{case}");
        }
    }
    // A body that is not empty still has to be what its coding says.
    let response = post_encoded(&app, &recipe, None, "br", b"x".to_vec()).await;
    assert_eq!(response.status(), 415);
    let response = post_encoded(&app, &recipe, None, "gzip", b"x".to_vec()).await;
    assert_eq!(response.status(), 400);
    assert!(error_of(response).await.contains("not valid gzip"));
}
