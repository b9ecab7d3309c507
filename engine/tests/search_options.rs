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
