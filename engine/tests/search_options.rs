//! Search options: score conventions per distance, `score_threshold` (a floor
//! for similarities, a ceiling for Euclid), `offset`, `with_vector`.

use cairn_engine::{CollectionConfig, Distance, Engine, PointStruct, SearchRequest};

fn points() -> Vec<PointStruct> {
    [[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [-1.0, 0.0]]
        .iter()
        .enumerate()
        .map(|(i, v)| PointStruct::new(i as u64, v.to_vec(), None).expect("point"))
        .collect()
}

#[test]
fn thresholds_offsets_and_vectors_follow_qdrant() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = Engine::open(dir.path()).expect("open");
    for distance in [Distance::Cosine, Distance::Dot, Distance::Euclid] {
        let c = engine
            .create_collection(&format!("{distance}"), CollectionConfig::new(2, distance))
            .expect("create");
        c.upsert(points()).expect("upsert");
        let all = c
            .search(&SearchRequest::new(vec![2.0, 0.0], 10))
            .expect("search");
        let scores: Vec<f32> = all.iter().map(|h| h.score).collect();
        let expected: Vec<f32> = match distance {
            Distance::Cosine => vec![1.0, 0.8, 0.0, -1.0],
            Distance::Dot => vec![2.0, 1.6, 0.0, -2.0],
            Distance::Euclid => vec![1.0, 1.3416408, 2.236068, 3.0],
        };
        for (got, want) in scores.iter().zip(&expected) {
            assert!(
                (got - want).abs() < 1e-5,
                "{distance}: scores {scores:?}, want {expected:?}"
            );
        }
        let mut req = SearchRequest::new(vec![2.0, 0.0], 10);
        req.score_threshold = Some(expected[1]);
        let kept: Vec<f32> = c
            .search(&req)
            .expect("threshold")
            .iter()
            .map(|h| h.score)
            .collect();
        assert_eq!(
            kept.len(),
            2,
            "{distance}: threshold keeps the two best, got {kept:?}"
        );

        let mut req = SearchRequest::new(vec![2.0, 0.0], 2);
        req.offset = 1;
        req.with_vector = true;
        let page = c.search(&req).expect("offset");
        assert_eq!(
            page.iter().map(|h| h.id).collect::<Vec<_>>(),
            vec![all[1].id, all[2].id]
        );
        let v = page[0].vector.as_ref().expect("vector requested");
        if distance == Distance::Cosine {
            assert!(
                (v[0] * v[0] + v[1] * v[1] - 1.0).abs() < 1e-6,
                "cosine vectors are stored normalised"
            );
        } else {
            assert_eq!(v, &vec![0.8, 0.6]);
        }
        assert!(page[0].payload.is_none(), "payload only when asked");
    }
}

#[test]
fn hnsw_parameters_can_change_and_persist() {
    use cairn_engine::PointId;
    let dir = tempfile::tempdir().expect("tempdir");
    let data = cairn_datasets::synthetic::clustered(3_000, 8, 10, 0.1, 4);
    {
        let engine = Engine::open(dir.path()).expect("open");
        let mut config = CollectionConfig::new(8, Distance::Euclid);
        config.hnsw.m = 16;
        let c = engine.create_collection("c", config).expect("create");
        let points = data
            .rows()
            .enumerate()
            .map(|(i, r)| PointStruct::new(i as u64, r.to_vec(), None).expect("point"))
            .collect();
        c.upsert(points).expect("upsert");
        let before = c.info();
        let mut bad = before.config.hnsw.clone();
        bad.m = 1;
        assert!(
            c.update_hnsw(bad).is_err(),
            "invalid parameters are refused"
        );
        assert_eq!(c.info(), before, "and change nothing");
        let mut new = before.config.hnsw.clone();
        new.m = 8;
        new.ef = 50;
        new.full_scan_threshold = 0;
        c.update_hnsw(new).expect("update");
        // An m = 8 graph over tight clusters is approximate: a top-1 probe
        // missed now and then (the parallel build is not deterministic), so
        // ask for the top 10 and require the point among them.
        let mut probe = SearchRequest::new(data.row(42).to_vec(), 10);
        probe.ef = Some(100);
        let hits = c.search(&probe).expect("search");
        assert!(
            hits.iter().any(|h| h.id == PointId::Num(42)),
            "the rebuilt graph (m = 8) still finds points: {hits:?}"
        );
    }
    let engine = Engine::open(dir.path()).expect("reopen");
    let hnsw = engine
        .collection("c")
        .expect("collection")
        .info()
        .config
        .hnsw;
    assert_eq!((hnsw.m, hnsw.ef, hnsw.full_scan_threshold), (8, 50, 0));
}
