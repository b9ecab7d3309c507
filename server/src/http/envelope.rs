//! Qdrant's response envelope and error shape, and the JSON body extractor.
//!
//! Success: `{"result": …, "status": "ok", "time": seconds}` (writes that did
//! not wait answer `"acknowledged"` inside `result`). Failure:
//! `{"status": {"error": "…"}, "time": seconds}` with the status code the
//! error calls for.

use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use cairn_engine::EngineError;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::json;

/// When the request reached its handler; the envelope's `time` counts from it.
pub struct Started(pub Instant);

impl<S: Send + Sync> FromRequestParts<S> for Started {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(_: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Started(Instant::now()))
    }
}

pub type ApiResult = Result<Response, ApiError>;

/// The success envelope. A struct rather than `json!`, which would first
/// copy `result` into a JSON tree (`serde_json::to_value`) and then write
/// that copy: a typed envelope writes `result` once.
#[derive(Serialize)]
struct Envelope<T> {
    result: T,
    status: &'static str,
    time: f64,
}

/// Wraps `result` in the success envelope.
pub fn ok(started: &Started, result: impl Serialize) -> ApiResult {
    let body = Envelope {
        result,
        status: "ok",
        time: started.0.elapsed().as_secs_f64(),
    };
    Ok(Json(body).into_response())
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// The one response shape of every failure, also used outside handlers
/// (body limit, panics, fallback).
pub fn error_response(status: StatusCode, message: &str) -> Response {
    (
        status,
        Json(json!({"status": {"error": message}, "time": 0.0})),
    )
        .into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(status = %self.status, error = %self.message, "request failed");
        }
        error_response(self.status, &self.message)
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> ApiError {
        ApiError::new(engine_status(&e), e.to_string())
    }
}

/// The one `EngineError → status code` mapping.
fn engine_status(e: &EngineError) -> StatusCode {
    use EngineError::*;
    match e {
        CollectionNotFound(_) | SnapshotNotFound(_) => StatusCode::NOT_FOUND,
        CollectionExists(_) => StatusCode::CONFLICT,
        InvalidName(_)
        | DimensionMismatch { .. }
        | EmptyVector
        | NonFiniteVector(_)
        | ZeroVector
        | PayloadNotObject(_)
        | MalformedFilter(_)
        | InvalidConfig(_)
        | InvalidRequest(_)
        | BadSnapshot { .. } => StatusCode::BAD_REQUEST,
        Corrupt { .. } | Locked(_) | Io { .. } => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl From<cairn_ingest::IngestError> for ApiError {
    fn from(e: cairn_ingest::IngestError) -> ApiError {
        use cairn_ingest::IngestError::*;
        let status = match &e {
            Engine(inner) => engine_status(inner),
            Invalid(_) | Load { .. } | Tokenizer(_) | UnknownModel { .. } => {
                StatusCode::BAD_REQUEST
            }
            // The model or runtime is missing on this machine: an operator
            // fixes it (`make setup`), the request was fine.
            Model { .. } | Runtime { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Inference(_) | Io { .. } | Server(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError::new(status, e.to_string())
    }
}

/// A JSON body: unparsable JSON is 422, a body over the limit 413, and a
/// well-formed body of the wrong shape 400, each with the parser's message.
///
/// The body is parsed straight into `T` (no intermediate JSON tree), which
/// is what keeps a 768-number search request cheap.
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        if !is_json(req.headers()) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "send the body with Content-Type: application/json",
            ));
        }
        let bytes = body_bytes(req, state).await?;
        parse_json(&bytes).map(Body)
    }
}

/// Like [`Body`], but an empty body means `T::default()`.
pub struct OptionalBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Default> FromRequest<S> for OptionalBody<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = body_bytes(req, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalBody(T::default()));
        }
        parse_json(&bytes).map(OptionalBody)
    }
}

/// `application/json`, or any `application/*+json`, as axum's `Json` has it.
fn is_json(headers: &axum::http::HeaderMap) -> bool {
    let Some(mime) = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
    else {
        return false;
    };
    let mime = mime.trim().to_ascii_lowercase();
    mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
}

/// The whole body, within the configured limit (413 past it).
async fn body_bytes<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state).await.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "request body is over the configured limit",
            )
        } else {
            ApiError::new(r.status(), r.body_text())
        }
    })
}

/// 422 when `bytes` is not JSON at all, 400 when it is JSON of the wrong
/// shape. The parser stops at the first problem, so a shape error is
/// double-checked: a body that is also malformed further on is still 422.
fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let unparsable = |e: serde_json::Error| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("unparsable JSON body: {e}"),
        )
    };
    serde_json::from_slice(bytes).map_err(|e| {
        if !e.is_data() {
            return unparsable(e);
        }
        match serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
            Err(syntax) => unparsable(syntax),
            Ok(_) => ApiError::bad_request(format!("format error in JSON body: {e}")),
        }
    })
}

/// Runs engine work off the async runtime (graph inserts and searches are
/// CPU-bound).
pub async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work).await.map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("request task failed: {e}"),
        )
    })?
}
