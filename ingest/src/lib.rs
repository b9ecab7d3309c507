//! Cairn's document ingestion: load files, chunk them by tokens, embed the
//! chunks with an ONNX model and upsert them, idempotently by content hash.
//!
//! - [`loader`]: paths to [`Document`]s (`.txt`, `.md`, `.html`, `.pdf`,
//!   `.jsonl`).
//! - [`chunker`]: a document's text to chunks of the model's tokens.
//! - [`embed`]: the [`Embedder`](embed::Embedder) trait, ONNX Runtime
//!   models, and a hashing embedder for unit tests.
//! - [`sink`]: where chunks go — a collection in this process, or a server
//!   ([`http_sink`]).
//! - [`pipeline`]: the job that ties them together ([`Ingest`]).
//! - [`evaluation`]: retrieval quality (nDCG@10, Recall@100, MRR@10) on
//!   BEIR data, dense, BM25 and hybrid.

pub mod chunk_point;
pub mod chunker;
pub mod document;
pub mod embed;
mod error;
pub mod evaluation;
pub mod http_sink;
pub mod loader;
pub mod pipeline;
pub mod sink;

pub use document::Document;
pub use error::{IngestError, Result};
pub use http_sink::HttpSink;
pub use pipeline::{Failure, Ingest, IngestOptions, Summary};
pub use sink::{EngineSink, Sink};
