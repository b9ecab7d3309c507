//! `/collections/{name}/points…`: upsert, retrieve, delete, payload writes,
//! scroll and count.

use axum::extract::{Path, Query, State};
use cairn_engine::{Payload, PointId, PointSelector, ScrollRequest, UpdateResult, WriteMode};
use serde_json::{json, Map, Value};

use super::collections::WaitParam;
use super::envelope::{blocking, ok, ApiError, ApiResult, Body, OptionalBody, Started};
use super::models::{
    points_to_upsert, record_json, selector, CountBody, PayloadSelector, RetrieveBody, ScrollBody,
};
use super::state::AppState;

fn update(started: &Started, wait: &WaitParam, r: UpdateResult) -> ApiResult {
    ok(
        started,
        json!({"operation_id": r.operation_id, "status": wait.status()}),
    )
}

pub async fn upsert(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(wait): Query<WaitParam>,
    started: Started,
    Body(body): Body<Map<String, Value>>,
) -> ApiResult {
    let c = state.collection(&name)?;
    let points = points_to_upsert(body)?;
    if wait.wait == Some(false) {
        // Answer once the batch is in the WAL (fsync'd); build the graph
        // links right after, off the request's path.
        let logged = c.clone();
        let r = blocking(move || Ok(logged.upsert_with(points, WriteMode::Logged)?)).await?;
        tokio::task::spawn_blocking(move || c.apply_pending());
        return update(&started, &wait, r);
    }
    let r = blocking(move || Ok(c.upsert(points)?)).await?;
    update(&started, &wait, r)
}

pub async fn retrieve(
    State(state): State<AppState>,
    Path(name): Path<String>,
    started: Started,
    Body(body): Body<RetrieveBody>,
) -> ApiResult {
    let c = state.collection(&name)?;
    let ids = body.ids()?;
    let (with_payload, with_vector) = (body.with_payload.wanted(), body.with_vector);
    let records = blocking(move || Ok(c.get(&ids, with_payload, with_vector))).await?;
    let out: Vec<Value> = records
        .into_iter()
        .map(|r| record_json(r, &body.with_payload))
        .collect();
    ok(&started, out)
}

pub async fn get_one(
    State(state): State<AppState>,
    Path((name, id)): Path<(String, String)>,
    started: Started,
) -> ApiResult {
    let c = state.collection(&name)?;
    let id: PointId = id.parse()?;
    let mut found = blocking(move || Ok(c.get(&[id], true, true))).await?;
    match found.pop() {
        Some(r) => ok(&started, record_json(r, &PayloadSelector::All)),
        None => Err(ApiError::not_found(format!("point {id} not found"))),
    }
}

pub async fn delete(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(wait): Query<WaitParam>,
    started: Started,
    Body(body): Body<Map<String, Value>>,
) -> ApiResult {
    let c = state.collection(&name)?;
    let sel = selector(&body)?;
    let r = blocking(move || Ok(c.delete(sel)?)).await?;
    update(&started, &wait, r)
}

/// The payload object of a set/overwrite body.
fn payload_of(body: &mut Map<String, Value>) -> Result<Payload, ApiError> {
    if body.get("key").is_some_and(|k| !k.is_null()) {
        return Err(ApiError::bad_request(
            "setting a payload under a nested `key` is not supported",
        ));
    }
    let p = body
        .remove("payload")
        .ok_or_else(|| ApiError::bad_request("missing `payload`"))?;
    Ok(Payload::from_json(p)?)
}

pub async fn set_payload(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(wait): Query<WaitParam>,
    started: Started,
    Body(mut body): Body<Map<String, Value>>,
) -> ApiResult {
    let c = state.collection(&name)?;
    let (payload, sel) = (payload_of(&mut body)?, selector(&body)?);
    let r = blocking(move || Ok(c.set_payload(sel, payload)?)).await?;
    update(&started, &wait, r)
}

pub async fn overwrite_payload(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(wait): Query<WaitParam>,
    started: Started,
    Body(mut body): Body<Map<String, Value>>,
) -> ApiResult {
    let c = state.collection(&name)?;
    let (payload, sel) = (payload_of(&mut body)?, selector(&body)?);
    let r = blocking(move || Ok(c.overwrite_payload(sel, payload)?)).await?;
    update(&started, &wait, r)
}

pub async fn delete_payload(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(wait): Query<WaitParam>,
    started: Started,
    Body(body): Body<Map<String, Value>>,
) -> ApiResult {
    let c = state.collection(&name)?;
    let keys: Vec<String> = match body.get("keys") {
        Some(Value::Array(k)) => k
            .iter()
            .map(|k| k.as_str().map(str::to_string))
            .collect::<Option<_>>()
            .ok_or_else(|| ApiError::bad_request("`keys` must be a list of strings"))?,
        _ => {
            return Err(ApiError::bad_request(
                "missing `keys` (a list of payload keys)",
            ))
        }
    };
    let sel = selector(&body)?;
    let r = blocking(move || Ok(c.delete_payload_keys(sel, keys)?)).await?;
    update(&started, &wait, r)
}

pub async fn clear_payload(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(wait): Query<WaitParam>,
    started: Started,
    Body(body): Body<Map<String, Value>>,
) -> ApiResult {
    let c = state.collection(&name)?;
    let sel: PointSelector = selector(&body)?;
    let r = blocking(move || Ok(c.clear_payload(sel)?)).await?;
    update(&started, &wait, r)
}

pub async fn scroll(
    State(state): State<AppState>,
    Path(name): Path<String>,
    started: Started,
    Body(mut body): Body<ScrollBody>,
) -> ApiResult {
    let c = state.collection(&name)?;
    let req = ScrollRequest {
        offset: body.offset()?,
        limit: body.limit.unwrap_or(10),
        filter: body.filter()?,
        with_payload: body.with_payload.wanted(),
        with_vector: body.with_vector,
    };
    let page = blocking(move || Ok(c.scroll(&req))).await?;
    let points: Vec<Value> = page
        .points
        .into_iter()
        .map(|r| record_json(r, &body.with_payload))
        .collect();
    ok(
        &started,
        json!({"points": points, "next_page_offset": page.next_page_offset}),
    )
}

pub async fn count(
    State(state): State<AppState>,
    Path(name): Path<String>,
    started: Started,
    OptionalBody(mut body): OptionalBody<CountBody>,
) -> ApiResult {
    let c = state.collection(&name)?;
    let filter = body.filter()?;
    let n = blocking(move || Ok(c.count(filter.as_ref()))).await?;
    ok(&started, json!({"count": n}))
}
