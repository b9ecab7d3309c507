//! `GET /collections/{name}/documents`: the documents the catalog records
//! for a collection (written by ingestion), with their chunk counts.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::json;

use super::envelope::{ok, ApiError, ApiResult, Started};
use super::state::AppState;

#[derive(Deserialize)]
pub struct Page {
    #[serde(default = "default_limit")]
    limit: i64,
    #[serde(default)]
    offset: i64,
}

fn default_limit() -> i64 {
    100
}

pub async fn list(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(page): Query<Page>,
    started: Started,
) -> ApiResult {
    state.collection(&name)?;
    if !(1..=10_000).contains(&page.limit) || page.offset < 0 {
        return Err(ApiError::bad_request(
            "limit must be 1..=10000 and offset ≥ 0",
        ));
    }
    let catalog = state.catalog().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the metadata catalog is not connected",
        )
    })?;
    let documents = catalog
        .list_documents(&name, page.limit, page.offset)
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    ok(&started, json!({"documents": documents}))
}
