//! Which secrets a recipe uses as Standard Webhooks keys, and what such a key must be.
//!
//! The key rule follows the Standard Webhooks reference libraries (`Webhook(secret)` in
//! standard-webhooks/standard-webhooks, Python and JavaScript): an optional `whsec_` prefix is
//! removed and the rest is base64-decoded into the HMAC key. A value that does not decode is
//! refused wherever it is known to be such a key (import, `secrets set`, API and UI), and at
//! verify or sign time a clear error names the secret: it is never used as raw text.

use base64::Engine as _;
use base64::alphabet::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

use super::action::secret_reference;
use super::file::{RecipeFile, VerifyPreset};

const PREFIX: &str = "whsec_";

/// Standard base64; the `=` padding may be left out (an unambiguous key either way).
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Why a value cannot be a Standard Webhooks key. The text never quotes the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("is empty")]
    Empty,
    #[error(
        "is not a Standard Webhooks key: after an optional `whsec_` prefix it must be base64 ({0})"
    )]
    NotBase64(String),
}

/// The HMAC key of a Standard Webhooks secret (`whsec_<base64>` or `<base64>`): the decoded
/// bytes, at least one (the specification recommends 24 to 64).
pub fn standard_webhooks_key(value: &str) -> Result<Vec<u8>, KeyError> {
    let encoded = value.strip_prefix(PREFIX).unwrap_or(value);
    let key = BASE64
        .decode(encoded)
        .map_err(|e| KeyError::NotBase64(e.to_string()))?;
    if key.is_empty() {
        return Err(KeyError::Empty);
    }
    Ok(key)
}

impl RecipeFile {
    /// `(field, secret name)` for every secret this recipe uses as a Standard Webhooks key:
    /// the webhook's `secret` and `previous_secret` under `verify = "standard-webhooks"`, and
    /// every action's signing `secret`. References that do not parse are left to validation.
    pub fn standard_webhooks_secrets(&self) -> Vec<(String, String)> {
        let mut uses = Vec::new();
        let mut add = |field: String, value: &Option<String>| {
            if let Some(name) = value.as_deref().and_then(|v| secret_reference(v).ok()) {
                uses.push((field, name));
            }
        };
        if let Some(webhook) = &self.trigger.webhook
            && webhook.verify == VerifyPreset::StandardWebhooks
        {
            add("trigger.webhook.secret".into(), &webhook.secret);
            add(
                "trigger.webhook.previous_secret".into(),
                &webhook.previous_secret,
            );
        }
        for (i, action) in self.actions.iter().enumerate() {
            add(format!("action[{i}].secret"), &action.secret);
        }
        uses
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_base64_with_an_optional_prefix_like_the_reference_libraries() {
        let key = standard_webhooks_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(key.len(), 24);
        assert_eq!(
            standard_webhooks_key("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap(),
            key
        );
        // Padding may be left out.
        assert_eq!(standard_webhooks_key("aHVudGVyMg").unwrap(), b"hunter2");
        assert_eq!(standard_webhooks_key("aHVudGVyMg==").unwrap(), b"hunter2");
    }

    #[test]
    fn values_that_cannot_be_keys_are_refused_without_quoting_them() {
        for bad in ["not*base64!", "whsec_not*base64!", "s3cret-signing-value"] {
            let error = standard_webhooks_key(bad).unwrap_err();
            assert!(matches!(error, KeyError::NotBase64(_)), "{bad}");
            assert!(!error.to_string().contains(bad), "{error}");
        }
        assert_eq!(standard_webhooks_key(""), Err(KeyError::Empty));
        assert_eq!(standard_webhooks_key("whsec_"), Err(KeyError::Empty));
    }

    #[test]
    fn standard_webhooks_secrets_are_the_verify_secrets_and_action_signing_secrets() {
        let file: RecipeFile = toml::from_str(
            r#"
id = "r"
name = "r"
[trigger.webhook]
verify = "standard-webhooks"
secret = "{{ secrets.IN }}"
previous_secret = "{{ secrets.OLD }}"
[[action]]
name = "a"
url = "http://example.com"
[[action]]
name = "b"
url = "http://example.com"
secret = "{{ secrets.OUT }}"
"#,
        )
        .unwrap();
        let uses = file.standard_webhooks_secrets();
        let names: Vec<(&str, &str)> = uses.iter().map(|(f, n)| (f.as_str(), n.as_str())).collect();
        assert_eq!(
            names,
            [
                ("trigger.webhook.secret", "IN"),
                ("trigger.webhook.previous_secret", "OLD"),
                ("action[1].secret", "OUT"),
            ]
        );
        let mut github = file.clone();
        github.trigger.webhook.as_mut().unwrap().verify = VerifyPreset::Github;
        assert_eq!(
            github.standard_webhooks_secrets().len(),
            1,
            "only the action's"
        );
    }
}
