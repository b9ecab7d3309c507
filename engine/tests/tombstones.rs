//! Deleted and replaced points are tombstones the graph walks through but
//! never returns; k live results still come back; compaction keeps recall;
//! and the graph and exact paths agree on every score they share.

mod common;

use cairn_datasets::synthetic;
use cairn_engine::{
    CollectionConfig, Distance, Engine, EngineOptions, PointId, PointSelector, SearchRequest,
};
use common::{brute_force, ids, load, recall};

#[test]
fn half_deleted_collection_still_returns_k_live_neighbours() {
    let dir = tempfile::tempdir().expect("tempdir");
    let options = EngineOptions {
        compaction_min_tombstones: usize::MAX,
        ..EngineOptions::default()
    };
    let engine = Engine::open_with(dir.path(), options).expect("open");
    let data = synthetic::clustered(20_000, 32, 40, 0.1, 21);
    let c = engine
        .create_collection("c", CollectionConfig::new(32, Distance::Euclid))
        .expect("create");
    load(&c, &data, |_| None);
    let evens: Vec<PointId> = (0..20_000u64).step_by(2).map(PointId::Num).collect();
    c.delete(PointSelector::Ids(evens)).expect("delete");
    assert_eq!(c.info().tombstones, 10_000);
    let live: Vec<usize> = (1..20_000).step_by(2).collect();

    let check = |label: &str| {
        let mut total = 0.0;
        for qi in 0..50 {
            let q = data.row(qi * 397).to_vec();
            let graph = c
                .search(&SearchRequest::new(q.clone(), 10))
                .expect("search");
            let found = ids(&graph);
            assert_eq!(found.len(), 10, "{label}: k live results");
            assert!(
                found.iter().all(|id| id % 2 == 1),
                "{label}: a tombstone came back"
            );
            total += recall(
                &found,
                &brute_force(Distance::Euclid, &data, &q, 10, Some(&live)),
            );
            let mut exact = SearchRequest::new(q, 10);
            exact.exact = true;
            for e in c.search(&exact).expect("exact") {
                if let Some(g) = graph.iter().find(|g| g.id == e.id) {
                    assert_eq!(
                        g.score, e.score,
                        "{label}: both paths score {:?} alike",
                        e.id
                    );
                }
            }
        }
        let r = total / 50.0;
        eprintln!("{label}: recall@10 {r:.3}");
        assert!(r >= 0.95, "{label}: recall@10 {r:.3}");
    };
    check("with 10k tombstones");
    c.compact().expect("compact");
    assert_eq!(c.info().tombstones, 0);
    check("after compaction");
}
