use std::net::SocketAddr;

use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};

use super::*;

fn trusted(list: &str) -> TrustedProxies {
    list.parse().expect("valid list")
}

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    map
}

fn peer(text: &str) -> Option<SocketAddr> {
    Some(text.parse().unwrap())
}

fn ip(text: &str) -> Client {
    Client::Ip(text.parse().unwrap())
}

fn from(peer_addr: &str, pairs: &[(&str, &str)], proxies: &str) -> Result<Client, ForwardedError> {
    client(peer(peer_addr), &headers(pairs), &trusted(proxies))
}

#[test]
fn without_trusted_proxies_the_peer_is_the_client_and_headers_are_ignored() {
    let forged = [
        ("x-forwarded-for", "192.0.2.5"),
        ("forwarded", "for=192.0.2.5"),
    ];
    assert_eq!(from("127.0.0.1:5000", &forged, ""), Ok(ip("127.0.0.1")));
    // A peer outside the trusted ranges: its headers are not believed either.
    assert_eq!(
        from("198.51.100.1:5000", &forged, "127.0.0.1/32"),
        Ok(ip("198.51.100.1"))
    );
}

#[test]
fn the_rightmost_untrusted_hop_is_the_client() {
    let proxies = "127.0.0.1/32, 10.0.0.0/8";
    let chain = [("x-forwarded-for", "198.51.100.9, 192.0.2.5, 10.1.2.3")];
    assert_eq!(from("127.0.0.1:1", &chain, proxies), Ok(ip("192.0.2.5")));
    // A client-written prefix cannot move the answer.
    let forged = [("x-forwarded-for", "203.0.113.1, 198.51.100.9, 192.0.2.5")];
    assert_eq!(from("127.0.0.1:1", &forged, proxies), Ok(ip("192.0.2.5")));
}

#[test]
fn a_chain_of_only_trusted_hops_gives_its_leftmost_and_an_absent_header_the_proxy() {
    let proxies = "10.0.0.0/8";
    let chain = [("x-forwarded-for", "10.0.0.1, 10.0.0.2")];
    assert_eq!(from("10.9.9.9:1", &chain, proxies), Ok(ip("10.0.0.1")));
    assert_eq!(from("10.9.9.9:1", &[], proxies), Ok(ip("10.9.9.9")));
}

#[test]
fn header_lines_are_joined_in_order() {
    let lines = [
        ("x-forwarded-for", "203.0.113.1"),
        ("x-forwarded-for", "192.0.2.5"),
    ];
    assert_eq!(
        from("127.0.0.1:1", &lines, "127.0.0.1"),
        Ok(ip("192.0.2.5"))
    );
}

#[test]
fn empty_elements_are_skipped_and_garbage_left_of_the_client_is_never_read() {
    let xff = [("x-forwarded-for", "not-an-address, , 192.0.2.5,")];
    assert_eq!(from("127.0.0.1:1", &xff, "127.0.0.1"), Ok(ip("192.0.2.5")));
    let fwd = [("forwarded", "for=\"[oops, for=192.0.2.5")];
    assert!(
        from("127.0.0.1:1", &fwd, "127.0.0.1").is_err(),
        "a quote left open"
    );
    let fwd = [("forwarded", "nonsense, for=192.0.2.5,,")];
    assert_eq!(from("127.0.0.1:1", &fwd, "127.0.0.1"), Ok(ip("192.0.2.5")));
    let empty = [("x-forwarded-for", ""), ("forwarded", " ")];
    assert_eq!(
        from("127.0.0.1:1", &empty, "127.0.0.1"),
        Ok(ip("127.0.0.1"))
    );
}

#[test]
fn ipv6_entries_with_brackets_and_ports_are_read() {
    let proxies = "::1, 2001:db8:ffff::/48";
    let xff = [("x-forwarded-for", "[2001:db8::7]:443, 2001:db8:ffff::1")];
    assert_eq!(from("[::1]:1", &xff, proxies), Ok(ip("2001:db8::7")));
    let fwd = [(
        "forwarded",
        "for=\"[2001:db8:cafe::17]:4711\";proto=https, for=\"[2001:db8:ffff::2]\"",
    )];
    assert_eq!(from("[::1]:1", &fwd, proxies), Ok(ip("2001:db8:cafe::17")));
    let v4_port = [("x-forwarded-for", "192.0.2.5:8443")];
    assert_eq!(from("[::1]:1", &v4_port, proxies), Ok(ip("192.0.2.5")));
    // Brackets without a port, as some proxies write IPv6 hops.
    let bracketed = [("x-forwarded-for", "[2001:db8::7]")];
    assert_eq!(from("[::1]:1", &bracketed, proxies), Ok(ip("2001:db8::7")));
}

#[test]
fn an_unbracketed_ipv6_forwarded_node_says_it_needs_brackets() {
    let error = from(
        "127.0.0.1:1",
        &[("forwarded", "for=2001:db8::1")],
        "127.0.0.1",
    )
    .unwrap_err()
    .to_string();
    assert!(error.contains("brackets and quotes"), "{error}");
}

#[test]
fn an_ipv4_mapped_peer_is_judged_as_ipv4() {
    let lines = [("x-forwarded-for", "192.0.2.5")];
    assert_eq!(
        from("[::ffff:127.0.0.1]:1", &lines, "127.0.0.1/32"),
        Ok(ip("192.0.2.5"))
    );
}

#[test]
fn forwarded_for_is_read_from_each_element_case_insensitively() {
    let fwd = [(
        "forwarded",
        "for=198.51.100.9;by=203.0.113.43, For=\"192.0.2.5:8080\";proto=http",
    )];
    assert_eq!(from("127.0.0.1:1", &fwd, "127.0.0.1"), Ok(ip("192.0.2.5")));
}

#[test]
fn unknown_and_obfuscated_hops_are_clients_without_an_address() {
    let cases = [
        ("forwarded", "for=192.0.2.5, for=unknown"),
        ("forwarded", "for=192.0.2.5, for=_hidden"),
        ("forwarded", "for=192.0.2.5, for=\"_SEVKISEK:_port\""),
        ("forwarded", "for=192.0.2.5, proto=https"),
        ("x-forwarded-for", "192.0.2.5, unknown"),
    ];
    for (name, value) in cases {
        let got = from("127.0.0.1:1", &[(name, value)], "127.0.0.1");
        assert!(matches!(got, Ok(Client::Unknown(_))), "{value}: {got:?}");
    }
    // Left of an untrusted address, an unknown hop does not matter.
    let fwd = [("forwarded", "for=unknown, for=192.0.2.5")];
    assert_eq!(from("127.0.0.1:1", &fwd, "127.0.0.1"), Ok(ip("192.0.2.5")));
}

#[test]
fn malformed_values_from_a_trusted_proxy_are_errors_naming_the_header() {
    let cases = [
        ("x-forwarded-for", "192.0.2.5, not-an-ip", "X-Forwarded-For"),
        ("x-forwarded-for", "192.0.2.999", "X-Forwarded-For"),
        ("forwarded", "for=2001:db8::1", "Forwarded"),
        ("forwarded", "for=\"[2001:db8::1\"", "Forwarded"),
        ("forwarded", "for=\"192.0.2.5", "Forwarded"),
        ("forwarded", "for=192.0.2.5:99999", "Forwarded"),
        ("forwarded", "for", "Forwarded"),
        ("forwarded", "for=[192.0.2.5]", "Forwarded"),
    ];
    for (name, value, header) in cases {
        let error = from("127.0.0.1:1", &[(name, value)], "127.0.0.1").unwrap_err();
        assert_eq!(error.header, header, "{value}");
        assert!(error.to_string().starts_with(header), "{error}");
    }
    // From an untrusted peer the same values are never read.
    let ignored = from("198.51.100.1:1", &[("forwarded", "for")], "127.0.0.1");
    assert_eq!(ignored, Ok(ip("198.51.100.1")));
}

#[test]
fn both_headers_must_name_the_same_client() {
    let agree = [
        ("x-forwarded-for", "203.0.113.1, 192.0.2.5"),
        ("forwarded", "for=192.0.2.5"),
    ];
    assert_eq!(
        from("127.0.0.1:1", &agree, "127.0.0.1"),
        Ok(ip("192.0.2.5"))
    );
    // A forged Forwarded passed through a proxy that only appends X-Forwarded-For.
    let disagree = [
        ("x-forwarded-for", "198.51.100.9"),
        ("forwarded", "for=192.0.2.5"),
    ];
    let error = from("127.0.0.1:1", &disagree, "127.0.0.1").unwrap_err();
    assert!(
        error
            .to_string()
            .contains("X-Forwarded-For names 198.51.100.9"),
        "{error}"
    );
}

#[test]
fn a_request_without_a_peer_address_has_an_unknown_client() {
    let got = client(None, &HeaderMap::new(), &TrustedProxies::default());
    assert!(matches!(got, Ok(Client::Unknown(_))));
}

#[test]
fn a_byte_that_is_not_utf8_spoils_only_its_own_entry() {
    let mut map = HeaderMap::new();
    map.append(
        HeaderName::from_static("x-forwarded-for"),
        HeaderValue::from_bytes(b"198.51.100.9\xff, 192.0.2.5").unwrap(),
    );
    let found = client(peer("127.0.0.1:1"), &map, &trusted("127.0.0.1"));
    assert_eq!(
        found,
        Ok(ip("192.0.2.5")),
        "the garbled entry is left of the client"
    );
    let mut map = HeaderMap::new();
    map.append(
        HeaderName::from_static("x-forwarded-for"),
        HeaderValue::from_bytes(b"192.0.2.5, 198.51.100.9\xff").unwrap(),
    );
    let error = client(peer("127.0.0.1:1"), &map, &trusted("127.0.0.1"))
        .unwrap_err()
        .to_string();
    assert!(error.contains("198.51.100.9\u{fffd}"), "{error}");
}
