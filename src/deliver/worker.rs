//! Claims due deliveries with a lease, makes one attempt each, records it and schedules the next.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::task::JoinSet;

use super::client::{AttemptResult, OutboundPolicy, OutboundRequest, SNIPPET_LIMIT, send};
use super::request::{add_webhook_headers, render, secret_names};
use super::retry::next_delay;
use crate::config::WorkerSettings;
use crate::recipe::Action;
use crate::recipe::file::ActionSection;
use crate::store::{ClaimedDelivery, DeliveryNext, NewAttempt, Store, StoreError};
use crate::web::metrics::Metrics;

#[derive(Clone)]
pub struct DeliveryWorker {
    store: Arc<dyn Store>,
    client: reqwest::Client,
    policy: OutboundPolicy,
    settings: WorkerSettings,
    owner: Arc<str>,
    metrics: Arc<Metrics>,
}

impl DeliveryWorker {
    pub fn new(store: Arc<dyn Store>, policy: OutboundPolicy, settings: WorkerSettings) -> Self {
        Self {
            client: super::client::build_client(&policy),
            store,
            policy,
            settings,
            owner: format!("deliver-{}", crate::ids::new_id()).into(),
            metrics: Arc::default(),
        }
    }

    /// Counts attempts in the server's metrics (instead of private ones).
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = metrics;
        self
    }

    pub(super) fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub(super) fn owner(&self) -> &str {
        &self.owner
    }

    pub(super) fn settings(&self) -> &WorkerSettings {
        &self.settings
    }

    /// One step: claim due deliveries, attempt them concurrently, record every attempt in one
    /// transaction. Returns how many were attempted. (`run` pipelines the same work.)
    pub async fn run_once(&self) -> Result<usize, StoreError> {
        let claimed = self
            .store
            .claim_deliveries(
                &self.owner,
                self.settings.delivery_concurrency,
                self.settings.lease,
            )
            .await?;
        let count = claimed.len();
        let mut in_flight = JoinSet::new();
        for delivery in claimed {
            let worker = self.clone();
            in_flight.spawn(async move { worker.attempt(delivery).await });
        }
        let mut records = Vec::with_capacity(count);
        while let Some(joined) = in_flight.join_next().await {
            match joined {
                Ok(Ok(record)) => records.push(record),
                Ok(Err(error)) => tracing::error!(%error, "could not prepare a delivery attempt"),
                Err(error) => tracing::error!(%error, "a delivery attempt panicked"),
            }
        }
        self.store.record_attempts(&self.owner, records).await?;
        Ok(count)
    }

    #[tracing::instrument(skip_all, fields(delivery = %delivery.id, recipe = %delivery.recipe_id, action = %delivery.action_name))]
    pub(super) async fn attempt(
        &self,
        delivery: ClaimedDelivery,
    ) -> Result<AttemptRecord, StoreError> {
        let attempt_no = delivery.attempt_count + 1;
        let started_at = Utc::now();
        let action = match serde_json::from_value::<ActionSection>(delivery.action.clone())
            .map_err(|e| e.to_string())
            .and_then(|section| {
                Action::from_section(&section, "action").map_err(|errors| {
                    errors
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("; ")
                })
            }) {
            Ok(action) => action,
            Err(message) => {
                let result = failure(format!("the stored action is invalid: {message}"));
                self.metrics
                    .delivery_attempt(&delivery.recipe_id, "dead", result.duration);
                return Ok(record(
                    &delivery,
                    attempt_no,
                    started_at,
                    &result,
                    DeliveryNext::Dead,
                ));
            }
        };
        let mut secrets = HashMap::new();
        let result = match self.prepare(&delivery, &action, &mut secrets).await? {
            Ok(request) => send(&self.client, &self.policy, request).await,
            Err(failed) => failed,
        };
        let result = redact(result, &secrets);
        let next = if result.succeeded() {
            DeliveryNext::Delivered
        } else if result.blocked {
            DeliveryNext::Dead
        } else {
            match next_delay(
                &action.retry_schedule,
                attempt_no as usize,
                result.retry_after,
            ) {
                Some(delay) => DeliveryNext::RetryAt(Utc::now() + delay),
                None => DeliveryNext::Dead,
            }
        };
        let outcome = match next {
            DeliveryNext::Delivered => "delivered",
            DeliveryNext::Dead => "dead",
            DeliveryNext::RetryAt(_) => "retry",
        };
        self.metrics
            .delivery_attempt(&delivery.recipe_id, outcome, result.duration);
        match next {
            DeliveryNext::Delivered => tracing::info!(attempt_no, "delivered"),
            DeliveryNext::Dead => {
                tracing::warn!(attempt_no, error = ?result.error, status = ?result.status, "delivery is dead")
            }
            DeliveryNext::RetryAt(at) => {
                tracing::info!(attempt_no, %at, error = ?result.error, status = ?result.status, "attempt failed, retry scheduled")
            }
        }
        Ok(record(&delivery, attempt_no, started_at, &result, next))
    }

    /// Renders and signs the request with the secrets it fills in; `Ok(Err(..))` is a failed
    /// attempt (e.g. a missing secret; a template path missing from the data is permanent).
    async fn prepare(
        &self,
        delivery: &ClaimedDelivery,
        action: &Action,
        secrets: &mut HashMap<String, String>,
    ) -> Result<Result<OutboundRequest, AttemptResult>, StoreError> {
        for name in secret_names(action) {
            match self.store.get_secret(&name).await {
                Ok(Some(value)) => {
                    secrets.insert(name, value);
                }
                Ok(None) => {}
                // A failed attempt retried on schedule (setting the secret again fixes it), not
                // a store error, which would leave the claim to expire and repeat at once.
                Err(error @ StoreError::SecretUnreadable(_)) => {
                    return Ok(Err(failure(error.to_string())));
                }
                Err(error) => return Err(error),
            }
        }
        let lookup = |name: &str| secrets.get(name).cloned();
        let mut request = match render(action, &delivery.output, &delivery.event_payload, &lookup) {
            Ok(request) => request,
            // The same data renders the same way: no retry can succeed.
            Err(error) if error.is_permanent() => {
                return Ok(Err(AttemptResult {
                    blocked: true,
                    ..failure(error.to_string())
                }));
            }
            Err(error) => return Ok(Err(failure(error.to_string()))),
        };
        let signing_secret = match &action.signing_secret {
            Some(name) => match secrets.get(name) {
                Some(value) => Some(value.as_str()),
                None => {
                    return Ok(Err(failure(format!(
                        "missing secret `{name}` (the action's signing secret)"
                    ))));
                }
            },
            None => None,
        };
        if let Err(message) = add_webhook_headers(
            &mut request,
            &delivery.id,
            Utc::now().timestamp(),
            signing_secret,
        ) {
            return Ok(Err(failure(message)));
        }
        Ok(Ok(OutboundRequest {
            method: request.method,
            url: request.url,
            headers: request.headers,
            body: request.body,
            timeout: action.timeout,
        }))
    }
}

/// One attempt's outcome, ready to be written.
pub type AttemptRecord = (NewAttempt, DeliveryNext);

fn record(
    delivery: &ClaimedDelivery,
    attempt_no: u32,
    started_at: chrono::DateTime<Utc>,
    result: &AttemptResult,
    next: DeliveryNext,
) -> AttemptRecord {
    let attempt = NewAttempt {
        delivery_id: delivery.id.clone(),
        attempt_no,
        started_at,
        duration: result.duration,
        status_code: result.status,
        response_snippet: result.response_snippet.clone(),
        error: result.error.clone(),
    };
    (attempt, next)
}

fn failure(message: String) -> AttemptResult {
    AttemptResult {
        status: None,
        duration: Duration::ZERO,
        response_snippet: None,
        error: Some(message),
        retry_after: None,
        blocked: false,
    }
}

/// Replaces every secret value the request used with `[redacted secret NAME]` in what the
/// attempt stores, e.g. a receiver echoing the `Authorization` header back.
fn redact(mut result: AttemptResult, secrets: &HashMap<String, String>) -> AttemptResult {
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
