//! Claims due deliveries with a lease, makes one attempt each, records it and schedules the next.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::task::JoinSet;

use super::actions::{ActionCache, CompiledAction};
use super::request::{add_webhook_headers, render};
use super::retry::next_delay;
use super::secrets::SecretCache;
use crate::config::WorkerSettings;
use crate::outbound::client::{AttemptResult, OutboundPolicy, OutboundRequest, send_keeping};
use crate::outbound::redact::{redact, redact_text};
use crate::store::{ClaimedDelivery, DeliveryNext, NewAttempt, Store, StoreError};
use crate::telemetry::metrics::Metrics;

#[derive(Clone)]
pub struct DeliveryWorker {
    store: Arc<dyn Store>,
    client: reqwest::Client,
    policy: OutboundPolicy,
    settings: WorkerSettings,
    owner: Arc<str>,
    metrics: Arc<Metrics>,
    /// Compiled once per recipe version, shared by every attempt.
    actions: Arc<ActionCache>,
    secrets: Arc<SecretCache>,
}

impl DeliveryWorker {
    pub fn new(store: Arc<dyn Store>, policy: OutboundPolicy, settings: WorkerSettings) -> Self {
        Self {
            client: crate::outbound::client::build_client(&policy),
            store,
            policy,
            settings,
            owner: format!("deliver-{}", crate::ids::new_id()).into(),
            metrics: Arc::default(),
            actions: Arc::default(),
            secrets: Arc::default(),
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

    /// Compiles the actions of the recipe versions a claim names that are not compiled yet (one
    /// store read for them all). On a store error each attempt tries its own version again.
    pub(super) async fn compile_actions(&self, claimed: &[ClaimedDelivery]) {
        if let Err(error) = self.actions.load(self.store.as_ref(), claimed).await {
            tracing::warn!(%error, "could not read the recipe versions of claimed deliveries");
        }
    }

    /// One step: claim due deliveries, attempt them concurrently, record every attempt in one
    /// transaction. Returns how many were attempted. (`run` pipelines the same work, with the
    /// fair share per destination and lease renewal, which a single step does not need.)
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
        self.compile_actions(&claimed).await;
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

    /// One attempt of a claimed delivery, start to finish (no destination cap: `run_once`).
    pub(super) async fn attempt(
        &self,
        delivery: ClaimedDelivery,
    ) -> Result<AttemptRecord, StoreError> {
        Ok(match self.prepare_attempt(delivery).await? {
            Prepared::Decided(record) => record,
            Prepared::Ready(ready) => self.send_ready(ready).await,
        })
    }

    /// Renders and signs a claimed delivery's request, or decides its attempt without a call
    /// (an invalid stored action or template, a missing secret).
    #[tracing::instrument(skip_all, fields(delivery = %delivery.id, recipe = %delivery.recipe_id, action = %delivery.action_name))]
    pub(super) async fn prepare_attempt(
        &self,
        delivery: ClaimedDelivery,
    ) -> Result<Prepared, StoreError> {
        let started_at = Utc::now();
        self.secrets.observe(delivery.secrets_generation);
        let action = match self
            .actions
            .action_for(self.store.as_ref(), &delivery)
            .await?
        {
            Ok(action) => action,
            Err(message) => {
                let result = failure(format!("the stored action is invalid: {message}"));
                let attempt = Attempt {
                    delivery,
                    started_at,
                    action: None,
                    secrets: HashMap::new(),
                };
                return Ok(Prepared::Decided(self.finish(attempt, result)));
            }
        };
        let mut secrets = HashMap::new();
        let prepared = self.prepare(&delivery, &action, &mut secrets).await?;
        let attempt = Attempt {
            delivery,
            started_at,
            action: Some(action),
            secrets,
        };
        Ok(match prepared {
            Ok(request) => Prepared::Ready(Box::new(ReadyAttempt { attempt, request })),
            Err(failed) => Prepared::Decided(self.finish(attempt, failed)),
        })
    }

    /// Sends a prepared request and decides what follows: delivered, a retry, or dead.
    #[tracing::instrument(skip_all, fields(delivery = %ready.attempt.delivery.id, recipe = %ready.attempt.delivery.recipe_id, action = %ready.attempt.delivery.action_name))]
    pub(super) async fn send_ready(&self, ready: Box<ReadyAttempt>) -> AttemptRecord {
        let keep = ready
            .attempt
            .action
            .as_ref()
            .is_some_and(|a| a.keep_response)
            .then_some(RESPONSE_KEEP_LIMIT);
        // A rate-limited call starts at the slot its claim reserved (at most a second ahead).
        if let Some(wait) = ready
            .attempt
            .delivery
            .not_before
            .and_then(|at| (at - chrono::Utc::now()).to_std().ok())
        {
            tokio::time::sleep(wait).await;
        }
        let result = send_keeping(&self.client, &self.policy, ready.request, keep).await;
        self.finish(ready.attempt, result)
    }

    fn finish(&self, attempt: Attempt, result: AttemptResult) -> AttemptRecord {
        let delivery = &attempt.delivery;
        let attempt_no = delivery.attempt_count + 1;
        let response = stored_response(&result, &attempt.secrets);
        let result = redact(result, &attempt.secrets);
        let next = if result.succeeded() {
            DeliveryNext::Delivered
        } else if result.blocked {
            DeliveryNext::Dead
        } else {
            let schedule = attempt
                .action
                .as_ref()
                .map_or(&[][..], |a| &a.action.retry_schedule);
            match next_delay(schedule, attempt_no as usize, result.retry_after) {
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
        let mut record = record(delivery, attempt_no, attempt.started_at, &result, next);
        if next == DeliveryNext::Delivered {
            record.0.response = response;
        }
        record
    }

    /// Renders and signs the request with the secrets it fills in; `Ok(Err(..))` is a failed
    /// attempt (e.g. a missing secret; a template path missing from the data is permanent).
    async fn prepare(
        &self,
        delivery: &ClaimedDelivery,
        compiled: &CompiledAction,
        secrets: &mut HashMap<String, String>,
    ) -> Result<Result<OutboundRequest, AttemptResult>, StoreError> {
        let action = &compiled.action;
        for name in &compiled.secret_names {
            match self.secrets.get(self.store.as_ref(), name).await {
                Ok(Some(value)) => {
                    secrets.insert(name.clone(), value);
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
        let mut request = match render(
            action,
            &delivery.output,
            &delivery.event_payload,
            &delivery.responses,
            &lookup,
        ) {
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

/// A claimed delivery, decided without a call or ready to send.
pub(super) enum Prepared {
    Decided(AttemptRecord),
    Ready(Box<ReadyAttempt>),
}

/// What an attempt needs besides its request to decide and record its outcome.
pub(super) struct Attempt {
    delivery: ClaimedDelivery,
    started_at: chrono::DateTime<Utc>,
    /// `None` when the stored action is invalid (no retry: the same action fails the same way).
    action: Option<Arc<CompiledAction>>,
    /// Values the request used, redacted from what is stored.
    secrets: HashMap<String, String>,
}

/// A rendered, signed request and the attempt it belongs to.
pub(super) struct ReadyAttempt {
    attempt: Attempt,
    request: OutboundRequest,
}

impl ReadyAttempt {
    pub(super) fn delivery(&self) -> &ClaimedDelivery {
        &self.attempt.delivery
    }

    /// The `host:port` the request goes to (the port the scheme implies when none is given);
    /// `None` for a URL without a host, which fails when sent.
    pub(super) fn destination(&self) -> Option<String> {
        let url = reqwest::Url::parse(&self.request.url).ok()?;
        let host = url.host_str()?.to_ascii_lowercase();
        Some(match url.port_or_known_default() {
            Some(port) => format!("{host}:{port}"),
            None => host,
        })
    }
}

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
        response: None,
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
        kept: None,
    }
}

/// The most of a response body kept for the actions chained after it (64 KiB); a longer one
/// is stored truncated, and a template reading into its body fails saying so.
pub const RESPONSE_KEEP_LIMIT: usize = 64 * 1024;

/// A kept response as stored (`{status, headers, body, truncated}`): the body as JSON when it
/// parses as JSON and was not truncated, else as text; secret values redacted.
fn stored_response(result: &AttemptResult, secrets: &HashMap<String, String>) -> Option<String> {
    let kept = result.kept.as_ref()?;
    let headers: serde_json::Map<String, serde_json::Value> = kept
        .headers
        .iter()
        .map(|(name, value)| (name.clone(), serde_json::Value::String(value.clone())))
        .collect();
    let text = String::from_utf8_lossy(&kept.body);
    let body = match serde_json::from_slice::<serde_json::Value>(&kept.body) {
        Ok(json) if !kept.truncated => json,
        _ => serde_json::Value::String(text.into_owned()),
    };
    let stored = serde_json::json!({
        "status": result.status,
        "headers": headers,
        "body": body,
        "truncated": kept.truncated,
    });
    Some(redact_text(&stored.to_string(), secrets, false))
}
