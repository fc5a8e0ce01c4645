//! The hardened outbound HTTP client: no redirects, no proxies, and an SSRF guard that checks
//! the addresses actually connected to.

use std::error::Error as StdError;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{HeaderName, HeaderValue};
use reqwest::{Method, Url};
use tokio::time::timeout_at;

use super::retry::parse_retry_after;

/// The most of a response body that is read and recorded.
pub const SNIPPET_LIMIT: usize = 4096;
const ALLOW_HINT: &str = "set SWITCHYARD_ALLOW_PRIVATE_TARGETS=true to allow";

#[derive(Debug, Clone)]
pub struct OutboundPolicy {
    pub allow_private_targets: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutboundError {
    /// The SSRF guard refused the target; retrying will not help.
    #[error("refused: {0}")]
    Blocked(String),
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
}

pub struct OutboundRequest {
    pub method: Method,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub timeout: Duration,
}

#[derive(Debug, Clone, Default)]
pub struct AttemptResult {
    /// None when no response arrived (connect error, timeout, refused).
    pub status: Option<u16>,
    pub duration: Duration,
    /// The first 4 KiB of the response body, lossy UTF-8.
    pub response_snippet: Option<String>,
    /// Why no HTTP response arrived; None on any HTTP response.
    pub error: Option<String>,
    pub retry_after: Option<Duration>,
    /// The SSRF guard refused the target (the caller does not retry).
    pub blocked: bool,
}

impl AttemptResult {
    /// 2xx only; a 3xx (not followed) is a failure.
    pub fn succeeded(&self) -> bool {
        matches!(self.status, Some(200..=299))
    }

    fn failed(error: String, blocked: bool, started: Instant) -> Self {
        AttemptResult {
            error: Some(error),
            blocked,
            duration: started.elapsed(),
            ..Default::default()
        }
    }
}

/// Builds the outbound client.
///
/// # Panics
/// When TLS cannot be set up (e.g. the system has no CA certificates); use [`try_build_client`]
/// to report that instead.
pub fn build_client(policy: &OutboundPolicy) -> reqwest::Client {
    try_build_client(policy).unwrap_or_else(|e| panic!("{e}"))
}

/// Builds the outbound client. Fails only when TLS cannot be set up (on Linux: no CA
/// certificates found in the system store).
pub fn try_build_client(policy: &OutboundPolicy) -> Result<reqwest::Client, OutboundError> {
    // reqwest's `rustls-no-provider` feature panics at build time without a process default.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .tls_backend_rustls()
        .redirect(reqwest::redirect::Policy::none())
        // A proxy would resolve and connect on our behalf, bypassing the guarded resolver.
        .no_proxy()
        .dns_resolver(GuardedResolver {
            allow_private: policy.allow_private_targets,
        })
        .user_agent(concat!("Switchyard/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| OutboundError::Client(error_chain(&e)))
}

/// Loopback, private, link-local (incl. cloud metadata), unspecified, CGNAT, broadcast and
/// multicast addresses, also when IPv4-mapped or NAT64-embedded in IPv6.
pub fn is_blocked_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_blocked_v4(v4),
        IpAddr::V6(v6) => {
            let seg = v6.segments();
            // ::ffff:a.b.c.d and the deprecated ::a.b.c.d (also covers :: and ::1).
            if let Some(v4) = v6.to_ipv4() {
                return is_blocked_v4(v4);
            }
            if seg[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                let [.., a, b, c, d] = v6.octets();
                return is_blocked_v4(Ipv4Addr::new(a, b, c, d));
            }
            (seg[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (seg[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
                || (seg[0] & 0xffc0) == 0xfec0 // deprecated site-local fec0::/10
                || v6.is_multicast()
        }
    }
}

fn is_blocked_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || a == 0 // 0.0.0.0/8, "this network"
        || (a == 100 && (b & 0xc0) == 64) // 100.64.0.0/10 shared address space
        || ip.is_broadcast()
        || ip.is_multicast()
}

/// Checks what the resolver never sees: the scheme, IP-literal hosts and `localhost`.
pub fn check_url(url: &Url, policy: &OutboundPolicy) -> Result<(), OutboundError> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(OutboundError::Blocked(format!(
            "scheme `{}` is not allowed (use http or https)",
            url.scheme()
        )));
    }
    let host = url
        .host_str()
        .ok_or_else(|| OutboundError::Blocked("the URL has no host".to_string()))?;
    if policy.allow_private_targets {
        return Ok(());
    }
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let refused = match bare.parse::<IpAddr>() {
        Ok(ip) => is_blocked_ip(ip),
        Err(_) => {
            let name = bare.trim_end_matches('.').to_ascii_lowercase();
            name == "localhost" || name.ends_with(".localhost")
        }
    };
    if refused {
        return Err(OutboundError::Blocked(format!(
            "{bare} is a private/loopback address; {ALLOW_HINT}"
        )));
    }
    Ok(())
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct ResolveError(String);

/// Resolves with the system resolver and drops blocked addresses, so the address checked is the
/// address connected to.
struct GuardedResolver {
    allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|e| ResolveError(format!("could not resolve `{host}`: {e}")))?
                .collect();
            if allow_private {
                return Ok(Box::new(addrs.into_iter()) as Addrs);
            }
            let (allowed, refused): (Vec<_>, Vec<_>) =
                addrs.into_iter().partition(|a| !is_blocked_ip(a.ip()));
            if allowed.is_empty() && !refused.is_empty() {
                let mut ips: Vec<String> = Vec::new();
                for ip in refused.iter().map(|a| a.ip().to_string()) {
                    if !ips.contains(&ip) {
                        ips.push(ip);
                    }
                }
                return Err(OutboundError::Blocked(format!(
                    "{host} resolves only to private/loopback addresses ({}); {ALLOW_HINT}",
                    ips.join(", ")
                ))
                .into());
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

/// Makes one attempt. Never panics on bad input: every problem becomes an error result.
pub async fn send(
    client: &reqwest::Client,
    policy: &OutboundPolicy,
    req: OutboundRequest,
) -> AttemptResult {
    let started = Instant::now();
    match exchange(client, policy, req, SNIPPET_LIMIT).await {
        Ok(response) => AttemptResult {
            status: Some(response.status),
            duration: started.elapsed(),
            response_snippet: Some(String::from_utf8_lossy(&response.body).into_owned()),
            error: None,
            retry_after: response.retry_after,
            blocked: false,
        },
        Err((error, blocked)) => AttemptResult::failed(error, blocked, started),
    }
}

/// For polls: the status and the whole body, refusing a body larger than `max_body` or one
/// that breaks off.
pub async fn fetch(
    client: &reqwest::Client,
    policy: &OutboundPolicy,
    req: OutboundRequest,
    max_body: usize,
) -> Result<(u16, Vec<u8>), String> {
    let response = exchange(client, policy, req, max_body + 1)
        .await
        .map_err(|(error, _)| error)?;
    if response.body.len() > max_body {
        return Err(format!("response body is larger than {max_body} bytes"));
    }
    if !response.complete {
        return Err("the response body broke off or timed out".into());
    }
    Ok((response.status, response.body))
}

struct Exchanged {
    status: u16,
    body: Vec<u8>,
    /// False when reading the body failed or timed out before its end (or the limit).
    complete: bool,
    retry_after: Option<Duration>,
}

/// One request through the guard; reads at most `max_body` bytes of the response.
/// Errors carry whether the SSRF guard refused the target.
async fn exchange(
    client: &reqwest::Client,
    policy: &OutboundPolicy,
    req: OutboundRequest,
    max_body: usize,
) -> Result<Exchanged, (String, bool)> {
    let deadline = tokio::time::Instant::now() + req.timeout;
    // The URL may embed a secret (e.g. a Slack webhook), so messages show only the host.
    let url = Url::parse(&req.url).map_err(|e| (format!("invalid URL: {e}"), false))?;
    check_url(&url, policy).map_err(|e| (e.to_string(), true))?;
    let mut builder = client.request(req.method, url.clone());
    for (name, value) in &req.headers {
        let header = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| (format!("invalid header name `{name}`"), false))?;
        let value = HeaderValue::from_str(value).map_err(|_| {
            let msg =
                format!("invalid value for header `{name}` (control characters or non-ASCII)");
            (msg, false)
        })?;
        builder = builder.header(header, value);
    }
    let timed_out = || {
        format!(
            "timed out after {}",
            humantime::format_duration(req.timeout)
        )
    };
    let mut response = match timeout_at(deadline, builder.body(req.body).send()).await {
        Err(_) => return Err((timed_out(), false)),
        Ok(Err(e)) => return Err(describe(&e, &url)),
        Ok(Ok(response)) => response,
    };
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, chrono::Utc::now()));
    let status = response.status().as_u16();
    // A body that stalls or breaks after the status arrived still counts as a response.
    let mut body = Vec::new();
    let mut complete = true;
    while body.len() < max_body {
        match timeout_at(deadline, response.chunk()).await {
            Ok(Ok(Some(chunk))) => body.extend_from_slice(&chunk),
            Ok(Ok(None)) => break,
            _ => {
                complete = false;
                break;
            }
        }
    }
    body.truncate(max_body);
    Ok(Exchanged {
        status,
        body,
        complete,
        retry_after,
    })
}

/// A clear message for a failed request, and whether the SSRF guard refused it.
fn describe(err: &reqwest::Error, url: &Url) -> (String, bool) {
    let target = format!(
        "{}:{}",
        url.host_str().unwrap_or_default(),
        url.port_or_known_default().unwrap_or_default()
    );
    let mut source: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = source {
        if let Some(blocked) = e.downcast_ref::<OutboundError>() {
            return (blocked.to_string(), true);
        }
        if let Some(failed) = e.downcast_ref::<ResolveError>() {
            return (failed.0.clone(), false);
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            // TLS layers wrap the socket's io::Error in another one whose source() skips it.
            let inner = io
                .get_ref()
                .and_then(|i| i.downcast_ref::<std::io::Error>());
            if let Some(what) = connection_problem(inner.unwrap_or(io).kind()) {
                return (format!("{what} ({target})"), false);
            }
        }
        source = e.source();
    }
    (
        format!("request to {target} failed: {}", error_chain(err)),
        false,
    )
}

fn connection_problem(kind: std::io::ErrorKind) -> Option<&'static str> {
    use std::io::ErrorKind::*;
    Some(match kind {
        ConnectionRefused => "connection refused",
        ConnectionReset => "connection reset by peer",
        ConnectionAborted => "connection aborted",
        HostUnreachable => "host unreachable",
        NetworkUnreachable => "network unreachable",
        _ => return None,
    })
}

/// The Display text of an error's sources, without reqwest's own top line (which carries the
/// full URL).
fn error_chain(err: &reqwest::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut source = err.source();
    while let Some(e) = source {
        let text = e.to_string();
        if !parts.contains(&text) {
            parts.push(text);
        }
        source = e.source();
    }
    if parts.is_empty() {
        parts.push(
            if err.is_builder() {
                "invalid request"
            } else {
                "request error"
            }
            .to_string(),
        );
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
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
                "refused: localhost resolves only to private/loopback addresses (127.0.0.1"
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

    #[test]
    fn blocked_ip_table() {
        let blocked = "127.0.0.1 127.255.255.254 10.0.0.5 172.16.0.1 172.31.255.255 192.168.1.1 \
            169.254.169.254 169.254.0.1 0.0.0.0 100.64.0.1 100.127.255.255 255.255.255.255 \
            ::1 :: fc00::1 fd12:3456::1 fe80::1 febf::1 ::ffff:127.0.0.1 ::ffff:10.0.0.5 \
            ::ffff:169.254.169.254 64:ff9b::a00:5";
        let public = "8.8.8.8 1.1.1.1 172.15.255.255 172.32.0.1 100.63.255.255 100.128.0.1 \
            169.255.0.1 11.0.0.1 2606:4700::1111 ::ffff:8.8.8.8 64:ff9b::808:808";
        for ip in blocked.split_whitespace() {
            assert!(is_blocked_ip(ip.parse().unwrap()), "{ip} should be blocked");
        }
        for ip in public.split_whitespace() {
            assert!(!is_blocked_ip(ip.parse().unwrap()), "{ip} should pass");
        }
    }

    #[test]
    fn check_url_table() {
        let check = |u: &str, p: &OutboundPolicy| check_url(&Url::parse(u).unwrap(), p);
        let private = "http://10.1.2.3/ https://[::1]:8443/ http://2130706433/ \
            http://[::ffff:7f00:1]/ http://LOCALHOST./ http://api.localhost/";
        for u in private.split_whitespace() {
            let refused = check(u, &GUARD);
            assert!(matches!(refused, Err(OutboundError::Blocked(_))), "{u}");
            assert_eq!(check(u, &ALLOW), Ok(()), "{u}");
        }
        let public = "https://example.com/hook http://8.8.8.8:8080/ https://[2606:4700::1111]/";
        for u in public.split_whitespace() {
            assert_eq!(check(u, &GUARD), Ok(()), "{u}");
        }
        for u in [
            "ftp://example.com/",
            "file:///etc/passwd",
            "gopher://x.org/",
        ] {
            let err = check(u, &ALLOW).unwrap_err().to_string();
            assert!(err.contains("not allowed"), "{u}: {err}");
        }
        let err = check("http://10.0.0.5/", &GUARD).unwrap_err().to_string();
        let want = "refused: 10.0.0.5 is a private/loopback address; set \
                    SWITCHYARD_ALLOW_PRIVATE_TARGETS=true to allow";
        assert_eq!(err, want);
    }
}
