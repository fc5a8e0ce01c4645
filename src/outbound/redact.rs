//! Keeps secret values out of what an attempt stores (response snippet, error).

use std::collections::HashMap;

use super::client::{AttemptResult, SNIPPET_LIMIT};

/// Replaces every secret value the request used with `[redacted secret NAME]` in what the
/// attempt stores, e.g. a receiver echoing the `Authorization` header back.
pub(crate) fn redact(
    mut result: AttemptResult,
    secrets: &HashMap<String, String>,
) -> AttemptResult {
    if secrets.is_empty() {
        return result;
    }
    let truncated = result
        .response_snippet
        .as_ref()
        .is_some_and(|s| s.len() >= SNIPPET_LIMIT);
    result.response_snippet = result
        .response_snippet
        .map(|s| redact_text(&s, secrets, truncated));
    result.error = result.error.map(|e| redact_text(&e, secrets, false));
    result
}

/// `text` with each secret value (also JSON-escaped) replaced by `[redacted secret NAME]`;
/// `truncated` also replaces a secret's first part at the end (a cut-off snippet).
pub(crate) fn redact_text(
    text: &str,
    secrets: &HashMap<String, String>,
    truncated: bool,
) -> String {
    let mut by_length: Vec<_> = secrets.iter().filter(|(_, v)| !v.is_empty()).collect();
    // Longest first, so a secret that contains another is replaced whole.
    by_length.sort_by_key(|(_, value)| std::cmp::Reverse(value.len()));
    let mut out = text.to_owned();
    for (name, value) in by_length {
        let mark = format!("[redacted secret {name}]");
        out = out.replace(value.as_str(), &mark);
        // As a JSON string (a receiver echoing a JSON body).
        let json = serde_json::to_string(value).unwrap_or_default();
        if let Some(escaped) = json.get(1..json.len().saturating_sub(1))
            && escaped != value.as_str()
        {
            out = out.replace(escaped, &mark);
        }
        // A snippet cut off in the middle of a secret ends with its first part.
        if truncated
            && let Some(cut) = (1..value.len())
                .rev()
                .filter(|&n| value.is_char_boundary(n))
                .find(|&n| out.ends_with(&value[..n]))
        {
            out.truncate(out.len() - cut);
            out.push_str(&mark);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn secret_values_are_redacted_from_snippets_and_errors() {
        let used = secrets(&[
            ("TOKEN", "tok-123"),
            ("LONG", "tok-123-and-more"),
            ("Q", "a\"b"),
        ]);
        let result = AttemptResult {
            status: Some(401),
            response_snippet: Some(
                r#"{"auth":"Bearer tok-123","x":"tok-123-and-more","q":"a\"b"}"#.into(),
            ),
            error: Some("echo tok-123".into()),
            ..AttemptResult::default()
        };
        let redacted = redact(result, &used);
        assert_eq!(
            redacted.response_snippet.as_deref(),
            Some(
                r#"{"auth":"Bearer [redacted secret TOKEN]","x":"[redacted secret LONG]","q":"[redacted secret Q]"}"#
            )
        );
        assert_eq!(
            redacted.error.as_deref(),
            Some("echo [redacted secret TOKEN]")
        );
    }

    #[test]
    fn a_secret_cut_off_by_the_snippet_limit_is_redacted_too() {
        let used = secrets(&[("TOKEN", "tok-123456")]);
        let mut snippet = "x".repeat(SNIPPET_LIMIT - 4);
        snippet.push_str("tok-");
        let result = AttemptResult {
            response_snippet: Some(snippet),
            ..AttemptResult::default()
        };
        let snippet = redact(result, &used).response_snippet.unwrap();
        assert!(snippet.ends_with("xx[redacted secret TOKEN]"), "{snippet}");
        let short = redact_text("ends with tok-", &used, false);
        assert_eq!(
            short, "ends with tok-",
            "only a truncated snippet is cut off"
        );
    }
}
