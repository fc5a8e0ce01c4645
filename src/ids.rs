//! Identifiers: time-ordered ids for rows, unguessable tokens for webhook URLs and API access,
//! and the hash stored of a token.

use base64::Engine as _;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A time-ordered UUID (v7), so ids sort by creation and keep indexes append-only.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// 256 random bits, URL-safe: the whole secret of a public webhook URL.
pub fn new_webhook_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Hex SHA-256: what is stored of session ids and API tokens.
pub fn hash_token(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_tokens_are_long_and_distinct() {
        let a = new_webhook_token();
        let b = new_webhook_token();
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
    }
}
