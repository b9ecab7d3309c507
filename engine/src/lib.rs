//! Cairn's embedded vector engine.
//!
//! An [`Engine`] is a data directory of named [`Collection`]s. Each collection
//! stores points — an id, a fixed-dimension `f32` vector and a JSON payload —
//! and answers top-k searches through its own HNSW [`graph`], with Qdrant-style
//! payload [`filter`]s. Every write is logged to a [`wal`] and fsync'd before
//! it is acknowledged; periodic [`checkpoint`]s bound recovery time.
//!
//! ```
//! use cairn_engine::{CollectionConfig, Distance, Engine, PointStruct, SearchRequest};
//! let dir = tempfile::tempdir().unwrap();
//! let engine = Engine::open(dir.path()).unwrap();
//! let docs = engine.create_collection("docs", CollectionConfig::new(3, Distance::Cosine)).unwrap();
//! docs.upsert(vec![PointStruct::new(1, vec![1.0, 0.0, 0.0], None).unwrap()]).unwrap();
//! let hits = docs.search(&SearchRequest::new(vec![0.9, 0.1, 0.0], 1)).unwrap();
//! assert_eq!(hits[0].id, 1u64.into());
//! ```
//!
//! See ARCHITECTURE.md for how a write and a search flow through the modules.

mod checkpoint;
mod collection;
mod engine;
mod error;
mod file_format;
pub mod filter;
pub mod fusion;
pub mod graph;
mod id_tracker;
mod operation;
mod payload_index;
mod payload_storage;
pub mod quantization;
mod segment;
pub mod snapshot;
mod snapshot_store;
pub mod spaces;
pub mod text_index;
mod types;
mod vector_storage;
mod wal;

pub use collection::{Collection, PointSelector, WriteMode};
pub use engine::{validate_name, Engine, EngineOptions};
pub use error::{EngineError, Result};
pub use filter::{Condition, FieldCondition, Filter, Match, MatchValue, Range};
pub use fusion::{reciprocal_rank_fusion, DEFAULT_RRF_K};
pub use types::*;
