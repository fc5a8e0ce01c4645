//! The hardened outbound HTTP client: no redirects, no proxies, and an SSRF guard that checks
//! the addresses actually connected to.

use std::error::Error as StdError;
use std::time::{Duration, Instant};

use reqwest::header::{HeaderName, HeaderValue};
use reqwest::{Method, Url};
use tokio::time::timeout_at;

use super::guard::{GuardedResolver, ResolveError};
pub use super::guard::{
    Lookup, OutboundAllow, OutboundError, OutboundPolicy, check_url, is_blocked_ip,
};
use super::retry_after::parse_retry_after;

/// The most of a response body that is read and recorded.
pub const SNIPPET_LIMIT: usize = 4096;

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
    /// Why no HTTP response arrived; on a failed HTTP response, a note on how it was read
    /// (a `Retry-After` that was not understood). None on a 2xx.
    pub error: Option<String>,
    pub retry_after: Option<Duration>,
    /// Refused before sending, for good (the caller does not retry): the SSRF guard refused
    /// the target, or the request cannot be built from this data (a template path missing).
    pub blocked: bool,
    /// The response kept whole (up to a size) when the caller asked for it ([`send_keeping`]).
    pub kept: Option<KeptResponse>,
}

/// A response kept for later use (a chained action's templates): headers (lower-case names)
/// and the body, at most the size asked for (`truncated` when it was longer).
#[derive(Debug, Clone, Default)]
pub struct KeptResponse {
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub truncated: bool,
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
        .dns_resolver(GuardedResolver::new(policy))
        .user_agent(concat!("Switchyard/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| OutboundError::Client(error_chain(&e)))
}

/// Makes one attempt. Never panics on bad input: every problem becomes an error result.
pub async fn send(
    client: &reqwest::Client,
    policy: &OutboundPolicy,
    req: OutboundRequest,
) -> AttemptResult {
    send_keeping(client, policy, req, None).await
}

/// [`send`], also keeping the response's headers and up to `keep` bytes of its body.
pub async fn send_keeping(
    client: &reqwest::Client,
    policy: &OutboundPolicy,
    req: OutboundRequest,
    keep: Option<usize>,
) -> AttemptResult {
    let started = Instant::now();
    let max_body = keep.map_or(SNIPPET_LIMIT, |keep| (keep + 1).max(SNIPPET_LIMIT));
    match exchange(client, policy, req, max_body).await {
        Ok(response) => AttemptResult {
            status: Some(response.status),
            duration: started.elapsed(),
            response_snippet: Some(
                String::from_utf8_lossy(&response.body[..response.body.len().min(SNIPPET_LIMIT)])
                    .into_owned(),
            ),
            kept: keep.map(|keep| KeptResponse {
                headers: response.headers.clone(),
                truncated: response.body.len() > keep,
                body: response.body[..response.body.len().min(keep)].to_vec(),
            }),
            error: response
                .retry_after
                .as_ref()
                .err()
                .filter(|_| !(200..300).contains(&response.status))
                .cloned(),
            retry_after: response.retry_after.ok().flatten(),
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
    /// Lower-case names, values as lossy UTF-8.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// False when reading the body failed or timed out before its end (or the limit).
    complete: bool,
    /// `Ok(None)` without the header; `Err(note)` when it was not understood.
    retry_after: Result<Option<Duration>, String>,
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
    let retry_after = match response.headers().get(reqwest::header::RETRY_AFTER) {
        None => Ok(None),
        Some(value) => parse_retry_after(
            &String::from_utf8_lossy(value.as_bytes()),
            chrono::Utc::now(),
        )
        .map(Some),
    };
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
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
        headers,
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
#[path = "client_tests.rs"]
mod tests;
