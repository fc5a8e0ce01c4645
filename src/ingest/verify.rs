//! Inbound verification: loads the recipe's secrets (the current one, and the previous one
//! during a rotation) and checks the request with its preset's scheme. A refused call is a 401;
//! a secret that is not set is a misconfiguration (503), never an open door.

use actix_web::HttpRequest;
use chrono::Utc;

use super::error::IngestError;
use super::signature::{self, Inbound, Scheme};
use crate::deliver::sign::secret_key;
use crate::recipe::{VerifyPreset, WebhookTrigger};
use crate::store::SecretStore;

/// Longer delivery ids are not used for deduplication (no sender sends them).
const MAX_DELIVERY_ID: usize = 256;

/// Headers that carry credentials for `preset`; their values are not stored with the event.
pub fn credential_headers(preset: VerifyPreset) -> &'static [&'static str] {
    match preset {
        VerifyPreset::Token => &["authorization", "x-webhook-token"],
        _ => &[],
    }
}

/// The sender's id for this delivery (the same on its retries), when the preset has one.
pub fn delivery_id(preset: VerifyPreset, req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(preset.delivery_id_header()?)?;
    let value = value.to_str().ok()?.trim();
    (!value.is_empty() && value.len() <= MAX_DELIVERY_ID).then(|| value.to_owned())
}

/// Checks the body against the recipe's `verify` preset; a signature over any of `bodies`
/// passes (a refusal names the first's problem).
///
/// `bodies` are the bytes before any parsing: the decoded body, then, when the request had a
/// `Content-Encoding`, the bytes as received. Every preset signs the raw payload bytes:
/// GitHub (`X-Hub-Signature-256`, HMAC of "the payload body", GitHub Docs "Validating webhook
/// deliveries"), Stripe (`{t}.{raw body}`, Stripe Docs "Check the webhook signatures"), Slack
/// (`v0:{timestamp}:{raw body}`, Slack "Verifying requests from Slack"), Shopify (HMAC of the
/// raw body, Shopify "Verify webhooks"), Standard Webhooks (`{id}.{timestamp}.{payload}`,
/// the specification's "Signature scheme"). None of them documents compressing deliveries;
/// senders that do (GetStream, QuickNode Streams) sign the uncompressed JSON, so that is
/// checked first. A sender signing the compressed bytes it sends verifies too; either way the
/// signature covers exactly what is stored.
pub async fn verify(
    webhook: &WebhookTrigger,
    req: &HttpRequest,
    bodies: &[&[u8]],
    secrets: &(dyn SecretStore + Send + Sync),
) -> Result<(), IngestError> {
    let scheme = match webhook.verify {
        VerifyPreset::None => return Ok(()),
        VerifyPreset::Token => Scheme::Token,
        VerifyPreset::HmacSha256 => Scheme::Hmac(webhook.hmac.as_ref().ok_or_else(|| {
            IngestError::Misconfigured("verify = \"hmac-sha256\" has no header".into())
        })?),
        VerifyPreset::Github => Scheme::Github,
        VerifyPreset::Stripe => Scheme::Stripe,
        VerifyPreset::Slack => Scheme::Slack,
        VerifyPreset::Shopify => Scheme::Shopify,
        VerifyPreset::StandardWebhooks => Scheme::StandardWebhooks,
    };
    let keys = keys(webhook, secrets).await?;
    let now = Utc::now().timestamp();
    let mut first_refusal = None;
    for body in bodies {
        let inbound = Inbound {
            headers: req.headers(),
            query: req.query_string(),
            body,
            now,
        };
        match signature::check(scheme, &keys, &inbound) {
            Ok(()) => return Ok(()),
            Err(refusal) => {
                first_refusal.get_or_insert(refusal);
            }
        }
    }
    Err(IngestError::Refused(
        first_refusal.unwrap_or(signature::Refusal::MissingToken),
    ))
}

async fn keys(
    webhook: &WebhookTrigger,
    secrets: &(dyn SecretStore + Send + Sync),
) -> Result<Vec<Vec<u8>>, IngestError> {
    let preset = webhook.verify;
    let name = webhook.secret_name.as_deref().ok_or_else(|| {
        IngestError::Misconfigured(format!("verify = \"{}\" has no secret", preset.as_str()))
    })?;
    let current = secrets
        .get_secret(name)
        .await
        .map_err(IngestError::StoreUnavailable)?
        .ok_or_else(|| {
            tracing::warn!(
                secret = name,
                "webhook refused: its verification secret is not set"
            );
            IngestError::Misconfigured(format!("verification secret `{name}` is not set"))
        })?;
    let mut keys = vec![key(preset, name, &current)?];
    if let Some(previous) = webhook.previous_secret_name.as_deref() {
        // Unset once the rotation is over: the current secret alone verifies.
        match secrets
            .get_secret(previous)
            .await
            .map_err(IngestError::StoreUnavailable)?
        {
            Some(value) => keys.push(key(preset, previous, &value)?),
            None => tracing::warn!(
                secret = previous,
                "previous_secret is not set; only the current secret verifies"
            ),
        }
    }
    Ok(keys)
}

/// The HMAC key (or token) a secret's value stands for. The error never quotes the value.
fn key(preset: VerifyPreset, name: &str, value: &str) -> Result<Vec<u8>, IngestError> {
    if value.is_empty() {
        return Err(IngestError::Misconfigured(format!(
            "verification secret `{name}` is empty"
        )));
    }
    match preset {
        VerifyPreset::StandardWebhooks => secret_key(value).map_err(|error| {
            IngestError::Misconfigured(format!("verification secret `{name}` {error}"))
        }),
        _ => Ok(value.as_bytes().to_vec()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn delivery_ids_come_from_the_preset_header_only() {
        let req = TestRequest::default()
            .insert_header(("X-GitHub-Delivery", " 72d3162e-cc78 "))
            .insert_header(("webhook-id", "msg_1"))
            .to_http_request();
        assert_eq!(
            delivery_id(VerifyPreset::Github, &req).as_deref(),
            Some("72d3162e-cc78")
        );
        assert_eq!(
            delivery_id(VerifyPreset::StandardWebhooks, &req).as_deref(),
            Some("msg_1")
        );
        assert_eq!(delivery_id(VerifyPreset::Shopify, &req), None);
        assert_eq!(delivery_id(VerifyPreset::Stripe, &req), None);
        let long = TestRequest::default()
            .insert_header(("webhook-id", "x".repeat(MAX_DELIVERY_ID + 1)))
            .to_http_request();
        assert_eq!(delivery_id(VerifyPreset::StandardWebhooks, &long), None);
    }

    #[test]
    fn secret_errors_name_the_secret_but_never_its_value() {
        let error = key(VerifyPreset::StandardWebhooks, "SW", "whsec_not*base64!").unwrap_err();
        let text = error.to_string();
        assert!(
            text.contains("`SW`") && !text.contains("not*base64"),
            "{text}"
        );
        assert!(key(VerifyPreset::Github, "GH", "").is_err());
        assert_eq!(
            key(VerifyPreset::Stripe, "S", "whsec_abc").unwrap(),
            b"whsec_abc".to_vec(),
            "Stripe uses its whsec_ secret as is"
        );
    }
}
