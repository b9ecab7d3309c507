//! The ingestion job end to end on a real engine, with the hashing embedder
//! (fast; the ONNX model is checked in onnx_embedder.rs and in the CLI and
//! server tests): loaders, payload schema, idempotence, updates, pruning,
//! and errors that are reported without stopping the run.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use cairn_engine::{Collection, Engine, PointId, PointStruct, ScrollRequest, TextSearchRequest};
use cairn_ingest::chunk_point::chunk_point_id;
use cairn_ingest::chunker::ChunkerConfig;
use cairn_ingest::embed::HashEmbedder;
use cairn_ingest::loader::{JsonlFields, LoadOptions};
use cairn_ingest::{EngineSink, Ingest, IngestOptions, Summary};
use serde_json::{json, Value};

struct Fixture {
    _dir: tempfile::TempDir,
    docs: PathBuf,
    engine: Engine,
    embedder: HashEmbedder,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        let docs = dir.path().join("docs");
        fs::create_dir_all(docs.join("sub")).expect("mkdir");
        fs::create_dir_all(docs.join(".hidden")).expect("mkdir");
        let engine = Engine::open(dir.path().join("data")).expect("engine");
        Fixture {
            docs,
            engine,
            embedder: HashEmbedder::new(32).with_max_tokens(64),
            _dir: dir,
        }
    }

    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.docs.join(rel);
        fs::write(&p, text).expect("write");
        p
    }

    fn options(&self) -> IngestOptions {
        IngestOptions {
            chunker: ChunkerConfig {
                chunk_tokens: 20,
                overlap: 4,
            },
            load: LoadOptions {
                jsonl: JsonlFields {
                    metadata: vec!["metadata".into(), "lang".into()],
                    ..JsonlFields::default()
                },
                tags: vec!["handbook".into()],
            },
            ..IngestOptions::default()
        }
    }

    fn ingest_with(&self, options: IngestOptions) -> Summary {
        let sink = EngineSink::open(&self.engine, "kb", 32, "hashing").expect("sink");
        Ingest::new(&self.embedder, &sink, options)
            .paths(std::slice::from_ref(&self.docs))
            .expect("ingest")
    }

    fn ingest(&self) -> Summary {
        self.ingest_with(self.options())
    }

    fn collection(&self) -> std::sync::Arc<Collection> {
        self.engine.collection("kb").expect("kb")
    }

    fn payloads(&self) -> Vec<serde_json::Map<String, Value>> {
        self.collection()
            .scroll(&ScrollRequest {
                limit: 100_000,
                with_payload: true,
                ..ScrollRequest::default()
            })
            .points
            .into_iter()
            .filter_map(|p| p.payload.map(|p| p.0))
            .collect()
    }

    fn chunks_of(&self, document_id: &str) -> Vec<serde_json::Map<String, Value>> {
        let mut v: Vec<_> = self
            .payloads()
            .into_iter()
            .filter(|p| p["document_id"] == document_id)
            .collect();
        v.sort_by_key(|p| p["chunk_index"].as_u64());
        v
    }

    fn ids(&self) -> BTreeSet<PointId> {
        self.collection()
            .scroll(&ScrollRequest {
                limit: 100_000,
                ..ScrollRequest::default()
            })
            .points
            .into_iter()
            .map(|p| p.id)
            .collect()
    }
}

fn canonical(p: &Path) -> String {
    p.canonicalize()
        .expect("canonical")
        .to_string_lossy()
        .into_owned()
}

fn long_text(topic: &str, sentences: usize) -> String {
    (0..sentences)
        .map(|i| format!("The {topic} note number {i} explains one more detail."))
        .collect::<Vec<_>>()
        .join(" ")
}

fn populate(f: &Fixture) {
    f.write("guide.txt", &long_text("installation", 12));
    f.write("notes.md", "---\ntitle: Release notes\n---\n# Ignored heading\n\nVersion two adds hybrid search.\n\nIt also fixes bugs.");
    f.write(
        "sub/page.html",
        "<html><head><title>Team page</title><script>var x;</script></head><body><p>Our team builds retrieval systems.</p></body></html>",
    );
    f.write(
        "sub/records.jsonl",
        "{\"_id\": \"r1\", \"title\": \"Record one\", \"text\": \"Vitamin D and bone health.\", \"lang\": \"en\"}\n\
         {\"_id\": \"r2\", \"title\": \"Record two\", \"text\": \"Solar panels convert light.\", \"metadata\": {\"year\": 2021}}\n",
    );
    common::write_pdf(
        &f.docs.join("paper.pdf"),
        "A PDF title",
        "Portable documents carry fonts.",
    );
    f.write("image.png", "not really an image");
    f.write(".hidden/secret.txt", "hidden files are not ingested");
}

#[test]
fn ingests_every_type_with_the_chunk_schema() {
    let f = Fixture::new();
    populate(&f);
    let s = f.ingest();
    assert_eq!(
        (s.added, s.updated, s.skipped, s.failed),
        (6, 0, 0, 0),
        "{s:?}"
    );
    assert_eq!(s.unsupported, 1);
    assert!(s.unsupported_files[0].ends_with("image.png"));
    assert!(s.chunks >= 6 + 2, "the long text is several chunks: {s:?}");
    assert_eq!(f.collection().count(None), s.chunks);

    let guide = canonical(&f.docs.join("guide.txt"));
    let chunks = f.chunks_of(&guide);
    assert!(chunks.len() >= 3, "{}", chunks.len());
    let first = &chunks[0];
    for key in [
        "document_id",
        "source",
        "title",
        "chunk_index",
        "content",
        "file_type",
        "tags",
        "created_at",
        "content_hash",
    ] {
        assert!(first.contains_key(key), "missing {key}: {first:?}");
    }
    assert_eq!(first["source"], guide.as_str());
    assert_eq!(first["title"], "guide");
    assert_eq!(first["file_type"], "txt");
    assert_eq!(first["tags"], json!(["handbook"]));
    assert_eq!(first["content_hash"].as_str().map(str::len), Some(64));
    assert!(
        chrono::DateTime::parse_from_rfc3339(first["created_at"].as_str().expect("str")).is_ok()
    );
    assert_eq!(
        chunks
            .iter()
            .map(|c| c["chunk_index"].as_u64().expect("index"))
            .collect::<Vec<_>>(),
        (0..chunks.len() as u64).collect::<Vec<_>>()
    );
    // Titles per type.
    let title_of = |id: &str| f.chunks_of(id)[0]["title"].clone();
    assert_eq!(
        title_of(&canonical(&f.docs.join("notes.md"))),
        "Release notes"
    );
    assert_eq!(
        title_of(&canonical(&f.docs.join("sub/page.html"))),
        "Team page"
    );
    assert_eq!(
        title_of(&canonical(&f.docs.join("paper.pdf"))),
        "A PDF title"
    );
    assert_eq!(title_of("r1"), "Record one");
    // JSON lines: metadata fields, and the record's file as source.
    let r1 = &f.chunks_of("r1")[0];
    assert_eq!(r1["metadata"], json!({"lang": "en"}));
    assert_eq!(
        r1["source"],
        canonical(&f.docs.join("sub/records.jsonl")).as_str()
    );
    assert_eq!(f.chunks_of("r2")[0]["metadata"], json!({"year": 2021}));
    // Content is searchable with BM25 at once.
    let c = f.collection();
    let hit = c
        .search_text(&TextSearchRequest {
            with_payload: true,
            ..TextSearchRequest::new("portable fonts", 1)
        })
        .expect("bm25");
    assert_eq!(
        hit[0].payload.as_ref().expect("payload").0["file_type"],
        "pdf"
    );
    assert!(!f
        .payloads()
        .iter()
        .any(|p| p["content"].as_str().unwrap_or("").contains("hidden")));
    assert!(!f
        .payloads()
        .iter()
        .any(|p| p["content"].as_str().unwrap_or("").contains("var x")));
}

#[test]
fn re_running_changes_nothing_and_says_so() {
    let f = Fixture::new();
    populate(&f);
    f.ingest();
    let before = (f.ids(), f.payloads());
    let s = f.ingest();
    assert_eq!(
        (s.added, s.updated, s.skipped, s.failed, s.chunks),
        (0, 0, 6, 0, 0),
        "{s:?}"
    );
    assert!(!s.changed());
    assert!(
        s.line()
            .starts_with("nothing changed: 6 documents up to date"),
        "{}",
        s.line()
    );
    assert_eq!(
        (f.ids(), f.payloads()),
        before,
        "not a byte of payload changed"
    );
    // --force re-embeds everything, changing nothing but created_at.
    let s = f.ingest_with(IngestOptions {
        force: true,
        ..f.options()
    });
    assert_eq!((s.updated, s.skipped), (6, 0));
    assert_eq!(f.ids(), before.0);
}

#[test]
fn a_changed_document_has_its_chunks_replaced() {
    let f = Fixture::new();
    populate(&f);
    f.ingest();
    let guide = canonical(&f.docs.join("guide.txt"));
    let old = f.chunks_of(&guide);
    assert!(old.len() >= 3);
    f.write("guide.txt", "A short replacement text.");
    let s = f.ingest();
    assert_eq!((s.added, s.updated, s.skipped), (0, 1, 5), "{s:?}");
    let new = f.chunks_of(&guide);
    assert_eq!(new.len(), 1, "the old tail chunks are gone");
    assert_eq!(new[0]["content"], "A short replacement text.");
    assert_ne!(new[0]["content_hash"], old[0]["content_hash"]);
    assert_eq!(f.collection().count(None), f.payloads().len());
    // It grows again: new chunks appear, all with the new hash.
    f.write("guide.txt", &long_text("upgrade", 10));
    let s = f.ingest();
    assert_eq!(s.updated, 1);
    let grown = f.chunks_of(&guide);
    assert!(grown.len() >= 3);
    let hashes: BTreeSet<String> = grown
        .iter()
        .map(|c| c["content_hash"].to_string())
        .collect();
    assert_eq!(hashes.len(), 1);
}

#[test]
fn an_interrupted_update_is_repaired_on_the_next_run() {
    let f = Fixture::new();
    populate(&f);
    f.ingest();
    let guide = canonical(&f.docs.join("guide.txt"));
    let n = f.chunks_of(&guide).len();
    // As if a crash hit between the upsert and the delete of an update:
    // one chunk past the end still carries another version's hash.
    let mut leftover = f.chunks_of(&guide)[0].clone();
    leftover.insert("chunk_index".into(), json!(n));
    leftover.insert("content_hash".into(), json!("0".repeat(64)));
    f.collection()
        .upsert(vec![PointStruct::new(
            chunk_point_id(&guide, n),
            vec![1.0; 32],
            Some(Value::Object(leftover)),
        )
        .expect("p")])
        .expect("upsert");
    let s = f.ingest();
    assert_eq!((s.updated, s.skipped), (1, 5), "{s:?}");
    assert_eq!(f.chunks_of(&guide).len(), n);
}

#[test]
fn prune_removes_only_what_disappeared() {
    let f = Fixture::new();
    populate(&f);
    f.ingest();
    fs::remove_file(f.docs.join("notes.md")).expect("rm");
    f.write("sub/records.jsonl", "{\"_id\": \"r1\", \"title\": \"Record one\", \"text\": \"Vitamin D and bone health.\", \"lang\": \"en\"}\n");
    // Without --prune nothing is removed.
    let s = f.ingest();
    assert_eq!((s.removed, s.skipped), (0, 4), "{s:?}");
    assert!(!f
        .chunks_of(&canonical(&f.docs.join("guide.txt")))
        .is_empty());
    let notes = f.docs.join("notes.md").to_string_lossy().into_owned();
    assert!(f
        .payloads()
        .iter()
        .any(|p| p["document_id"].as_str() == Some(notes.as_str())));
    // With it, the deleted file and the deleted record go; the rest stays.
    let s = f.ingest_with(IngestOptions {
        prune: true,
        ..f.options()
    });
    assert_eq!((s.removed, s.skipped), (2, 4), "{s:?}");
    assert!(f.chunks_of("r2").is_empty());
    assert!(!f
        .payloads()
        .iter()
        .any(|p| p["document_id"].as_str() == Some(notes.as_str())));
    assert!(!f.chunks_of("r1").is_empty());
    // Ingesting another folder with --prune leaves this one's documents alone.
    let other = f._dir.path().join("other");
    fs::create_dir_all(&other).expect("mkdir");
    fs::write(other.join("x.txt"), "another folder").expect("write");
    let sink = EngineSink::open(&f.engine, "kb", 32, "hashing").expect("sink");
    let s = Ingest::new(
        &f.embedder,
        &sink,
        IngestOptions {
            prune: true,
            ..f.options()
        },
    )
    .paths(&[other])
    .expect("ingest");
    assert_eq!((s.added, s.removed), (1, 0), "{s:?}");
    assert!(!f.chunks_of("r1").is_empty());
}

#[test]
fn bad_files_are_reported_and_the_rest_is_ingested() {
    let f = Fixture::new();
    populate(&f);
    f.write("broken.pdf", "%PDF-1.4 this is not a pdf at all");
    f.write("empty.txt", "   \n");
    f.write(
        "sub/records.jsonl",
        "{\"_id\": \"r1\", \"text\": \"fine\"}\nnot json\n{\"_id\": \"r1\", \"text\": \"duplicate id\"}\n{\"_id\": \"r3\"}\n",
    );
    let s = f.ingest();
    assert_eq!(s.added, 5, "{s:?}"); // guide, notes, page, paper, r1
    assert_eq!(s.failed, 5, "{:#?}", s.failures);
    let why = |needle: &str| s.failures.iter().any(|x| x.error.contains(needle));
    assert!(why("not a readable PDF"), "{:#?}", s.failures);
    assert!(why("no text to index"));
    assert!(why("not valid JSON"));
    assert!(why("duplicate document id `r1`"));
    assert!(why("--text-field"));
    assert!(s
        .failures
        .iter()
        .any(|x| x.source.ends_with("records.jsonl:2")));
    // A file that failed to read protects its documents from --prune.
    f.write(
        "sub/records.jsonl",
        "{\"_id\": \"r1\", \"text\": \"fine\"}\nbroken\n",
    );
    let s = f.ingest_with(IngestOptions {
        prune: true,
        ..f.options()
    });
    assert_eq!(s.removed, 0, "{s:?}");
}

#[test]
fn a_collection_of_another_dimension_or_model_is_refused() {
    let f = Fixture::new();
    EngineSink::open(&f.engine, "kb", 32, "hashing").expect("sink");
    let err = EngineSink::open(&f.engine, "kb", 16, "hashing")
        .err()
        .expect("dim");
    assert!(err.to_string().contains("32-d"), "{err}");
    let err = EngineSink::open(&f.engine, "kb", 32, "other-model")
        .err()
        .expect("model");
    assert!(err.to_string().contains("hashing"), "{err}");
}
