//! Full-text (BM25) search over a text-indexed payload field: ranking and
//! analysis, filters, staying in step with every kind of write, and
//! durability (reopen without a checkpoint, a damaged or missing index,
//! compaction, snapshots).

use std::path::Path;

use cairn_engine::{
    CollectionConfig, Distance, Engine, EngineError, EngineOptions, Filter, Payload,
    PayloadSchemaType, PointId, PointSelector, PointStruct, TextSearchRequest,
};
use serde_json::json;

const TEXTS: &[&str] = &[
    "The cat sat on the mat and purred.",
    "Dogs are running in the park every morning.",
    "A dog runs after the red ball.",
    "Stock markets fell sharply on Monday.",
    "The central bank raised interest rates again.",
    "Cats and dogs can live together peacefully.",
    "Rust is a systems programming language.",
    "Bananas are rich in potassium.",
];

fn vector(i: usize) -> Vec<f32> {
    let mut v = vec![0.1f32; 4];
    v[i % 4] += 1.0;
    v
}

fn point(i: usize, text: &str) -> PointStruct {
    let lang = if i.is_multiple_of(2) { "en" } else { "fr" };
    PointStruct::new(
        i as u64,
        vector(i),
        Some(json!({"content": text, "lang": lang, "n": i})),
    )
    .expect("point")
}

fn engine(dir: &Path) -> Engine {
    Engine::open(dir).expect("open")
}

fn setup(dir: &Path) -> Engine {
    let e = engine(dir);
    let c = e
        .create_collection("docs", CollectionConfig::new(4, Distance::Cosine))
        .expect("create");
    c.create_payload_index("content", PayloadSchemaType::Text)
        .expect("text index");
    let points = TEXTS.iter().enumerate().map(|(i, t)| point(i, t)).collect();
    c.upsert(points).expect("upsert");
    e
}

fn bm25(e: &Engine, query: &str, limit: usize) -> Vec<u64> {
    bm25_req(e, TextSearchRequest::new(query, limit))
}

fn bm25_req(e: &Engine, req: TextSearchRequest) -> Vec<u64> {
    e.collection("docs")
        .expect("docs")
        .search_text(&req)
        .expect("search_text")
        .into_iter()
        .map(|p| match p.id {
            PointId::Num(n) => n,
            PointId::Uuid(_) => panic!("numeric ids"),
        })
        .collect()
}

#[test]
fn ranks_by_bm25_with_stemming_and_stop_words() {
    let dir = tempfile::tempdir().expect("tempdir");
    let e = setup(dir.path());
    // "running dogs" stems to run + dog: the two dog sentences with a form
    // of "run" lead; the one with only "dogs" follows.
    let hits = bm25(&e, "running dogs", 10);
    assert_eq!(hits.len(), 3, "{hits:?}");
    assert!(hits[..2].contains(&1) && hits[..2].contains(&2), "{hits:?}");
    assert_eq!(hits[2], 5);
    // Case and accents fold; stop words alone match nothing.
    assert_eq!(bm25(&e, "BANÁNAS", 10), vec![7]);
    assert!(bm25(&e, "the and of", 10).is_empty());
    assert!(bm25(&e, "", 10).is_empty());
    // Query syntax is not interpreted: any string is just words.
    assert_eq!(bm25(&e, "cat AND -(mat OR \"", 1), vec![0]);
    // A rarer term weighs more: "potassium" beats the common "the".
    assert_eq!(bm25(&e, "the potassium", 1), vec![7]);
    // Scores are positive and descending.
    let scored = e
        .collection("docs")
        .expect("docs")
        .search_text(&TextSearchRequest::new("cats dogs", 10))
        .expect("search");
    assert!(scored.windows(2).all(|w| w[0].score >= w[1].score));
    assert!(scored.iter().all(|p| p.score > 0.0));
    assert_eq!(scored[0].id, 5u64.into(), "the one with both words leads");
}

#[test]
fn filters_limit_offset_and_threshold_apply() {
    let dir = tempfile::tempdir().expect("tempdir");
    let e = setup(dir.path());
    let mut req = TextSearchRequest::new("dog dogs cats", 10);
    req.filter = Some(
        Filter::from_json(&json!({"must": [{"key": "lang", "match": {"value": "fr"}}]}))
            .expect("filter"),
    );
    let hits = bm25_req(&e, req.clone());
    assert!(
        !hits.is_empty() && hits.iter().all(|i| i % 2 == 1),
        "{hits:?}"
    );
    let all = bm25(&e, "dog dogs cats", 10);
    req.filter = None;
    req.limit = 1;
    req.offset = 1;
    assert_eq!(bm25_req(&e, req.clone()), all[1..2].to_vec());
    req.limit = 10;
    req.offset = 0;
    req.with_payload = true;
    let c = e.collection("docs").expect("docs");
    let top = c.search_text(&req).expect("search");
    assert!(top[0]
        .payload
        .as_ref()
        .is_some_and(|p| p.0.contains_key("content")));
    req.score_threshold = Some(top[0].score);
    assert_eq!(c.search_text(&req).expect("search").len(), 1);
}

#[test]
fn the_index_follows_every_write() {
    let dir = tempfile::tempdir().expect("tempdir");
    let e = setup(dir.path());
    let c = e.collection("docs").expect("docs");
    // Replace a point's text.
    c.upsert(vec![point(7, "Quantum computers use qubits.")])
        .expect("upsert");
    assert!(bm25(&e, "bananas", 10).is_empty());
    assert_eq!(bm25(&e, "qubits", 10), vec![7]);
    // Delete.
    c.delete(PointSelector::Ids(vec![7u64.into()]))
        .expect("delete");
    assert!(bm25(&e, "qubits", 10).is_empty());
    // Payload edits: set (merge), overwrite, delete keys, clear.
    let only = |id: u64| PointSelector::Ids(vec![id.into()]);
    c.set_payload(
        only(6),
        Payload::from_json(json!({"content": "zebra stripes"})).expect("p"),
    )
    .expect("set");
    assert_eq!(bm25(&e, "zebra", 10), vec![6]);
    assert!(bm25(&e, "rust", 10).is_empty());
    c.overwrite_payload(
        only(6),
        Payload::from_json(json!({"other": "zebra"})).expect("p"),
    )
    .expect("overwrite");
    assert!(bm25(&e, "zebra", 10).is_empty());
    c.delete_payload_keys(only(3), vec!["content".into()])
        .expect("delete keys");
    assert!(bm25(&e, "stock", 10).is_empty());
    c.clear_payload(only(4)).expect("clear");
    assert!(bm25(&e, "bank", 10).is_empty());
    // Deleting by filter resolves to ids, and the index follows.
    c.delete(PointSelector::Filter(
        Filter::from_json(&json!({"must": [{"key": "n", "match": {"value": 0}}]})).expect("f"),
    ))
    .expect("delete by filter");
    assert!(bm25(&e, "mat", 10).is_empty());
    assert_eq!(bm25(&e, "park", 10), vec![1]);
    // A point without text at the field is simply not in the index.
    c.upsert(vec![PointStruct::new(
        20u64,
        vector(0),
        Some(json!({"content": 5})),
    )
    .expect("p")])
        .expect("upsert");
    assert_eq!(c.count(None), 7);
}

fn expected_after_writes(e: &Engine) {
    assert_eq!(bm25(e, "qubits", 10), vec![9]);
    assert!(bm25(e, "bananas", 10).is_empty());
    assert_eq!(bm25(e, "dogs", 10).len(), 3);
}

fn late_writes(e: &Engine) {
    let c = e.collection("docs").expect("docs");
    c.upsert(vec![point(9, "Quantum computers use qubits.")])
        .expect("upsert");
    c.delete(PointSelector::Ids(vec![7u64.into()]))
        .expect("delete");
}

#[test]
fn survives_reopen_with_and_without_a_checkpoint() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let e = setup(dir.path());
        late_writes(&e);
        // Dropped without close(): no checkpoint, the WAL is replayed over
        // the text index (which already has these writes) on open.
    }
    let e = engine(dir.path());
    expected_after_writes(&e);
    e.close().expect("close");
    let e = engine(dir.path());
    expected_after_writes(&e);
    let info = e.collection("docs").expect("docs").info();
    assert!(info
        .payload_indexes
        .contains(&("content".to_string(), PayloadSchemaType::Text)));
}

fn text_dir(root: &Path) -> std::path::PathBuf {
    root.join("collections/docs")
        .join(cairn_engine::text_index::dir_name("content"))
}

#[test]
fn a_missing_or_damaged_index_is_rebuilt_from_the_payloads() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let e = setup(dir.path());
        late_writes(&e);
        e.close().expect("close");
    }
    std::fs::remove_dir_all(text_dir(dir.path())).expect("remove the index");
    {
        let e = engine(dir.path());
        expected_after_writes(&e);
        late_writes(&e); // no checkpoint after this
    }
    // Damage every data file of the index (meta.json aside).
    for entry in std::fs::read_dir(text_dir(dir.path())).expect("index dir") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        if name.ends_with(".json") || name.starts_with('.') {
            continue;
        }
        let mut bytes = std::fs::read(&path).expect("read");
        if let Some(b) = bytes.first_mut() {
            *b ^= 0xFF;
        }
        std::fs::write(&path, bytes).expect("write");
    }
    assert!(
        cairn_engine::text_index::TextIndex::open("content", &text_dir(dir.path()), 0, u64::MAX)
            .is_none(),
        "the damage is detected"
    );
    let e = engine(dir.path());
    expected_after_writes(&e);
}

#[test]
fn compaction_and_index_changes_keep_text_search() {
    let dir = tempfile::tempdir().expect("tempdir");
    let options = EngineOptions {
        compaction_min_tombstones: 1,
        compaction_tombstone_ratio: 0.0,
        ..EngineOptions::default()
    };
    {
        let e = Engine::open_with(dir.path(), options.clone()).expect("open");
        let c = e
            .create_collection("docs", CollectionConfig::new(4, Distance::Cosine))
            .expect("create");
        c.create_payload_index("content", PayloadSchemaType::Text)
            .expect("index");
        c.upsert(TEXTS.iter().enumerate().map(|(i, t)| point(i, t)).collect())
            .expect("upsert");
        // Replacing points leaves tombstones; with these options every write compacts.
        c.upsert(vec![point(0, "The cat sat on the mat and purred.")])
            .expect("upsert");
        assert_eq!(c.info().tombstones, 0, "compacted");
        assert_eq!(bm25(&e, "purred", 10), vec![0]);
        late_writes(&e);
        expected_after_writes(&e);
    }
    let e = Engine::open_with(dir.path(), options).expect("reopen");
    expected_after_writes(&e);
    let c = e.collection("docs").expect("docs");
    // Dropping the index removes its files and makes text search an error.
    c.delete_payload_index("content").expect("drop index");
    assert!(!text_dir(dir.path()).exists());
    let err = c
        .search_text(&TextSearchRequest::new("cat", 5))
        .expect_err("no index");
    assert!(matches!(err, EngineError::InvalidRequest(_)), "{err}");
    assert!(err.to_string().contains("no text index"), "{err}");
    // Creating it again indexes the points already there.
    c.create_payload_index("content", PayloadSchemaType::Text)
        .expect("index again");
    expected_after_writes(&e);
    let mut req = TextSearchRequest::new("cat", 5);
    req.field = Some("lang".into());
    assert!(c.search_text(&req).is_err(), "no text index on lang");
}

#[test]
fn a_recovered_snapshot_rebuilds_its_text_index() {
    let dir = tempfile::tempdir().expect("tempdir");
    let e = setup(dir.path());
    late_writes(&e);
    let snap = e.create_snapshot("docs").expect("snapshot");
    let path = e.snapshot_path("docs", &snap.name).expect("path");
    e.recover_collection("copy", &path, None).expect("recover");
    let copy = e.collection("copy").expect("copy");
    let hits = copy
        .search_text(&TextSearchRequest::new("qubits", 10))
        .expect("search");
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].id, 9u64.into());
}
