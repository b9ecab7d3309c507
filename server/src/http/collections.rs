//! `/collections` and `/collections/{name}`: create, list, info, exists, drop,
//! and payload indexes.

use axum::extract::{Path, Query, State};
use cairn_engine::{
    CollectionConfig, CollectionInfo, Condition, Distance, EmbeddingConfig, Filter,
    PayloadSchemaType,
};
use cairn_ingest::chunk_point::keys;
use cairn_ingest::embed::Embedder;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::audit::Caller;
use super::envelope::{blocking, ok, ApiError, ApiResult, Body, Started};
use super::models::{vector_params, CreateCollection, IndexBody};
use super::state::AppState;

#[derive(Deserialize, Default)]
pub struct WaitParam {
    #[serde(default)]
    pub wait: Option<bool>,
}

impl WaitParam {
    /// `wait=false` upserts answer once logged (see `points::upsert`); other
    /// writes are cheap and always applied first. Reported as Qdrant does.
    pub fn status(&self) -> &'static str {
        if self.wait == Some(false) {
            "acknowledged"
        } else {
            "completed"
        }
    }
}

pub async fn list(State(state): State<AppState>, started: Started) -> ApiResult {
    let names = state.engine()?.list_collections();
    let collections: Vec<Value> = names.into_iter().map(|n| json!({"name": n})).collect();
    ok(&started, json!({"collections": collections}))
}

pub async fn create(
    State(state): State<AppState>,
    Path(name): Path<String>,
    caller: Caller,
    started: Started,
    Body(body): Body<CreateCollection>,
) -> ApiResult {
    // A model named for the collection must exist and decides the size.
    let model = match &body.embedding {
        Some(e) => {
            let models = state.models().clone();
            let name = e.model.clone();
            Some(blocking(move || Ok(models.get(&name)?)).await?)
        }
        None => None,
    };
    let (dim, distance) = match (&body.vectors, &model) {
        (Some(v), _) => vector_params(v)?,
        (None, Some(m)) => (m.dim(), Distance::Cosine),
        (None, None) => {
            return Err(ApiError::bad_request(
                "`vectors` is required ({\"size\": N, \"distance\": \"Cosine\"}), unless `embedding` names a model",
            ))
        }
    };
    if let Some(m) = &model {
        if m.dim() != dim {
            return Err(ApiError::bad_request(format!(
                "`vectors.size` is {dim} but the model `{}` makes {}-d vectors",
                m.model_name(),
                m.dim()
            )));
        }
    }
    let mut config = CollectionConfig::new(dim, distance);
    config.embedding = model.as_ref().map(|m| EmbeddingConfig {
        model: m.model_name().to_string(),
    });
    if let Some(h) = &body.hnsw_config {
        h.apply(&mut config.hnsw);
    }
    if let Some(q) = &body.quantization_config {
        config.quantization = super::models::quantization_config(q)?;
    }
    let engine = state.engine()?;
    let (collection, distance) = (name.clone(), format!("{:?}", config.distance));
    let embedded = model.is_some();
    blocking(move || {
        let c = engine.create_collection(&collection, config)?;
        if embedded {
            // What documents and text queries rely on.
            c.create_payload_index(keys::CONTENT, PayloadSchemaType::Text)?;
            c.create_payload_index(keys::DOCUMENT_ID, PayloadSchemaType::Keyword)?;
        }
        Ok(())
    })
    .await?;
    if let Some(catalog) = state.catalog() {
        if let Err(e) = catalog.record_collection(&name, dim, &distance).await {
            tracing::warn!(error = %e, "cannot record the collection in the catalog");
        }
    }
    state
        .audit(&caller, "create_collection", Some(&name), "")
        .await;
    ok(&started, true)
}

pub async fn delete(
    State(state): State<AppState>,
    Path(name): Path<String>,
    caller: Caller,
    started: Started,
) -> ApiResult {
    let engine = state.engine()?;
    let collection = name.clone();
    blocking(move || Ok(engine.drop_collection(&collection)?)).await?;
    if let Some(catalog) = state.catalog() {
        if let Err(e) = catalog.forget_collection(&name).await {
            tracing::warn!(error = %e, "cannot remove the collection from the catalog");
        }
    }
    state
        .audit(&caller, "delete_collection", Some(&name), "")
        .await;
    ok(&started, true)
}

pub async fn exists(
    State(state): State<AppState>,
    Path(name): Path<String>,
    started: Started,
) -> ApiResult {
    let exists = state.engine()?.collection(&name).is_ok();
    ok(&started, json!({"exists": exists}))
}

pub async fn info(
    State(state): State<AppState>,
    Path(name): Path<String>,
    started: Started,
) -> ApiResult {
    let c = state.collection(&name)?;
    let (info, schema) = blocking(move || {
        let info = c.info();
        // Qdrant reports, per indexed field, how many points hold a value.
        let schema: Map<String, Value> = info
            .payload_indexes
            .iter()
            .map(|(field, kind)| {
                let has_value = Filter {
                    must_not: vec![Condition::IsEmpty(field.clone())],
                    ..Filter::default()
                };
                let kind = format!("{kind:?}").to_lowercase();
                (
                    field.clone(),
                    json!({"data_type": kind, "points": c.count(Some(&has_value))}),
                )
            })
            .collect();
        Ok((info, schema))
    })
    .await?;
    ok(&started, info_json(&info, schema))
}

/// Qdrant's `CollectionInfo`, with the fields its clients require.
fn info_json(info: &CollectionInfo, payload_schema: Map<String, Value>) -> Value {
    let h = &info.config.hnsw;
    json!({
        "status": "green",
        "optimizer_status": "ok",
        "points_count": info.points_count,
        "indexed_vectors_count": info.points_count,
        "segments_count": 1,
        "config": {
            "params": {
                "vectors": {"size": info.config.dim, "distance": info.config.distance.to_string()},
                "embedding": info.config.embedding.as_ref().map(|e| json!({"model": e.model})),
                "shard_number": 1,
                "replication_factor": 1,
                "write_consistency_factor": 1,
                "on_disk_payload": false
            },
            "hnsw_config": {
                "m": h.m,
                "ef_construct": h.ef_construct,
                "full_scan_threshold": h.full_scan_threshold,
                "max_indexing_threads": 0,
                "on_disk": false
            },
            "optimizer_config": {
                "deleted_threshold": 0.2,
                "vacuum_min_vector_number": 1000,
                "default_segment_number": 1,
                "max_segment_size": null,
                "memmap_threshold": null,
                "indexing_threshold": 0,
                "flush_interval_sec": 5,
                "max_optimization_threads": null
            },
            "wal_config": {"wal_capacity_mb": 64, "wal_segments_ahead": 0},
            "quantization_config": super::models::quantization_json(&info.config.quantization)
        },
        "payload_schema": payload_schema
    })
}

pub async fn create_index(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(wait): Query<WaitParam>,
    started: Started,
    Body(body): Body<IndexBody>,
) -> ApiResult {
    let kind = body.kind()?;
    let c = state.collection(&name)?;
    let r = blocking(move || Ok(c.create_payload_index(&body.field_name, kind)?)).await?;
    ok(
        &started,
        json!({"operation_id": r.operation_id, "status": wait.status()}),
    )
}

pub async fn delete_index(
    State(state): State<AppState>,
    Path((name, field)): Path<(String, String)>,
    Query(wait): Query<WaitParam>,
    started: Started,
) -> ApiResult {
    let c = state.collection(&name)?;
    let r = blocking(move || Ok(c.delete_payload_index(&field)?)).await?;
    ok(
        &started,
        json!({"operation_id": r.operation_id, "status": wait.status()}),
    )
}

/// `PATCH /collections/{name}`: `hnsw_config` is applied (`m` rebuilds the
/// graph), and so is `quantization_config` (codes are rebuilt at once;
/// `"Disabled"` drops them); `optimizers_config`, `params` and the rest are
/// accepted and ignored, since Cairn has nothing they would tune.
pub async fn update(
    State(state): State<AppState>,
    Path(name): Path<String>,
    started: Started,
    Body(body): Body<super::models::UpdateCollection>,
) -> ApiResult {
    let c = state.collection(&name)?;
    let quantization = body
        .quantization_config
        .as_ref()
        .map(super::models::quantization_config)
        .transpose()?;
    blocking(move || {
        if let Some(diff) = body.hnsw_config {
            let mut hnsw = c.config().hnsw;
            diff.apply(&mut hnsw);
            c.update_hnsw(hnsw)?;
        }
        if let Some(q) = quantization {
            c.update_quantization(q)?;
        }
        Ok(())
    })
    .await?;
    ok(&started, true)
}
