//! Prometheus metrics: app invocations by app and outcome, invocation
//! latency, and HTTP requests by route and status.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use super::AppState;

type Labels = Vec<(String, String)>;
type HistogramFamily = Family<Labels, Histogram, fn() -> Histogram>;

/// The server's metrics; cheap to clone.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Mutex<Registry>>,
    invocations: Family<Labels, Counter>,
    invocation_seconds: HistogramFamily,
    http_requests: Family<Labels, Counter>,
    http_seconds: HistogramFamily,
}

fn latency_histogram() -> Histogram {
    // 0.5 ms .. ~4 s
    Histogram::new(exponential_buckets(0.0005, 2.0, 14))
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let invocations = Family::<Labels, Counter>::default();
        let invocation_seconds: HistogramFamily = Family::new_with_constructor(latency_histogram);
        let http_requests = Family::<Labels, Counter>::default();
        let http_seconds: HistogramFamily = Family::new_with_constructor(latency_histogram);
        registry.register(
            "qun_invocations",
            "App invocations by app and outcome (ok, or the error code)",
            invocations.clone(),
        );
        registry.register(
            "qun_invocation_duration_seconds",
            "Wall-clock time of app invocations, by app",
            invocation_seconds.clone(),
        );
        registry.register(
            "qun_http_requests",
            "HTTP requests by method, route and status",
            http_requests.clone(),
        );
        registry.register(
            "qun_http_request_duration_seconds",
            "Time to the response head, by method and route",
            http_seconds.clone(),
        );
        Metrics {
            registry: Arc::new(Mutex::new(registry)),
            invocations,
            invocation_seconds,
            http_requests,
            http_seconds,
        }
    }
}

impl Metrics {
    /// Count one invocation of `app` that ended with `outcome`.
    pub fn invocation(&self, app: &str, outcome: &str, took: Duration) {
        let app = ("app".to_string(), app.to_string());
        self.invocations
            .get_or_create(&vec![app.clone(), ("outcome".into(), outcome.to_string())])
            .inc();
        self.invocation_seconds
            .get_or_create(&vec![app])
            .observe(took.as_secs_f64());
    }

    /// Count one HTTP request.
    pub fn http(&self, method: &str, route: &str, status: u16, took: Duration) {
        let method = ("method".to_string(), method.to_string());
        let route = ("route".to_string(), route.to_string());
        self.http_requests
            .get_or_create(&vec![
                method.clone(),
                route.clone(),
                ("status".into(), status.to_string()),
            ])
            .inc();
        self.http_seconds
            .get_or_create(&vec![method, route])
            .observe(took.as_secs_f64());
    }

    /// Everything in the Prometheus (OpenMetrics) text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let registry = self.registry.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(e) = encode(&mut out, &registry) {
            tracing::error!("encoding metrics failed: {e}");
        }
        out
    }
}

/// The method as a metrics label: the standard ones, anything else `other`.
pub fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Middleware (a route layer, so the matched route is known) counting requests.
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    // Labels come from a closed set only: any client can send any method
    // name and any path, and every label value is kept forever.
    let method = method_label(request.method()).to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "other".into());
    let response = next.run(request).await;
    let took = started.elapsed();
    let status = response.status().as_u16();
    tracing::debug!(%method, %route, status, ms = took.as_millis() as u64, "request");
    state.metrics.http(&method, &route, status, took);
    response
}
