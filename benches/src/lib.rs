//! Cairn's benchmarks: every figure side by side with the peers users would
//! otherwise pick, measured in the same run, so the README can quote ratios
//! on a shared, noisy machine.
//!
//! - `--bin ann`: in-process recall@10 versus single-thread queries/s, p50/p99
//!   latency, build time and peak memory, for Cairn's engine, the `hnsw_rs`
//!   crate, and hnswlib, FAISS and usearch (through `python/ann_peers.py`).
//!   Each library runs in its own process so its peak memory is its own,
//!   and their query passes are interleaved (`ann_worker`).
//! - `--bin http`: p50/p95/p99/p99.9 latency and throughput of top-k queries
//!   over HTTP, closed and open loop, against `cairn serve`, PostgreSQL +
//!   pgvector and Chroma's server, with recall beside every figure.
//! - `benches/kernels.rs` (criterion): the distance kernels, simsimd versus a
//!   plain loop, beside this machine's memory-read bandwidth.
//!
//! The harness code lives here; the binaries only parse flags and print.

pub mod ann_worker;
pub mod cairn_variant;
pub mod lean_http;
pub mod load;
pub mod memory;
pub mod peers;
pub mod plot;
pub mod recall;
pub mod report;
pub mod targets;
pub mod workload;
