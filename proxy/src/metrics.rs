//! Prometheus metrics (`--metrics-listen ADDR`, off by default), recorded through the
//! `metrics` facade into a `metrics-exporter-prometheus` recorder that belongs to one
//! [`crate::AppState`] (not the process-global recorder, so two proxies in one test
//! process count separately), and served as text at `/metrics` on a listener of its own,
//! so it is never public by accident.
//!
//! Invariant: every label value comes from a fixed set (protocols, outcomes, diagnosis
//! codes, step and method names, refusal reasons, store operations); no address, host,
//! user name or secret ever appears in a label.

use std::future::Future;
use std::time::Duration;

use mailsetup_shared::api::{CheckResponse, DiscoverResponse, SideReport};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};

/// Checks by protocol, outcome and diagnosis code (one per side checked).
pub const CHECKS: &str = "mailsetup_checks_total";
/// Seconds a whole check request took.
pub const CHECK_SECONDS: &str = "mailsetup_check_duration_seconds";
/// Seconds each step of a check took, by step.
pub const STEP_SECONDS: &str = "mailsetup_check_step_duration_seconds";
/// Discovery methods run, by method and outcome.
pub const DISCOVERIES: &str = "mailsetup_discoveries_total";
/// Requests refused before any work, by reason.
pub const REFUSED: &str = "mailsetup_requests_refused_total";
/// Checks running now.
pub const IN_FLIGHT: &str = "mailsetup_checks_in_flight";
/// Failed Redis operations, by operation.
pub const REDIS_ERRORS: &str = "mailsetup_redis_errors_total";
/// Operations sent to the shared store (Redis round trips), by operation.
pub const STORE_OPS: &str = "mailsetup_store_operations_total";

/// Why a request was refused (the `reason` label of [`REFUSED`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// `--rate-limit-per-minute` (429 `rate_limited`).
    RateLimit,
    /// The failed-login guard (429 `rate_limited` on a check).
    Guard,
    /// `--max-concurrent-checks` (503 `overloaded`).
    Overload,
    /// A foreign origin (403 `origin_not_allowed`).
    Origin,
    /// The egress policy (403 `target_not_allowed`).
    Policy,
    /// The shared store is unreachable (503 `store_unavailable`).
    StoreUnavailable,
}

impl Refusal {
    fn label(self) -> &'static str {
        match self {
            Self::RateLimit => "rate_limit",
            Self::Guard => "guard",
            Self::Overload => "overload",
            Self::Origin => "origin",
            Self::Policy => "policy",
            Self::StoreUnavailable => "store_unavailable",
        }
    }
}

/// One proxy's metrics.
pub struct Metrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Histogram buckets in seconds: from a loopback login to a side timeout.
const BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

/// Keeps a label value to the fixed vocabularies it comes from: lowercase letters, digits
/// and `_`/`-`, at most 32 characters; anything else is `other`.
fn safe(label: &str) -> String {
    if !label.is_empty()
        && label.len() <= 32
        && label
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
    {
        label.to_owned()
    } else {
        "other".to_owned()
    }
}

impl Metrics {
    /// A fresh registry.
    pub fn new() -> Self {
        let recorder = PrometheusBuilder::new()
            .set_buckets(BUCKETS)
            .unwrap_or_else(|_| PrometheusBuilder::new())
            .build_recorder();
        let handle = recorder.handle();
        let this = Self { recorder, handle };
        // The gauge exists from the start, so dashboards see 0 rather than nothing.
        this.with(|| metrics::gauge!(IN_FLIGHT).set(0.0));
        this
    }

    fn with<T>(&self, f: impl FnOnce() -> T) -> T {
        metrics::with_local_recorder(&self.recorder, f)
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        self.handle.run_upkeep();
        self.handle.render()
    }

    /// Counts a refused request.
    pub fn refused(&self, reason: Refusal) {
        self.with(|| metrics::counter!(REFUSED, "reason" => reason.label()).increment(1));
    }

    /// Counts one operation sent to the shared store.
    pub fn store_operation(&self, op: &'static str) {
        self.with(|| metrics::counter!(STORE_OPS, "op" => op).increment(1));
    }

    /// Counts a failed Redis operation.
    pub fn redis_error(&self, op: &'static str) {
        self.with(|| metrics::counter!(REDIS_ERRORS, "op" => op).increment(1));
    }

    /// Records a finished check: each side by protocol, outcome and diagnosis code, each
    /// step's duration, and the whole check's duration.
    pub fn check_done(&self, report: &CheckResponse, took: Duration) {
        self.with(|| {
            for side in [&report.incoming, &report.outgoing].into_iter().flatten() {
                record_side(side);
            }
            metrics::histogram!(CHECK_SECONDS).record(took.as_secs_f64());
        });
    }

    /// Records a finished discovery: every method it ran, by outcome.
    pub fn discovery_done(&self, report: &DiscoverResponse) {
        self.with(|| {
            for entry in &report.trace {
                let outcome = if entry.ok { "ok" } else { "failed" };
                metrics::counter!(DISCOVERIES, "method" => safe(entry.method.as_str()), "outcome" => outcome)
                    .increment(1);
            }
        });
    }

    /// Counts a check as running until the returned guard is dropped.
    pub fn in_flight(self: &std::sync::Arc<Self>) -> InFlight {
        self.with(|| metrics::gauge!(IN_FLIGHT).increment(1.0));
        InFlight(self.clone())
    }
}

fn record_side(side: &SideReport) {
    let protocol = side.protocol.as_str();
    let (outcome, code) = match &side.diagnosis {
        None if side.ok => ("ok", "none".to_owned()),
        None => ("failed", "none".to_owned()),
        Some(d) => ("failed", safe(d.code.as_str())),
    };
    metrics::counter!(CHECKS, "protocol" => protocol, "outcome" => outcome, "code" => code)
        .increment(1);
    for step in &side.steps {
        metrics::histogram!(STEP_SECONDS, "step" => safe(step.step.as_str()))
            .record(Duration::from_millis(step.ms).as_secs_f64());
    }
}

/// A running check, counted in [`IN_FLIGHT`] until dropped.
#[derive(Debug)]
pub struct InFlight(std::sync::Arc<Metrics>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.with(|| metrics::gauge!(IN_FLIGHT).decrement(1.0));
    }
}

/// Serves `GET /metrics` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    metrics: std::sync::Arc<Metrics>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    use axum::routing::get;
    let router = axum::Router::new().route(
        "/metrics",
        get(move || {
            let metrics = metrics.clone();
            async move {
                (
                    [(
                        axum::http::header::CONTENT_TYPE,
                        "text/plain; version=0.0.4; charset=utf-8",
                    )],
                    metrics.render(),
                )
            }
        }),
    );
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_outside_the_vocabulary_become_other() {
        assert_eq!(safe("autoconfig"), "autoconfig");
        assert_eq!(safe("cert_expired"), "cert_expired");
        assert_eq!(safe("alice@example.com"), "other");
        assert_eq!(safe("10.0.0.1"), "other");
        assert_eq!(safe(""), "other");
    }

    #[test]
    fn two_registries_count_separately() {
        let a = Metrics::new();
        let b = Metrics::new();
        a.refused(Refusal::Guard);
        a.refused(Refusal::Guard);
        b.refused(Refusal::Origin);
        let text = a.render();
        assert!(
            text.contains("mailsetup_requests_refused_total{reason=\"guard\"} 2"),
            "{text}"
        );
        assert!(!text.contains("origin"), "{text}");
        assert!(b.render().contains("reason=\"origin\"} 1"));
    }
}
