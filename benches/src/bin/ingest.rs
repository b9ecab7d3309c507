//! Ingestion throughput: Cairn's `cairn ingest` against the Python stack a
//! user would otherwise script (ONNX Runtime + tokenizers + Chroma, same
//! model files), on the same chunks, in one run, reported as a ratio.
//!
//! 1. The first `--limit` documents of a BEIR-style corpus go through
//!    `cairn ingest` (load, chunk, embed, upsert with the WAL and the HNSW
//!    and text indexes); its JSON summary gives chunks and seconds (model
//!    loading excluded, as for the peer).
//! 2. The chunks Cairn made are read back from its collection and handed to
//!    `python/ingest_peer.py`, which embeds them (sorted, batched, pooled
//!    and normalised as sentence-transformers does) and adds them to a
//!    Chroma `PersistentClient` collection.
//! 3. Both stacks' vectors for the first chunks are compared (cosine), so
//!    the two did the same work.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use cairn_benches::peers::{bench_python, script, workspace};
use cairn_engine::{Engine, ScrollRequest};
use clap::Parser;
use serde_json::{json, Value};

#[derive(Parser, Debug)]
#[command(about = "Ingestion chunks/s: cairn ingest vs ONNX Runtime + Chroma in Python")]
struct Args {
    /// A BEIR-style corpus (`{"_id", "title", "text"}` per line).
    #[arg(long)]
    corpus: PathBuf,
    /// Documents to take from the start of the corpus.
    #[arg(long, default_value_t = 2000)]
    limit: usize,
    /// Chunk size for `cairn ingest` (the peer embeds the same chunks).
    #[arg(long, default_value_t = 256)]
    chunk_tokens: usize,
    /// CPU threads for inference, both stacks.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    #[arg(long, default_value = "benches/results")]
    out: PathBuf,
    /// The `cairn` binary (default: the one beside this binary).
    #[arg(long)]
    cairn_bin: Option<PathBuf>,
    /// Python with the peers installed (default: benches/.venv).
    #[arg(long, env = "CAIRN_BENCH_PYTHON")]
    python: Option<PathBuf>,
    /// Models directory (default: ./models, fetched by scripts/models.sh).
    #[arg(long)]
    models_dir: Option<PathBuf>,
}

fn models_dir(args: &Args) -> Result<PathBuf> {
    if let Some(d) = &args.models_dir {
        return Ok(d.clone());
    }
    let out = Command::new(workspace().join("scripts/models.sh"))
        .output()
        .context("running scripts/models.sh")?;
    if !out.status.success() {
        bail!(
            "scripts/models.sh failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(PathBuf::from(String::from_utf8(out.stdout)?.trim()))
}

fn first_lines(from: &Path, to: &Path, n: usize) -> Result<usize> {
    let text =
        std::fs::read_to_string(from).with_context(|| format!("reading {}", from.display()))?;
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(n)
        .collect();
    std::fs::write(to, lines.join("\n") + "\n")?;
    Ok(lines.len())
}

fn main() -> Result<()> {
    let args = Args::parse();
    let models = models_dir(&args)?;
    let bin = match &args.cairn_bin {
        Some(b) => b.clone(),
        None => std::env::current_exe()?.with_file_name("cairn"),
    };
    if !bin.exists() {
        bail!("{} not found: build it with `cargo build --release -p cairn-server`, or pass --cairn-bin", bin.display());
    }
    let python = match &args.python {
        Some(p) => p.clone(),
        None => bench_python()?,
    };
    let dir = tempfile::tempdir()?;
    let corpus = dir.path().join("corpus.jsonl");
    let documents = first_lines(&args.corpus, &corpus, args.limit)?;
    let data = dir.path().join("data");

    eprintln!("cairn ingest: {documents} documents");
    let out = Command::new(&bin)
        .arg("--data-dir")
        .arg(&data)
        .arg("ingest")
        .arg(&corpus)
        .args(["--collection", "bench", "--json", "--chunk-tokens"])
        .arg(args.chunk_tokens.to_string())
        .env("CAIRN_EMBEDDING__MODELS_DIR", &models)
        .env("CAIRN_EMBEDDING__THREADS", args.threads.to_string())
        .output()
        .context("running cairn ingest")?;
    if !out.status.success() {
        bail!(
            "cairn ingest failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let cairn: Value = serde_json::from_slice(&out.stdout)?;
    let cairn_chunks = cairn["chunks"].as_u64().unwrap_or(0) as usize;
    let cairn_secs = cairn["seconds"].as_f64().unwrap_or(0.0);

    // The same chunks, in (document, chunk) order, for the peer.
    let (chunks, cairn_sample) = {
        let engine = Engine::open(&data)?;
        let c = engine.collection("bench")?;
        let page = c.scroll(&ScrollRequest {
            limit: usize::MAX,
            with_payload: true,
            with_vector: true,
            ..ScrollRequest::default()
        });
        let mut rows: Vec<(String, u64, String, Vec<f32>)> = page
            .points
            .into_iter()
            .filter_map(|p| {
                let pl = p.payload?.0;
                Some((
                    pl.get("document_id")?.as_str()?.to_string(),
                    pl.get("chunk_index")?.as_u64()?,
                    pl.get("content")?.as_str()?.to_string(),
                    p.vector?,
                ))
            })
            .collect();
        rows.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
        let chunks: Vec<Value> = rows
            .iter()
            .map(|(d, i, text, _)| json!({"id": format!("{d}#{i}"), "text": text}))
            .collect();
        let sample: Vec<Vec<f32>> = rows.into_iter().take(50).map(|r| r.3).collect();
        (chunks, sample)
    };
    if chunks.len() != cairn_chunks {
        bail!(
            "cairn reported {cairn_chunks} chunks but its collection holds {}",
            chunks.len()
        );
    }
    let chunks_file = dir.path().join("chunks.json");
    std::fs::write(&chunks_file, serde_json::to_vec(&chunks)?)?;

    eprintln!("onnxruntime + chromadb: the same {} chunks", chunks.len());
    let peer_out = dir.path().join("peer.json");
    let status = Command::new(&python)
        .arg(script("ingest_peer.py"))
        .arg("--chunks")
        .arg(&chunks_file)
        .arg("--model-dir")
        .arg(models.join(cairn_ingest::embed::DEFAULT_MODEL))
        .arg("--store")
        .arg(dir.path().join("chroma"))
        .args(["--threads", &args.threads.to_string(), "--out"])
        .arg(&peer_out)
        .status()
        .context("running ingest_peer.py")?;
    if !status.success() {
        bail!("ingest_peer.py failed");
    }
    let peer: Value = serde_json::from_slice(&std::fs::read(&peer_out)?)?;
    let peer_secs = peer["total_secs"].as_f64().unwrap_or(0.0);

    // Same work: the two stacks' vectors of the first chunks agree.
    let min_cosine = peer["sample"]
        .as_array()
        .into_iter()
        .flatten()
        .zip(&cairn_sample)
        .map(|(theirs, ours)| {
            theirs
                .as_array()
                .into_iter()
                .flatten()
                .zip(ours)
                .map(|(a, b)| a.as_f64().unwrap_or(0.0) * *b as f64)
                .sum::<f64>()
        })
        .fold(1.0f64, f64::min);

    let rate = |chunks: usize, secs: f64| chunks as f64 / secs.max(1e-9);
    let (cairn_rate, peer_rate) = (
        rate(cairn_chunks, cairn_secs),
        rate(chunks.len(), peer_secs),
    );
    let name = args
        .corpus
        .parent()
        .and_then(|p| p.file_name())
        .map_or("corpus".to_string(), |n| n.to_string_lossy().into_owned());
    let report = json!({
        "command": std::env::args().collect::<Vec<_>>().join(" "),
        "corpus": name,
        "documents": documents,
        "chunks": cairn_chunks,
        "chunk_tokens": args.chunk_tokens,
        "threads": args.threads,
        "cairn": {
            "version": env!("CARGO_PKG_VERSION"),
            "seconds": cairn_secs,
            "chunks_per_second": cairn_rate,
        },
        "peer": {
            "name": peer["peer"],
            "versions": peer["versions"],
            "seconds": peer_secs,
            "embed_seconds": peer["embed_secs"],
            "store_seconds": peer["store_secs"],
            "chunks_per_second": peer_rate,
        },
        "ratio": cairn_rate / peer_rate.max(1e-9),
        "min_cosine_first_chunks": min_cosine,
    });
    std::fs::create_dir_all(&args.out)?;
    let path = args.out.join(format!("ingest-{name}-{documents}.json"));
    std::fs::write(&path, serde_json::to_string_pretty(&report)? + "\n")?;
    println!(
        "{documents} documents, {cairn_chunks} chunks: cairn {cairn_rate:.1} chunks/s, onnxruntime+chromadb {peer_rate:.1} chunks/s ({:.2}x); vectors agree to cosine {min_cosine:.5}\nwrote {}",
        cairn_rate / peer_rate.max(1e-9),
        path.display()
    );
    Ok(())
}
