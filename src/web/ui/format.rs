//! How values read on a page: times, JSON, status badges, curl examples, schedule previews.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::recipe::{Recipe, VerifyPreset, parse_cron};
use crate::schedule::tick::TickSchedule;
use crate::store::EventStatus;

/// `2025-03-01 14:05:09 UTC`
pub fn when(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// `just now`, `5 min ago`, `3 h ago`, `2 days ago`.
pub fn ago(time: DateTime<Utc>) -> String {
    let seconds = (Utc::now() - time).num_seconds();
    match seconds {
        ..=9 => "just now".into(),
        10..=59 => format!("{seconds} s ago"),
        60..=3599 => format!("{} min ago", seconds / 60),
        3600..=86_399 => format!("{} h ago", seconds / 3600),
        _ => match seconds / 86_400 {
            1 => "1 day ago".into(),
            days => format!("{days} days ago"),
        },
    }
}

pub fn pretty_json(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

/// The label an event status is shown with: `done` means the deliveries are still running.
pub fn status_label(status: EventStatus) -> &'static str {
    match status {
        EventStatus::Done => "delivering",
        other => other.as_str(),
    }
}

/// The statuses a list can be filtered by, in the order of the filter bar.
pub const STATUS_FILTERS: [&str; 6] = [
    "pending",
    "delivered",
    "filtered",
    "duplicate",
    "failed",
    "dead",
];

/// A ready-to-paste curl command for a recipe's webhook URL. For a recipe that checks a
/// signature it signs the body with `openssl` from the secret in an environment variable of
/// the secret's name (GitHub `X-Hub-Signature-256`, Stripe `Stripe-Signature` `t=,v1=`, Slack
/// `v0:ts:body`, Shopify base64 `X-Shopify-Hmac-Sha256`: each provider's documented scheme);
/// where it cannot (Standard Webhooks, generic HMAC) a first comment line says the request is
/// unsigned and will be refused.
pub fn curl_example(url: &str, recipe: Option<&Recipe>) -> String {
    let webhook = recipe.and_then(|r| r.webhook.as_ref());
    let verify = webhook.map_or(VerifyPreset::None, |w| w.verify);
    let secret = webhook
        .and_then(|w| w.secret_name.as_deref())
        .unwrap_or("SECRET");
    let hex = format!("openssl dgst -sha256 -hmac \"${secret}\" -r | cut -d' ' -f1");
    let mut prelude: Vec<String> = Vec::new();
    let mut lines = vec![format!("curl -X POST '{url}'")];
    let signed = |prelude: &mut Vec<String>, signing: &str| {
        prelude.push(format!(
            "# Signed with the secret {secret}: export {secret}=<its value> first."
        ));
        prelude.push("BODY='{\"hello\": \"world\"}'".into());
        prelude.push(signing.to_owned());
    };
    match verify {
        VerifyPreset::None => {}
        VerifyPreset::Token => lines.push(format!(
            "  -H 'Authorization: Bearer <value of secret {secret}>'"
        )),
        VerifyPreset::Github => {
            signed(&mut prelude, &format!("SIG=$(printf '%s' \"$BODY\" | {hex})"));
            lines.push("  -H \"X-Hub-Signature-256: sha256=$SIG\"".into());
        }
        VerifyPreset::Stripe => {
            signed(&mut prelude, &format!("TS=$(date +%s); SIG=$(printf '%s.%s' \"$TS\" \"$BODY\" | {hex})"));
            lines.push("  -H \"Stripe-Signature: t=$TS,v1=$SIG\"".into());
        }
        VerifyPreset::Slack => {
            signed(&mut prelude, &format!("TS=$(date +%s); SIG=$(printf 'v0:%s:%s' \"$TS\" \"$BODY\" | {hex})"));
            lines.push("  -H \"X-Slack-Request-Timestamp: $TS\"".into());
            lines.push("  -H \"X-Slack-Signature: v0=$SIG\"".into());
        }
        VerifyPreset::Shopify => {
            signed(&mut prelude, &format!("SIG=$(printf '%s' \"$BODY\" | openssl dgst -sha256 -hmac \"${secret}\" -binary | base64)"));
            lines.push("  -H \"X-Shopify-Hmac-Sha256: $SIG\"".into());
        }
        other => prelude.push(format!(
            "# Unsigned: this recipe checks a {} signature, so this request is refused. Use the test panel.",
            other.as_str()
        )),
    }
    lines.push("  -H 'Content-Type: application/json'".into());
    lines.push(if prelude.iter().any(|l| l.starts_with("BODY=")) {
        "  -d \"$BODY\"".into()
    } else {
        "  -d '{\"hello\": \"world\"}'".into()
    });
    prelude.push(lines.join(" \\\n"));
    prelude.join("\n")
}

/// What a caller must add to be accepted, when a plain curl is not enough.
pub fn verify_note(recipe: Option<&Recipe>) -> String {
    let Some(webhook) = recipe.and_then(|r| r.webhook.as_ref()) else {
        return String::new();
    };
    let secret = webhook.secret_name.as_deref().unwrap_or("?");
    match webhook.verify {
        VerifyPreset::None => String::new(),
        VerifyPreset::Token => format!(
            "Callers must send the value of the secret {secret} as `Authorization: Bearer <token>`, as the password of basic auth, in an X-Webhook-Token header, or as ?token= in the URL."
        ),
        preset => format!(
            "Calls must carry a valid {} signature made with the secret {secret}; unsigned requests are refused. Try the recipe with the test panel, or the curl below where it signs.",
            preset.as_str()
        ),
    }
}

/// What a cron schedule means and when it fires next, or why it is not valid.
pub struct SchedulePreview {
    pub description: String,
    pub next_runs: Vec<String>,
    pub error: String,
}

pub fn schedule_preview(cron: &str, timezone: &str) -> SchedulePreview {
    let mut preview = SchedulePreview {
        description: String::new(),
        next_runs: Vec::new(),
        error: String::new(),
    };
    let tz: chrono_tz::Tz = match timezone.trim() {
        "" => chrono_tz::UTC,
        name => match name.parse() {
            Ok(tz) => tz,
            Err(_) => {
                preview.error = format!("`{name}` is not an IANA time zone name");
                return preview;
            }
        },
    };
    match parse_cron(cron.trim()) {
        Ok(parsed) => {
            preview.description = parsed.describe();
            // The scheduler's own tick sequence, so the preview agrees across DST changes.
            preview.next_runs = TickSchedule::new(parsed, tz)
                .ticks_after(Utc::now())
                .take(5)
                .map(|t| {
                    t.with_timezone(&tz)
                        .format("%a %Y-%m-%d %H:%M:%S %Z")
                        .to_string()
                })
                .collect();
        }
        Err(message) => preview.error = message,
    }
    preview
}
