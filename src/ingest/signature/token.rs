//! `token`: the caller presents the secret itself as a bearer token, basic-auth password,
//! `X-Webhook-Token` header or `token` query parameter.

use actix_web::http::header::HeaderMap;
use base64::Engine as _;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{Inbound, Refusal};

pub fn check(keys: &[Vec<u8>], inbound: &Inbound<'_>) -> Result<(), Refusal> {
    let presented = presented(inbound.headers, inbound.query)?;
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

/// The token the caller presents. An `Authorization` header that carries none (another
/// scheme, Basic that is not base64 `user:password`) is named in the refusal when no other
/// way presents a token: the caller sent a credential, so "missing" would mislead.
fn presented(headers: &HeaderMap, query: &str) -> Result<String, Refusal> {
    let authorization = match headers.get("authorization") {
        None => Err(Refusal::MissingToken),
        Some(value) => value
            .to_str()
            .map_err(|_| malformed("not visible ASCII"))
            .and_then(from_authorization),
    };
    if authorization.is_ok() {
        return authorization;
    }
    if let Some(token) = headers.get("x-webhook-token").and_then(|v| v.to_str().ok()) {
        return Ok(token.trim().to_owned());
    }
    let from_query = serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .ok()
        .and_then(|pairs| pairs.into_iter().find(|(key, _)| key == "token"));
    match from_query {
        Some((_, token)) => Ok(token),
        None => authorization,
    }
}

fn from_authorization(value: &str) -> Result<String, Refusal> {
    let Some((scheme, credentials)) = credentials(value) else {
        return Err(malformed("empty"));
    };
    if scheme.eq_ignore_ascii_case("bearer") {
        // An empty bearer token is a wrong token, not a missing one.
        return Ok(credentials.to_owned());
    }
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(Refusal::UnacceptedScheme(scheme.to_owned()));
    }
    base64::engine::general_purpose::STANDARD
        .decode(credentials)
        .ok()
        .and_then(|decoded| String::from_utf8(decoded).ok())
        .and_then(|text| {
            text.split_once(':')
                .map(|(_, password)| password.to_owned())
        })
        .ok_or_else(|| malformed("Basic credentials are not base64 of `user:password`"))
}

fn malformed(problem: &'static str) -> Refusal {
    Refusal::Malformed {
        header: "authorization".into(),
        problem,
    }
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
        assert_eq!(run(&[], "a=1", &["tok"]), Err(Refusal::MissingToken));
        assert_eq!(
            run(&[("X-Webhook-Token", "old")], "", &["new", "old"]),
            Ok(())
        );
    }

    #[test]
    fn an_authorization_header_without_a_usable_token_is_named_in_the_refusal() {
        assert_eq!(
            run(&[("Authorization", "Token tok")], "", &["tok"]),
            Err(Refusal::UnacceptedScheme("Token".into()))
        );
        assert_eq!(
            run(&[("Authorization", "Digest x=1")], "", &["tok"]),
            Err(Refusal::UnacceptedScheme("Digest".into()))
        );
        for bad in ["Basic !!!", "Basic dG9r", "Basic"] {
            // "dG9r" is base64 of "tok" with no `user:` part.
            assert!(
                matches!(
                    run(&[("Authorization", bad)], "", &["tok"]),
                    Err(Refusal::Malformed { ref header, .. }) if header == "authorization"
                ),
                "{bad}"
            );
        }
        // Another way that presents the token still counts.
        assert_eq!(
            run(
                &[("Authorization", "Token x"), ("X-Webhook-Token", "tok")],
                "",
                &["tok"]
            ),
            Ok(())
        );
        assert_eq!(
            run(&[("Authorization", "Token x")], "token=tok", &["tok"]),
            Ok(())
        );
    }

    #[test]
    fn refusal_texts_list_every_way_to_send_the_token() {
        let missing = Refusal::MissingToken.to_string();
        let scheme = Refusal::UnacceptedScheme("Token".into()).to_string();
        assert!(
            scheme.starts_with("`Authorization` scheme `Token` is not accepted"),
            "{scheme}"
        );
        for text in [missing, scheme] {
            for way in [
                "Bearer <token>",
                "Basic` (password = token)",
                "X-Webhook-Token",
                "?token=",
            ] {
                assert!(text.contains(way), "{way} in {text}");
            }
        }
    }
}
