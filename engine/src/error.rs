//! The engine's error type. Every variant says what was wrong and, where it
//! helps, what to do about it; none of them leaves a collection half-changed.

use std::path::PathBuf;

/// Result alias used throughout the engine.
pub type Result<T, E = EngineError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("collection `{0}` not found")]
    CollectionNotFound(String),
    #[error("collection `{0}` already exists")]
    CollectionExists(String),
    #[error(
        "invalid collection name `{0}`: use 1 to 255 characters from A-Z, a-z, 0-9, `_` and `-`"
    )]
    InvalidName(String),
    #[error("wrong vector dimension: the collection expects {expected}, got {got}")]
    DimensionMismatch { expected: usize, got: usize },
    #[error("vector is empty")]
    EmptyVector,
    #[error("vector has a non-finite value (NaN or infinity) at position {0}")]
    NonFiniteVector(usize),
    #[error("cannot use a zero vector with cosine distance: it has no direction")]
    ZeroVector,
    #[error("payload must be a JSON object, got {0}")]
    PayloadNotObject(&'static str),
    #[error("malformed filter: {0}")]
    MalformedFilter(String),
    #[error("invalid collection config: {0}")]
    InvalidConfig(String),
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    #[error("{path}: {reason} (the file is damaged; restore it from a snapshot or backup)")]
    Corrupt { path: PathBuf, reason: String },
    #[error("snapshot {path}: {reason}")]
    BadSnapshot { path: PathBuf, reason: String },
    #[error("snapshot `{0}` not found")]
    SnapshotNotFound(String),
    #[error("data directory {0} is in use by another Cairn process")]
    Locked(PathBuf),
    #[error("I/O error on {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl EngineError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> EngineError {
        let path = path.into();
        move |source| EngineError::Io { path, source }
    }

    pub(crate) fn corrupt(path: impl Into<PathBuf>, reason: impl Into<String>) -> EngineError {
        EngineError::Corrupt {
            path: path.into(),
            reason: reason.into(),
        }
    }
}
