//! Payload writes: set merges, overwrite replaces, delete removes keys
//! (dotted paths too), clear empties; by ids or by filter; payload indexes
//! follow every change.

use cairn_engine::{
    CollectionConfig, Distance, Engine, Filter, Payload, PayloadSchemaType, PointId, PointSelector,
    PointStruct,
};
use serde_json::{json, Value};

fn payload_of(c: &cairn_engine::Collection, id: u64) -> Value {
    let rec = c.get(&[PointId::Num(id)], true, false);
    Value::Object(rec[0].payload.clone().expect("payload").0)
}

fn obj(v: Value) -> Payload {
    Payload::from_json(v).expect("object")
}

#[test]
fn set_overwrite_delete_and_clear_payloads() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = Engine::open(dir.path()).expect("open");
    let c = engine
        .create_collection("c", CollectionConfig::new(2, Distance::Dot))
        .expect("create");
    c.create_payload_index("lang", PayloadSchemaType::Keyword)
        .expect("index");
    let points = (1..=4)
        .map(|i| {
            PointStruct::new(
                i,
                vec![i as f32, 1.0],
                Some(json!({"lang": "en", "meta": {"a": 1, "b": 2}, "n": i})),
            )
        })
        .collect::<Result<Vec<_>, _>>()
        .expect("points");
    c.upsert(points).expect("upsert");
    let lang = |l: &str| {
        Filter::from_json(&json!({"must": [{"key": "lang", "match": {"value": l}}]}))
            .expect("filter")
    };

    c.set_payload(
        PointSelector::Ids(vec![PointId::Num(1)]),
        obj(json!({"lang": "fr", "x": true})),
    )
    .expect("set");
    assert_eq!(
        payload_of(&c, 1),
        json!({"lang": "fr", "meta": {"a": 1, "b": 2}, "n": 1, "x": true})
    );
    assert_eq!(
        (c.count(Some(&lang("fr"))), c.count(Some(&lang("en")))),
        (1, 3),
        "index follows set"
    );

    c.overwrite_payload(
        PointSelector::Ids(vec![PointId::Num(2)]),
        obj(json!({"only": 1})),
    )
    .expect("overwrite");
    assert_eq!(payload_of(&c, 2), json!({"only": 1}));
    assert_eq!(c.count(Some(&lang("en"))), 2, "index follows overwrite");

    c.delete_payload_keys(
        PointSelector::Ids(vec![PointId::Num(3)]),
        vec!["meta.a".into(), "lang".into()],
    )
    .expect("delete keys");
    assert_eq!(payload_of(&c, 3), json!({"meta": {"b": 2}, "n": 3}));

    let by_filter = PointSelector::Filter(lang("en"));
    c.set_payload(by_filter, obj(json!({"tagged": "yes"})))
        .expect("set by filter");
    assert_eq!(payload_of(&c, 4)["tagged"], "yes");
    assert!(payload_of(&c, 3).get("tagged").is_none());

    c.clear_payload(PointSelector::Ids(vec![PointId::Num(4)]))
        .expect("clear");
    assert_eq!(payload_of(&c, 4), json!({}));
    assert_eq!(c.count(Some(&lang("en"))), 0, "index follows clear");

    c.delete_payload_index("lang").expect("drop index");
    assert_eq!(
        c.count(Some(&lang("fr"))),
        1,
        "filters work without the index"
    );
    assert!(c.info().payload_indexes.is_empty());
}
