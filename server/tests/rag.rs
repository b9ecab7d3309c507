//! The RAG half over HTTP and the CLI, with the real all-MiniLM-L6-v2 on
//! ONNX Runtime (fetched by scripts/models.sh): collections with an
//! embedding model, `POST …/documents`, text / BM25 / hybrid queries, and
//! `cairn ingest` embedded and through a running server, with the catalog
//! listing what was ingested.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::Server;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

fn models_dir() -> PathBuf {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = Command::new(repo.join("scripts/models.sh"))
        .output()
        .expect("scripts/models.sh");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

async fn server() -> Server {
    let models = models_dir();
    Server::start_config(|c| c.sidecars.embedding.models_dir = models).await
}

async fn server_on(data_dir: &Path) -> Server {
    let models = models_dir();
    let data_dir = data_dir.to_path_buf();
    Server::start_config(move |c| {
        c.sidecars.embedding.models_dir = models;
        c.data_dir = data_dir;
    })
    .await
}

const DOCS: &[(&str, &str, &str)] = &[
    ("bread", "en", "To bake sourdough bread, feed the starter, mix flour and water, let the dough rise overnight and bake it in a hot oven."),
    ("rust", "en", "Rust is a systems programming language with ownership and borrowing that prevents data races at compile time."),
    ("tides", "en", "Ocean tides are caused by the gravitational pull of the Moon and the Sun on the Earth's oceans."),
    ("violin", "fr", "Le violon est un instrument à cordes frottées; on en joue avec un archet."),
    ("garden", "en", "Tomatoes grow best in full sun with regular watering and well-drained soil."),
];

fn hits(result: &Value) -> Vec<String> {
    result["points"]
        .as_array()
        .expect("points")
        .iter()
        .map(|p| {
            p["payload"]["document_id"]
                .as_str()
                .unwrap_or("?")
                .to_string()
        })
        .collect()
}

async fn query(s: &Server, body: Value) -> Value {
    s.ok(Method::POST, "/collections/kb/points/query", Some(body))
        .await
}

#[tokio::test]
async fn documents_and_text_bm25_and_hybrid_queries() {
    let s = server().await;
    // The model decides the size; an organisation prefix is accepted.
    s.ok(
        Method::PUT,
        "/collections/kb",
        Some(json!({"embedding": {"model": "sentence-transformers/all-MiniLM-L6-v2"}})),
    )
    .await;
    let info = s.ok(Method::GET, "/collections/kb", None).await;
    let params = &info["config"]["params"];
    assert_eq!(
        params["vectors"],
        json!({"size": 384, "distance": "Cosine"})
    );
    assert_eq!(params["embedding"]["model"], "all-MiniLM-L6-v2");
    assert_eq!(info["payload_schema"]["content"]["data_type"], "text");
    assert_eq!(
        info["payload_schema"]["document_id"]["data_type"],
        "keyword"
    );

    let documents: Vec<Value> = DOCS
        .iter()
        .map(|(id, lang, text)| json!({"id": id, "text": text, "title": id, "metadata": {"lang": lang}}))
        .collect();
    let body = json!({"documents": documents});
    let summary = s
        .ok(
            Method::POST,
            "/collections/kb/documents",
            Some(body.clone()),
        )
        .await;
    assert_eq!(
        (summary["added"].as_u64(), summary["failed"].as_u64()),
        (Some(5), Some(0)),
        "{summary}"
    );
    let again = s
        .ok(Method::POST, "/collections/kb/documents", Some(body))
        .await;
    assert_eq!(
        (again["added"].as_u64(), again["skipped"].as_u64()),
        (Some(0), Some(5)),
        "{again}"
    );

    // Dense: the meaning, not the words ("loaf" and "yeast" appear nowhere).
    let r = query(&s, json!({"query": {"text": "how do I make a loaf with yeast"}, "limit": 2, "with_payload": true})).await;
    assert_eq!(hits(&r)[0], "bread", "{r}");
    let r = query(&s, json!({"query": {"text": "what makes the sea rise and fall", "model": "all-MiniLM-L6-v2"}, "limit": 1, "with_payload": true})).await;
    assert_eq!(hits(&r), ["tides"]);
    // BM25, in each of its three spellings.
    for body in [
        json!({"query": {"bm25": "sourdough starter"}, "with_payload": true}),
        json!({"query": {"text": "sourdough starter"}, "using": "bm25", "with_payload": true}),
        json!({"query": {"text": "sourdough starter", "model": "qdrant/bm25"}, "with_payload": true}),
    ] {
        let r = query(&s, body.clone()).await;
        assert_eq!(hits(&r), ["bread"], "{body}");
    }
    // Hybrid: both retrievers agree on "rust" at rank 1, so its RRF score is 2/61.
    let hybrid = json!({
        "prefetch": [
            {"query": {"text": "memory safety in a programming language"}, "limit": 5},
            {"query": {"bm25": "rust ownership borrowing"}, "limit": 5}
        ],
        "query": {"fusion": "rrf"},
        "limit": 3,
        "with_payload": true
    });
    let r = query(&s, hybrid.clone()).await;
    assert_eq!(hits(&r)[0], "rust", "{r}");
    let top = r["points"][0]["score"].as_f64().expect("score");
    assert!((top - 2.0 / 61.0).abs() < 1e-6, "{top}");
    // The request's filter reaches every prefetch.
    let mut filtered = hybrid.clone();
    filtered["filter"] = json!({"must": [{"key": "metadata.lang", "match": {"value": "fr"}}]});
    let r = query(&s, filtered).await;
    assert_eq!(hits(&r), ["violin"], "{r}");
    // A query over prefetches re-ranks only what they found.
    let rerank = json!({
        "prefetch": {"query": {"bm25": "tomatoes oven sun"}, "limit": 10},
        "query": {"text": "baking"},
        "limit": 10,
        "with_payload": true
    });
    let r = query(&s, rerank).await;
    let found = hits(&r);
    assert_eq!(found[0], "bread", "{r}");
    // Only what BM25 found (oven, tomatoes, Sun) is ranked, not rust or violin.
    assert!(
        found
            .iter()
            .all(|d| ["bread", "garden", "tides"].contains(&d.as_str())),
        "{found:?}"
    );
    // Weighted RRF and its errors.
    let mut weighted = hybrid.clone();
    weighted["query"] = json!({"rrf": {"k": 10, "weights": [1.0, 0.0]}});
    let r = query(&s, weighted.clone()).await;
    assert!((r["points"][0]["score"].as_f64().expect("score") - 1.0 / 11.0).abs() < 1e-6);
    weighted["query"] = json!({"rrf": {"weights": [1.0]}});
    let q = "/collections/kb/points/query";
    s.fails(
        Method::POST,
        q,
        Some(weighted),
        StatusCode::BAD_REQUEST,
        "2 prefetches",
    )
    .await;
    s.fails(
        Method::POST,
        q,
        Some(json!({"query": {"fusion": "rrf"}})),
        StatusCode::BAD_REQUEST,
        "needs `prefetch`",
    )
    .await;
    s.fails(
        Method::POST,
        q,
        Some(json!({"query": {"fusion": "dbsf"}, "prefetch": []})),
        StatusCode::BAD_REQUEST,
        "rrf",
    )
    .await;
    s.fails(
        Method::POST,
        q,
        Some(json!({"query": {"text": "x", "model": "bge-small"}})),
        StatusCode::BAD_REQUEST,
        "is embedded with",
    )
    .await;
    s.fails(
        Method::POST,
        q,
        Some(json!({"query": {"bm25": 5}})),
        StatusCode::BAD_REQUEST,
        "must be a string",
    )
    .await;
    s.fails(
        Method::POST,
        q,
        Some(json!({"query": {"teext": "x"}})),
        StatusCode::BAD_REQUEST,
        "`query` must be",
    )
    .await;

    // The catalog lists what was ingested.
    let listed = s.ok(Method::GET, "/collections/kb/documents", None).await;
    let docs = listed["documents"].as_array().expect("documents");
    assert_eq!(docs.len(), 5);
    assert!(
        docs.iter()
            .all(|d| d["chunk_count"] == 1 && d["source"] == "api"),
        "{listed}"
    );

    // Bad input.
    let d = "/collections/kb/documents";
    s.fails(
        Method::POST,
        d,
        Some(json!({"documents": [{"text": "  "}]})),
        StatusCode::BAD_REQUEST,
        "documents[0].text is empty",
    )
    .await;
    s.fails(
        Method::POST,
        d,
        Some(json!({"documents": [{"text": "x", "id": []}]})),
        StatusCode::BAD_REQUEST,
        "documents[0].id",
    )
    .await;
    s.fails(
        Method::POST,
        d,
        Some(json!({"docs": []})),
        StatusCode::BAD_REQUEST,
        "format error",
    )
    .await;
    s.fails(
        Method::POST,
        "/collections/nope/documents",
        Some(json!({"documents": []})),
        StatusCode::NOT_FOUND,
        "not found",
    )
    .await;
    s.fails(
        Method::PUT,
        "/collections/x",
        Some(json!({"embedding": {"model": "no-such-model"}})),
        StatusCode::BAD_REQUEST,
        "available: all-MiniLM-L6-v2",
    )
    .await;
    s.fails(
        Method::PUT,
        "/collections/x",
        Some(json!({"embedding": {"model": "../../etc"}})),
        StatusCode::BAD_REQUEST,
        "not a model name",
    )
    .await;
    s.fails(
        Method::PUT,
        "/collections/x",
        Some(json!({"vectors": {"size": 768, "distance": "Cosine"}, "embedding": {"model": "all-MiniLM-L6-v2"}})),
        StatusCode::BAD_REQUEST,
        "384-d",
    )
    .await;
    // A plain vector collection: documents and text queries need a model.
    s.ok(
        Method::PUT,
        "/collections/plain",
        Some(json!({"vectors": {"size": 384, "distance": "Cosine"}})),
    )
    .await;
    s.fails(
        Method::POST,
        "/collections/plain/documents",
        Some(json!({"documents": [{"text": "x"}]})),
        StatusCode::BAD_REQUEST,
        "no embedding model",
    )
    .await;
    let pq = "/collections/plain/points/query";
    s.fails(
        Method::POST,
        pq,
        Some(json!({"query": {"text": "x"}})),
        StatusCode::BAD_REQUEST,
        "no embedding model",
    )
    .await;
    s.fails(
        Method::POST,
        pq,
        Some(json!({"query": {"bm25": "x"}})),
        StatusCode::BAD_REQUEST,
        "no text index",
    )
    .await;
    // …but Qdrant's inference shape names one, and it works if sizes agree.
    let r = s
        .ok(
            Method::POST,
            pq,
            Some(json!({"query": {"text": "x", "model": "all-MiniLM-L6-v2"}})),
        )
        .await;
    assert_eq!(r["points"], json!([]));
    s.shutdown().await;
}

fn cairn(data_dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_cairn"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env("CAIRN_EMBEDDING__MODELS_DIR", models_dir())
        .env_remove("CAIRN_METADATA_URL")
        .output()
        .expect("run cairn")
}

fn summary_of(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn write_docs(dir: &Path) {
    std::fs::create_dir_all(dir).expect("mkdir");
    for (id, _, text) in DOCS {
        std::fs::write(dir.join(format!("{id}.txt")), text).expect("write");
    }
    std::fs::write(
        dir.join("notes.md"),
        "# Field notes\n\nThe lighthouse keeper logs every storm.",
    )
    .expect("write");
}

#[tokio::test]
async fn cairn_ingest_embedded_then_through_the_server() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (docs, data) = (dir.path().join("docs"), dir.path().join("data"));
    write_docs(&docs);
    let docs_arg = docs.to_str().expect("utf-8");

    // Embedded: into the data directory, recorded in its catalog.
    let out = cairn(
        &data,
        &[
            "ingest",
            docs_arg,
            "--collection",
            "kb",
            "--json",
            "--tag",
            "notes",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = summary_of(&out);
    assert_eq!(
        (
            s["added"].as_u64(),
            s["failed"].as_u64(),
            s["chunks"].as_u64()
        ),
        (Some(6), Some(0), Some(6)),
        "{s}"
    );
    let tagged = |extra: &[&str]| {
        let mut args = vec!["ingest", docs_arg, "--collection", "kb", "--tag", "notes"];
        args.extend_from_slice(extra);
        cairn(&data, &args)
    };
    let out = tagged(&[]);
    assert!(out.status.success());
    let line = String::from_utf8_lossy(&out.stdout);
    assert!(
        line.starts_with("nothing changed: 6 documents up to date"),
        "{line}"
    );
    // A broken file: the rest is ingested, the failure listed, exit code 2.
    std::fs::write(docs.join("broken.pdf"), "%PDF-1.7 garbage").expect("write");
    std::fs::write(
        docs.join("garden.txt"),
        "Tomatoes and basil like warm summers.",
    )
    .expect("write");
    let out = tagged(&["--json"]);
    assert_eq!(out.status.code(), Some(2));
    let s = summary_of(&out);
    assert_eq!(
        (
            s["updated"].as_u64(),
            s["skipped"].as_u64(),
            s["failed"].as_u64()
        ),
        (Some(1), Some(5), Some(1)),
        "{s}"
    );
    assert!(s["failures"][0]["source"]
        .as_str()
        .expect("source")
        .ends_with("broken.pdf"));
    std::fs::remove_file(docs.join("broken.pdf")).expect("rm");
    // Fatal errors: exit 1 with a message.
    let out = cairn(
        &data,
        &["ingest", docs_arg, "--collection", "kb", "--model", "nope"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no model `nope`"));
    let out = cairn(&data, &["ingest", "/no/such/folder", "--collection", "kb"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/no/such/folder"));

    // Serve that data directory: text queries and the catalog see it all.
    let s = server_on(&data).await;
    let r = s
        .ok(Method::POST, "/collections/kb/points/query", Some(json!({"query": {"text": "who records the weather at the coast"}, "limit": 1, "with_payload": true})))
        .await;
    let top = &r["points"][0]["payload"];
    assert_eq!(top["title"], "Field notes", "{r}");
    assert_eq!(top["tags"], json!(["notes"]));
    assert_eq!(top["file_type"], "md");
    let listed = s.ok(Method::GET, "/collections/kb/documents", None).await;
    assert_eq!(
        listed["documents"].as_array().map(Vec::len),
        Some(6),
        "{listed}"
    );

    // Through the server: embedded here, written over HTTP, recorded there.
    let other = dir.path().join("other");
    std::fs::create_dir_all(&other).expect("mkdir");
    std::fs::write(
        other.join("moon.txt"),
        "The Moon orbits the Earth every 27 days.",
    )
    .expect("write");
    let remote = tempfile::tempdir().expect("tempdir"); // unused data dir for the client
    let run = |args: Vec<String>| {
        let base = s.base.clone();
        let remote = remote.path().to_path_buf();
        move || {
            let mut all: Vec<String> = vec!["ingest".into()];
            all.extend(args);
            all.extend(["--server".into(), base, "--json".into()]);
            let refs: Vec<&str> = all.iter().map(String::as_str).collect();
            cairn(&remote, &refs)
        }
    };
    let other_arg = other.to_string_lossy().into_owned();
    let out = tokio::task::spawn_blocking(run(vec![
        other_arg.clone(),
        "--collection".into(),
        "remote".into(),
    ]))
    .await
    .expect("join");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(summary_of(&out)["added"], 1);
    let out = tokio::task::spawn_blocking(run(vec![
        other_arg.clone(),
        "--collection".into(),
        "remote".into(),
    ]))
    .await
    .expect("join");
    assert_eq!(summary_of(&out)["skipped"], 1, "idempotent over HTTP too");
    let r = s
        .ok(
            Method::POST,
            "/collections/remote/points/query",
            Some(json!({"query": {"bm25": "orbits"}, "with_payload": true})),
        )
        .await;
    assert_eq!(r["points"][0]["payload"]["title"], "moon");
    let listed = s
        .ok(Method::GET, "/collections/remote/documents", None)
        .await;
    assert_eq!(listed["documents"][0]["chunk_count"], 1, "{listed}");
    // --prune over HTTP.
    std::fs::remove_file(other.join("moon.txt")).expect("rm");
    let out = tokio::task::spawn_blocking(run(vec![
        other_arg,
        "--collection".into(),
        "remote".into(),
        "--prune".into(),
    ]))
    .await
    .expect("join");
    assert_eq!(summary_of(&out)["removed"], 1);
    let count = s
        .ok(
            Method::POST,
            "/collections/remote/points/count",
            Some(json!({})),
        )
        .await;
    assert_eq!(count["count"], 0);
    let listed = s
        .ok(Method::GET, "/collections/remote/documents", None)
        .await;
    assert_eq!(listed["documents"], json!([]));
    // A collection of another size is refused before anything is written.
    s.ok(
        Method::PUT,
        "/collections/small",
        Some(json!({"vectors": {"size": 8, "distance": "Cosine"}})),
    )
    .await;
    let out = tokio::task::spawn_blocking(run(vec![
        docs_arg.to_string(),
        "--collection".into(),
        "small".into(),
    ]))
    .await
    .expect("join");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("8-d"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    s.shutdown().await;
}
