//! Snapshots, in Qdrant's shape: per collection
//! (`/collections/{name}/snapshots…`: create, list, download, delete,
//! recover from a URL, upload) and of the whole storage (`/snapshots…`).
//! The engine does the work (`cairn_engine::snapshot`); this file moves
//! bytes and maps errors.

use std::path::PathBuf;

use axum::body::Body as RawBody;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tokio::io::AsyncWriteExt;

use super::audit::Caller;
use super::envelope::{blocking, ok, ApiError, ApiResult, Body, Started};
use super::state::AppState;
use crate::backup::fetch;

pub async fn create(
    State(state): State<AppState>,
    Path(name): Path<String>,
    caller: Caller,
    started: Started,
) -> ApiResult {
    let engine = state.engine()?;
    let collection = name.clone();
    let description = blocking(move || Ok(engine.create_snapshot(&collection)?)).await?;
    state
        .audit(&caller, "snapshot", Some(&name), &description.name)
        .await;
    ok(&started, description)
}

pub async fn list(
    State(state): State<AppState>,
    Path(name): Path<String>,
    started: Started,
) -> ApiResult {
    let engine = state.engine()?;
    let list = blocking(move || Ok(engine.list_snapshots(&name)?)).await?;
    ok(&started, list)
}

pub async fn download(
    State(state): State<AppState>,
    Path((name, snapshot)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let path = state.engine()?.snapshot_path(&name, &snapshot)?;
    stream_file(path, &snapshot).await
}

pub async fn delete(
    State(state): State<AppState>,
    Path((name, snapshot)): Path<(String, String)>,
    caller: Caller,
    started: Started,
) -> ApiResult {
    let engine = state.engine()?;
    let (collection, file) = (name.clone(), snapshot.clone());
    blocking(move || Ok(engine.delete_snapshot(&collection, &file)?)).await?;
    state
        .audit(&caller, "delete_snapshot", Some(&name), &snapshot)
        .await;
    ok(&started, true)
}

#[derive(Deserialize)]
pub struct RecoverBody {
    location: String,
    #[serde(default)]
    checksum: Option<String>,
    /// Qdrant's `priority` ("replica"/"snapshot"/"no_sync"): one node here,
    /// so the snapshot always wins.
    #[serde(default)]
    #[allow(dead_code)]
    priority: Option<String>,
}

pub async fn recover(
    State(state): State<AppState>,
    Path(name): Path<String>,
    caller: Caller,
    started: Started,
    Body(body): Body<RecoverBody>,
) -> ApiResult {
    let engine = state.engine()?;
    let fetched = fetch::fetch(&body.location, state.s3(), &engine.snapshots_root())
        .await
        .map_err(|e| ApiError::bad_request(format!("{e:#}")))?;
    let collection = name.clone();
    blocking(move || {
        engine.recover_collection(&collection, fetched.path(), body.checksum.as_deref())?;
        Ok(())
    })
    .await?;
    state
        .audit(&caller, "restore", Some(&name), &body.location)
        .await;
    ok(&started, true)
}

#[derive(Deserialize, Default)]
pub struct UploadParams {
    #[serde(default)]
    checksum: Option<String>,
}

/// `multipart/form-data` with the archive in a field named `snapshot`.
pub async fn upload(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(params): Query<UploadParams>,
    caller: Caller,
    started: Started,
    mut form: Multipart,
) -> ApiResult {
    let engine = state.engine()?;
    let bad =
        |e: axum::extract::multipart::MultipartError| ApiError::new(e.status(), e.body_text());
    let temp = fetch::temp_file(&engine.snapshots_root()).map_err(internal)?;
    let (file, temp_path) = temp.into_parts();
    let mut out = tokio::fs::File::from_std(file);
    let mut found = false;
    while let Some(mut field) = form.next_field().await.map_err(bad)? {
        if field.name() != Some("snapshot") {
            continue;
        }
        while let Some(chunk) = field.chunk().await.map_err(bad)? {
            out.write_all(&chunk).await.map_err(internal)?;
        }
        found = true;
        break;
    }
    if !found {
        return Err(ApiError::bad_request(
            "the multipart body has no `snapshot` field holding the archive",
        ));
    }
    out.flush().await.map_err(internal)?;
    let collection = name.clone();
    blocking(move || {
        engine.recover_collection(&collection, &temp_path, params.checksum.as_deref())?;
        drop(temp_path);
        Ok(())
    })
    .await?;
    state.audit(&caller, "restore", Some(&name), "upload").await;
    ok(&started, true)
}

pub async fn create_full(
    State(state): State<AppState>,
    caller: Caller,
    started: Started,
) -> ApiResult {
    let engine = state.engine()?;
    let description = blocking(move || Ok(engine.create_full_snapshot()?)).await?;
    state
        .audit(&caller, "snapshot", None, &description.name)
        .await;
    ok(&started, description)
}

pub async fn list_full(State(state): State<AppState>, started: Started) -> ApiResult {
    let engine = state.engine()?;
    let list = blocking(move || Ok(engine.list_full_snapshots()?)).await?;
    ok(&started, list)
}

pub async fn download_full(
    State(state): State<AppState>,
    Path(snapshot): Path<String>,
) -> Result<Response, ApiError> {
    let path = state.engine()?.full_snapshot_path(&snapshot)?;
    stream_file(path, &snapshot).await
}

pub async fn delete_full(
    State(state): State<AppState>,
    Path(snapshot): Path<String>,
    caller: Caller,
    started: Started,
) -> ApiResult {
    let engine = state.engine()?;
    let file = snapshot.clone();
    blocking(move || Ok(engine.delete_full_snapshot(&file)?)).await?;
    state
        .audit(&caller, "delete_snapshot", None, &snapshot)
        .await;
    ok(&started, true)
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
}

/// Streams a file without reading it into memory.
async fn stream_file(path: PathBuf, name: &str) -> Result<Response, ApiError> {
    let file = tokio::fs::File::open(&path).await.map_err(internal)?;
    let len = file.metadata().await.map_err(internal)?.len();
    let body = RawBody::from_stream(tokio_util::io::ReaderStream::with_capacity(file, 1 << 16));
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (header::CONTENT_LENGTH, len.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response())
}
