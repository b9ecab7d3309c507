//! Prometheus metrics at `GET /metrics` (text format).
//!
//! - `cairn_http_requests_total{method,route,status}` and
//!   `cairn_http_request_duration_seconds{method,route}`, where `route` is the
//!   matched route template (`/collections/{name}/points`), so label values
//!   stay few whatever the URLs.
//! - `cairn_collection_points`, `cairn_collection_tombstones`,
//!   `cairn_collection_segments` and `cairn_wal_bytes`, per collection, read
//!   when scraped.
//! - `cairn_search_ef` (candidate list size used) and `cairn_search_results`.
//! - `cairn_process_resident_memory_bytes`.

use std::sync::LazyLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

use super::envelope::error_response;
use super::state::AppState;

struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    points: IntGaugeVec,
    tombstones: IntGaugeVec,
    segments: IntGaugeVec,
    wal_bytes: IntGaugeVec,
    search_ef: HistogramVec,
    search_results: HistogramVec,
    resident_memory: IntGauge,
    health_status: IntGaugeVec,
    health_value: prometheus::GaugeVec,
}

fn registered<T: prometheus::core::Collector + Clone + 'static>(
    registry: &Registry,
    metric: T,
) -> T {
    // Names are fixed here, so a clash is a programming error caught by tests.
    registry
        .register(Box::new(metric.clone()))
        .expect("metric names are unique");
    metric
}

static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    let r = Registry::new();
    let by_collection = |name: &str, help: &str| {
        registered(
            &r,
            IntGaugeVec::new(Opts::new(name, help), &["collection"]).expect("valid metric"),
        )
    };
    let powers =
        |from: f64, n: usize| prometheus::exponential_buckets(from, 2.0, n).expect("valid buckets");
    Metrics {
        requests: registered(
            &r,
            IntCounterVec::new(
                Opts::new("cairn_http_requests_total", "HTTP requests served"),
                &["method", "route", "status"],
            )
            .expect("valid metric"),
        ),
        latency: registered(
            &r,
            HistogramVec::new(
                HistogramOpts::new(
                    "cairn_http_request_duration_seconds",
                    "HTTP request latency",
                )
                .buckets(powers(0.000_05, 18)),
                &["method", "route"],
            )
            .expect("valid metric"),
        ),
        points: by_collection("cairn_collection_points", "Live points per collection"),
        tombstones: by_collection(
            "cairn_collection_tombstones",
            "Deleted or replaced points awaiting compaction",
        ),
        segments: by_collection("cairn_collection_segments", "Segments per collection"),
        wal_bytes: by_collection(
            "cairn_wal_bytes",
            "Bytes in the write-ahead log since the last checkpoint",
        ),
        search_ef: registered(
            &r,
            HistogramVec::new(
                HistogramOpts::new(
                    "cairn_search_ef",
                    "Candidate list size (ef) used by searches",
                )
                .buckets(powers(8.0, 12)),
                &["collection"],
            )
            .expect("valid metric"),
        ),
        search_results: registered(
            &r,
            HistogramVec::new(
                HistogramOpts::new("cairn_search_results", "Points returned per search")
                    .buckets(powers(1.0, 12)),
                &["collection"],
            )
            .expect("valid metric"),
        ),
        resident_memory: registered(
            &r,
            IntGauge::new(
                "cairn_process_resident_memory_bytes",
                "Resident memory of the process",
            )
            .expect("valid metric"),
        ),
        health_status: registered(
            &r,
            IntGaugeVec::new(
                Opts::new(
                    "cairn_health_status",
                    "Health per component: 0 healthy, 1 warning, 2 critical (\"overall\" is the worst)",
                ),
                &["component"],
            )
            .expect("valid metric"),
        ),
        health_value: registered(
            &r,
            prometheus::GaugeVec::new(
                Opts::new(
                    "cairn_health_value",
                    "The figures the health report judges, by component and name",
                ),
                &["component", "figure"],
            )
            .expect("valid metric"),
        ),
        registry: r,
    }
});

/// Publishes a health report's verdicts and figures as gauges.
pub fn record_health(report: &crate::health::Report) {
    let m = &*METRICS;
    m.health_status.reset();
    m.health_value.reset();
    m.health_status
        .with_label_values(&["overall"])
        .set(report.status.code() as i64);
    for c in &report.components {
        m.health_status
            .with_label_values(&[&c.name])
            .set(c.status.code() as i64);
        for (figure, value) in &c.values {
            m.health_value
                .with_label_values(&[c.name.as_str(), figure.as_str()])
                .set(*value);
        }
    }
}

/// Counts and times every request by its route template.
pub async fn track(req: Request, next: Next) -> Response {
    let method = req.method().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let started = Instant::now();
    let response = next.run(req).await;
    let m = &*METRICS;
    m.latency
        .with_label_values(&[&method, &route])
        .observe(started.elapsed().as_secs_f64());
    m.requests
        .with_label_values(&[&method, &route, response.status().as_str()])
        .inc();
    response
}

/// Records one search's `ef` and result count.
pub fn observe_search(collection: &str, ef: usize, results: usize) {
    let m = &*METRICS;
    m.search_ef
        .with_label_values(&[collection])
        .observe(ef as f64);
    m.search_results
        .with_label_values(&[collection])
        .observe(results as f64);
}

fn resident_memory_bytes() -> Option<i64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: i64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

pub async fn scrape(State(state): State<AppState>) -> Response {
    let m = &*METRICS;
    if let Some(engine) = state.loaded() {
        for gauge in [&m.points, &m.tombstones, &m.segments, &m.wal_bytes] {
            gauge.reset(); // forget dropped collections
        }
        for name in engine.list_collections() {
            if let Ok(c) = engine.collection(&name) {
                let info = c.info();
                m.points
                    .with_label_values(&[&name])
                    .set(info.points_count as i64);
                m.tombstones
                    .with_label_values(&[&name])
                    .set(info.tombstones as i64);
                m.segments.with_label_values(&[&name]).set(1);
                m.wal_bytes
                    .with_label_values(&[&name])
                    .set(info.wal_bytes as i64);
            }
        }
    }
    if let Some(bytes) = resident_memory_bytes() {
        m.resident_memory.set(bytes);
    }
    record_health(&state.health_report().await);
    let mut out = Vec::new();
    match TextEncoder::new().encode(&m.registry.gather(), &mut out) {
        Ok(()) => ([("content-type", "text/plain; version=0.0.4")], out).into_response(),
        Err(e) => error_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("cannot encode metrics: {e}"),
        ),
    }
}
