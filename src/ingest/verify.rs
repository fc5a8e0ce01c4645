//! Inbound verification. `token`: the caller presents the recipe's secret as a bearer token,
//! basic-auth password, `X-Webhook-Token` header or `token` query parameter.

use actix_web::HttpRequest;
use base64::Engine as _;
use subtle::ConstantTimeEq;

use super::error::IngestError;
use crate::recipe::{VerifyPreset, WebhookTrigger};
use crate::store::SecretStore;

/// Headers that carry credentials for `preset`; their values are not stored with the event.
pub fn credential_headers(preset: VerifyPreset) -> &'static [&'static str] {
    match preset {
        VerifyPreset::Token => &["authorization", "x-webhook-token"],
        _ => &[],
    }
}

pub async fn verify(
    webhook: &WebhookTrigger,
    req: &HttpRequest,
    secrets: &(dyn SecretStore + Send + Sync),
) -> Result<(), IngestError> {
    match webhook.verify {
        VerifyPreset::None => Ok(()),
        VerifyPreset::Token => {
            let name = webhook.secret_name.as_deref().ok_or_else(|| {
                IngestError::Misconfigured("verify = \"token\" has no secret".into())
            })?;
            let expected = secrets
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
            let presented = presented_token(req).ok_or_else(|| {
                IngestError::Unauthorized(
                    "missing token: send it as `Authorization: Bearer <token>` or `X-Webhook-Token`".into(),
                )
            })?;
            if bool::from(presented.as_bytes().ct_eq(expected.as_bytes())) {
                Ok(())
            } else {
                Err(IngestError::Unauthorized("invalid token".into()))
            }
        }
        other => Err(IngestError::Misconfigured(format!(
            "verify = \"{}\" is not supported yet",
            other.as_str()
        ))),
    }
}

fn presented_token(req: &HttpRequest) -> Option<String> {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    if let Some(auth) = header("authorization") {
        if let Some(token) = auth.strip_prefix("Bearer ") {
            return Some(token.trim().to_owned());
        }
        if let Some(encoded) = auth.strip_prefix("Basic ") {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
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
    serde_urlencoded::from_str::<Vec<(String, String)>>(req.query_string())
        .ok()?
        .into_iter()
        .find(|(key, _)| key == "token")
        .map(|(_, value)| value)
}
