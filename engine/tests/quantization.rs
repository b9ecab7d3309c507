//! Int8 quantization: recall with rescoring stays at the full-precision
//! level for every distance; the setting survives a restart (and a WAL
//! replay); it can be turned on and off on a live collection; and a search
//! can opt out of it.

mod common;

use cairn_datasets::{synthetic, Vectors};
use cairn_engine::{
    Collection, CollectionConfig, Distance, Engine, ScalarQuantization, SearchRequest,
};
use common::{brute_force, ids, load, recall};

fn quantized(dim: usize, distance: Distance) -> CollectionConfig {
    let mut config = CollectionConfig::new(dim, distance);
    config.quantization = Some(ScalarQuantization::default());
    config
}

fn mean_recall(
    c: &Collection,
    data: &Vectors,
    queries: &Vectors,
    metric: Distance,
    tweak: impl Fn(&mut SearchRequest),
) -> f64 {
    let total: f64 = queries
        .rows()
        .map(|q| {
            let mut req = SearchRequest::new(q.to_vec(), 10);
            req.ef = Some(64);
            tweak(&mut req);
            let found = ids(&c.search(&req).expect("search"));
            recall(&found, &brute_force(metric, data, q, 10, None))
        })
        .sum();
    total / queries.len() as f64
}

#[test]
fn rescored_int8_search_keeps_full_precision_recall() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = Engine::open(dir.path()).expect("open");
    let mut data = synthetic::clustered(10_100, 256, 32, 0.2, 11);
    let queries = data.split_off(10_000);
    for metric in [Distance::Cosine, Distance::Dot, Distance::Euclid] {
        let c = engine
            .create_collection(&format!("q-{metric}"), quantized(256, metric))
            .expect("create");
        load(&c, &data, |_| None);
        assert!(c.quantized_bytes() >= 10_000 * 256, "codes are held");
        let rescored = mean_recall(&c, &data, &queries, metric, |_| {});
        let full = mean_recall(&c, &data, &queries, metric, |r| {
            r.quantization.ignore = true
        });
        let raw = mean_recall(&c, &data, &queries, metric, |r| {
            r.quantization.rescore = false
        });
        eprintln!("{metric}: full {full:.4}, int8+rescore {rescored:.4}, int8 only {raw:.4}");
        assert!(full >= 0.9, "{metric}: full-precision recall {full}");
        assert!(
            rescored >= full - 0.02,
            "{metric}: rescored {rescored} vs full {full}"
        );
        // Without rescoring the ranking is the codes' own: close, not equal.
        assert!(raw >= 0.7, "{metric}: int8-only recall {raw}");
        // Scores returned after rescoring are the exact ones.
        let q = queries.row(0).to_vec();
        let mut req = SearchRequest::new(q.clone(), 3);
        req.ef = Some(64);
        let hits = c.search(&req).expect("search");
        req.quantization.ignore = true;
        req.exact = true;
        let exact = c.search(&req).expect("exact");
        assert_eq!(hits[0].id, exact[0].id);
        assert!((hits[0].score - exact[0].score).abs() < 1e-5);
    }
}

#[test]
fn quantization_survives_restarts_and_can_be_switched() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut data = synthetic::clustered(3_050, 64, 8, 0.2, 5);
    let queries = data.split_off(3_000);
    {
        let engine = Engine::open(dir.path()).expect("open");
        let c = engine
            .create_collection("c", CollectionConfig::new(64, Distance::Cosine))
            .expect("create");
        load(&c, &data, |_| None);
        assert_eq!(c.quantized_bytes(), 0);
        // Logged, not yet checkpointed: a reopen replays it from the WAL.
        c.update_quantization(Some(ScalarQuantization { quantile: 0.98 }))
            .expect("turn on");
        assert!(c.quantized_bytes() > 0);
        assert!(c
            .update_quantization(Some(ScalarQuantization { quantile: 0.2 }))
            .is_err());
    }
    let engine = Engine::open(dir.path()).expect("reopen");
    let c = engine.collection("c").expect("collection");
    assert_eq!(
        c.config().quantization,
        Some(ScalarQuantization { quantile: 0.98 })
    );
    assert!(c.quantized_bytes() >= 3_000 * 64);
    let r = mean_recall(&c, &data, &queries, Distance::Cosine, |_| {});
    assert!(r >= 0.9, "recall after replay {r}");
    engine.checkpoint_all().expect("checkpoint");
    drop(c);
    drop(engine);
    let engine = Engine::open(dir.path()).expect("reopen from checkpoint");
    let c = engine.collection("c").expect("collection");
    assert!(c.config().quantization.is_some());
    c.update_quantization(None).expect("turn off");
    assert_eq!(c.quantized_bytes(), 0);
    assert_eq!(c.config().quantization, None);
}
