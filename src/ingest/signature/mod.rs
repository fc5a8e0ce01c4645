//! Sender signature schemes, checked on the raw body bytes. Pure: the caller passes the keys
//! (the current secret, then the previous one during a rotation) and the clock.

mod body;
#[cfg(test)]
mod fuzz_tests;
mod slack;
mod standard;
mod stripe;
mod token;

use actix_web::http::header::HeaderMap;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::recipe::HmacHeader;

/// How far a signed timestamp may be from our clock, either way.
pub const TOLERANCE_SECS: i64 = 300;

/// Every way the `token` preset accepts its token, as refusals list them.
pub const TOKEN_WAYS: &str = "`Authorization: Bearer <token>`, `Authorization: Basic` (password \
                              = token), `X-Webhook-Token: <token>` or `?token=<token>`";

/// Which scheme a recipe's `verify` asks for (`none` needs no scheme).
#[derive(Debug, Clone, Copy)]
pub enum Scheme<'a> {
    Token,
    Hmac(&'a HmacHeader),
    Github,
    Stripe,
    Slack,
    Shopify,
    StandardWebhooks,
}

/// What a scheme sees of the request.
pub struct Inbound<'a> {
    pub headers: &'a HeaderMap,
    pub query: &'a str,
    pub body: &'a [u8],
    /// Unix seconds.
    pub now: i64,
}

/// Why a call was refused. The text is answered and stored: it never holds a secret or the
/// expected signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("missing `{0}` header")]
    MissingHeader(String),
    #[error("`{header}` header is malformed: {problem}")]
    Malformed {
        header: String,
        problem: &'static str,
    },
    #[error("`{0}` signature does not match")]
    Mismatch(String),
    #[error("`{0}` timestamp is {1} s old; at most {TOLERANCE_SECS} s are accepted")]
    Stale(String, i64),
    #[error("`{0}` timestamp is {1} s in the future; at most {TOLERANCE_SECS} s are accepted")]
    Future(String, i64),
    #[error("missing token: send it as {TOKEN_WAYS}")]
    MissingToken,
    /// An `Authorization` header whose scheme is neither Bearer nor Basic (`Token s3cret`).
    #[error("`Authorization` scheme `{0}` is not accepted: send the token as {TOKEN_WAYS}")]
    UnacceptedScheme(String),
    #[error("invalid token")]
    InvalidToken,
}

impl Refusal {
    /// The low-cardinality metrics label for why a call was refused (the message itself names
    /// headers): `missing_header`, `bad_signature`, `stale_timestamp`, ...
    pub fn kind(&self) -> &'static str {
        match self {
            Refusal::MissingHeader(_) => "missing_header",
            Refusal::Malformed { .. } => "malformed_header",
            Refusal::Mismatch(_) => "bad_signature",
            Refusal::Stale(..) => "stale_timestamp",
            Refusal::Future(..) => "future_timestamp",
            Refusal::MissingToken => "missing_token",
            Refusal::UnacceptedScheme(_) => "unaccepted_scheme",
            Refusal::InvalidToken => "bad_token",
        }
    }
}

/// Checks the request against `keys`; one matching key is enough.
pub fn check(scheme: Scheme<'_>, keys: &[Vec<u8>], inbound: &Inbound<'_>) -> Result<(), Refusal> {
    match scheme {
        Scheme::Token => token::check(keys, inbound),
        Scheme::Hmac(header) => body::check(header, keys, inbound),
        Scheme::Github => body::check(&body::github(), keys, inbound),
        Scheme::Shopify => body::check(&body::shopify(), keys, inbound),
        Scheme::Stripe => stripe::check(keys, inbound),
        Scheme::Slack => slack::check(keys, inbound),
        Scheme::StandardWebhooks => standard::check(keys, inbound),
    }
}

impl Inbound<'_> {
    fn header(&self, name: &str) -> Result<&str, Refusal> {
        let value = self
            .headers
            .get(name)
            .ok_or_else(|| Refusal::MissingHeader(name.to_owned()))?;
        let value = value
            .to_str()
            .map_err(|_| malformed(name, "not visible ASCII"))?
            .trim();
        if value.is_empty() {
            return Err(malformed(name, "empty"));
        }
        Ok(value)
    }
}

fn malformed(header: &str, problem: &'static str) -> Refusal {
    Refusal::Malformed {
        header: header.to_owned(),
        problem,
    }
}

/// Whether `signature` is HMAC-SHA256 over the concatenated `parts` under any key.
/// `verify_slice` compares in constant time and refuses any other length (empty, truncated).
fn signed_by_any(keys: &[Vec<u8>], parts: &[&[u8]], signature: &[u8]) -> bool {
    keys.iter().any(|key| {
        let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
        for part in parts {
            mac.update(part);
        }
        mac.verify_slice(signature).is_ok()
    })
}

/// The timestamp in `header` (unix seconds) is within the tolerance of `now`.
fn check_fresh(header: &str, value: &str, now: i64) -> Result<(), Refusal> {
    let digits =
        !value.is_empty() && value.len() <= 15 && value.bytes().all(|b| b.is_ascii_digit());
    let timestamp: i64 = digits
        .then(|| value.parse().ok())
        .flatten()
        .ok_or_else(|| malformed(header, "not a unix timestamp in seconds"))?;
    let age = now - timestamp;
    if age > TOLERANCE_SECS {
        Err(Refusal::Stale(header.to_owned(), age))
    } else if -age > TOLERANCE_SECS {
        Err(Refusal::Future(header.to_owned(), -age))
    } else {
        Ok(())
    }
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

fn decode_base64(text: &str) -> Option<Vec<u8>> {
    STANDARD.decode(text).ok()
}

#[cfg(test)]
pub(crate) mod testing {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    pub fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    pub fn inbound<'a>(headers: &'a HeaderMap, body: &'a [u8], now: i64) -> Inbound<'a> {
        Inbound {
            headers,
            query: "",
            body,
            now,
        }
    }

    pub fn mac(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
        let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
        for part in parts {
            mac.update(part);
        }
        mac.finalize().into_bytes().to_vec()
    }

    pub fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    pub fn base64(bytes: &[u8]) -> String {
        STANDARD.encode(bytes)
    }

    /// The same JSON as `{"id": 1, "ok": true}` with other whitespace.
    pub const BODY: &[u8] = br#"{"id": 1, "ok": true}"#;
    pub const RESERIALISED: &[u8] = br#"{"id":1,"ok":true}"#;

    pub fn flipped(bytes: &[u8]) -> Vec<u8> {
        let mut copy = bytes.to_vec();
        copy[0] ^= 0x01;
        copy
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_within_300_seconds_either_way_are_fresh() {
        let now = 1_700_000_000;
        for offset in [0, 300, -300] {
            assert_eq!(check_fresh("t", &(now + offset).to_string(), now), Ok(()));
        }
        assert_eq!(
            check_fresh("t", &(now - 301).to_string(), now),
            Err(Refusal::Stale("t".into(), 301))
        );
        assert_eq!(
            check_fresh("t", &(now + 301).to_string(), now),
            Err(Refusal::Future("t".into(), 301))
        );
        for bad in ["", "-5", "+1700000000", "1.5", "9999999999999999999"] {
            assert!(
                matches!(check_fresh("t", bad, now), Err(Refusal::Malformed { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn hex_decoding_refuses_odd_lengths_and_non_hex() {
        assert_eq!(decode_hex("00ffA0"), Some(vec![0, 255, 160]));
        assert_eq!(decode_hex(""), Some(vec![]));
        assert_eq!(decode_hex("abc"), None);
        assert_eq!(decode_hex("zz"), None);
        assert_eq!(decode_hex("é1"), None);
    }

    #[test]
    fn empty_and_truncated_signatures_never_match() {
        let keys = [b"key".to_vec()];
        let full = testing::mac(b"key", &[b"body"]);
        assert!(signed_by_any(&keys, &[b"body"], &full));
        assert!(!signed_by_any(&keys, &[b"body"], &[]));
        assert!(!signed_by_any(&keys, &[b"body"], &full[..16]));
        assert!(!signed_by_any(&[], &[b"body"], &full));
    }

    #[test]
    fn refusals_name_the_header_and_never_a_signature() {
        let text = Refusal::Mismatch("x-hub-signature-256".into()).to_string();
        assert_eq!(text, "`x-hub-signature-256` signature does not match");
        let text = Refusal::Stale("webhook-timestamp".into(), 301).to_string();
        assert!(text.contains("301 s old"), "{text}");
    }
}
