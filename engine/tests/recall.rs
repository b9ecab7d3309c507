//! Recall of the HNSW graph against brute force, for every distance, on
//! uniform and clustered data, and on real GloVe vectors against `hnsw_rs`.

mod common;

use std::path::Path;
use std::time::Instant;

use cairn_datasets::{synthetic, texmex, Vectors};
use cairn_engine::{CollectionConfig, Distance, Engine, SearchRequest};
use common::{brute_force, ids, load, recall};

fn mean_recall(
    engine: &Engine,
    name: &str,
    data: &Vectors,
    queries: &Vectors,
    metric: Distance,
    ef: Option<usize>,
) -> f64 {
    let c = engine.collection(name).expect("collection");
    let total: f64 = queries
        .rows()
        .map(|q| {
            let mut req = SearchRequest::new(q.to_vec(), 10);
            req.ef = ef;
            let found = ids(&c.search(&req).expect("search"));
            recall(&found, &brute_force(metric, data, q, 10, None))
        })
        .sum();
    total / queries.len() as f64
}

#[test]
fn recall_at_default_ef_for_every_distance_on_uniform_and_clustered_data() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = Engine::open(dir.path()).expect("open");
    // Queries are held-out rows of the same distribution as the base.
    let with_queries = |mut all: Vectors| {
        let queries = all.split_off(20_000);
        (all, queries)
    };
    let sets = [
        ("uniform", with_queries(synthetic::uniform(20_100, 128, 1))),
        (
            "clustered",
            with_queries(synthetic::clustered(20_100, 128, 64, 0.15, 3)),
        ),
    ];
    for (set, (data, queries)) in &sets {
        for metric in [Distance::Cosine, Distance::Dot, Distance::Euclid] {
            let name = format!("{set}-{metric}");
            let c = engine
                .create_collection(&name, CollectionConfig::new(128, metric))
                .expect("create");
            let t = Instant::now();
            load(&c, data, |_| None);
            let built = t.elapsed();
            let r = mean_recall(&engine, &name, data, queries, metric, None);
            eprintln!("{name}: recall@10 {r:.4}, build {built:.1?}");
            assert!(r >= 0.98, "{name}: recall@10 {r:.4} < 0.98");
        }
    }
}

#[test]
fn glove_recall_at_ef_64_and_not_below_hnsw_rs() {
    let root =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/datasets/glove-6b-50d-angular");
    if !root.join("base.fvecs").exists() {
        eprintln!("skipping: {} is not present", root.display());
        return;
    }
    let base = texmex::read_fvecs(root.join("base.fvecs")).expect("base");
    let queries = texmex::read_fvecs(root.join("query.fvecs"))
        .expect("queries")
        .truncated(1_000);
    let truth = texmex::read_ivecs(root.join("groundtruth.ivecs")).expect("truth");

    let dir = tempfile::tempdir().expect("tempdir");
    let engine = Engine::open(dir.path()).expect("open");
    let mut config = CollectionConfig::new(50, Distance::Cosine);
    config.hnsw.m = 16;
    config.hnsw.ef_construct = 100;
    let c = engine.create_collection("glove", config).expect("create");
    let t = Instant::now();
    load(&c, &base, |_| None);
    let cairn_build = t.elapsed();
    let mut cairn = 0.0;
    for (i, q) in queries.rows().enumerate() {
        let mut req = SearchRequest::new(q.to_vec(), 10);
        req.ef = Some(64);
        let found = ids(&c.search(&req).expect("search"));
        let want: Vec<u64> = truth[i][..10].iter().map(|&x| x as u64).collect();
        cairn += recall(&found, &want);
    }
    cairn /= queries.len() as f64;

    // hnsw_rs with the same M and ef_construction, on the same vectors.
    use hnsw_rs::prelude::{DistCosine, Hnsw};
    let t = Instant::now();
    let hnsw = Hnsw::<f32, DistCosine>::new(16, base.len(), 16, 100, DistCosine {});
    let rows: Vec<(&[f32], usize)> = base.rows().enumerate().map(|(i, r)| (r, i)).collect();
    hnsw.parallel_insert_slice(&rows);
    let hnsw_rs_build = t.elapsed();
    let mut baseline = 0.0;
    for (i, q) in queries.rows().enumerate() {
        let found: Vec<u64> = hnsw
            .search(q, 10, 64)
            .iter()
            .map(|n| n.d_id as u64)
            .collect();
        let want: Vec<u64> = truth[i][..10].iter().map(|&x| x as u64).collect();
        baseline += recall(&found, &want);
    }
    baseline /= queries.len() as f64;
    eprintln!(
        "glove 200k: cairn recall@10 {cairn:.4} (build {cairn_build:.1?}), hnsw_rs {baseline:.4} (build {hnsw_rs_build:.1?})"
    );
    assert!(cairn >= 0.95, "cairn recall@10 {cairn:.4} < 0.95 at ef=64");
    assert!(
        cairn >= baseline - 0.005,
        "cairn {cairn:.4} below hnsw_rs {baseline:.4}"
    );
}
