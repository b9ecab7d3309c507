//! `/`, `/healthz`, `/livez`, `/readyz` and `/health/report`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::envelope::error_response;
use super::state::AppState;

pub async fn root() -> Response {
    Json(json!({"title": "cairn - vector search engine", "version": env!("CARGO_PKG_VERSION")}))
        .into_response()
}

/// The process is up and answering.
pub async fn live() -> Response {
    "healthz check passed".into_response()
}

/// Every collection is loaded and requests are served.
pub async fn ready(State(state): State<AppState>) -> Response {
    match state.loaded() {
        Some(_) => "all collections are loaded and ready".into_response(),
        None => error_response(
            StatusCode::SERVICE_UNAVAILABLE,
            "collections are still loading",
        ),
    }
}

/// Per-component health with figures and thresholds; the HTTP status is
/// 200 whatever the verdict (it is in the body), so monitors can read it.
pub async fn report(State(state): State<AppState>) -> Response {
    let report = state.health_report().await;
    super::metrics::record_health(&report);
    Json(report).into_response()
}
