//! `token`: the caller presents the secret itself as a bearer token, basic-auth password,
//! `X-Webhook-Token` header or `token` query parameter.

use actix_web::http::header::HeaderMap;
use base64::Engine as _;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{Inbound, Refusal};

pub fn check(keys: &[Vec<u8>], inbound: &Inbound<'_>) -> Result<(), Refusal> {
    let presented = presented(inbound.headers, inbound.query).ok_or(Refusal::MissingToken)?;
    // Comparing digests keeps the comparison constant-time whatever the lengths.
    let presented = Sha256::digest(presented.as_bytes());
    let matched = keys
        .iter()
        .any(|key| bool::from(Sha256::digest(key).ct_eq(&presented)));
    if matched {
        Ok(())
    } else {
        Err(Refusal::InvalidToken)
    }
}

fn presented(headers: &HeaderMap, query: &str) -> Option<String> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some((scheme, credentials)) = header("authorization").and_then(credentials) {
        if scheme.eq_ignore_ascii_case("bearer") {
            // An empty bearer token is a wrong token, not a missing one.
            return Some(credentials.to_owned());
        }
        if scheme.eq_ignore_ascii_case("basic") {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(credentials)
                .ok()?;
            let text = String::from_utf8(decoded).ok()?;
            return text
                .split_once(':')
                .map(|(_, password)| password.to_owned());
        }
    }
    if let Some(token) = header("x-webhook-token") {
        return Some(token.trim().to_owned());
    }
    serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .ok()?
        .into_iter()
        .find(|(key, _)| key == "token")
        .map(|(_, value)| value)
}

/// The scheme and credentials of an `Authorization` value (`Basic dXNlcjpwdw==`); the caller
/// compares the scheme case-insensitively (RFC 9110 §11.1). A bare scheme has empty credentials.
fn credentials(value: &str) -> Option<(&str, &str)> {
    let value = value.trim();
    let (scheme, rest) = value.split_once([' ', '\t']).unwrap_or((value, ""));
    (!scheme.is_empty()).then(|| (scheme, rest.trim()))
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    fn run(pairs: &[(&str, &str)], query: &str, keys: &[&str]) -> Result<(), Refusal> {
        let headers = headers(pairs);
        let keys: Vec<Vec<u8>> = keys.iter().map(|k| k.as_bytes().to_vec()).collect();
        let inbound = Inbound {
            query,
            ..inbound(&headers, b"{}", 0)
        };
        check(&keys, &inbound)
    }

    #[test]
    fn every_presentation_of_the_token_is_accepted() {
        let basic = format!("Basic {}", base64(b"user:tok"));
        for (pairs, query) in [
            (vec![("Authorization", "Bearer tok")], ""),
            (vec![("Authorization", basic.as_str())], ""),
            (vec![("X-Webhook-Token", "tok")], ""),
            (vec![], "a=1&token=tok"),
        ] {
            assert_eq!(run(&pairs, query, &["tok"]), Ok(()), "{pairs:?} {query}");
        }
    }

    #[test]
    fn scheme_names_are_case_insensitive() {
        for scheme in ["Basic", "basic", "BASIC", "bAsIc"] {
            let basic = format!("{scheme} {}", base64(b"user:tok"));
            assert_eq!(
                run(&[("Authorization", &basic)], "", &["tok"]),
                Ok(()),
                "{scheme}"
            );
        }
        for scheme in ["Bearer", "bearer", "BEARER"] {
            let bearer = format!("{scheme}  tok ");
            assert_eq!(
                run(&[("Authorization", &bearer)], "", &["tok"]),
                Ok(()),
                "{scheme}"
            );
        }
        assert_eq!(
            run(&[("Authorization", "Bearer")], "", &["tok"]),
            Err(Refusal::InvalidToken)
        );
    }

    #[test]
    fn wrong_empty_or_missing_tokens_are_refused_and_the_previous_one_still_works() {
        assert_eq!(
            run(&[("X-Webhook-Token", "tol")], "", &["tok"]),
            Err(Refusal::InvalidToken)
        );
        assert_eq!(
            run(&[("Authorization", "Bearer ")], "", &["tok"]),
            Err(Refusal::InvalidToken)
        );
        assert_eq!(
            run(&[("Authorization", "Bearer to")], "", &["tok"]),
            Err(Refusal::InvalidToken)
        );
        assert_eq!(run(&[], "", &["tok"]), Err(Refusal::MissingToken));
        assert_eq!(
            run(&[("X-Webhook-Token", "old")], "", &["new", "old"]),
            Ok(())
        );
    }
}
