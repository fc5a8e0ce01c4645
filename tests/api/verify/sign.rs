//! How each sender signs a call, written from the providers' documentation independently of
//! the server's code.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::Utc;
use hmac::{Hmac, Mac};
use sha2::Sha256;

pub type Headers = Vec<(String, String)>;

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

/// A preset, the recipe lines it needs and how its sender signs `body` with `secret`.
pub struct Sender {
    pub webhook: &'static str,
    pub sign: fn(&str, &str) -> Headers,
}

pub fn senders() -> Vec<(&'static str, Sender)> {
    vec![
        (
            "github",
            Sender {
                webhook: "verify = \"github\"",
                sign: github,
            },
        ),
        (
            "stripe",
            Sender {
                webhook: "verify = \"stripe\"",
                sign: stripe,
            },
        ),
        (
            "slack",
            Sender {
                webhook: "verify = \"slack\"",
                sign: slack,
            },
        ),
        (
            "shopify",
            Sender {
                webhook: "verify = \"shopify\"",
                sign: shopify,
            },
        ),
        (
            "standard-webhooks",
            Sender {
                webhook: "verify = \"standard-webhooks\"",
                sign: standard,
            },
        ),
        (
            "hmac-sha256",
            Sender {
                webhook: "verify = \"hmac-sha256\"\nheader = \"X-Signature\"\nencoding = \"base64\"\nprefix = \"sha256=\"",
                sign: generic,
            },
        ),
    ]
}

pub fn pair(name: &str, value: String) -> (String, String) {
    (name.to_owned(), value)
}

pub fn github(secret: &str, body: &str) -> Headers {
    let signature = hex(&mac(secret.as_bytes(), &[body.as_bytes()]));
    vec![
        pair("X-Hub-Signature-256", format!("sha256={signature}")),
        pair("X-GitHub-Delivery", uuid::Uuid::new_v4().to_string()),
    ]
}

pub fn stripe(secret: &str, body: &str) -> Headers {
    stripe_at(secret, body, Utc::now().timestamp())
}

pub fn stripe_at(secret: &str, body: &str, t: i64) -> Headers {
    let t = t.to_string();
    let signature = hex(&mac(
        secret.as_bytes(),
        &[t.as_bytes(), b".", body.as_bytes()],
    ));
    vec![pair("Stripe-Signature", format!("t={t},v1={signature}"))]
}

pub fn slack(secret: &str, body: &str) -> Headers {
    let t = Utc::now().timestamp().to_string();
    let parts: [&[u8]; 4] = [b"v0:", t.as_bytes(), b":", body.as_bytes()];
    vec![
        pair(
            "X-Slack-Signature",
            format!("v0={}", hex(&mac(secret.as_bytes(), &parts))),
        ),
        pair("X-Slack-Request-Timestamp", t),
    ]
}

pub fn shopify(secret: &str, body: &str) -> Headers {
    let signature = STANDARD.encode(mac(secret.as_bytes(), &[body.as_bytes()]));
    vec![
        pair("X-Shopify-Hmac-Sha256", signature),
        pair("X-Shopify-Webhook-Id", uuid::Uuid::new_v4().to_string()),
    ]
}

pub fn standard_secret(secret: &str) -> String {
    format!("whsec_{}", STANDARD.encode(secret))
}

/// The secret stored for standard-webhooks is `whsec_` + base64 of `secret`.
pub fn standard(secret: &str, body: &str) -> Headers {
    standard_with_id(
        secret,
        body,
        &format!("msg_{}", uuid::Uuid::new_v4().simple()),
    )
}

pub fn standard_with_id(secret: &str, body: &str, id: &str) -> Headers {
    let t = Utc::now().timestamp().to_string();
    let parts: [&[u8]; 5] = [id.as_bytes(), b".", t.as_bytes(), b".", body.as_bytes()];
    let signature = STANDARD.encode(mac(secret.as_bytes(), &parts));
    vec![
        pair("webhook-id", id.to_owned()),
        pair("webhook-timestamp", t),
        pair("webhook-signature", format!("v1,{signature}")),
    ]
}

pub fn generic(secret: &str, body: &str) -> Headers {
    let signature = STANDARD.encode(mac(secret.as_bytes(), &[body.as_bytes()]));
    vec![pair("X-Signature", format!("sha256={signature}"))]
}
