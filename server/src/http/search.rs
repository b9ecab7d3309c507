//! `…/points/search` (legacy), `…/points/query` (universal, see
//! [`super::query`]), their batch forms, and the search threads they run on.

use std::sync::Arc;

use axum::extract::{Path, State};
use cairn_engine::Collection;

use super::envelope::{ok, ApiError, ApiResult, Body, Started};
use super::models::{scored_point, Batch, ScoredPointOut, SearchBody, SearchCommon};
use super::query::{query_one, QueryBody};
use super::state::AppState;

/// Runs one legacy search and renders Qdrant's scored points.
fn run(
    c: &Collection,
    vector: Vec<f32>,
    mut common: SearchCommon,
) -> Result<Vec<ScoredPointOut>, ApiError> {
    let req = common.request(vector)?;
    let hits = c.search(&req)?;
    let ef = req
        .ef
        .unwrap_or(c.config().hnsw.ef)
        .max(req.limit.saturating_add(req.offset));
    super::metrics::observe_search(c.name(), ef, hits.len());
    Ok(hits
        .into_iter()
        .map(|h| scored_point(h, &common.with_payload))
        .collect())
}

fn search_one(c: &Collection, body: SearchBody) -> Result<Vec<ScoredPointOut>, ApiError> {
    let vector = body.vector.into_dense("vector")?;
    run(c, vector, body.common)
}

/// Runs a search on the search threads (`search_threads` of them), so at
/// most that many searches share the CPUs and the rest queue in order.
async fn with_collection<T: Send + 'static>(
    state: &AppState,
    name: &str,
    work: impl FnOnce(&Arc<Collection>) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let c = state.collection(name)?;
    let (done, result) = tokio::sync::oneshot::channel();
    state.searches().spawn(move || {
        // A panic must become a 500, not abort the pool's thread.
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(&c)));
        let _ = done.send(outcome);
        // Give the core away between searches. The kernel here preempts a
        // busy thread only at its 4 ms tick, so without this a search
        // thread keeps its core while the HTTP workers that would parse
        // the next request or send this answer wait: under 32 clients a
        // search's own time had a p99 of 2 ms for a p50 of 0.16 ms. With
        // nothing else runnable the call returns at once.
        std::thread::yield_now();
    });
    match result.await {
        Ok(Ok(answer)) => answer,
        Ok(Err(_)) | Err(_) => Err(ApiError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "the search failed unexpectedly; the server logged it",
        )),
    }
}

pub async fn search(
    State(state): State<AppState>,
    Path(name): Path<String>,
    started: Started,
    Body(body): Body<SearchBody>,
) -> ApiResult {
    let out = with_collection(&state, &name, move |c| search_one(c, body)).await?;
    ok(&started, out)
}

pub async fn search_batch(
    State(state): State<AppState>,
    Path(name): Path<String>,
    started: Started,
    Body(body): Body<Batch<SearchBody>>,
) -> ApiResult {
    let out = with_collection(&state, &name, move |c| {
        body.searches
            .into_iter()
            .map(|s| search_one(c, s))
            .collect::<Result<Vec<_>, _>>()
    })
    .await?;
    ok(&started, out)
}

pub async fn query(
    State(state): State<AppState>,
    Path(name): Path<String>,
    started: Started,
    Body(body): Body<QueryBody>,
) -> ApiResult {
    let models = state.models().clone();
    let out = with_collection(&state, &name, move |c| query_one(c, &models, body)).await?;
    ok(&started, out)
}

pub async fn query_batch(
    State(state): State<AppState>,
    Path(name): Path<String>,
    started: Started,
    Body(body): Body<Batch<QueryBody>>,
) -> ApiResult {
    let models = state.models().clone();
    let out = with_collection(&state, &name, move |c| {
        body.searches
            .into_iter()
            .map(|q| query_one(c, &models, q))
            .collect::<Result<Vec<_>, _>>()
    })
    .await?;
    ok(&started, out)
}
