use super::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const ALLOW: OutboundPolicy = policy(true);
const GUARD: OutboundPolicy = policy(false);

const fn policy(allow_private_targets: bool) -> OutboundPolicy {
    OutboundPolicy {
        allow_private_targets,
        allow: OutboundAllow::EMPTY,
        lookup: None,
    }
}

/// Answers every connection with `response` (or never answers when it is None) and counts
/// the connections accepted.
async fn serve(response: Option<Vec<u8>>) -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            let response = response.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 16 * 1024];
                let mut seen = Vec::new();
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                if let Some(bytes) = response {
                    let _ = sock.write_all(&bytes).await;
                }
                // Hold the connection open: a client waiting for more would hang.
                tokio::time::sleep(Duration::from_secs(30)).await;
            });
        }
    });
    (port, hits)
}

fn http(status_line: &str, extra: &str, body: &[u8]) -> Option<Vec<u8>> {
    let head = format!(
        "HTTP/1.1 {status_line}\r\n{extra}content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    Some([head.as_bytes(), body].concat())
}

fn get(url: String) -> OutboundRequest {
    OutboundRequest {
        method: Method::POST,
        url,
        headers: vec![("content-type".into(), "application/json".into())],
        body: b"{}".to_vec(),
        timeout: Duration::from_secs(5),
    }
}

#[tokio::test]
async fn guard_refuses_loopback_literal_and_localhost() {
    let (port, hits) = serve(http("200 OK", "", b"hi")).await;
    let client = build_client(&GUARD);
    for url in [
        format!("http://127.0.0.1:{port}/"),
        format!("http://localhost:{port}/x"),
    ] {
        let r = send(&client, &GUARD, get(url)).await;
        assert!(r.blocked && r.status.is_none() && !r.succeeded(), "{r:?}");
        assert!(
            r.error
                .unwrap()
                .contains("SWITCHYARD_ALLOW_PRIVATE_TARGETS=true")
        );
    }
    // Bypass check_url: the resolver itself must refuse what `localhost` resolves to.
    let err = client
        .get(format!("http://localhost:{port}/"))
        .send()
        .await
        .unwrap_err();
    let (msg, blocked) = describe(&err, &Url::parse("http://localhost/").unwrap());
    assert!(blocked, "{msg}");
    assert!(
        msg.starts_with(
            "refused: localhost resolves only to refused addresses: 127.0.0.1 is in the \
             loopback range (127.0.0.0/8)"
        ),
        "{msg}"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn allowed_private_target_gets_status_and_snippet() {
    let (port, hits) = serve(http("200 OK", "", b"hello there")).await;
    let client = try_build_client(&ALLOW).unwrap();
    let r = send(&client, &ALLOW, get(format!("http://localhost:{port}/"))).await;
    assert!(r.succeeded(), "{r:?}");
    assert_eq!((r.status, r.error, r.blocked), (Some(200), None, false));
    assert_eq!(r.response_snippet.as_deref(), Some("hello there"));
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let (port, hits) = serve(http("302 Found", "location: http://127.0.0.1:1/\r\n", b"")).await;
    let client = build_client(&ALLOW);
    let r = send(&client, &ALLOW, get(format!("http://127.0.0.1:{port}/"))).await;
    assert_eq!(r.status, Some(302));
    assert!(!r.succeeded() && r.error.is_none());
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn large_body_yields_4096_byte_snippet() {
    // Announces 2 MB but sends 1 MB: reading past the snippet would stall until the timeout.
    let head = "HTTP/1.1 500 Internal Server Error\r\ncontent-length: 2097152\r\n\r\n";
    let (port, _) = serve(Some([head.as_bytes(), &vec![b'x'; 1 << 20]].concat())).await;
    let client = build_client(&ALLOW);
    let r = send(&client, &ALLOW, get(format!("http://127.0.0.1:{port}/"))).await;
    assert!(r.duration < Duration::from_secs(2), "{:?}", r.duration);
    assert_eq!(r.status, Some(500));
    assert!(!r.succeeded());
    assert_eq!(r.response_snippet.unwrap().len(), SNIPPET_LIMIT);
}

#[tokio::test]
async fn silent_server_times_out() {
    let (port, _) = serve(None).await;
    let client = build_client(&ALLOW);
    let mut req = get(format!("http://127.0.0.1:{port}/"));
    req.timeout = Duration::from_millis(300);
    let r = send(&client, &ALLOW, req).await;
    assert_eq!(r.error.as_deref(), Some("timed out after 300ms"));
    assert!(r.status.is_none() && !r.blocked);
    assert!(r.duration >= Duration::from_millis(300) && r.duration < Duration::from_secs(3));
}

#[tokio::test]
async fn retry_after_and_connection_refused() {
    let (port, _) = serve(http("503 Service Unavailable", "retry-after: 7\r\n", b"")).await;
    let client = build_client(&ALLOW);
    let r = send(&client, &ALLOW, get(format!("http://127.0.0.1:{port}/"))).await;
    assert_eq!(
        (r.status, r.retry_after),
        (Some(503), Some(Duration::from_secs(7)))
    );

    // Bind then drop a listener to find a port nobody listens on.
    let closed = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let r = send(&client, &ALLOW, get(format!("http://{closed}/"))).await;
    assert_eq!(r.error, Some(format!("connection refused ({closed})")));
    assert!(!r.blocked && r.status.is_none());
}

#[tokio::test]
async fn bad_input_is_an_error_result() {
    let client = build_client(&ALLOW);
    let mut req = get("http://127.0.0.1:1/".into());
    req.headers.push(("bad name".into(), "v".into()));
    let r = send(&client, &ALLOW, req).await;
    assert_eq!(r.error.as_deref(), Some("invalid header name `bad name`"));
    let mut req = get("http://127.0.0.1:1/".into());
    req.headers.push(("x-ok".into(), "line\nbreak".into()));
    let r = send(&client, &ALLOW, req).await;
    assert!(r.error.unwrap().contains("`x-ok`"));
    let r = send(&client, &ALLOW, get("not a url".into())).await;
    assert!(r.error.unwrap().starts_with("invalid URL"));
    let r = send(&client, &ALLOW, get("ftp://example.com/".into())).await;
    assert!(r.blocked && r.error.unwrap().contains("scheme `ftp`"));
}
