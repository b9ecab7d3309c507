//! Readers and writers share an engine across threads: searches and counts
//! run while batches are upserted, and only ever see whole batches.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use cairn_datasets::synthetic;
use cairn_engine::{CollectionConfig, Distance, Engine, Filter, PointStruct, SearchRequest};
use serde_json::json;

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn engine_and_collection_are_send_and_sync() {
    assert_send_sync::<Engine>();
    assert_send_sync::<cairn_engine::Collection>();
}

#[test]
fn readers_see_whole_batches_while_a_writer_upserts() {
    const BATCH: usize = 200;
    const BATCHES: usize = 30;
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = Arc::new(Engine::open(dir.path()).expect("open"));
    let c = engine
        .create_collection("c", CollectionConfig::new(16, Distance::Cosine))
        .expect("create");
    let data = synthetic::clustered(BATCH * BATCHES, 16, 10, 0.1, 9);
    let done = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..2)
        .map(|r| {
            let (engine, done, data) = (engine.clone(), done.clone(), data.clone());
            std::thread::spawn(move || {
                let c = engine.collection("c").expect("collection");
                let mut observations = 0;
                while !done.load(Ordering::SeqCst) {
                    let n = c.count(None);
                    assert_eq!(n % BATCH, 0, "reader {r} saw a partial batch: {n} points");
                    if n > 0 {
                        // Batches are only added, so the newest one seen must be whole.
                        let newest =
                            json!({"must": [{"key": "batch", "match": {"value": n / BATCH - 1}}]});
                        let seen = c.count(Some(&Filter::from_json(&newest).expect("filter")));
                        assert_eq!(seen, BATCH, "reader {r}: newest batch only partly visible");
                    }
                    let hits = c
                        .search(&SearchRequest::new(
                            data.row(observations % data.len()).to_vec(),
                            5,
                        ))
                        .expect("search");
                    if n > 0 {
                        assert_eq!(hits.len(), 5, "reader {r}: a search over {n}+ points");
                    }
                    observations += 1;
                }
                observations
            })
        })
        .collect();
    for b in 0..BATCHES {
        let points = (b * BATCH..(b + 1) * BATCH)
            .map(|i| {
                PointStruct::new(i as u64, data.row(i).to_vec(), Some(json!({"batch": b})))
                    .expect("point")
            })
            .collect();
        c.upsert(points).expect("upsert");
    }
    done.store(true, Ordering::SeqCst);
    for r in readers {
        assert!(r.join().expect("reader panicked") > 0);
    }
    assert_eq!(c.count(None), BATCH * BATCHES);
}
