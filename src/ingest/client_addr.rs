//! The client address a webhook's `allow_from` judges: the TCP peer, or, when the peer is a
//! trusted proxy (`SWITCHYARD_TRUSTED_PROXIES`), the address its forwarding headers name.
//!
//! The chain walk is the one MDN documents for `X-Forwarded-For` ("Selecting an IP address",
//! <https://developer.mozilla.org/en-US/docs/Web/HTTP/Reference/Headers/X-Forwarded-For>): only
//! the rightmost entries are trustworthy, each appended by a proxy we trust about the hop before
//! it. So the entries are read from the right, skipping addresses inside trusted proxies; the
//! first one that is not is the client. Anything left of it was written by the client itself and
//! is ignored. If the peer is not a trusted proxy, the headers are ignored entirely.
//!
//! `Forwarded` (RFC 7239, <https://www.rfc-editor.org/rfc/rfc7239>) is read the same way, from
//! its `for=` parameters: `for=192.0.2.60`, `for="[2001:db8:cafe::17]:4711"`, `for=unknown`,
//! or an obfuscated `for=_hidden` (§6). A hop that is `unknown` or obfuscated cannot be inside a
//! trusted range, so it is the client, and its address is unknown.
//!
//! When a trusted proxy sends both headers, they must name the same client: a proxy that sets
//! one passes the other through from the client unchanged, so a disagreement means one of them
//! is forged. A value that cannot be read is an error naming the header (answered 400): it came
//! from a proxy we trust, so guessing would let a broken proxy decide who may call.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

pub use crate::config::trusted_proxies::TrustedProxies;
use actix_web::http::header::HeaderMap;

/// Who the request is from, as far as can be told.
#[derive(Debug, Clone, PartialEq)]
pub enum Client {
    Ip(IpAddr),
    /// A hop that did not disclose its address (`unknown`, `_obfuscated`, no `for=`, no peer).
    Unknown(String),
}

impl fmt::Display for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Client::Ip(ip) => write!(f, "{ip}"),
            Client::Unknown(what) => write!(f, "{what}"),
        }
    }
}

/// A forwarding header from a trusted proxy that cannot be believed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{header} from a trusted proxy: {problem}")]
pub struct ForwardedError {
    pub header: &'static str,
    pub problem: String,
}

const XFF: &str = "X-Forwarded-For";
const FORWARDED: &str = "Forwarded";

/// The client of a request that came from `peer` (`None`: not over TCP) with `headers`.
pub fn client(
    peer: Option<SocketAddr>,
    headers: &HeaderMap,
    trusted: &TrustedProxies,
) -> Result<Client, ForwardedError> {
    let Some(peer) = peer.map(|p| p.ip().to_canonical()) else {
        return Ok(Client::Unknown("no peer address".into()));
    };
    if !trusted.contains(peer) {
        return Ok(Client::Ip(peer));
    }
    let xff = joined(headers, "x-forwarded-for").map(|v| walk(XFF, xff_hops(&v), trusted));
    let fwd = joined(headers, "forwarded").map(|v| walk(FORWARDED, forwarded_hops(&v), trusted));
    match (xff.transpose()?.flatten(), fwd.transpose()?.flatten()) {
        (Some(a), Some(b)) if a != b => Err(ForwardedError {
            header: FORWARDED,
            problem: format!("names the client {b}, but X-Forwarded-For names {a}"),
        }),
        (Some(client), _) | (None, Some(client)) => Ok(client),
        (None, None) => Ok(Client::Ip(peer)),
    }
}

/// Every line of a header, in order, as one comma-separated list (RFC 9110 §5.3). A byte that
/// is not UTF-8 becomes U+FFFD where it stands, so only its own entry is unreadable (and an
/// entry left of the client is never read at all).
fn joined(headers: &HeaderMap, name: &str) -> Option<String> {
    let mut lines = headers.get_all(name).peekable();
    lines.peek()?;
    let texts: Vec<String> = lines
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect();
    Some(texts.join(","))
}

/// One hop of a chain as written, before it is judged.
#[derive(Debug, PartialEq)]
enum Hop {
    Ip(IpAddr),
    Unknown(String),
    Malformed(String),
}

/// Walks the hops from the right (see the module's docs); `None` for an empty chain.
fn walk(
    header: &'static str,
    hops: Vec<Hop>,
    trusted: &TrustedProxies,
) -> Result<Option<Client>, ForwardedError> {
    let mut leftmost = None;
    for hop in hops.into_iter().rev() {
        match hop {
            Hop::Malformed(problem) => return Err(ForwardedError { header, problem }),
            Hop::Unknown(what) => return Ok(Some(Client::Unknown(what))),
            Hop::Ip(ip) if trusted.contains(ip) => leftmost = Some(Client::Ip(ip)),
            Hop::Ip(ip) => return Ok(Some(Client::Ip(ip))),
        }
    }
    // Every hop is a trusted proxy: the first of them is as far back as can be told.
    Ok(leftmost)
}

/// `X-Forwarded-For: client, proxy1, proxy2`; entries may carry a port (`192.0.2.1:443`,
/// `[2001:db8::1]:443`) or be `unknown`, as some proxies write them. Empty list elements are
/// skipped (RFC 9110 §5.6.1).
fn xff_hops(value: &str) -> Vec<Hop> {
    let entries = value.split(',').map(str::trim).filter(|e| !e.is_empty());
    entries.map(xff_hop).collect()
}

fn xff_hop(entry: &str) -> Hop {
    if entry.eq_ignore_ascii_case("unknown") {
        return Hop::Unknown("unknown".into());
    }
    // A bare address, a bracketed IPv6 address without a port, or either with a port.
    let bare = entry
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .unwrap_or(entry);
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Hop::Ip(ip.to_canonical());
    }
    match entry.parse::<SocketAddr>() {
        Ok(socket) => Hop::Ip(socket.ip().to_canonical()),
        Err(_) => Hop::Malformed(format!("`{entry}` is not an IP address")),
    }
}

/// `Forwarded: for=192.0.2.43, for="[2001:db8:cafe::17]:4711";proto=https` (RFC 7239 §4):
/// elements separated by commas, each a `;`-separated list of `name=value`, the value a token
/// or a quoted string. Empty elements are skipped (RFC 9110 §5.6.1).
fn forwarded_hops(value: &str) -> Vec<Hop> {
    split_outside_quotes(value, ',')
        .into_iter()
        .map(str::trim)
        .filter(|element| !element.is_empty())
        .map(forwarded_element)
        .collect()
}

fn forwarded_element(element: &str) -> Hop {
    let mut node = None;
    for pair in split_outside_quotes(element, ';') {
        let pair = pair.trim();
        if pair.is_empty() {
            continue;
        }
        let Some((name, value)) = pair.split_once('=') else {
            return Hop::Malformed(format!("`{pair}` is not a name=value pair"));
        };
        if name.trim().eq_ignore_ascii_case("for") {
            node = Some(unquote(value.trim()));
        }
    }
    match node {
        Some(Some(node)) => forwarded_node(&node),
        Some(None) => Hop::Malformed(format!("`{element}` has an unterminated quoted string")),
        None => Hop::Unknown(format!("a hop without for= (`{element}`)")),
    }
}

/// A node (RFC 7239 §6): `IPv4[:port]`, `"[IPv6][:port]"`, `unknown`, or `_obfuscated`.
fn forwarded_node(node: &str) -> Hop {
    let (name, port) = match node.strip_prefix('[') {
        Some(rest) => match rest.split_once(']') {
            Some((name, port)) => (name, port),
            None => return Hop::Malformed(format!("`{node}` has no closing ']'")),
        },
        None if node.matches(':').count() > 1 => {
            return Hop::Malformed(format!(
                "`{node}` looks like an IPv6 address, which RFC 7239 §6 writes in brackets and quotes: for=\"[{node}]\""
            ));
        }
        None => match node.split_once(':') {
            Some((name, _)) => (name, &node[name.len()..]),
            None => (node, ""),
        },
    };
    let port_ok = port.is_empty()
        || port
            .strip_prefix(':')
            .is_some_and(|p| p.parse::<u16>().is_ok() || (p.starts_with('_') && is_obfuscated(p)));
    if !port_ok {
        return Hop::Malformed(format!("`{node}` has an invalid port"));
    }
    if name.eq_ignore_ascii_case("unknown") {
        return Hop::Unknown("unknown".into());
    }
    if name.starts_with('_') && is_obfuscated(name) {
        return Hop::Unknown(format!("the obfuscated identifier {name}"));
    }
    let bracketed = node.starts_with('[');
    match name.parse::<IpAddr>() {
        Ok(IpAddr::V6(ip)) if bracketed => Hop::Ip(IpAddr::V6(ip).to_canonical()),
        Ok(IpAddr::V4(ip)) if !bracketed => Hop::Ip(IpAddr::V4(ip)),
        _ => Hop::Malformed(format!(
            "`{node}` is not an IPv4 address, a bracketed IPv6 address, `unknown` or an obfuscated `_identifier`"
        )),
    }
}

/// `obfnode = "_" 1*( ALPHA / DIGIT / "." / "_" / "-")` (RFC 7239 §6.3).
fn is_obfuscated(text: &str) -> bool {
    text.len() > 1
        && text[1..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Splits at `sep` where it is not inside a quoted string.
fn split_outside_quotes(text: &str, sep: char) -> Vec<&str> {
    let (mut parts, mut start, mut quoted, mut escaped) = (Vec::new(), 0, false, false);
    for (i, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            c if c == sep && !quoted => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

/// A token as is, a quoted string without its quotes and escapes; `None` if unterminated.
fn unquote(value: &str) -> Option<String> {
    let Some(inner) = value.strip_prefix('"') else {
        return Some(value.to_owned());
    };
    let inner = inner.strip_suffix('"')?;
    let (mut out, mut escaped) = (String::new(), false);
    for c in inner.chars() {
        if escaped || c != '\\' {
            out.push(c);
            escaped = false;
        } else {
            escaped = true;
        }
    }
    Some(out)
}

#[cfg(test)]
#[path = "client_addr_tests.rs"]
mod tests;
