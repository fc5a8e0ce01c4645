//! `handshake = "…"`: a provider's one-time (or periodic) endpoint verification, answered as
//! the provider documents it. A handshake stores no event, runs nothing and is not counted as
//! an accepted webhook; it has passed the rate limit like any request. Every echo is sent as
//! `text/plain` (or JSON for Zoom) with `X-Content-Type-Options: nosniff`, so an echoed value
//! is never read as HTML.
//!
//! Requests and answers, per provider:
//! - **Slack** (<https://api.slack.com/events/url_verification>): `POST` with the JSON
//!   `{"token", "challenge", "type": "url_verification"}`, signed like every Events API call
//!   (checked first when `verify = "slack"`); answer `200` with the `challenge` value as
//!   `text/plain` (Slack also takes form or JSON).
//! - **Meta** (WhatsApp Cloud API, Messenger, Instagram; "Getting Started: Verification
//!   Requests", <https://developers.facebook.com/docs/graph-api/webhooks/getting-started>):
//!   `GET ?hub.mode=subscribe&hub.challenge=<challenge>&hub.verify_token=<token>`, unsigned;
//!   when `hub.verify_token` is the Verify Token (compared in constant time), answer `200` with
//!   the `hub.challenge` value; otherwise `403`.
//! - **Microsoft Graph** (change notifications, "Notification endpoint validation",
//!   <https://learn.microsoft.com/en-us/graph/change-notifications-delivery-webhooks>): `POST`
//!   to the URL with `?validationToken=<opaque token>` (`Content-Type: text/plain`), unsigned,
//!   also for lifecycle notification URLs; answer within 10 s with `200`, `Content-Type:
//!   text/plain` and the URL-decoded token as the body. Answered on any method the hook takes.
//! - **Zoom** ("Validate your webhook endpoint",
//!   <https://developers.zoom.us/docs/api/webhooks/#validate-your-webhook-endpoint>): `POST`
//!   with the JSON `{"payload": {"plainToken": "…"}, "event_ts": …, "event":
//!   "endpoint.url_validation"}`; answer `200` with the JSON `{"plainToken": <plainToken>,
//!   "encryptedToken": <hex HMAC-SHA256 of plainToken keyed with the app's Secret Token>}`.
//!   Its `x-zm-signature` is not checked (no `verify` preset reads it); the answer proves that
//!   this server holds the Secret Token and reveals nothing of it.
//! - **Dropbox** ("Webhooks: verification request",
//!   <https://www.dropbox.com/developers/reference/webhooks>): `GET ?challenge=<challenge>`,
//!   unsigned; answer `200` echoing the challenge with `Content-Type: text/plain` and
//!   `X-Content-Type-Options: nosniff` (Dropbox asks for both, against reflected XSS).

use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::error::IngestError;
use crate::recipe::{Handshake, WebhookTrigger};
use crate::store::SecretStore;

/// The answer to a handshake that comes in the query string (Meta, Dropbox, Graph), or `None`
/// when the request is not one (it then goes on as a webhook). Called before the body is
/// read: these providers sign nothing, and their requests carry no body that matters.
pub(super) async fn from_query(
    webhook: &WebhookTrigger,
    req: &HttpRequest,
    secrets: &(dyn SecretStore + Send + Sync),
) -> Result<Option<HttpResponse>, IngestError> {
    let is_get = matches!(*req.method(), Method::GET | Method::HEAD);
    let query = || -> Vec<(String, String)> {
        serde_urlencoded::from_str(req.query_string()).unwrap_or_default()
    };
    let param = |query: &[(String, String)], name: &str| {
        query
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    };
    let answer = match webhook.handshake {
        Some(Handshake::Meta) if is_get => {
            let query = query();
            if !query.iter().any(|(key, _)| key.starts_with("hub.")) {
                return Ok(None);
            }
            let expected = secret(webhook, secrets).await?;
            meta(
                param(&query, "hub.mode").as_deref(),
                param(&query, "hub.challenge"),
                param(&query, "hub.verify_token").as_deref(),
                &expected,
            )?
        }
        Some(Handshake::Dropbox) if is_get => match param(&query(), "challenge") {
            Some(challenge) => plain(challenge),
            None => return Ok(None),
        },
        Some(Handshake::Msgraph) => match param(&query(), "validationToken") {
            Some(token) => plain(token),
            None => return Ok(None),
        },
        _ => return Ok(None),
    };
    Ok(Some(answer))
}

/// The answer to a handshake that comes as a JSON body (Slack, Zoom), or `None` when `payload`
/// is not one. Called after `verify` checked the request.
pub(super) async fn from_body(
    webhook: &WebhookTrigger,
    payload: &Value,
    secrets: &(dyn SecretStore + Send + Sync),
) -> Result<Option<HttpResponse>, IngestError> {
    let text = |pointer: &str| payload.pointer(pointer).and_then(Value::as_str);
    match webhook.handshake {
        Some(Handshake::Slack) if text("/type") == Some("url_verification") => {
            let challenge = text("/challenge").ok_or_else(|| {
                IngestError::Handshake("Slack's url_verification has no `challenge` text".into())
            })?;
            Ok(Some(plain(challenge.to_owned())))
        }
        Some(Handshake::Zoom) if text("/event") == Some("endpoint.url_validation") => {
            let plain_token = text("/payload/plainToken").ok_or_else(|| {
                IngestError::Handshake(
                    "Zoom's endpoint.url_validation has no `payload.plainToken` text".into(),
                )
            })?;
            let key = secret(webhook, secrets).await?;
            Ok(Some(zoom(plain_token, &key)))
        }
        _ => Ok(None),
    }
}

/// Meta's verification: `hub.mode` must be `subscribe` and `hub.verify_token` the Verify Token.
fn meta(
    mode: Option<&str>,
    challenge: Option<String>,
    token: Option<&str>,
    expected: &str,
) -> Result<HttpResponse, IngestError> {
    if mode != Some("subscribe") {
        return Err(IngestError::Handshake(format!(
            "Meta's verification request needs hub.mode=subscribe (got {})",
            mode.map_or("none".to_owned(), |m| format!("`{m}`"))
        )));
    }
    let challenge = challenge.ok_or_else(|| {
        IngestError::Handshake("Meta's verification request has no hub.challenge".into())
    })?;
    // Digests first: equal lengths, so the comparison's time says nothing about the token.
    let same = token
        .is_some_and(|token| bool::from(Sha256::digest(token).ct_eq(&Sha256::digest(expected))));
    if !same {
        return Err(IngestError::HandshakeRefused(
            "hub.verify_token is not this webhook's verify token".into(),
        ));
    }
    Ok(plain(challenge))
}

/// Zoom's answer: the plain token and its hex HMAC-SHA256 under the Secret Token.
fn zoom(plain_token: &str, secret_token: &str) -> HttpResponse {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret_token.as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(plain_token.as_bytes());
    let encrypted: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    HttpResponse::Ok()
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .json(json!({ "plainToken": plain_token, "encryptedToken": encrypted }))
}

/// `200`, the value echoed as `text/plain`, never sniffed.
fn plain(value: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(value)
}

/// The `handshake_secret`'s value; not set (or empty) is a misconfiguration, never an open door.
async fn secret(
    webhook: &WebhookTrigger,
    secrets: &(dyn SecretStore + Send + Sync),
) -> Result<String, IngestError> {
    let name = webhook.handshake_secret_name.as_deref().ok_or_else(|| {
        IngestError::Misconfigured("the handshake has no handshake_secret".into())
    })?;
    match secrets
        .get_secret(name)
        .await
        .map_err(IngestError::StoreUnavailable)?
    {
        Some(value) if !value.is_empty() => Ok(value),
        _ => Err(IngestError::Misconfigured(format!(
            "handshake secret `{name}` is not set"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::MessageBody;

    fn body(response: HttpResponse) -> String {
        let bytes = response.into_body().try_into_bytes().unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[test]
    fn zoom_answers_with_the_hex_hmac_of_the_plain_token() {
        // Zoom's documented example shape; the digest is HMAC-SHA256("secret", token) in hex.
        let answer = body(zoom("qgg8vlvZRS6UYooatFL8Aw", "secret"));
        let value: Value = serde_json::from_str(&answer).unwrap();
        assert_eq!(value["plainToken"], "qgg8vlvZRS6UYooatFL8Aw");
        let mut mac = Hmac::<Sha256>::new_from_slice(b"secret").unwrap();
        mac.update(b"qgg8vlvZRS6UYooatFL8Aw");
        let expected: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(value["encryptedToken"], expected.as_str());
        assert_eq!(expected.len(), 64);
    }

    #[test]
    fn meta_needs_subscribe_a_challenge_and_the_verify_token() {
        let ok = meta(
            Some("subscribe"),
            Some("1158201444".into()),
            Some("vt"),
            "vt",
        );
        assert_eq!(body(ok.unwrap()), "1158201444");
        let wrong = meta(Some("subscribe"), Some("1".into()), Some("other"), "vt");
        assert!(matches!(wrong, Err(IngestError::HandshakeRefused(_))));
        let missing = meta(Some("subscribe"), Some("1".into()), None, "vt");
        assert!(matches!(missing, Err(IngestError::HandshakeRefused(_))));
        let mode = meta(Some("unsubscribe"), Some("1".into()), Some("vt"), "vt");
        assert!(matches!(mode, Err(IngestError::Handshake(m)) if m.contains("hub.mode")));
    }
}
