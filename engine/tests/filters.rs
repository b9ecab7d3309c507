//! Filter correctness: for random filters, every search hit satisfies the
//! filter, and count/scroll equal a brute-force evaluation over the payloads
//! the test keeps itself — with and without payload indexes, and on both the
//! exact and the graph search paths. Plus recall under a 1% filter.

mod common;

use cairn_datasets::synthetic;
use cairn_engine::{
    Collection, CollectionConfig, Distance, Engine, Filter, PayloadSchemaType, PointId,
    ScrollRequest, SearchRequest,
};
use common::{brute_force, ids, load, recall};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

const COLORS: [&str; 5] = ["red", "green", "blue", "black", "white"];
const LANGS: [&str; 3] = ["en", "fr", "de"];
const TAGS: [&str; 4] = ["a", "b", "c", "d"];

fn payload(rng: &mut StdRng) -> Value {
    let mut p = json!({
        "color": COLORS[rng.random_range(0..5)],
        "n": rng.random_range(0..100),
        "score": rng.random_range(0.0..1.0),
        "flag": rng.random_bool(0.5),
        "meta": {"lang": LANGS[rng.random_range(0..3)]},
        "tags": TAGS.iter().filter(|_| rng.random_bool(0.4)).collect::<Vec<_>>(),
    });
    match rng.random_range(0..3) {
        0 => p["opt"] = Value::Null,
        1 => p["opt"] = json!("x"),
        _ => {}
    }
    p
}

fn condition(rng: &mut StdRng, depth: u32) -> Value {
    match rng.random_range(0..if depth > 0 { 10 } else { 9 }) {
        0 => json!({"key": "color", "match": {"value": COLORS[rng.random_range(0..5)]}}),
        1 => {
            json!({"key": "color", "match": {"any": [COLORS[rng.random_range(0..5)], COLORS[rng.random_range(0..5)]]}})
        }
        2 => json!({"key": "tags", "match": {"except": [TAGS[rng.random_range(0..4)]]}}),
        3 => {
            json!({"key": "n", "range": {"gte": rng.random_range(0..100), "lt": rng.random_range(0..100)}})
        }
        4 => json!({"key": "n", "match": {"value": rng.random_range(0..100)}}),
        5 => json!({"key": "meta.lang", "match": {"value": LANGS[rng.random_range(0..3)]}}),
        6 => json!({"key": "tags", "match": {"value": TAGS[rng.random_range(0..4)]}}),
        7 => match rng.random_range(0..3) {
            0 => json!({"is_empty": {"key": "tags"}}),
            1 => json!({"is_null": {"key": "opt"}}),
            _ => json!({"key": "flag", "match": {"value": rng.random_bool(0.5)}}),
        },
        8 => json!({"has_id": (0..20).map(|_| rng.random_range(0..3000)).collect::<Vec<u64>>()}),
        _ => random_filter(rng, depth - 1),
    }
}

fn random_filter(rng: &mut StdRng, depth: u32) -> Value {
    let mut f = serde_json::Map::new();
    for clause in ["must", "should", "must_not"] {
        let n = rng.random_range(0..if clause == "must" { 3 } else { 2 });
        if n > 0 {
            f.insert(
                clause.into(),
                (0..n).map(|_| condition(rng, depth)).collect(),
            );
        }
    }
    if f.is_empty() {
        f.insert("must".into(), json!([condition(rng, 0)]));
    }
    Value::Object(f)
}

fn num(id: PointId) -> u64 {
    match id {
        PointId::Num(n) => n,
        PointId::Uuid(_) => unreachable!(),
    }
}

fn check_collection(
    c: &Collection,
    payloads: &[Value],
    rng: &mut StdRng,
    data: &cairn_datasets::Vectors,
) {
    for round in 0..150 {
        let json = random_filter(rng, 2);
        let filter = Filter::from_json(&json).expect("generated filters are valid");
        let expected: Vec<u64> = (0..payloads.len())
            .filter(|&i| filter.check(PointId::Num(i as u64), payloads[i].as_object()))
            .map(|i| i as u64)
            .collect();
        assert_eq!(
            c.count(Some(&filter)),
            expected.len(),
            "count, filter {json}"
        );

        let mut scrolled = Vec::new();
        let mut offset = None;
        loop {
            let page = c.scroll(&ScrollRequest {
                offset,
                limit: 37,
                filter: Some(filter.clone()),
                ..ScrollRequest::default()
            });
            scrolled.extend(page.points.iter().map(|r| num(r.id)));
            offset = page.next_page_offset;
            if offset.is_none() {
                break;
            }
        }
        assert_eq!(scrolled, expected, "scroll, filter {json}");

        let q = data.row(round * 7 % data.len()).to_vec();
        let mut req = SearchRequest::new(q.clone(), 10);
        req.filter = Some(filter.clone());
        req.with_payload = true;
        let hits = c.search(&req).expect("search");
        for h in &hits {
            let p = h.payload.as_ref().expect("payload requested");
            assert!(
                filter.check(h.id, Some(&p.0)),
                "hit {:?} fails filter {json}",
                h.id
            );
            assert!(expected.contains(&num(h.id)));
        }
        let rows: Vec<usize> = expected.iter().map(|&i| i as usize).collect();
        let truth = brute_force(Distance::Euclid, data, &q, 10, Some(&rows));
        assert_eq!(
            hits.len(),
            truth.len(),
            "filter {json} should give min(10, matches) hits"
        );
        req.exact = true;
        assert_eq!(
            ids(&c.search(&req).expect("exact")),
            truth,
            "exact path, filter {json}"
        );
    }
}

#[test]
fn random_filters_match_brute_force_with_and_without_indexes() {
    let mut rng = StdRng::seed_from_u64(7);
    let data = synthetic::clustered(3_000, 16, 20, 0.1, 11);
    let payloads: Vec<Value> = (0..data.len()).map(|_| payload(&mut rng)).collect();
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = Engine::open(dir.path()).expect("open");
    for indexed in [false, true] {
        let name = if indexed { "indexed" } else { "plain" };
        let mut config = CollectionConfig::new(16, Distance::Euclid);
        config.hnsw.full_scan_threshold = 200; // exercise the graph path too
        let c = engine.create_collection(name, config).expect("create");
        if indexed {
            c.create_payload_index("color", PayloadSchemaType::Keyword)
                .expect("index");
            c.create_payload_index("tags", PayloadSchemaType::Keyword)
                .expect("index");
            c.create_payload_index("n", PayloadSchemaType::Integer)
                .expect("index");
            c.create_payload_index("meta.lang", PayloadSchemaType::Keyword)
                .expect("index");
        }
        load(&c, &data, |i| Some(payloads[i].clone()));
        check_collection(&c, &payloads, &mut rng, &data);
    }
}

#[test]
fn a_one_percent_filter_keeps_recall_on_every_path() {
    let data = synthetic::clustered(20_000, 32, 50, 0.1, 5);
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = Engine::open(dir.path()).expect("open");
    let bucket = |i: usize| json!({"bucket": i % 100});
    // (name, payload index?, full_scan_threshold): the last forces the graph.
    for (name, indexed, threshold) in [
        ("indexed", true, 1_000),
        ("unindexed", false, 1_000),
        ("graph", false, 0),
    ] {
        let mut config = CollectionConfig::new(32, Distance::Cosine);
        config.hnsw.full_scan_threshold = threshold;
        let c = engine.create_collection(name, config).expect("create");
        if indexed {
            c.create_payload_index("bucket", PayloadSchemaType::Integer)
                .expect("index");
        }
        load(&c, &data, |i| Some(bucket(i)));
        let filter =
            Filter::from_json(&json!({"must": [{"key": "bucket", "match": {"value": 7}}]}))
                .expect("filter");
        let rows: Vec<usize> = (0..data.len()).filter(|i| i % 100 == 7).collect();
        let mut total = 0.0;
        for qi in 0..50 {
            let q = data.row(qi * 37).to_vec();
            let mut req = SearchRequest::new(q.clone(), 10);
            req.filter = Some(filter.clone());
            let found = ids(&c.search(&req).expect("search"));
            assert!(found.iter().all(|id| id % 100 == 7));
            total += recall(
                &found,
                &brute_force(Distance::Cosine, &data, &q, 10, Some(&rows)),
            );
        }
        let r = total / 50.0;
        eprintln!("{name}: filtered recall@10 {r:.3}");
        assert!(r >= 0.9, "{name}: filtered recall@10 {r:.3} < 0.9");
    }
}
