//! A search loop to profile Cairn's graph walk on its own, without the
//! `ann` harness's worker processes and peers:
//!
//! ```text
//! cargo build --release -p cairn-benches --example search_loop
//! target/release/examples/search_loop ../shared/datasets/glove-6b-50d-angular /tmp/glove-index 48 5
//! target/release/examples/search_loop BASE.npy,QUERIES.npy /tmp/scifact-index 24 300
//! target/release/examples/search_loop synthetic:768:100000 /tmp/s768-int8 64 3 int8
//! perf record -g target/release/examples/search_loop … # or valgrind --tool=callgrind
//! ```
//!
//! The first run builds the collection under INDEX_DIR (M=16,
//! ef_construction=100, as `ann` does; with int8 or int4 codes when the
//! fifth argument is `int8` or `int4`); later runs reopen it, so the build stays out of the
//! profile. `synthetic:DIM:N` is `ann --synthetic DIM --synthetic-n N`'s
//! data with its first 1,000 queries. Prints recall@10 and queries/s per pass.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use cairn_benches::recall::recall_at;
use cairn_benches::workload::{upsert_all, MetricName, Workload};
use cairn_engine::{
    CollectionConfig, Engine, PointId, ScalarQuantization, ScalarType, SearchRequest,
};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let usage =
        "usage: search_loop DATASET_DIR|BASE_FILE,QUERY_FILE|synthetic:DIM:N INDEX_DIR [EF] [PASSES] [int8|int4]";
    let dataset = PathBuf::from(args.get(1).context(usage)?);
    let index = PathBuf::from(args.get(2).context(usage)?);
    let ef: usize = args.get(3).map_or(Ok(48), |s| s.parse())?;
    let passes: usize = args.get(4).map_or(Ok(5), |s| s.parse())?;
    let quantization = match args.get(5).map(String::as_str) {
        None => None,
        Some("int8") => Some(ScalarQuantization::of(ScalarType::Int8)),
        Some("int4") => Some(ScalarQuantization::of(ScalarType::Int4)),
        Some(_) => anyhow::bail!(usage),
    };
    let name = dataset.to_str().unwrap_or_default();
    let w = match name.strip_prefix("synthetic:") {
        Some(spec) => {
            let (dim, n) = spec.split_once(':').context(usage)?;
            Workload::synthetic(n.parse()?, 1000, dim.parse()?, MetricName::Cosine, 10)
        }
        None => match name.split_once(',') {
            Some((base, queries)) => Workload::from_files(
                base.as_ref(),
                queries.as_ref(),
                None,
                MetricName::Cosine,
                10,
                None,
                Some(5000),
            )?,
            None => Workload::from_dir(&dataset, MetricName::Cosine, 10, None, Some(5000))?,
        },
    };
    let engine = Engine::open(&index)?;
    let collection = match engine.collection("bench") {
        Ok(c) => c,
        Err(_) => {
            let mut config = CollectionConfig::new(w.base.dim, MetricName::Cosine.distance());
            config.hnsw.m = 16;
            config.hnsw.ef_construct = 100;
            config.quantization = quantization;
            let c = engine.create_collection("bench", config)?;
            let started = Instant::now();
            upsert_all(&c, &w.base)?;
            eprintln!("built in {:.1} s", started.elapsed().as_secs_f64());
            // Persist the graph, so reopening does not replay the WAL.
            c.checkpoint()?;
            c
        }
    };
    for pass in 0..passes {
        let started = Instant::now();
        let mut found = Vec::with_capacity(w.queries.len());
        for q in w.queries.rows() {
            let mut req = SearchRequest::new(q.to_vec(), 10);
            req.ef = Some(ef);
            let hits = collection.search(&req)?;
            found.push(
                hits.iter()
                    .map(|h| match h.id {
                        PointId::Num(n) => n as u32,
                        PointId::Uuid(_) => u32::MAX,
                    })
                    .collect(),
            );
        }
        let secs = started.elapsed().as_secs_f64();
        println!(
            "pass {pass}: ef {ef} recall {:.4} qps {:.0}",
            recall_at(10, &found, &w.truth),
            w.queries.len() as f64 / secs
        );
    }
    Ok(())
}
