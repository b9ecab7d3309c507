//! Snapshots: taken while writes continue, recovered by replacing a
//! collection atomically; corrupt, truncated, wrong-version and
//! wrong-checksum archives are refused and leave the live collection as it
//! was.

mod common;

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use cairn_datasets::synthetic;
use cairn_engine::snapshot::{self, SnapshotKind};
use cairn_engine::{
    CollectionConfig, Distance, Engine, EngineError, PointId, PointStruct, SearchRequest,
};
use common::{ids, load};
use serde_json::json;

const DIM: usize = 16;

fn engine_with_docs(dir: &Path, n: usize) -> Engine {
    let engine = Engine::open(dir).expect("open");
    let c = engine
        .create_collection("docs", CollectionConfig::new(DIM, Distance::Cosine))
        .expect("create");
    let data = synthetic::clustered(n, DIM, 8, 0.1, 7);
    load(&c, &data, |i| Some(json!({"i": i})));
    engine
}

fn top10(engine: &Engine, name: &str) -> Vec<u64> {
    let q = synthetic::clustered(1, DIM, 1, 0.1, 99).row(0).to_vec();
    ids(&engine
        .collection(name)
        .expect("collection")
        .search(&SearchRequest::new(q, 10))
        .expect("search"))
}

fn snapshot_path(engine: &Engine, name: &str) -> PathBuf {
    let description = engine.create_snapshot(name).expect("snapshot");
    engine.snapshot_path(name, &description.name).expect("path")
}

fn leftovers(dir: &Path) -> Vec<String> {
    fs::read_dir(dir.join("collections"))
        .expect("read collections/")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect()
}

#[test]
fn recover_replaces_a_collection_with_its_snapshot() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = engine_with_docs(dir.path(), 2_000);
    let before = top10(&engine, "docs");
    let path = snapshot_path(&engine, "docs");

    let manifest = snapshot::read_manifest(&path).expect("manifest");
    assert_eq!(manifest.kind, SnapshotKind::Collection);
    assert_eq!(manifest.points_count, 2_000);
    assert_eq!(manifest.collection.as_deref(), Some("docs"));
    assert_eq!(manifest.config.as_ref().map(|c| c.dim), Some(DIM));
    assert_eq!(manifest.files.len(), 4);
    let listed = engine.list_snapshots("docs").expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(
        listed[0].checksum.as_deref(),
        Some(snapshot::sha256_file(&path).expect("sha").as_str())
    );

    // Change the collection after the snapshot, then roll it back.
    let docs = engine.collection("docs").expect("docs");
    docs.upsert(vec![PointStruct::new(
        1_000_000,
        vec![1.0; DIM],
        Some(json!({"late": true})),
    )
    .expect("point")])
        .expect("upsert");
    let checksum = listed[0].checksum.clone();
    let restored = engine
        .recover_collection("docs", &path, checksum.as_deref())
        .expect("recover");
    assert_eq!(restored.count(None), 2_000);
    assert!(restored
        .get(&[PointId::Num(1_000_000)], true, false)
        .is_empty());
    assert_eq!(top10(&engine, "docs"), before);
    // The old handle is retired, not writing into the restored collection.
    assert!(matches!(
        docs.upsert(vec![
            PointStruct::new(5, vec![1.0; DIM], None).expect("point")
        ]),
        Err(EngineError::CollectionNotFound(_))
    ));
    assert!(leftovers(dir.path()).is_empty());

    // Recover under another name, and it all survives a reopen.
    engine
        .recover_collection("copy", &path, None)
        .expect("recover as copy");
    drop(engine);
    let engine = Engine::open(dir.path()).expect("reopen");
    assert_eq!(top10(&engine, "docs"), before);
    assert_eq!(top10(&engine, "copy"), before);
    let payload = engine
        .collection("copy")
        .expect("copy")
        .get(&[PointId::Num(42)], true, false);
    assert_eq!(
        payload[0]
            .payload
            .clone()
            .map(|p| serde_json::Value::Object(p.0)),
        Some(json!({"i": 42}))
    );
}

#[test]
fn a_snapshot_taken_during_writes_is_consistent() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = Arc::new(engine_with_docs(dir.path(), 500));
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (engine, stop) = (engine.clone(), stop.clone());
        std::thread::spawn(move || {
            let docs = engine.collection("docs").expect("docs");
            let mut id = 10_000u64;
            while !stop.load(Ordering::SeqCst) {
                let batch = (0..20)
                    .map(|k| {
                        let v: Vec<f32> = (0..DIM)
                            .map(|d| ((id + k + d as u64) % 7) as f32 + 1.0)
                            .collect();
                        PointStruct::new(id + k, v, Some(json!({"w": id + k}))).expect("point")
                    })
                    .collect();
                docs.upsert(batch).expect("upsert");
                id += 20;
            }
            id
        })
    };
    let mut paths = Vec::new();
    for _ in 0..3 {
        std::thread::sleep(std::time::Duration::from_millis(30));
        paths.push(snapshot_path(&engine, "docs"));
    }
    stop.store(true, Ordering::SeqCst);
    let written = writer.join().expect("writer");
    assert!(written > 10_000, "the writer made progress");

    for (i, path) in paths.iter().enumerate() {
        let manifest = snapshot::read_manifest(path).expect("manifest");
        let name = format!("restored{i}");
        let c = engine
            .recover_collection(&name, path, None)
            .expect("recover");
        assert_eq!(c.count(None) as u64, manifest.points_count);
        // Every restored point is whole: its vector and payload agree.
        let restored = c.scroll(&cairn_engine::ScrollRequest {
            limit: 100_000,
            with_vector: true,
            with_payload: true,
            ..Default::default()
        });
        for record in restored.points {
            if let PointId::Num(id) = record.id {
                if id >= 10_000 {
                    let v = record.vector.expect("vector");
                    let expect: Vec<f32> = (0..DIM)
                        .map(|d| ((id + d as u64) % 7) as f32 + 1.0)
                        .collect();
                    let norm = expect.iter().map(|x| x * x).sum::<f32>().sqrt();
                    for (a, b) in v.iter().zip(&expect) {
                        assert!((a - b / norm).abs() < 1e-5, "point {id} vector");
                    }
                    assert_eq!(
                        record.payload.map(|p| serde_json::Value::Object(p.0)),
                        Some(json!({"w": id}))
                    );
                }
            }
        }
    }
}

/// Copies `path` with `edit` applied to its bytes.
fn damaged(path: &Path, tag: &str, edit: impl FnOnce(&mut Vec<u8>)) -> PathBuf {
    let mut bytes = fs::read(path).expect("read");
    edit(&mut bytes);
    let out = path.with_file_name(format!("{tag}.snapshot"));
    fs::write(&out, bytes).expect("write");
    out
}

/// Rewrites the archive with its manifest changed by `edit`.
fn with_manifest(path: &Path, tag: &str, edit: impl Fn(&mut serde_json::Value)) -> PathBuf {
    let mut archive = tar::Archive::new(fs::File::open(path).expect("open"));
    let out = path.with_file_name(format!("{tag}.snapshot"));
    let mut builder = tar::Builder::new(fs::File::create(&out).expect("create"));
    for (i, entry) in archive.entries().expect("entries").enumerate() {
        let mut entry = entry.expect("entry");
        let name = entry.path().expect("path").into_owned();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).expect("read");
        if i == 0 {
            let mut manifest: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
            edit(&mut manifest);
            bytes = serde_json::to_vec(&manifest).expect("encode");
        }
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        builder
            .append_data(&mut header, name, bytes.as_slice())
            .expect("append");
    }
    builder
        .into_inner()
        .expect("finish")
        .flush()
        .expect("flush");
    out
}

#[test]
fn bad_snapshots_are_refused_and_the_live_collection_is_untouched() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = engine_with_docs(dir.path(), 1_000);
    let good = snapshot_path(&engine, "docs");
    // The live collection moves on after the snapshot.
    let docs = engine.collection("docs").expect("docs");
    docs.upsert(vec![
        PointStruct::new(777_777, vec![0.5; DIM], None).expect("point")
    ])
    .expect("upsert");
    let before = top10(&engine, "docs");
    let len = fs::metadata(&good).expect("meta").len() as usize;

    let flipped = damaged(&good, "flipped", |b| b[len / 2] ^= 0x40);
    let truncated = damaged(&good, "truncated", |b| b.truncate(len / 2));
    let tiny = damaged(&good, "tiny", |b| b.truncate(100));
    let future = with_manifest(&good, "future", |m| m["format_version"] = json!(99));
    let lying = with_manifest(&good, "lying", |m| m["files"][1]["sha256"] = json!("00"));
    let not_tar = damaged(&good, "garbage", |b| {
        b.clear();
        b.extend_from_slice(b"this is not a snapshot at all");
    });

    let cases: Vec<(&str, &Path, Option<&str>, &str)> = vec![
        ("flipped byte", &flipped, None, "does not match"),
        ("truncated", &truncated, None, ""),
        ("100 bytes", &tiny, None, ""),
        ("format version 99", &future, None, "format version 99"),
        ("manifest digest", &lying, None, "does not match"),
        ("not an archive", &not_tar, None, ""),
        ("checksum", &good, Some("deadbeef"), "checksum mismatch"),
    ];
    for (what, path, checksum, says) in cases {
        for target in ["docs", "fresh"] {
            let Err(err) = engine.recover_collection(target, path, checksum) else {
                panic!("{what}: a bad snapshot was accepted");
            };
            assert!(
                matches!(err, EngineError::BadSnapshot { .. }),
                "{what}: {err}"
            );
            assert!(err.to_string().contains(says), "{what}: {err}");
        }
        assert_eq!(top10(&engine, "docs"), before, "{what}");
        assert_eq!(docs.count(None), 1_001, "{what}");
        assert!(engine.collection("fresh").is_err(), "{what}");
        assert!(leftovers(dir.path()).is_empty(), "{what}");
    }
    // The live collection still takes writes through its old handle.
    docs.upsert(vec![
        PointStruct::new(777_778, vec![0.25; DIM], None).expect("point")
    ])
    .expect("still writable");
    drop((engine, docs));
    let engine = Engine::open(dir.path()).expect("reopen");
    assert_eq!(engine.collection("docs").expect("docs").count(None), 1_002);
}

#[test]
fn full_snapshots_hold_every_collection() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = engine_with_docs(dir.path(), 800);
    let other = engine
        .create_collection("notes", CollectionConfig::new(4, Distance::Dot))
        .expect("create");
    other
        .upsert(vec![
            PointStruct::new(1, vec![1.0, 2.0, 3.0, 4.0], None).expect("point")
        ])
        .expect("upsert");
    let before = top10(&engine, "docs");
    let full = engine.create_full_snapshot().expect("full snapshot");
    assert_eq!(engine.list_full_snapshots().expect("list").len(), 1);
    let path = engine.full_snapshot_path(&full.name).expect("path");
    let manifest = snapshot::read_manifest(&path).expect("manifest");
    assert_eq!(manifest.kind, SnapshotKind::Full);
    assert_eq!(manifest.points_count, 801);

    // A collection snapshot is not a full one, and the reverse.
    assert!(engine.recover_collection("docs", &path, None).is_err());

    let elsewhere = tempfile::tempdir().expect("tempdir");
    let fresh = Engine::open(elsewhere.path()).expect("open");
    let mut names = fresh.recover_full(&path).expect("recover full");
    names.sort();
    assert_eq!(names, ["docs", "notes"]);
    assert_eq!(top10(&fresh, "docs"), before);
    assert_eq!(fresh.collection("notes").expect("notes").count(None), 1);
    engine.delete_full_snapshot(&full.name).expect("delete");
    assert!(engine.list_full_snapshots().expect("list").is_empty());
}
