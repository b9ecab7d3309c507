//! Cairn's document ingestion: load files, chunk them by tokens, embed the
//! chunks with an ONNX model and upsert them, idempotently by content hash.
//!
//! - [`embed`]: the [`Embedder`](embed::Embedder) trait, ONNX Runtime
//!   models, and a hashing embedder for unit tests.

pub mod chunker;
pub mod document;
pub mod embed;
mod error;
pub mod loader;

pub use error::{IngestError, Result};
