//! `…/points/search` (legacy), `…/points/query` (universal), and their
//! batch forms.

use std::collections::HashSet;
use std::sync::Arc;

use axum::extract::{Path, State};
use cairn_engine::{Collection, Condition, Filter, PointId};
use serde_json::{json, Value};

use super::envelope::{ok, ApiError, ApiResult, Body, Started};
use super::models::{dense_vector, scored_json, Batch, QueryBody, SearchBody, SearchCommon};
use super::state::AppState;

/// Runs one search on the blocking pool and renders Qdrant's scored points.
fn run(
    c: &Collection,
    vector: Vec<f32>,
    mut common: SearchCommon,
    exclude: Option<PointId>,
) -> Result<Vec<Value>, ApiError> {
    let mut req = common.request(vector)?;
    if let Some(id) = exclude {
        // Query by id: "more like this point", without the point itself.
        let mut f = Filter {
            must_not: vec![Condition::HasId(HashSet::from([id]))],
            ..Filter::default()
        };
        if let Some(inner) = req.filter.take() {
            f.must.push(Condition::Filter(Box::new(inner)));
        }
        req.filter = Some(f);
    }
    let hits = c.search(&req)?;
    let ef = req
        .ef
        .unwrap_or(c.config().hnsw.ef)
        .max(req.limit.saturating_add(req.offset));
    super::metrics::observe_search(c.name(), ef, hits.len());
    Ok(hits
        .into_iter()
        .map(|h| scored_json(h, &common.with_payload))
        .collect())
}

fn search_one(c: &Collection, body: SearchBody) -> Result<Vec<Value>, ApiError> {
    let vector = dense_vector(body.vector, "vector")?;
    run(c, vector, body.common, None)
}

/// `query` may be a vector, a point id, or `{"nearest": <vector or id>}`.
fn query_one(c: &Collection, mut body: QueryBody) -> Result<Value, ApiError> {
    let mut query = body
        .query
        .take()
        .ok_or_else(|| ApiError::bad_request("`query` is required (a vector or a point id)"))?;
    if let Some(nearest) = query.get_mut("nearest") {
        query = nearest.take();
    }
    let points = match query {
        Value::Array(_) => run(c, dense_vector(query, "query")?, body.common, None)?,
        Value::Number(_) | Value::String(_) => {
            let id = PointId::from_json(&query)?;
            let vector = c
                .get(&[id], false, true)
                .pop()
                .and_then(|r| r.vector)
                .ok_or_else(|| ApiError::not_found(format!("point {id} not found")))?;
            run(c, vector, body.common, Some(id))?
        }
        _ => {
            return Err(ApiError::bad_request(
                "`query` must be a vector, a point id, or {\"nearest\": ...}",
            ))
        }
    };
    Ok(json!({"points": points}))
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
    let out = with_collection(&state, &name, move |c| query_one(c, body)).await?;
    ok(&started, out)
}

pub async fn query_batch(
    State(state): State<AppState>,
    Path(name): Path<String>,
    started: Started,
    Body(body): Body<Batch<QueryBody>>,
) -> ApiResult {
    let out = with_collection(&state, &name, move |c| {
        body.searches
            .into_iter()
            .map(|q| query_one(c, q))
            .collect::<Result<Vec<_>, _>>()
    })
    .await?;
    ok(&started, out)
}
