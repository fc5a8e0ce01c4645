//! The SSRF guard for every outbound call (actions and polls). The URL is checked for what no
//! resolver sees (scheme, IP-literal hosts, `localhost`); host names are checked in the resolver
//! the client connects with, which hands over only the addresses it checked: there is no second
//! lookup for a rebinding DNS server to answer differently.

use std::fmt;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::str::FromStr;
use std::sync::Arc;

use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::cidr::Cidr;

const ALLOW_HINT: &str =
    "set SWITCHYARD_ALLOW_PRIVATE_TARGETS=true or list it in SWITCHYARD_OUTBOUND_ALLOW to allow";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutboundError {
    /// The SSRF guard refused the target; retrying will not help.
    #[error("refused: {0}")]
    Blocked(String),
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
}

/// Looks host names up: the system resolver, unless a test substitutes one it controls.
pub trait Lookup: Send + Sync {
    fn lookup(&self, host: &str) -> Pin<Box<dyn Future<Output = io::Result<Vec<IpAddr>>> + Send>>;
}

struct SystemLookup;

impl Lookup for SystemLookup {
    fn lookup(&self, host: &str) -> Pin<Box<dyn Future<Output = io::Result<Vec<IpAddr>>> + Send>> {
        let host = host.to_owned();
        Box::pin(async move {
            let addrs = tokio::net::lookup_host((host.as_str(), 0)).await?;
            Ok(addrs.map(|a| a.ip()).collect())
        })
    }
}

#[derive(Clone, Default)]
pub struct OutboundPolicy {
    pub allow_private_targets: bool,
    /// Ranges and host names allowed although private (`SWITCHYARD_OUTBOUND_ALLOW`).
    pub allow: OutboundAllow,
    /// None: the system resolver.
    pub lookup: Option<Arc<dyn Lookup>>,
}

impl fmt::Debug for OutboundPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutboundPolicy")
            .field("allow_private_targets", &self.allow_private_targets)
            .field("allow", &self.allow)
            .field("lookup", &self.lookup.as_ref().map(|_| "custom"))
            .finish()
    }
}

/// A range the guard refuses, and what it is.
#[derive(Debug)]
pub struct BlockRule {
    pub range: Cidr,
    pub what: &'static str,
}

const fn rule(range: Cidr, what: &'static str) -> BlockRule {
    BlockRule { range, what }
}

const PRIVATE: &str = "a private range";
const DOCS: &str = "a documentation range";

/// First match wins, so narrower ranges come before the ranges that contain them.
static RULES: &[BlockRule] = &[
    rule(Cidr::v4(0, 0, 0, 0, 8), "the \"this network\" range"),
    rule(Cidr::v4(10, 0, 0, 0, 8), PRIVATE),
    rule(
        Cidr::v4(100, 64, 0, 0, 10),
        "the shared (carrier-grade NAT) range",
    ),
    rule(Cidr::v4(127, 0, 0, 0, 8), "the loopback range"),
    rule(
        Cidr::v4(169, 254, 0, 0, 16),
        "the link-local (cloud metadata) range",
    ),
    rule(Cidr::v4(172, 16, 0, 0, 12), PRIVATE),
    rule(
        Cidr::v4(192, 0, 0, 0, 24),
        "the IETF protocol assignments range",
    ),
    rule(Cidr::v4(192, 0, 2, 0, 24), DOCS),
    rule(Cidr::v4(192, 88, 99, 0, 24), "the 6to4 relay range"),
    rule(Cidr::v4(192, 168, 0, 0, 16), PRIVATE),
    rule(Cidr::v4(198, 18, 0, 0, 15), "the benchmarking range"),
    rule(Cidr::v4(198, 51, 100, 0, 24), DOCS),
    rule(Cidr::v4(203, 0, 113, 0, 24), DOCS),
    rule(Cidr::v4(224, 0, 0, 0, 4), "the multicast range"),
    rule(Cidr::v4(255, 255, 255, 255, 32), "the broadcast address"),
    rule(Cidr::v4(240, 0, 0, 0, 4), "the reserved range"),
    rule(
        Cidr::v6([0, 0, 0, 0, 0, 0, 0, 1], 128),
        "the loopback address",
    ),
    rule(Cidr::v6([0; 8], 128), "the unspecified address"),
    rule(
        Cidr::v6([0, 0, 0, 0, 0, 0xffff, 0, 0], 96),
        "the IPv4-mapped range",
    ),
    rule(Cidr::v6([0; 8], 96), "the IPv4-compatible range"),
    rule(
        Cidr::v6([0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96),
        "the NAT64 range",
    ),
    rule(
        Cidr::v6([0x64, 0xff9b, 1, 0, 0, 0, 0, 0], 48),
        "the NAT64 range",
    ),
    rule(
        Cidr::v6([0x100, 0, 0, 0, 0, 0, 0, 0], 64),
        "the discard-only range",
    ),
    rule(
        Cidr::v6([0x2001, 0, 0, 0, 0, 0, 0, 0], 32),
        "the Teredo range",
    ),
    rule(
        Cidr::v6([0x2001, 2, 0, 0, 0, 0, 0, 0], 48),
        "the benchmarking range",
    ),
    rule(Cidr::v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32), DOCS),
    rule(Cidr::v6([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20), DOCS),
    rule(
        Cidr::v6([0x2002, 0, 0, 0, 0, 0, 0, 0], 16),
        "the 6to4 range",
    ),
    rule(
        Cidr::v6([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7),
        "the unique-local (private) range",
    ),
    rule(
        Cidr::v6([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10),
        "the link-local range",
    ),
    rule(
        Cidr::v6([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10),
        "the site-local range",
    ),
    rule(
        Cidr::v6([0xff00, 0, 0, 0, 0, 0, 0, 0], 8),
        "the multicast range",
    ),
];

/// The rule that refuses `ip`, if any.
pub fn blocked_by(ip: IpAddr) -> Option<&'static BlockRule> {
    RULES.iter().find(|r| r.range.contains(ip))
}

/// Loopback, private, link-local (incl. cloud metadata), CGNAT, documentation, reserved,
/// broadcast and multicast addresses, and the IPv6 ranges that embed or tunnel to IPv4.
pub fn is_blocked_ip(ip: IpAddr) -> bool {
    blocked_by(ip).is_some()
}

/// What `SWITCHYARD_OUTBOUND_ALLOW` lets through although the guard would refuse it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboundAllow {
    ranges: Vec<Cidr>,
    /// Lower case, no trailing dot; whatever they resolve to is allowed.
    hosts: Vec<String>,
}

impl OutboundAllow {
    pub const EMPTY: OutboundAllow = OutboundAllow {
        ranges: Vec::new(),
        hosts: Vec::new(),
    };

    pub fn allows_ip(&self, ip: IpAddr) -> bool {
        self.ranges.iter().any(|r| r.contains(ip))
    }

    pub fn allows_host(&self, host: &str) -> bool {
        let host = normalize_host(host);
        self.hosts.contains(&host)
    }
}

impl FromStr for OutboundAllow {
    type Err = String;

    /// Comma-separated CIDR ranges, IP addresses and host names.
    fn from_str(list: &str) -> Result<Self, String> {
        let mut allow = OutboundAllow::default();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let bad =
                |why: String| format!("invalid SWITCHYARD_OUTBOUND_ALLOW entry `{entry}`: {why}");
            if entry.contains('/') || entry.contains(':') || entry.parse::<IpAddr>().is_ok() {
                allow.ranges.push(entry.parse().map_err(bad)?);
            } else if ends_in_number(entry) {
                return Err(bad("write IP addresses in full (a.b.c.d)".into()));
            } else if is_host_name(entry) {
                allow.hosts.push(normalize_host(entry));
            } else {
                return Err(bad("not a CIDR range, an IP address or a host name".into()));
            }
        }
        Ok(allow)
    }
}

/// Like the URL parser: a name whose last label is a number is an (odd) IPv4 spelling.
fn ends_in_number(name: &str) -> bool {
    let last = name
        .trim_end_matches('.')
        .rsplit('.')
        .next()
        .unwrap_or_default();
    let hex = last.strip_prefix("0x").or_else(|| last.strip_prefix("0X"));
    !last.is_empty()
        && (last.bytes().all(|b| b.is_ascii_digit())
            || hex.is_some_and(|h| h.bytes().all(|b| b.is_ascii_hexdigit())))
}

fn normalize_host(host: &str) -> String {
    host.trim_end_matches('.').to_ascii_lowercase()
}

fn is_host_name(name: &str) -> bool {
    let name = name.strip_suffix('.').unwrap_or(name);
    name.len() <= 253
        && name.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

fn refusal(ip: IpAddr, rule: &BlockRule) -> String {
    format!("{ip} is in {} ({})", rule.what, rule.range)
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
        .ok_or_else(|| OutboundError::Blocked("the URL has no host".into()))?;
    // The URL parser already turned `2130706433`, `0x7f000001` and `127.1` into 127.0.0.1.
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let Ok(ip) = bare.parse::<IpAddr>() else {
        let name = normalize_host(host);
        let local = name == "localhost" || name.ends_with(".localhost");
        if local && !policy.allow_private_targets && !policy.allow.allows_host(&name) {
            return Err(OutboundError::Blocked(format!(
                "{name} is a loopback name; {ALLOW_HINT}"
            )));
        }
        return Ok(());
    };
    match screen(policy, None, ip) {
        Some(why) => Err(OutboundError::Blocked(format!("{why}; {ALLOW_HINT}"))),
        None => Ok(()),
    }
}

/// Why the policy refuses `ip` (reached through `host`), or None when it may be connected to.
fn screen(policy: &OutboundPolicy, host: Option<&str>, ip: IpAddr) -> Option<String> {
    if policy.allow_private_targets
        || policy.allow.allows_ip(ip)
        || host.is_some_and(|h| policy.allow.allows_host(h))
    {
        return None;
    }
    blocked_by(ip).map(|rule| refusal(ip, rule))
}

/// Drops the addresses the policy refuses; an error naming each one when none is left.
pub fn screen_addresses(
    policy: &OutboundPolicy,
    host: &str,
    ips: Vec<IpAddr>,
) -> Result<Vec<IpAddr>, OutboundError> {
    let mut allowed = Vec::new();
    let mut refused: Vec<String> = Vec::new();
    for ip in ips {
        match screen(policy, Some(host), ip) {
            None => allowed.push(ip),
            Some(why) if !refused.contains(&why) => refused.push(why),
            Some(_) => {}
        }
    }
    if allowed.is_empty() && !refused.is_empty() {
        return Err(OutboundError::Blocked(format!(
            "{host} resolves only to refused addresses: {}; {ALLOW_HINT}",
            refused.join(", ")
        )));
    }
    Ok(allowed)
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(super) struct ResolveError(pub(super) String);

/// The client's only resolver: one lookup per connection, and the connection goes to the
/// addresses this lookup returned and the policy let through.
pub(super) struct GuardedResolver {
    policy: OutboundPolicy,
    lookup: Arc<dyn Lookup>,
}

impl GuardedResolver {
    pub(super) fn new(policy: &OutboundPolicy) -> Self {
        let lookup = policy
            .lookup
            .clone()
            .unwrap_or_else(|| Arc::new(SystemLookup));
        GuardedResolver {
            policy: policy.clone(),
            lookup,
        }
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        let host = name.as_str().to_owned();
        let lookup = self.lookup.lookup(&host);
        Box::pin(async move {
            let ips = lookup
                .await
                .map_err(|e| ResolveError(format!("could not resolve `{host}`: {e}")))?;
            let allowed = screen_addresses(&policy, &host, ips)?;
            Ok(Box::new(allowed.into_iter().map(|ip| SocketAddr::new(ip, 0))) as Addrs)
        })
    }
}

#[cfg(test)]
#[path = "guard_tests.rs"]
mod tests;
