//! Property tests (fuzzing) of every signature-header parser: arbitrary and almost-right
//! header values never panic and never verify, and what a sender signs always verifies.
//! 256 cases per property by default; `PROPTEST_CASES=100000` runs longer.

use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use proptest::prelude::*;

use super::testing::{base64, hex, mac};
use super::*;
use crate::recipe::SignatureEncoding;

const NOW: i64 = 1_700_000_000;

/// Every scheme, with the headers its parser reads.
fn schemes(custom: &HmacHeader) -> Vec<(Scheme<'_>, &'static [&'static str])> {
    vec![
        (Scheme::Token, &["authorization", "x-webhook-token"]),
        (Scheme::Hmac(custom), &["x-custom-signature"]),
        (Scheme::Github, &["x-hub-signature-256"]),
        (Scheme::Shopify, &["x-shopify-hmac-sha256"]),
        (Scheme::Stripe, &["stripe-signature"]),
        (
            Scheme::Slack,
            &["x-slack-signature", "x-slack-request-timestamp"],
        ),
        (
            Scheme::StandardWebhooks,
            &["webhook-id", "webhook-timestamp", "webhook-signature"],
        ),
    ]
}

fn custom_header() -> HmacHeader {
    HmacHeader {
        name: "x-custom-signature".into(),
        encoding: SignatureEncoding::Base64,
        prefix: "sig=".into(),
    }
}

/// Header values made of the pieces these formats are built from, plus stray bytes
/// (including non-ASCII, which `HeaderValue` allows and `to_str` refuses).
fn header_value() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(b"t=".to_vec()),
        Just(b"v1=".to_vec()),
        Just(b"v1,".to_vec()),
        Just(b"v0=".to_vec()),
        Just(b"sha256=".to_vec()),
        Just(b"sig=".to_vec()),
        Just(b"Bearer ".to_vec()),
        Just(b"Basic ".to_vec()),
        Just(b",".to_vec()),
        Just(b" ".to_vec()),
        Just(b"=".to_vec()),
        Just(b"1700000000".to_vec()),
        "[0-9]{0,20}".prop_map(String::into_bytes),
        "[0-9a-fA-F]{0,70}".prop_map(String::into_bytes),
        "[A-Za-z0-9+/=]{0,50}".prop_map(String::into_bytes),
        proptest::collection::vec(0x20u8..=0xff, 0..8)
            .prop_map(|bytes| bytes.into_iter().filter(|b| *b != 0x7f).collect()),
    ];
    proptest::collection::vec(piece, 0..8).prop_map(|pieces| pieces.concat())
}

fn header_map(pairs: &[(&str, Vec<u8>)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        if let Ok(value) = HeaderValue::from_bytes(value) {
            map.append(HeaderName::from_bytes(name.as_bytes()).unwrap(), value);
        }
    }
    map
}

proptest! {
    #[test]
    fn arbitrary_headers_never_panic_and_never_verify(
        values in proptest::collection::vec(header_value(), 3),
        body in proptest::collection::vec(any::<u8>(), 0..64),
        query in "[a-z=&%0-9]{0,20}",
        offset in -1_000i64..1_000,
    ) {
        let custom = custom_header();
        let keys = [b"a secret nobody guessed".to_vec()];
        for (scheme, names) in schemes(&custom) {
            let pairs: Vec<(&str, Vec<u8>)> =
                names.iter().copied().zip(values.iter().cloned()).collect();
            let headers = header_map(&pairs);
            let inbound = Inbound { headers: &headers, query: &query, body: &body, now: NOW + offset };
            let result = check(scheme, &keys, &inbound);
            prop_assert!(result.is_err(), "{scheme:?} accepted {pairs:?}");
        }
    }

    #[test]
    fn timestamps_of_any_shape_are_parsed_without_panicking(
        value in "[-+0-9. a-z]{0,24}",
        now in 0i64..4_000_000_000,
    ) {
        let _ = check_fresh("t", &value, now);
    }

    #[test]
    fn signed_requests_verify_and_one_changed_byte_fails(
        key in proptest::collection::vec(any::<u8>(), 1..48),
        body in proptest::collection::vec(any::<u8>(), 0..256),
        age in -300i64..=300,
        id in "[A-Za-z0-9_]{1,32}",
        flip in any::<prop::sample::Index>(),
    ) {
        let t = (NOW - age).to_string();
        let custom = custom_header();
        let signed = |body: &[u8]| -> Vec<(Scheme<'_>, Vec<(&str, String)>)> {
            vec![
                (Scheme::Github, vec![("x-hub-signature-256", format!("sha256={}", hex(&mac(&key, &[body]))))]),
                (Scheme::Shopify, vec![("x-shopify-hmac-sha256", base64(&mac(&key, &[body])))]),
                (Scheme::Hmac(&custom), vec![("x-custom-signature", format!("sig={}", base64(&mac(&key, &[body]))))]),
                (Scheme::Stripe, vec![("stripe-signature", format!("t={t},v1={}", hex(&mac(&key, &[t.as_bytes(), b".", body]))))]),
                (Scheme::Slack, vec![
                    ("x-slack-signature", format!("v0={}", hex(&mac(&key, &[b"v0:", t.as_bytes(), b":", body])))),
                    ("x-slack-request-timestamp", t.clone()),
                ]),
                (Scheme::StandardWebhooks, vec![
                    ("webhook-id", id.clone()),
                    ("webhook-timestamp", t.clone()),
                    ("webhook-signature", format!("v1,{}", base64(&mac(&key, &[id.as_bytes(), b".", t.as_bytes(), b".", body])))),
                ]),
            ]
        };
        let keys = [key.clone()];
        let mut changed = body.clone();
        if changed.is_empty() {
            changed.push(0);
        } else {
            let at = flip.index(changed.len());
            changed[at] ^= 0x01;
        }
        for (scheme, pairs) in signed(&body) {
            let pairs: Vec<(&str, Vec<u8>)> =
                pairs.into_iter().map(|(n, v)| (n, v.into_bytes())).collect();
            let headers = header_map(&pairs);
            let good = Inbound { headers: &headers, query: "", body: &body, now: NOW };
            prop_assert_eq!(check(scheme, &keys, &good), Ok(()), "{:?}", scheme);
            let bad = Inbound { body: &changed, ..good };
            prop_assert!(check(scheme, &keys, &bad).is_err(), "{:?} took a changed body", scheme);
        }
    }

    #[test]
    fn standard_webhooks_secrets_of_any_shape_parse_without_panicking(
        secret in "(whsec_)?[A-Za-z0-9+/=_-]{0,60}",
    ) {
        if let Ok(key) = crate::deliver::sign::secret_key(&secret) {
            prop_assert!(!key.is_empty());
        }
    }
}
