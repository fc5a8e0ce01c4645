//! The Prometheus registry: counters the HTTP handlers and the workers share, served at
//! `GET /metrics` (text exposition format) by `web::metrics`.
//!
//! The counters are this process's (since it started); the backlog gauges are read from the
//! store at scrape time, so with several processes on one store every process reports the
//! same cluster-wide backlog. Labels stay low-cardinality: the recipe id, and small fixed sets
//! of reasons, statuses and outcomes — never a secret, a token or a payload value.

use std::time::Duration;

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};

/// Seconds: from a receiver on the same host to a slow one near the default 30 s timeout.
const ATTEMPT_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

/// What the server counts; one per process, shared by the HTTP handlers and the workers.
pub struct Metrics {
    registry: Registry,
    webhooks_accepted: IntCounterVec,
    webhooks_refused: IntCounterVec,
    events_processed: IntCounterVec,
    delivery_attempts: IntCounterVec,
    attempt_duration: HistogramVec,
    events_pending: IntGauge,
    deliveries_pending: IntGauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let registry = Registry::new();
        let counter = |name: &str, help: &str, labels: &[&str]| {
            let counter = IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric");
            registry
                .register(Box::new(counter.clone()))
                .expect("metric registered once");
            counter
        };
        let gauge = |opts: Opts| {
            let gauge = IntGauge::with_opts(opts).expect("valid metric");
            registry
                .register(Box::new(gauge.clone()))
                .expect("metric registered once");
            gauge
        };
        let attempt_duration = HistogramVec::new(
            HistogramOpts::new(
                "switchyard_delivery_attempt_duration_seconds",
                "How long outbound delivery attempts took, by outcome.",
            )
            .buckets(ATTEMPT_BUCKETS.to_vec()),
            &["outcome"],
        )
        .expect("valid metric");
        registry
            .register(Box::new(attempt_duration.clone()))
            .expect("metric registered once");
        let build = gauge(
            Opts::new(
                "switchyard_build_info",
                "Always 1; labelled with the version.",
            )
            .const_label("version", env!("CARGO_PKG_VERSION")),
        );
        build.set(1);
        Metrics {
            webhooks_accepted: counter(
                "switchyard_webhooks_accepted_total",
                "Webhook calls stored as new events, by recipe.",
                &["recipe"],
            ),
            webhooks_refused: counter(
                "switchyard_webhooks_refused_total",
                "Webhook calls refused by the recipe's verify check (401), allow_from (403) or an unreadable forwarding header (400), by recipe and reason.",
                &["recipe", "reason"],
            ),
            events_processed: counter(
                "switchyard_events_processed_total",
                "Runs committed (filter, transform, dedupe), by recipe and run status.",
                &["recipe", "status"],
            ),
            delivery_attempts: counter(
                "switchyard_delivery_attempts_total",
                "Outbound delivery attempts by recipe and outcome (delivered, retry, dead).",
                &["recipe", "outcome"],
            ),
            attempt_duration,
            events_pending: gauge(Opts::new(
                "switchyard_events_pending",
                "Events stored but not run yet (read from the store at scrape time).",
            )),
            deliveries_pending: gauge(Opts::new(
                "switchyard_deliveries_pending",
                "Deliveries waiting for an attempt or a retry (read from the store at scrape time).",
            )),
            registry,
        }
    }

    /// A webhook call stored as a new event.
    pub fn webhook_accepted(&self, recipe: &str) {
        self.webhooks_accepted.with_label_values(&[recipe]).inc();
    }

    /// A webhook call refused, by a reason of a small fixed set (`bad_signature`,
    /// `rate_limited`, ...: `ingest::signature::refusal_kind`).
    pub fn webhook_refused(&self, recipe: &str, reason: &'static str) {
        self.webhooks_refused
            .with_label_values(&[recipe, reason])
            .inc();
    }

    /// A run committed with this status (`done`, `filtered`, `duplicate`, `failed`).
    pub fn event_processed(&self, recipe: &str, status: &str) {
        self.events_processed
            .with_label_values(&[recipe, status])
            .inc();
    }

    /// One delivery attempt: `delivered`, `retry` or `dead`, and how long it took.
    pub fn delivery_attempt(&self, recipe: &str, outcome: &'static str, duration: Duration) {
        self.delivery_attempts
            .with_label_values(&[recipe, outcome])
            .inc();
        self.attempt_duration
            .with_label_values(&[outcome])
            .observe(duration.as_secs_f64());
    }

    /// Sets the backlog gauges (counts read from the store at scrape time).
    pub fn set_backlog(&self, events_pending: u64, deliveries_pending: u64) {
        self.events_pending.set(clamp(events_pending));
        self.deliveries_pending.set(clamp(deliveries_pending));
    }

    /// The text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        let encoder = TextEncoder::new();
        if let Err(error) = encoder.encode(&self.registry.gather(), &mut out) {
            tracing::warn!(%error, "could not encode the metrics");
        }
        String::from_utf8(out).unwrap_or_default()
    }
}

fn clamp(count: u64) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_render_with_their_labels_and_two_registries_stay_apart() {
        let metrics = Metrics::new();
        metrics.webhook_accepted("orders");
        metrics.webhook_refused("orders", "bad_signature");
        metrics.event_processed("orders", "done");
        metrics.delivery_attempt("orders", "delivered", Duration::from_millis(30));
        let text = metrics.render();
        for line in [
            r#"switchyard_webhooks_accepted_total{recipe="orders"} 1"#,
            r#"switchyard_webhooks_refused_total{reason="bad_signature",recipe="orders"} 1"#,
            r#"switchyard_events_processed_total{recipe="orders",status="done"} 1"#,
            r#"switchyard_delivery_attempts_total{outcome="delivered",recipe="orders"} 1"#,
            r#"switchyard_delivery_attempt_duration_seconds_bucket{outcome="delivered",le="0.05"} 1"#,
            "# TYPE switchyard_deliveries_pending gauge",
        ] {
            assert!(text.contains(line), "missing `{line}` in:\n{text}");
        }
        assert!(!Metrics::new().render().contains("orders"));
    }
}
