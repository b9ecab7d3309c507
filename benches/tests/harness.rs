//! The benchmark harnesses on tiny inputs, so they cannot rot. These are
//! correctness checks, not measurements: they assert that every peer ran,
//! recall was computed from real answers, and the result files were written
//! — never how fast anything was.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn read_json(path: &Path) -> Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).expect("valid JSON")
}

fn run(cmd: &mut Command) {
    let out = cmd.output().expect("the benchmark starts");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn ann_runs_every_peer_and_writes_json_and_png() {
    let out = tempfile::tempdir().expect("tempdir");
    run(Command::new(env!("CARGO_BIN_EXE_ann")).args([
        "--synthetic=16",
        "--synthetic-n=2000",
        "--max-queries=100",
        "--ef=10,64",
        "--repeats=1",
        "--peers=cairn,cairn-int8,hnsw_rs,hnswlib,faiss,usearch",
        "--out",
        out.path().to_str().expect("utf-8 path"),
    ]));
    let json = read_json(&out.path().join("ann-synthetic-clustered-16d-2000.json"));
    let libs = json["libs"].as_array().expect("libs");
    let names: Vec<&str> = libs.iter().filter_map(|l| l["lib"].as_str()).collect();
    assert_eq!(
        names,
        [
            "cairn",
            "cairn-int8",
            "hnsw_rs",
            "hnswlib",
            "faiss",
            "usearch"
        ]
    );
    for lib in libs {
        let runs = lib["runs"].as_array().expect("runs");
        assert_eq!(runs.len(), 2, "{lib}");
        for r in runs {
            let recall = r["recall"].as_f64().expect("recall");
            let qps = r["qps"].as_f64().expect("qps");
            assert!(qps > 0.0, "{lib}");
            // At ef 64 on 2,000 points every library should find nearly
            // all true neighbours; a scoring bug would show here.
            if r["ef"] == 64 {
                assert!(recall >= 0.9, "{}: recall {recall}", lib["lib"]);
            }
            assert!((0.0..=1.0).contains(&recall));
        }
        assert!(lib["build_secs"].as_f64().expect("build") > 0.0);
        assert!(lib["peak_rss_bytes"].as_u64().expect("rss") > 0);
    }
    let png = std::fs::read(out.path().join("ann-synthetic-clustered-16d-2000.png")).expect("png");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
}

/// The `cairn` binary the HTTP bench serves: built beside this package's
/// binaries by any workspace build (`make test` builds the workspace first).
fn cairn_bin() -> PathBuf {
    let bin = Path::new(env!("CARGO_BIN_EXE_http")).with_file_name("cairn");
    assert!(
        bin.exists(),
        "{} is missing: run `cargo build -p cairn-server` first",
        bin.display()
    );
    bin
}

#[test]
fn http_drives_cairn_cairn_int8_pgvector_and_chroma() {
    let out = tempfile::tempdir().expect("tempdir");
    run(Command::new(env!("CARGO_BIN_EXE_http"))
        .args([
            "--n=2000",
            "--dim=16",
            "--queries=50",
            "--clients=4",
            "--rate=40",
            "--duration=1",
            "--warmup=0.2",
            "--ef-candidates=16,64",
            "--out",
            out.path().to_str().expect("utf-8 path"),
            "--cairn-bin",
        ])
        .arg(cairn_bin()));
    let json = read_json(&out.path().join("http-2000x16.json"));
    let targets = json["targets"].as_array().expect("targets");
    let names: Vec<&str> = targets
        .iter()
        .filter_map(|t| t["target"].as_str())
        .collect();
    assert_eq!(names, ["cairn", "cairn-int8", "pgvector", "chroma"]);
    for t in targets {
        assert!(t["recall"].as_f64().expect("recall") >= 0.9, "{t}");
        let phases = t["phases"].as_array().expect("phases");
        // search, filtered, mixed × closed, open.
        assert_eq!(phases.len(), 6, "{}", t["target"]);
        for p in phases {
            assert_eq!(p["errors"], 0, "{p}");
            assert!(p["reads"]["count"].as_u64().expect("count") > 0, "{p}");
            assert!(p["reads"]["p99_ms"].as_f64().expect("p99") > 0.0);
            match p["profile"].as_str() {
                Some("mixed") => {
                    assert!(p["writes"]["count"].as_u64().expect("writes") > 0, "{p}")
                }
                // Filtered answers are checked against the filtered truth.
                _ => assert!(p["recall"].as_f64().expect("recall") >= 0.9, "{p}"),
            }
        }
    }
}

#[test]
fn ingest_runs_cairn_and_the_python_stack_on_the_same_chunks() {
    let out = tempfile::tempdir().expect("tempdir");
    let corpus_dir = out.path().join("tiny");
    std::fs::create_dir_all(&corpus_dir).expect("mkdir");
    let corpus = corpus_dir.join("corpus.jsonl");
    let lines: Vec<String> = (0..30)
        .map(|i| {
            serde_json::json!({
                "_id": format!("d{i}"),
                "title": format!("Document {i}"),
                // Every fifth document is long enough to be cut into chunks.
                "text": format!("Sentence {i} about topic {}. ", i % 7).repeat(if i % 5 == 0 { 40 } else { 2 }),
            })
            .to_string()
        })
        .collect();
    std::fs::write(&corpus, lines.join("\n")).expect("write corpus");
    run(Command::new(env!("CARGO_BIN_EXE_ingest"))
        .args(["--limit=30", "--chunk-tokens=64", "--corpus"])
        .arg(&corpus)
        .arg("--out")
        .arg(out.path())
        .arg("--cairn-bin")
        .arg(cairn_bin()));
    let json = read_json(&out.path().join("ingest-tiny-30.json"));
    let chunks = json["chunks"].as_u64().expect("chunks");
    assert!(chunks > 30, "long documents were chunked: {json}");
    assert!(
        json["cairn"][0]["chunks_per_second"]
            .as_f64()
            .expect("rate")
            > 0.0
    );
    assert!(json["peer"]["chunks_per_second"].as_f64().expect("rate") > 0.0);
    assert!(json["ratio"].as_f64().expect("ratio") > 0.0);
    // The two stacks embedded the same chunks with the same model.
    assert!(
        json["min_cosine_first_chunks"].as_f64().expect("cosine") >= 0.999,
        "{json}"
    );
}
