//! Cairn's benchmarks: recall@10 versus queries/s and build time, side by side
//! with hnswlib, FAISS, usearch and `hnsw_rs` in one run, plus HTTP latency.
//!
//! Not built yet: this crate is an empty placeholder, and it measures
//! nothing. Until the performance issue lands, the only measured comparison is
//! the recall cross-check against `hnsw_rs` in `engine/tests/recall.rs`, which
//! is a correctness test, not a benchmark.
