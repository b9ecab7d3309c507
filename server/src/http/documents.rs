//! Documents: `GET /collections/{name}/documents` lists what the catalog
//! records for a collection (written by ingestion), with chunk counts;
//! `POST` ingests documents server-side (chunk, embed, upsert); and
//! `POST …/documents/records` takes the records of `cairn ingest --server`.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use cairn_ingest::embed::{Embedder, DEFAULT_MODEL};
use cairn_ingest::sink::DocumentRecord;
use cairn_ingest::{Document, EngineSink, Ingest, IngestOptions};
use serde::Deserialize;
use serde_json::{json, Value};

use super::audit::Caller;
use super::envelope::{blocking, ok, ApiError, ApiResult, Body, Started};
use super::state::AppState;
use crate::ingestion::{record, run_record, Recording};

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

/// One document of `POST /collections/{name}/documents`.
#[derive(Deserialize)]
pub struct DocumentIn {
    /// A string or number; default: the SHA-256 of the text, so posting the
    /// same text again is recognised.
    #[serde(default)]
    id: Option<Value>,
    text: String,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    metadata: Option<Value>,
    #[serde(default)]
    tags: Vec<String>,
}

#[derive(Deserialize)]
pub struct DocumentsBody {
    documents: Vec<DocumentIn>,
    #[serde(default)]
    chunk_tokens: Option<usize>,
    #[serde(default)]
    overlap: Option<usize>,
}

fn document_of(i: usize, d: DocumentIn) -> Result<Document, ApiError> {
    if d.text.trim().is_empty() {
        return Err(ApiError::bad_request(format!(
            "documents[{i}].text is empty"
        )));
    }
    let id = match d.id {
        None | Some(Value::Null) => {
            hex::encode(<sha2::Sha256 as sha2::Digest>::digest(d.text.as_bytes()))
        }
        Some(Value::String(s)) if !s.is_empty() => s,
        Some(Value::Number(n)) => n.to_string(),
        Some(_) => {
            return Err(ApiError::bad_request(format!(
                "documents[{i}].id must be a non-empty string or a number"
            )))
        }
    };
    let metadata = match d.metadata {
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) => Some(m),
        Some(_) => {
            return Err(ApiError::bad_request(format!(
                "documents[{i}].metadata must be an object"
            )))
        }
    };
    Ok(Document {
        title: d.title.unwrap_or_default(),
        source: "api".into(),
        id,
        text: d.text,
        file_type: "text",
        tags: d.tags,
        metadata,
    })
}

/// `POST /collections/{name}/documents`: chunk, embed (with the
/// collection's model) and upsert; unchanged documents are skipped.
/// Answers the run's summary (`added`, `updated`, `skipped`, `failed`, …).
pub async fn ingest(
    State(state): State<AppState>,
    Path(name): Path<String>,
    caller: Caller,
    started: Started,
    Body(body): Body<DocumentsBody>,
) -> ApiResult {
    let c = state.collection(&name)?;
    let model = c.config().embedding.map(|e| e.model).ok_or_else(|| {
        ApiError::bad_request(format!(
            "collection `{name}` has no embedding model: create it with \"embedding\": {{\"model\": \"{DEFAULT_MODEL}\"}}, or upsert vectors yourself"
        ))
    })?;
    let documents = body
        .documents
        .into_iter()
        .enumerate()
        .map(|(i, d)| document_of(i, d))
        .collect::<Result<Vec<_>, _>>()?;
    let mut options = IngestOptions::default();
    options.chunker.chunk_tokens = body.chunk_tokens.unwrap_or(options.chunker.chunk_tokens);
    options.chunker.overlap = body.overlap.unwrap_or(options.chunker.overlap);
    let (engine, models, catalog) = (
        state.engine()?,
        state.models().clone(),
        state.catalog().cloned(),
    );
    let run = match &catalog {
        Some(c) => c.start_ingestion_run(&name).await.ok(),
        None => None,
    };
    let runtime = tokio::runtime::Handle::current();
    let (collection, recorder) = (name.clone(), catalog.clone());
    let outcome = blocking(move || {
        let embedder = models.get(&model)?;
        let sink = EngineSink::open(&engine, &collection, embedder.dim(), embedder.model_name())?;
        let sink = Recording::new(sink, recorder, &collection, runtime);
        Ok(Ingest::new(&*embedder, &sink, options).documents(documents)?)
    })
    .await;
    if let (Some(c), Some(id)) = (&catalog, run) {
        let (status, counts, error) = run_record(&outcome);
        if let Err(e) = c
            .finish_ingestion_run(id, status, counts, error.as_deref())
            .await
        {
            tracing::warn!(error = %e, "cannot record the ingestion run");
        }
    }
    let summary = outcome?;
    let detail = format!("{} added, {} updated", summary.added, summary.updated);
    state
        .audit(&caller, "ingest_documents", Some(&name), &detail)
        .await;
    ok(&started, summary)
}

#[derive(Deserialize)]
pub struct RecordsBody {
    #[serde(default)]
    documents: Vec<DocumentRecord>,
    #[serde(default)]
    removed: Vec<String>,
}

/// `POST /collections/{name}/documents/records`: what `cairn ingest
/// --server` wrote, for the catalog (the points went through the points API).
pub async fn records(
    State(state): State<AppState>,
    Path(name): Path<String>,
    started: Started,
    Body(body): Body<RecordsBody>,
) -> ApiResult {
    state.collection(&name)?;
    let catalog = state.catalog().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the metadata catalog is not connected",
        )
    })?;
    record(catalog, &name, &body.documents, &body.removed)
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    ok(&started, true)
}
