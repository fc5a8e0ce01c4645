use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use reqwest::Method;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::*;
use crate::outbound::client::{OutboundRequest, build_client, send};

fn guard() -> OutboundPolicy {
    OutboundPolicy::default()
}

fn with_allow(list: &str) -> OutboundPolicy {
    OutboundPolicy {
        allow: list.parse().unwrap(),
        ..OutboundPolicy::default()
    }
}

fn check(url: &str, policy: &OutboundPolicy) -> Result<(), OutboundError> {
    check_url(&Url::parse(url).unwrap(), policy)
}

#[test]
fn every_blocked_range_names_its_rule() {
    let table = [
        ("127.0.0.1", "the loopback range (127.0.0.0/8)"),
        ("127.255.255.254", "127.0.0.0/8"),
        ("10.0.0.5", "a private range (10.0.0.0/8)"),
        ("172.16.0.1", "a private range (172.16.0.0/12)"),
        ("172.31.255.255", "172.16.0.0/12"),
        ("192.168.1.1", "a private range (192.168.0.0/16)"),
        (
            "169.254.169.254",
            "the link-local (cloud metadata) range (169.254.0.0/16)",
        ),
        (
            "100.64.0.1",
            "the shared (carrier-grade NAT) range (100.64.0.0/10)",
        ),
        ("100.127.255.255", "100.64.0.0/10"),
        ("0.0.0.0", "(0.0.0.0/8)"),
        ("0.1.2.3", "(0.0.0.0/8)"),
        ("240.0.0.1", "the reserved range (240.0.0.0/4)"),
        (
            "255.255.255.255",
            "the broadcast address (255.255.255.255/32)",
        ),
        ("224.0.0.251", "the multicast range (224.0.0.0/4)"),
        ("192.0.2.1", "a documentation range (192.0.2.0/24)"),
        ("198.51.100.7", "a documentation range (198.51.100.0/24)"),
        ("203.0.113.9", "a documentation range (203.0.113.0/24)"),
        ("198.18.0.1", "the benchmarking range (198.18.0.0/15)"),
        ("::1", "the loopback address (::1/128)"),
        ("::", "the unspecified address (::/128)"),
        ("fc00::1", "the unique-local (private) range (fc00::/7)"),
        ("fd12:3456::1", "(fc00::/7)"),
        ("fe80::1", "the link-local range (fe80::/10)"),
        ("febf::1", "(fe80::/10)"),
        (
            "::ffff:127.0.0.1",
            "the IPv4-mapped range (::ffff:0.0.0.0/96)",
        ),
        ("::ffff:8.8.8.8", "(::ffff:0.0.0.0/96)"),
        ("::127.0.0.1", "the IPv4-compatible range (::/96)"),
        ("64:ff9b::a00:5", "the NAT64 range (64:ff9b::/96)"),
        ("64:ff9b::808:808", "(64:ff9b::/96)"),
        ("2002:7f00:1::1", "the 6to4 range (2002::/16)"),
        (
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "the Teredo range (2001::/32)",
        ),
        ("2001:db8::1", "a documentation range (2001:db8::/32)"),
        ("ff02::1", "the multicast range (ff00::/8)"),
    ];
    for (ip, want) in table {
        let ip: IpAddr = ip.parse().unwrap();
        assert!(is_blocked_ip(ip), "{ip} should be blocked");
        let rule = blocked_by(ip).unwrap();
        let got = refusal(ip, rule);
        assert!(got.contains(want), "{ip}: {got}");
    }
    let public = "8.8.8.8 1.1.1.1 172.15.255.255 172.32.0.1 100.63.255.255 100.128.0.1 \
        169.255.0.1 11.0.0.1 192.0.3.1 223.255.255.255 2606:4700::1111 2001:4860:4860::8888 \
        2003::1 2001:1:2::3";
    for ip in public.split_whitespace() {
        assert_eq!(
            blocked_by(ip.parse().unwrap()).map(|r| r.what),
            None,
            "{ip}"
        );
    }
}

#[test]
fn odd_spellings_ip_literals_and_localhost_are_refused_with_the_rule() {
    let table = [
        (
            "http://2130706433/",
            "127.0.0.1 is in the loopback range (127.0.0.0/8)",
        ),
        (
            "http://0x7f000001/",
            "127.0.0.1 is in the loopback range (127.0.0.0/8)",
        ),
        (
            "http://127.1/",
            "127.0.0.1 is in the loopback range (127.0.0.0/8)",
        ),
        (
            "http://0177.0.0.1:8080/x",
            "127.0.0.1 is in the loopback range",
        ),
        ("http://localhost/", "localhost is a loopback name"),
        ("http://LOCALHOST./", "localhost is a loopback name"),
        ("http://api.localhost/", "api.localhost is a loopback name"),
        (
            "http://10.0.0.5/",
            "10.0.0.5 is in a private range (10.0.0.0/8)",
        ),
        (
            "http://169.254.169.254/latest/meta-data/",
            "(169.254.0.0/16)",
        ),
        (
            "https://[::1]:8443/",
            "::1 is in the loopback address (::1/128)",
        ),
        ("http://[::ffff:7f00:1]/", "(::ffff:0.0.0.0/96)"),
        ("http://[64:ff9b::a9fe:a9fe]/", "(64:ff9b::/96)"),
        ("http://[2002:a9fe:a9fe::1]/", "(2002::/16)"),
        (
            "http://[2001:0000:4136:e378:8000:63bf:3fff:fdd2]/",
            "(2001::/32)",
        ),
        ("http://[fd00::1]/", "(fc00::/7)"),
        ("http://[fe80::1]/", "(fe80::/10)"),
        ("http://[2001:db8::1]/", "(2001:db8::/32)"),
        ("http://192.0.2.1/", "(192.0.2.0/24)"),
        ("http://255.255.255.255/", "(255.255.255.255/32)"),
        ("http://0.0.0.0:9/", "(0.0.0.0/8)"),
    ];
    let allow_all = OutboundPolicy {
        allow_private_targets: true,
        ..guard()
    };
    for (url, want) in table {
        let err = check(url, &guard()).unwrap_err();
        assert!(matches!(err, OutboundError::Blocked(_)), "{url}");
        let err = err.to_string();
        assert!(
            err.starts_with("refused: ") && err.contains(want),
            "{url}: {err}"
        );
        assert!(err.contains("SWITCHYARD_ALLOW_PRIVATE_TARGETS"), "{err}");
        assert_eq!(check(url, &allow_all), Ok(()), "{url}");
    }
    let err = check("http://10.0.0.5/", &guard()).unwrap_err().to_string();
    assert_eq!(
        err,
        "refused: 10.0.0.5 is in a private range (10.0.0.0/8); set \
         SWITCHYARD_ALLOW_PRIVATE_TARGETS=true or list it in SWITCHYARD_OUTBOUND_ALLOW to allow"
    );
    let public = "https://example.com/hook http://8.8.8.8:8080/ https://[2606:4700::1111]/";
    for url in public.split_whitespace() {
        assert_eq!(check(url, &guard()), Ok(()), "{url}");
    }
    for url in [
        "ftp://example.com/",
        "file:///etc/passwd",
        "gopher://x.org/",
    ] {
        let err = check(url, &allow_all).unwrap_err().to_string();
        assert!(
            err.contains("not allowed (use http or https)"),
            "{url}: {err}"
        );
    }
}

#[test]
fn the_allowlist_lets_ranges_and_host_names_through() {
    let policy = with_allow(" 10.1.2.0/24, hooks.internal ,fd00::/8,192.168.7.7,localhost");
    assert_eq!(check("http://10.1.2.3/", &policy), Ok(()));
    assert_eq!(check("http://192.168.7.7/", &policy), Ok(()));
    assert_eq!(check("http://[fd00::5]/", &policy), Ok(()));
    assert_eq!(check("http://localhost:9/", &policy), Ok(()));
    assert!(check("http://10.1.3.1/", &policy).is_err());
    assert!(check("http://192.168.7.8/", &policy).is_err());
    assert!(check("http://api.localhost/", &policy).is_err());

    let internal: Vec<IpAddr> = vec!["10.9.9.9".parse().unwrap()];
    let ok = screen_addresses(&policy, "Hooks.Internal.", internal.clone());
    assert_eq!(ok, Ok(internal.clone()));
    let err = screen_addresses(&policy, "other.internal", internal).unwrap_err();
    assert!(
        err.to_string().contains("10.9.9.9 is in a private range"),
        "{err}"
    );
}

#[test]
fn invalid_allowlist_entries_are_named() {
    for (entry, why) in [
        ("10.1.2.0/33", "the prefix length must be 0 to 32, not `33`"),
        ("::1/129", "0 to 128, not `129`"),
        ("10.0.0.1/abc", "not `abc`"),
        ("10.0.0/8", "`10.0.0` is not an IP address"),
        ("127.1", "write IP addresses in full"),
        ("0x7f000001", "write IP addresses in full"),
        ("http://hooks.internal", "not an IP address"),
        (
            "hooks_internal",
            "not a CIDR range, an IP address or a host name",
        ),
        ("-bad.example", "not a CIDR range"),
    ] {
        let list = format!("10.1.2.0/24,{entry},hooks.internal");
        let err = list.parse::<OutboundAllow>().unwrap_err();
        let want = format!("invalid SWITCHYARD_OUTBOUND_ALLOW entry `{entry}`: ");
        assert!(
            err.starts_with(&want) && err.contains(why),
            "{entry}: {err}"
        );
    }
    assert_eq!("".parse::<OutboundAllow>(), Ok(OutboundAllow::EMPTY));
    assert_eq!(" , ".parse::<OutboundAllow>(), Ok(OutboundAllow::EMPTY));
}

#[test]
fn the_resolver_screen_drops_refused_addresses_and_names_each_one() {
    let ips = |list: &str| -> Vec<IpAddr> {
        list.split_whitespace()
            .map(|s| s.parse().unwrap())
            .collect()
    };
    let kept = screen_addresses(
        &guard(),
        "mixed.test",
        ips("127.0.0.1 8.8.8.8 10.0.0.5 ::1"),
    );
    assert_eq!(kept, Ok(ips("8.8.8.8")));
    let err = screen_addresses(
        &guard(),
        "evil.test",
        ips("169.254.169.254 10.0.0.5 10.0.0.5"),
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        err,
        "refused: evil.test resolves only to refused addresses: 169.254.169.254 is in the \
         link-local (cloud metadata) range (169.254.0.0/16), 10.0.0.5 is in a private range \
         (10.0.0.0/8); set SWITCHYARD_ALLOW_PRIVATE_TARGETS=true or list it in \
         SWITCHYARD_OUTBOUND_ALLOW to allow"
    );
}

/// Answers each lookup with the next list (the last one repeats), counting lookups.
struct Rebinding {
    answers: Mutex<VecDeque<Vec<IpAddr>>>,
    calls: AtomicUsize,
}

impl Lookup for Rebinding {
    fn lookup(&self, _host: &str) -> Pin<Box<dyn Future<Output = io::Result<Vec<IpAddr>>> + Send>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let mut answers = self.answers.lock().unwrap();
        let answer = if answers.len() > 1 {
            answers.pop_front().unwrap()
        } else {
            answers[0].clone()
        };
        Box::pin(async move { Ok(answer) })
    }
}

/// Answers every request with 200 and counts the connections accepted.
async fn serve(listener: TcpListener) -> Arc<AtomicUsize> {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let mut seen = Vec::new();
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                let reply = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok";
                let _ = sock.write_all(reply).await;
            });
        }
    });
    hits
}

/// A DNS server that answers an allowed address to the first lookup and 127.0.0.1 to the next
/// cannot steer the connection: the one lookup whose answer was checked is the one connected
/// to. (A guard that checked one lookup and let the connector do another would connect to the
/// `blocked` listener.)
#[tokio::test]
async fn dns_rebinding_never_reaches_the_blocked_address() {
    // One port on two loopback addresses (the port may be taken on 127.0.0.1: try again).
    let mut pair = None;
    for _ in 0..10 {
        let allowed = TcpListener::bind("127.0.0.2:0").await.unwrap();
        let port = allowed.local_addr().unwrap().port();
        if let Ok(blocked) = TcpListener::bind(("127.0.0.1", port)).await {
            pair = Some((port, allowed, blocked));
            break;
        }
    }
    let (port, allowed_listener, blocked_listener) = pair.expect("a port free on both");
    let (allowed_hits, blocked_hits) =
        (serve(allowed_listener).await, serve(blocked_listener).await);
    let (allowed, blocked): (IpAddr, IpAddr) =
        ("127.0.0.2".parse().unwrap(), "127.0.0.1".parse().unwrap());
    let dns = Arc::new(Rebinding {
        answers: Mutex::new(VecDeque::from([
            vec![allowed],
            vec![blocked, allowed],
            vec![blocked],
        ])),
        calls: AtomicUsize::new(0),
    });
    let policy = OutboundPolicy {
        lookup: Some(dns.clone()),
        ..with_allow("127.0.0.2/32")
    };
    let request = || OutboundRequest {
        method: Method::GET,
        url: format!("http://rebind.test:{port}/"),
        headers: Vec::new(),
        body: Vec::new(),
        timeout: Duration::from_secs(5),
    };

    // Each fresh client makes a new connection, so a new lookup.
    let first = send(&build_client(&policy), &policy, request()).await;
    assert_eq!(first.status, Some(200), "{first:?}");
    let hits = || {
        (
            allowed_hits.load(Ordering::SeqCst),
            blocked_hits.load(Ordering::SeqCst),
        )
    };
    assert_eq!(hits(), (1, 0), "connected to the checked address only");
    assert_eq!(
        dns.calls.load(Ordering::SeqCst),
        1,
        "one lookup per connection"
    );

    // A mixed answer: the blocked address is dropped, not tried first.
    let mixed = send(&build_client(&policy), &policy, request()).await;
    assert_eq!(mixed.status, Some(200), "{mixed:?}");
    assert_eq!(hits(), (2, 0), "the blocked address was dropped, not tried");

    let rebound = send(&build_client(&policy), &policy, request()).await;
    assert!(rebound.blocked && rebound.status.is_none(), "{rebound:?}");
    let error = rebound.error.unwrap();
    assert!(
        error.contains("rebind.test resolves only to refused addresses: 127.0.0.1 is in the loopback range (127.0.0.0/8)"),
        "{error}"
    );
    assert_eq!(dns.calls.load(Ordering::SeqCst), 3);
    assert_eq!(hits(), (2, 0), "never connected to 127.0.0.1");
}
