//! Standard Webhooks signing (<https://www.standardwebhooks.com>).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const HEADER_ID: &str = "webhook-id";
pub const HEADER_TIMESTAMP: &str = "webhook-timestamp";
pub const HEADER_SIGNATURE: &str = "webhook-signature";

/// Why a signing secret cannot sign (see [`crate::recipe::secrets::standard_webhooks_key`]).
pub type SignError = crate::recipe::secrets::KeyError;

/// Signature header value for one outbound call. `msg_id` is stable across retries of one delivery.
///
/// Returns `v1,<base64(HMAC-SHA256(key, "{msg_id}.{timestamp}.{body}"))>`.
pub fn sign(secret: &str, msg_id: &str, timestamp: i64, body: &[u8]) -> Result<String, SignError> {
    let key = secret_key(secret)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("HMAC accepts keys of any length");
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// The `webhook-id`, `webhook-timestamp` and (when a secret is given) `webhook-signature`
/// headers for one outbound call.
pub fn standard_headers(
    secret: Option<&str>,
    msg_id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<Vec<(String, String)>, SignError> {
    let mut headers = vec![
        (HEADER_ID.to_string(), msg_id.to_string()),
        (HEADER_TIMESTAMP.to_string(), timestamp.to_string()),
    ];
    if let Some(secret) = secret {
        headers.push((
            HEADER_SIGNATURE.to_string(),
            sign(secret, msg_id, timestamp, body)?,
        ));
    }
    Ok(headers)
}

/// The HMAC key of a Standard Webhooks secret: an optional `whsec_` prefix removed, the rest
/// base64-decoded, as the reference libraries do. Never the raw text.
pub fn secret_key(secret: &str) -> Result<Vec<u8>, SignError> {
    crate::recipe::secrets::standard_webhooks_key(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const MSG_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TS: i64 = 1614265330;
    const BODY: &[u8] = br#"{"test": 2432232314}"#;

    #[test]
    fn matches_spec_example() {
        assert_eq!(
            sign(SECRET, MSG_ID, TS, BODY).unwrap(),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn one_byte_change_in_body_changes_signature() {
        let a = sign(SECRET, MSG_ID, TS, BODY).unwrap();
        let b = sign(SECRET, MSG_ID, TS, br#"{"test": 2432232315}"#).unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn id_and_timestamp_are_signed() {
        let a = sign(SECRET, MSG_ID, TS, BODY).unwrap();
        assert_ne!(a, sign(SECRET, "msg_other", TS, BODY).unwrap());
        assert_ne!(a, sign(SECRET, MSG_ID, TS + 1, BODY).unwrap());
    }

    #[test]
    fn a_secret_without_the_prefix_is_base64_like_the_reference_libraries() {
        let bare = SECRET.strip_prefix("whsec_").unwrap();
        assert_eq!(
            sign(bare, MSG_ID, TS, BODY).unwrap(),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
        // Never the raw text as the key: base64("hunter2") signs like the key "hunter2".
        let encoded = STANDARD.encode("hunter2");
        let mut mac = Hmac::<Sha256>::new_from_slice(b"hunter2").unwrap();
        mac.update(format!("{MSG_ID}.{TS}.").as_bytes());
        mac.update(BODY);
        let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
        assert_eq!(sign(&encoded, MSG_ID, TS, BODY).unwrap(), expected);
    }

    #[test]
    fn bad_base64_and_empty_secrets_are_errors() {
        for bad in ["whsec_not*base64!", "hunter2!"] {
            let err = sign(bad, MSG_ID, TS, BODY).unwrap_err();
            assert!(matches!(err, SignError::NotBase64(_)), "{bad}");
            assert!(err.to_string().contains("must be base64"), "{err}");
        }
        assert_eq!(sign("", MSG_ID, TS, BODY), Err(SignError::Empty));
        assert_eq!(sign("whsec_", MSG_ID, TS, BODY), Err(SignError::Empty));
    }

    #[test]
    fn standard_headers_carry_id_timestamp_and_optional_signature() {
        let unsigned = standard_headers(None, MSG_ID, TS, BODY).unwrap();
        assert_eq!(
            unsigned,
            vec![
                ("webhook-id".to_string(), MSG_ID.to_string()),
                ("webhook-timestamp".to_string(), "1614265330".to_string()),
            ]
        );
        let signed = standard_headers(Some(SECRET), MSG_ID, TS, BODY).unwrap();
        assert_eq!(signed.len(), 3);
        assert_eq!(
            signed[2],
            (
                "webhook-signature".to_string(),
                "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=".to_string()
            )
        );
    }
}
