//! The ingestion error type. Each variant names what failed and, where it
//! helps, what to do next.

use std::path::PathBuf;

pub type Result<T, E = IngestError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("model {dir}: {reason}")]
    Model { dir: PathBuf, reason: String },
    #[error("no model `{name}` in {dir} (available: {available}); `make setup` fetches all-MiniLM-L6-v2, or set models_dir")]
    UnknownModel {
        name: String,
        dir: PathBuf,
        available: String,
    },
    #[error(
        "ONNX Runtime could not be loaded from {path}: {reason} (run `make setup`, which fetches it into ./models, or set ORT_DYLIB_PATH)"
    )]
    Runtime { path: PathBuf, reason: String },
    #[error("embedding failed: {0}")]
    Inference(String),
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    #[error("{path}: {reason}")]
    Load { path: PathBuf, reason: String },
    #[error("I/O error on {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Engine(#[from] cairn_engine::EngineError),
    #[error("server: {0}")]
    Server(String),
    #[error("invalid option: {0}")]
    Invalid(String),
}

impl IngestError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> IngestError {
        let path = path.into();
        move |source| IngestError::Io { path, source }
    }

    pub(crate) fn load(path: impl Into<PathBuf>, reason: impl ToString) -> IngestError {
        IngestError::Load {
            path: path.into(),
            reason: reason.to_string(),
        }
    }
}
