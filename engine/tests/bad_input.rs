//! Bad input gets a typed error and changes nothing.

use cairn_engine::{
    CollectionConfig, Distance, Engine, EngineError, Filter, PointId, PointSelector, PointStruct,
    SearchRequest,
};
use serde_json::json;

fn point(id: u64, v: Vec<f32>) -> PointStruct {
    PointStruct::new(id, v, Some(json!({"k": id}))).expect("object payload")
}

#[test]
fn bad_writes_are_refused_and_change_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = Engine::open(dir.path()).expect("open");
    let c = engine
        .create_collection("c", CollectionConfig::new(3, Distance::Cosine))
        .expect("create");
    c.upsert(vec![point(1, vec![1.0, 0.0, 0.0])])
        .expect("good upsert");
    let before = c.info();
    type IsExpected = fn(&EngineError) -> bool;
    let cases: Vec<(Vec<f32>, IsExpected)> = vec![
        (vec![1.0, 2.0], |e| {
            matches!(
                e,
                EngineError::DimensionMismatch {
                    expected: 3,
                    got: 2
                }
            )
        }),
        (vec![1.0, f32::NAN, 0.0], |e| {
            matches!(e, EngineError::NonFiniteVector(1))
        }),
        (vec![f32::INFINITY, 0.0, 0.0], |e| {
            matches!(e, EngineError::NonFiniteVector(0))
        }),
        (vec![], |e| matches!(e, EngineError::EmptyVector)),
        (vec![0.0, 0.0, 0.0], |e| {
            matches!(e, EngineError::ZeroVector)
        }),
    ];
    for (vector, expected) in cases {
        // A bad point in the middle of a good batch sinks the whole batch.
        let batch = vec![
            point(10, vec![0.0, 1.0, 0.0]),
            point(11, vector.clone()),
            point(12, vec![0.0, 0.0, 1.0]),
        ];
        let err = c.upsert(batch).expect_err("must be refused");
        assert!(expected(&err), "{vector:?} gave {err}");
        assert_eq!(c.info(), before, "{vector:?} changed the collection");
        assert!(c.get(&[PointId::Num(10)], false, false).is_empty());
        // The same vector as a query is refused too.
        assert!(c.search(&SearchRequest::new(vector, 3)).is_err());
    }
    assert!(matches!(
        PointStruct::new(1, vec![1.0, 0.0, 0.0], Some(json!([1, 2]))),
        Err(EngineError::PayloadNotObject("an array"))
    ));
    assert!(matches!(
        Filter::from_json(&json!({"must": [{"key": "k", "match": {"value": [1]}}]})),
        Err(EngineError::MalformedFilter(_))
    ));
    // Absurd limits and offsets are bounded by the data, not allocated.
    let mut huge = SearchRequest::new(vec![1.0, 0.0, 0.0], usize::MAX);
    huge.offset = usize::MAX;
    huge.ef = Some(usize::MAX);
    assert!(c.search(&huge).expect("huge limit").is_empty());
    huge.offset = 0;
    assert_eq!(c.search(&huge).expect("huge limit").len(), 1);
    huge.exact = true;
    assert_eq!(c.search(&huge).expect("huge limit, exact").len(), 1);
    let mut graph_only = CollectionConfig::new(3, Distance::Cosine);
    graph_only.hnsw.full_scan_threshold = 0;
    let g = engine
        .create_collection("graph", graph_only)
        .expect("create");
    g.upsert(
        (1..=3)
            .map(|i| point(i, vec![1.0, i as f32, 0.0]))
            .collect(),
    )
    .expect("upsert");
    huge.exact = false;
    assert_eq!(
        g.search(&huge)
            .expect("huge limit and ef on the graph path")
            .len(),
        3
    );
    assert!(c.delete_payload_index("nope").is_err());
    assert!(
        c.delete(PointSelector::Ids(vec![PointId::Num(404)]))
            .is_ok(),
        "deleting a missing id is a no-op"
    );
    assert_eq!(c.info(), before);
}

#[test]
fn bad_collection_requests_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = Engine::open(dir.path()).expect("open");
    engine
        .create_collection("ok_name-1", CollectionConfig::new(4, Distance::Dot))
        .expect("create");
    for name in ["../x", "", "a b", "a/b", ".hidden", "é", &"x".repeat(256)] {
        assert!(
            matches!(
                engine.create_collection(name, CollectionConfig::new(4, Distance::Dot)),
                Err(EngineError::InvalidName(_))
            ),
            "{name:?} must be refused"
        );
    }
    assert!(engine
        .create_collection(&"x".repeat(255), CollectionConfig::new(4, Distance::Dot))
        .is_ok());
    assert!(matches!(
        engine.create_collection("ok_name-1", CollectionConfig::new(4, Distance::Dot)),
        Err(EngineError::CollectionExists(_))
    ));
    for dim in [0, 65_537] {
        assert!(matches!(
            engine.create_collection("d", CollectionConfig::new(dim, Distance::Dot)),
            Err(EngineError::InvalidConfig(_))
        ));
    }
    let mut bad_m = CollectionConfig::new(4, Distance::Dot);
    bad_m.hnsw.m = 1;
    assert!(matches!(
        engine.create_collection("d", bad_m),
        Err(EngineError::InvalidConfig(_))
    ));
    assert!(matches!(
        engine.collection("missing"),
        Err(EngineError::CollectionNotFound(_))
    ));
    assert!(matches!(
        engine.drop_collection("missing"),
        Err(EngineError::CollectionNotFound(_))
    ));
    assert_eq!(engine.list_collections().len(), 2);
    assert!(!dir.path().join("collections/x").exists());
    // Dropping works and a dropped handle refuses writes.
    let c = engine.collection("ok_name-1").expect("collection");
    engine.drop_collection("ok_name-1").expect("drop");
    assert!(matches!(
        c.upsert(vec![PointStruct::new(1, vec![1.0; 4], None).expect("p")]),
        Err(EngineError::CollectionNotFound(_))
    ));
    assert!(!dir.path().join("collections/ok_name-1").exists());
    drop(engine);
    assert_eq!(
        Engine::open(dir.path())
            .expect("reopen")
            .list_collections()
            .len(),
        1
    );
}
