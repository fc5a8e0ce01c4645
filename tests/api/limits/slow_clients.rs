//! Slow and oversized requests, sent by hand over a raw TCP connection: a head that never
//! ends, a body that trickles or stalls, and heads larger than actix-http accepts.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::hook_recipe;
use crate::helpers::{TestApp, spawn_app_with};

/// actix-http's limit on a request head (`MAX_BUFFER_SIZE` in its h1 decoder), and on the
/// number of headers (`MAX_HEADERS`).
const MAX_HEAD_BYTES: usize = 131_072;
const MAX_HEADERS: usize = 96;

async fn slow_app() -> TestApp {
    spawn_app_with(|s| {
        s.header_timeout = Duration::from_secs(1);
        s.body_timeout = Duration::from_secs(1);
    })
    .await
}

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.address.trim_start_matches("http://"))
        .await
        .expect("connects")
}

/// Reads until the server closes the connection (or `limit` passes); returns what it sent
/// and when it closed.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (String, Duration) {
    let started = Instant::now();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout_at((started + limit).into(), stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => answer.extend_from_slice(&buf[..n]),
            Err(_) => panic!(
                "connection still open after {limit:?}; got {:?}",
                String::from_utf8_lossy(&answer)
            ),
        }
    }
    (
        String::from_utf8_lossy(&answer).into_owned(),
        started.elapsed(),
    )
}

fn status_of(answer: &str) -> Option<u16> {
    answer.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

#[tokio::test]
async fn a_head_that_never_ends_is_cut_off_after_the_header_timeout() {
    let app = slow_app().await;
    let recipe = app.import(&hook_recipe("slowloris")).await;
    let mut stream = connect(&app).await;
    let head = format!(
        "POST /hooks/{} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n",
        recipe.webhook_token
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    // ...and nothing more: the blank line that ends the head never comes.
    let (answer, after) = read_until_closed(&mut stream, Duration::from_secs(10)).await;
    assert!(
        after >= Duration::from_millis(900) && after < Duration::from_secs(4),
        "closed after {after:?}"
    );
    assert!(
        answer.is_empty() || status_of(&answer) == Some(408),
        "{answer:?}"
    );
    assert_eq!(app.event_count().await, 0);
}

#[tokio::test]
async fn a_body_that_stalls_or_trickles_gets_408_and_stores_nothing() {
    let app = slow_app().await;
    let recipe = app.import(&hook_recipe("trickle")).await;
    let head = format!(
        "POST /hooks/{} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n",
        recipe.webhook_token
    );

    // Half the body, then silence.
    let mut stalled = connect(&app).await;
    stalled.write_all(head.as_bytes()).await.unwrap();
    stalled.write_all(b"{\"half\": \"of it").await.unwrap();
    let (answer, after) = read_until_closed(&mut stalled, Duration::from_secs(10)).await;
    assert_eq!(status_of(&answer), Some(408), "{answer:?}");
    assert!(
        answer.contains("the request body did not arrive within 1s"),
        "{answer:?}"
    );
    assert!(after < Duration::from_secs(4), "answered after {after:?}");

    // One byte every 100 ms: never silent for long, but the body would take 10 s.
    let mut trickle = connect(&app).await;
    trickle.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    let mut answer = String::new();
    for _ in 0..100 {
        if trickle.write_all(b" ").await.is_err() {
            break;
        }
        let mut buf = [0u8; 1024];
        if let Ok(Ok(n @ 1..)) =
            tokio::time::timeout(Duration::from_millis(100), trickle.read(&mut buf)).await
        {
            answer = String::from_utf8_lossy(&buf[..n]).into_owned();
            break;
        }
    }
    assert_eq!(status_of(&answer), Some(408), "{answer:?}");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "answered after {:?}",
        started.elapsed()
    );

    assert_eq!(app.event_count().await, 0, "nothing stored");
    // The server is fine, and a prompt body is still accepted.
    let fine = app
        .post_json(&recipe, &serde_json::json!({ "on": "time" }))
        .await;
    assert_eq!(fine.status(), 202);
}

/// Sends a whole request (the server may answer and close before reading it all) and
/// returns the status of the answer.
async fn send_raw(app: &TestApp, request: &[u8]) -> Option<u16> {
    let mut stream = connect(app).await;
    let _ = stream.write_all(request).await;
    let (answer, _) = read_until_closed(&mut stream, Duration::from_secs(10)).await;
    status_of(&answer)
}

#[tokio::test]
async fn oversized_heads_get_431_and_the_server_goes_on() {
    let app = slow_app().await;
    let recipe = app.import(&hook_recipe("big-heads")).await;
    let request = |headers: &str| {
        format!(
            "POST /hooks/{} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n{headers}\
             content-length: 2\r\nconnection: close\r\n\r\n{{}}",
            recipe.webhook_token
        )
    };

    // One header line larger than the whole head may be.
    let huge = format!("x-huge: {}\r\n", "a".repeat(MAX_HEAD_BYTES + 1024));
    let status = send_raw(&app, request(&huge).as_bytes()).await;
    assert!(matches!(status, Some(431 | 400)), "{status:?}");

    // More header lines than actix-http has room for.
    let many: String = (0..MAX_HEADERS + 4)
        .map(|i| format!("x-h{i}: {i}\r\n"))
        .collect();
    let status = send_raw(&app, request(&many).as_bytes()).await;
    assert!(matches!(status, Some(431 | 400)), "{status:?}");

    // A large but acceptable header still works, and nothing was stored before.
    assert_eq!(app.event_count().await, 0);
    let large = format!("x-large: {}\r\n", "b".repeat(32 * 1024));
    assert_eq!(send_raw(&app, request(&large).as_bytes()).await, Some(202));
    assert_eq!(app.get("/healthz").await.status(), 200);
}
