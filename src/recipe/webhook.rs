//! The `[trigger.webhook]` section: which `verify` preset, with which secrets and settings.

use super::action::secret_reference;
use super::allow_from::allow_from;
use super::error::FieldError;
use super::file::{RespondMode, VerifyPreset, WebhookSection};
use super::webhook_response::webhook_response;
use super::{HmacHeader, WebhookTrigger};

pub(super) fn webhook_trigger(section: &WebhookSection) -> Result<WebhookTrigger, Vec<FieldError>> {
    let mut errors = Vec::new();
    let preset = section.verify.as_str();
    let mut reference = |key: &str, value: &Option<String>| {
        let value = value.as_deref()?;
        secret_reference(value)
            .map_err(|m| errors.push(FieldError::new(format!("trigger.webhook.{key}"), m)))
            .ok()
    };
    let secret_name = reference("secret", &section.secret);
    let previous_secret_name = reference("previous_secret", &section.previous_secret);
    let handshake_secret_name = reference("handshake_secret", &section.handshake_secret);
    let checks = section.verify != VerifyPreset::None;
    if checks && section.secret.is_none() {
        errors.push(FieldError::new(
            "trigger.webhook.secret",
            format!("verify = \"{preset}\" needs secret = \"{{{{ secrets.NAME }}}}\""),
        ));
    }
    if !checks && section.secret.is_some() {
        errors.push(FieldError::new(
            "trigger.webhook.secret",
            "is set but verify = \"none\" checks nothing: choose a verify preset or remove the secret",
        ));
    }
    if section.previous_secret.is_some() {
        if !checks || section.secret.is_none() {
            errors.push(FieldError::new(
                "trigger.webhook.previous_secret",
                "needs a verify preset and a current `secret` (it only extends a rotation)",
            ));
        } else if previous_secret_name.is_some() && previous_secret_name == secret_name {
            errors.push(FieldError::new(
                "trigger.webhook.previous_secret",
                "names the same secret as `secret`",
            ));
        }
    }
    handshake(section, &mut errors);
    split(section, &mut errors);
    let hmac = hmac_header(section, &mut errors);
    let allow_from = allow_from(section.allow_from.as_deref(), &mut errors);
    let response = section
        .response
        .as_ref()
        .and_then(|r| webhook_response(r, section.respond, &mut errors));
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(WebhookTrigger {
        verify: section.verify,
        secret_name,
        previous_secret_name,
        hmac,
        respond: section.respond,
        allow_get: section.allow_get,
        split: section.split.clone(),
        handshake: section.handshake,
        handshake_secret_name,
        response,
        allow_from,
    })
}

/// `handshake_secret` is required by the handshakes that check or sign with it, and refused
/// by the others.
fn handshake(section: &WebhookSection, errors: &mut Vec<FieldError>) {
    let needs = section.handshake.is_some_and(|h| h.needs_secret());
    match (section.handshake, section.handshake_secret.is_some()) {
        (Some(handshake), false) if needs => errors.push(FieldError::new(
            "trigger.webhook.handshake_secret",
            format!(
                "handshake = \"{}\" needs handshake_secret = \"{{{{ secrets.NAME }}}}\" ({})",
                handshake.as_str(),
                if handshake == super::Handshake::Meta {
                    "the Verify Token entered in Meta's App Dashboard"
                } else {
                    "the app's Secret Token from the Zoom App Marketplace"
                }
            ),
        )),
        (handshake, true) if !needs => errors.push(FieldError::new(
            "trigger.webhook.handshake_secret",
            format!(
                "is only used with handshake = \"meta\" or \"zoom\"{}",
                handshake.map_or(String::new(), |h| format!(
                    " (handshake = \"{}\" needs no secret)",
                    h.as_str()
                ))
            ),
        )),
        _ => {}
    }
}

/// `split` is a JSON pointer, and one request cannot answer with many runs.
fn split(section: &WebhookSection, errors: &mut Vec<FieldError>) {
    let Some(pointer) = section.split.as_deref() else {
        return;
    };
    if !pointer.is_empty() && !pointer.starts_with('/') {
        errors.push(FieldError::new(
            "trigger.webhook.split",
            format!(
                "`{pointer}` is not a JSON pointer (it must start with '/', e.g. \"/items\"; \"\" is the whole body)"
            ),
        ));
    }
    if section.respond == RespondMode::Result {
        errors.push(FieldError::new(
            "trigger.webhook.split",
            "cannot be used with respond = \"result\": one request would have to answer with the runs of many events; use respond = \"accepted\" (the 202 lists every event id)",
        ));
    }
}

/// The `header`, `encoding` and `prefix` keys: required (header) for `hmac-sha256`, refused
/// elsewhere because the provider presets fix them.
fn hmac_header(section: &WebhookSection, errors: &mut Vec<FieldError>) -> Option<HmacHeader> {
    if section.verify != VerifyPreset::HmacSha256 {
        let keys = [
            ("header", section.header.is_some()),
            ("encoding", section.encoding.is_some()),
            ("prefix", section.prefix.is_some()),
        ];
        for (key, _) in keys.iter().filter(|(_, set)| *set) {
            errors.push(FieldError::new(
                format!("trigger.webhook.{key}"),
                format!(
                    "is only used with verify = \"hmac-sha256\" (verify = \"{}\" fixes where its signature is)",
                    section.verify.as_str()
                ),
            ));
        }
        return None;
    }
    let Some(name) = section.header.as_deref().map(str::trim) else {
        errors.push(FieldError::new(
            "trigger.webhook.header",
            "verify = \"hmac-sha256\" needs header = \"X-Signature\": the request header that carries the signature",
        ));
        return None;
    };
    if actix_web::http::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
        errors.push(FieldError::new(
            "trigger.webhook.header",
            format!("`{name}` is not a valid HTTP header name"),
        ));
        return None;
    }
    Some(HmacHeader {
        name: name.to_ascii_lowercase(),
        encoding: section.encoding.unwrap_or_default(),
        prefix: section.prefix.clone().unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use crate::recipe::{Recipe, SignatureEncoding, VerifyPreset};
    use crate::script::{ScriptEngine, ScriptLimits};

    fn webhook(lines: &str) -> Result<Recipe, Vec<String>> {
        let source = format!(
            "id = \"r\"\nname = \"r\"\n[trigger.webhook]\n{lines}\n[[action]]\nname = \"a\"\nurl = \"https://example.com/\"\n"
        );
        Recipe::from_toml(&source, &ScriptEngine::new(ScriptLimits::default()))
            .map_err(|e| e.errors.iter().map(ToString::to_string).collect())
    }

    fn errors(lines: &str) -> String {
        webhook(lines).expect_err("refused").join("\n")
    }

    #[test]
    fn every_preset_is_supported_with_a_secret_and_previous_secret() {
        for preset in [
            "token",
            "github",
            "stripe",
            "slack",
            "shopify",
            "standard-webhooks",
        ] {
            let lines = format!(
                "verify = \"{preset}\"\nsecret = \"{{{{ secrets.NEW }}}}\"\nprevious_secret = \"{{{{ secrets.OLD }}}}\""
            );
            let trigger = webhook(&lines).unwrap().webhook.unwrap();
            assert_eq!(trigger.verify.as_str(), preset);
            assert_eq!(trigger.secret_name.as_deref(), Some("NEW"));
            assert_eq!(trigger.previous_secret_name.as_deref(), Some("OLD"));
        }
    }

    #[test]
    fn hmac_sha256_reads_header_encoding_and_prefix() {
        let trigger = webhook(
            "verify = \"hmac-sha256\"\nsecret = \"{{ secrets.S }}\"\nheader = \"X-Signature\"\nencoding = \"base64\"\nprefix = \"sha256=\"",
        )
        .unwrap()
        .webhook
        .unwrap();
        let hmac = trigger.hmac.unwrap();
        assert_eq!(trigger.verify, VerifyPreset::HmacSha256);
        assert_eq!(hmac.name, "x-signature");
        assert_eq!(hmac.encoding, SignatureEncoding::Base64);
        assert_eq!(hmac.prefix, "sha256=");
    }

    #[test]
    fn errors_name_the_key_at_fault() {
        let cases = [
            (
                "verify = \"github\"",
                "trigger.webhook.secret: verify = \"github\" needs",
            ),
            (
                "verify = \"stripe\"\nsecret = \"whsec_x\"",
                "trigger.webhook.secret: must be a reference",
            ),
            (
                "secret = \"{{ secrets.S }}\"",
                "trigger.webhook.secret: is set but verify = \"none\"",
            ),
            (
                "verify = \"slack\"\nsecret = \"{{ secrets.S }}\"\nprevious_secret = \"{{ secrets.S }}\"",
                "trigger.webhook.previous_secret: names the same secret",
            ),
            (
                "previous_secret = \"{{ secrets.S }}\"",
                "trigger.webhook.previous_secret: needs a verify preset",
            ),
            (
                "verify = \"hmac-sha256\"\nsecret = \"{{ secrets.S }}\"",
                "trigger.webhook.header: verify = \"hmac-sha256\" needs header",
            ),
            (
                "verify = \"hmac-sha256\"\nsecret = \"{{ secrets.S }}\"\nheader = \"bad header\"",
                "trigger.webhook.header: `bad header` is not a valid HTTP header name",
            ),
            (
                "verify = \"github\"\nsecret = \"{{ secrets.S }}\"\nprefix = \"sha1=\"",
                "trigger.webhook.prefix: is only used with verify = \"hmac-sha256\"",
            ),
            (
                "verify = \"hmac-sha256\"\nencoding = \"base32\"",
                "trigger.webhook.encoding",
            ),
            (
                "split = \"items\"",
                "trigger.webhook.split: `items` is not a JSON pointer",
            ),
            (
                "split = \"/items\"\nrespond = \"result\"",
                "trigger.webhook.split: cannot be used with respond = \"result\"",
            ),
            ("handshake = \"teams\"", "trigger.webhook.handshake"),
            (
                "handshake = \"meta\"",
                "trigger.webhook.handshake_secret: handshake = \"meta\" needs",
            ),
            (
                "handshake = \"dropbox\"\nhandshake_secret = \"{{ secrets.S }}\"",
                "trigger.webhook.handshake_secret: is only used with handshake = \"meta\" or \"zoom\"",
            ),
            (
                "[trigger.webhook.response]\nstatus = 302",
                "trigger.webhook.response.status: 302 is not a 2xx status",
            ),
            (
                "[trigger.webhook.response]\nstatus = 204\nbody = \"x\"",
                "trigger.webhook.response.status: 204 cannot carry a body",
            ),
            (
                "[trigger.webhook.response]\nbody = \"{{ secrets.S }}\"",
                "trigger.webhook.response.body: `{{ secrets.S }}` would send a secret",
            ),
            (
                "[trigger.webhook.response]\nbody = \"{{ output.id }}\"",
                "trigger.webhook.response.body: `output.id`: respond = \"accepted\" answers before",
            ),
            (
                "[trigger.webhook.response]\nheaders = { Content-Type = \"text/html\" }",
                "trigger.webhook.response.headers.Content-Type: `Content-Type` is not settable: set it with `content_type`",
            ),
            (
                "[trigger.webhook.response]\ncontent_type = \"text/plain\"",
                "trigger.webhook.response.content_type: is set without a `body`",
            ),
            (
                "[trigger.webhook.response]\nbody = '{\"a\": }'",
                "trigger.webhook.response.body",
            ),
            (
                "allow_from = []",
                "trigger.webhook.allow_from: is empty, which would refuse every call",
            ),
            (
                "allow_from = [\"192.0.2.0/24\", \"10.0.0.0/33\"]",
                "trigger.webhook.allow_from[1]: `10.0.0.0/33`: the prefix length must be 0 to 32",
            ),
            (
                "allow_from = [\"stripe.com\"]",
                "trigger.webhook.allow_from[0]: `stripe.com`: not an IP address or CIDR range",
            ),
            (
                "allow_from = \"192.0.2.0/24\"",
                "trigger.webhook.allow_from",
            ),
        ];
        for (lines, expected) in cases {
            let text = errors(lines);
            assert!(text.contains(expected), "{lines:?}: {text}");
        }
    }

    #[test]
    fn allow_from_reads_ranges_and_single_hosts() {
        let trigger =
            webhook("allow_from = [\"192.0.2.0/24\", \"2001:db8::/32\", \"203.0.113.7\"]")
                .unwrap()
                .webhook
                .unwrap();
        let ranges: Vec<String> = trigger
            .allow_from
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(ranges, ["192.0.2.0/24", "2001:db8::/32", "203.0.113.7/32"]);
        assert!(webhook("").unwrap().webhook.unwrap().allow_from.is_none());
    }

    #[test]
    fn a_dedupe_window_alone_is_allowed_when_the_sender_sends_delivery_ids() {
        let window = "dedupe_window = \"1d\"\n";
        let source = |verify: &str| {
            format!(
                "id = \"r\"\nname = \"r\"\n{window}[trigger.webhook]\nverify = \"{verify}\"\nsecret = \"{{{{ secrets.S }}}}\"\n[[action]]\nname = \"a\"\nurl = \"https://example.com/\"\n"
            )
        };
        let engine = ScriptEngine::new(ScriptLimits::default());
        let recipe = Recipe::from_toml(&source("standard-webhooks"), &engine).unwrap();
        assert_eq!(recipe.dedupe_window, std::time::Duration::from_secs(86_400));
        let error = Recipe::from_toml(&source("stripe"), &engine).unwrap_err();
        assert!(error.to_string().contains("dedupe_window"), "{error}");
    }
}
