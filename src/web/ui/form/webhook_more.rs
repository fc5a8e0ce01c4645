//! The webhook keys the form has no inputs for (`split`, `handshake`, `handshake_secret`,
//! `allow_from`, `[trigger.webhook.response]`), edited as one TOML text box, so a recipe saved from the form
//! keeps them instead of losing them.

use serde::{Deserialize, Serialize};

use crate::recipe::FieldError;
use crate::recipe::file::{Handshake, ResponseSection, WebhookSection};

/// The keys, as they read under `[trigger.webhook]` (`[response]` for the sub-table).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct More {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    split: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    handshake: Option<Handshake>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    handshake_secret: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    allow_from: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    response: Option<ResponseSection>,
}

/// The text box's content for `section` (empty when none of the keys is set).
pub fn text(section: Option<&WebhookSection>) -> String {
    let Some(section) = section else {
        return String::new();
    };
    let more = More {
        split: section.split.clone(),
        handshake: section.handshake,
        handshake_secret: section.handshake_secret.clone(),
        allow_from: section.allow_from.clone(),
        response: section.response.clone(),
    };
    toml::to_string(&more).unwrap_or_default()
}

/// Sets the keys written in `text` on `section`; a text that is not these keys in TOML is an
/// error naming the box's key.
pub fn apply(text: &str, section: &mut WebhookSection, errors: &mut Vec<FieldError>) {
    let more: More = match toml::from_str(text) {
        Ok(more) => more,
        Err(error) => {
            errors.push(FieldError::new(
                "trigger.webhook.more",
                format!(
                    "{} (split, handshake, handshake_secret, allow_from and a [response] table are written here)",
                    error.message().trim()
                ),
            ));
            return;
        }
    };
    section.split = more.split;
    section.handshake = more.handshake;
    section.handshake_secret = more.handshake_secret;
    section.allow_from = more.allow_from;
    section.response = more.response;
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn the_keys_go_through_the_text_box_unchanged() {
        let mut section = WebhookSection {
            split: Some("/items".into()),
            handshake: Some(Handshake::Meta),
            handshake_secret: Some("{{ secrets.VT }}".into()),
            allow_from: Some(vec!["192.0.2.0/24".into(), "2001:db8::/32".into()]),
            response: Some(ResponseSection {
                status: Some(200),
                headers: BTreeMap::from([("x-a".to_owned(), "b".to_owned())]),
                ..ResponseSection::default()
            }),
            ..WebhookSection::default()
        };
        let written = text(Some(&section));
        let mut read = WebhookSection::default();
        let mut errors = Vec::new();
        apply(&written, &mut read, &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        section.verify = read.verify;
        assert_eq!(read, section);
        apply("nope = 1", &mut read, &mut errors);
        assert_eq!(errors[0].field, "trigger.webhook.more");
    }
}
