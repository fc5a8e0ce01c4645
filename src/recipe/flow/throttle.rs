//! Per-destination throttling and ordering (`rate`, `concurrency`, `key` on an action),
//! checked at import.
//!
//! ```toml
//! [[action]]
//! url = "https://crm.example/customers"
//! rate = "5/s"                        # at most 5 calls started per second per key: /s, /m, /h
//! concurrency = 1                     # at most 1 call in flight per key: first in, first out
//! key = "{{ event.customer_id }}"     # default: the URL's host (and port)
//! ```
//!
//! The key is rendered when the run plans the delivery (from `event.` and `output.` only: no
//! secrets, no `responses.`), so the store can admit calls per key in the claim itself, for
//! every process sharing it. The default key is the host of the URL rendered the same way:
//! a URL that reads a secret or a response therefore needs an explicit `key`.

use std::time::Duration;

use serde_json::Value;

use super::super::error::FieldError;
use super::super::file::ActionSection;
use super::super::template::{Landing, Template, TemplateContext};
use crate::recipe::Action;

/// An action's limits, as the file gives them.
#[derive(Debug, Clone)]
pub struct Throttle {
    /// Calls started per key: one every this long (`rate = "5/s"` → 200 ms).
    pub every: Option<Duration>,
    /// Calls in flight per key (≥ 1); 1 keeps the key's calls in order.
    pub concurrency: Option<u32>,
    pub key: ThrottleKey,
}

/// What names the throttled destination.
#[derive(Debug, Clone)]
pub enum ThrottleKey {
    /// The rendered URL's `host:port`.
    Host,
    /// `key`, a template over `event.` and `output.`.
    Template(Template),
}

/// The action's throttle, `None` when it has neither `rate` nor `concurrency`, or every
/// problem with its keys (named `action[i].rate`, …).
pub fn throttle(
    section: &ActionSection,
    action: Option<&Action>,
    field: &str,
) -> Result<Option<Throttle>, Vec<FieldError>> {
    let mut errors = Vec::new();
    let every = match section.rate.as_deref().map(parse_rate) {
        None => None,
        Some(Ok(every)) => Some(every),
        Some(Err(message)) => {
            errors.push(FieldError::new(format!("{field}.rate"), message));
            None
        }
    };
    let concurrency = match section.concurrency {
        None => None,
        Some(n) if (1..=i64::from(u32::MAX)).contains(&n) => Some(n as u32),
        Some(n) => {
            let why = if n < 1 {
                "is not a positive whole number of calls in flight (1 keeps order)".to_owned()
            } else {
                format!("is more calls in flight than the most kept ({})", u32::MAX)
            };
            errors.push(FieldError::new(
                format!("{field}.concurrency"),
                format!("`{n}` {why}"),
            ));
            None
        }
    };
    let limited = section.rate.is_some() || section.concurrency.is_some();
    let key = match (&section.key, limited) {
        (Some(_), false) => {
            errors.push(FieldError::new(
                format!("{field}.key"),
                "names what `rate` and `concurrency` count per; give one of them, or drop `key`",
            ));
            None
        }
        (Some(text), true) => match key_template(text) {
            Ok(template) => Some(ThrottleKey::Template(template)),
            Err(message) => {
                errors.push(FieldError::new(format!("{field}.key"), message));
                None
            }
        },
        (None, true) => match action {
            Some(action) if reads_more_than_the_event(&action.url) => {
                errors.push(FieldError::new(
                    format!("{field}.key"),
                    "is needed: the URL reads a secret or a response, so its host is not known \
                     when the delivery is planned; name the destination, e.g. key = \"crm\"",
                ));
                None
            }
            _ => Some(ThrottleKey::Host),
        },
        (None, false) => None,
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(key.map(|key| Throttle {
        every,
        concurrency,
        key,
    }))
}

fn reads_more_than_the_event(template: &Template) -> bool {
    !template.secret_names().is_empty() || !template.response_names().is_empty()
}

fn key_template(text: &str) -> Result<Template, String> {
    let template = Template::parse_for(text, Landing::Text).map_err(|e| e.to_string())?;
    if !template.secret_names().is_empty() {
        return Err(
            "reads a secret; a key is stored in plain text with each delivery, so it \
                    comes from the event or the output"
                .into(),
        );
    }
    if let Some(name) = template.response_names().first() {
        return Err(format!(
            "reads `responses.{name}`; the key is decided when the run plans the delivery, \
             before any response exists"
        ));
    }
    if text.trim().is_empty() {
        return Err("is empty".into());
    }
    Ok(template)
}

/// `"5/s"`, `"100/m"`, `"3600/h"`: the spacing of calls (period ÷ count rounded up to whole
/// milliseconds, so never more than `count` calls a period; at least 1 ms).
pub fn parse_rate(text: &str) -> Result<Duration, String> {
    let explain = || {
        format!(
            "`{text}` is not a rate: give calls per second, minute or hour, e.g. \"5/s\", \"100/m\", \"1000/h\""
        )
    };
    let (count, unit) = text.trim().split_once('/').ok_or_else(explain)?;
    let count: u64 = count.trim().parse().map_err(|_| explain())?;
    let period_ms: u64 = match unit.trim() {
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => return Err(explain()),
    };
    if count == 0 {
        return Err(format!(
            "`{text}` allows no calls at all; pause the recipe instead"
        ));
    }
    if count > period_ms {
        return Err(format!(
            "`{text}` is more than one call per millisecond, the finest spacing kept"
        ));
    }
    // Rounded up: a spacing rounded down would start more than `count` calls in a period
    // ("3/s" every 333 ms starts 4 within a second; "600/s" every 1 ms starts 1000).
    Ok(Duration::from_millis(period_ms.div_ceil(count)))
}

impl Throttle {
    /// The delivery's key for a run, rendered over `event` and `output`: `host:` + the URL's
    /// `host:port`, or `key:` + the rendered `key`. `Err` says why no key could be rendered
    /// (the delivery is then dead, with no call).
    pub fn key_for(&self, url: &Template, output: &Value, event: &Value) -> Result<String, String> {
        let no_secrets = |_: &str| None;
        let ctx = TemplateContext {
            responses: &Value::Null,
            output,
            event,
            secrets: &no_secrets,
        };
        Ok(match &self.key {
            ThrottleKey::Template(template) => {
                let text = template.render(&ctx).map_err(|e| format!("key: {e}"))?;
                format!("key:{text}")
            }
            ThrottleKey::Host => {
                let text = url.render(&ctx).map_err(|e| format!("key (url): {e}"))?;
                format!("host:{}", host_of(&text)?)
            }
        })
    }
}

/// `host:port` of a URL, lower case, the port explicit (the same destination as the worker's
/// fair share counts).
fn host_of(url: &str) -> Result<String, String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("key (url `{url}`): {e}"))?;
    let host = parsed
        .host_str()
        .ok_or_else(|| format!("key (url `{url}`): no host"))?
        .to_ascii_lowercase();
    Ok(match parsed.port_or_known_default() {
        Some(port) => format!("{host}:{port}"),
        None => host,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_calls_per_second_minute_or_hour() {
        assert_eq!(parse_rate("5/s"), Ok(Duration::from_millis(200)));
        assert_eq!(parse_rate("120/m"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_rate(" 2 / h "), Ok(Duration::from_secs(1800)));
        for bad in ["fast", "5", "5/d", "0/s", "-1/s", "5000/s", "/s"] {
            assert!(parse_rate(bad).is_err(), "{bad}");
        }
        assert!(parse_rate("fast").unwrap_err().contains("\"5/s\""));
    }

    #[test]
    fn the_default_key_is_the_host_and_port_of_the_rendered_url() {
        let throttle = Throttle {
            every: Some(Duration::from_millis(200)),
            concurrency: None,
            key: ThrottleKey::Host,
        };
        let url = Template::parse_for("https://API.example/{{ event.id }}", Landing::Url).unwrap();
        let key = throttle
            .key_for(&url, &Value::Null, &serde_json::json!({"id": "7"}))
            .unwrap();
        assert_eq!(key, "host:api.example:443");
    }
}
