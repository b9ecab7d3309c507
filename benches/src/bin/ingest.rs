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
//!
//! `--cairn-models a,b` runs Cairn once per model (e.g. the int8 variant
//! beside the base model); the peer runs the first, so the first ratio is
//! the same-model one.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use cairn_benches::peers::{script, workspace, Tools};
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
    #[command(flatten)]
    tools: Tools,
    /// Models directory (default: ./models, fetched by scripts/models.sh).
    #[arg(long)]
    models_dir: Option<PathBuf>,
    /// Models Cairn ingests with, one run each; the first is the one the
    /// peer runs too (the same-model comparison). `all-MiniLM-L6-v2-int8`
    /// is built by `scripts/models.sh --int8`.
    #[arg(long, value_delimiter = ',', default_value = "all-MiniLM-L6-v2")]
    cairn_models: Vec<String>,
}

/// One `cairn ingest` run.
struct CairnRun {
    model: String,
    chunks: usize,
    seconds: f64,
    embed_seconds: f64,
    write_seconds: f64,
    data: PathBuf,
}

fn cairn_ingest(
    bin: &Path,
    models: &Path,
    corpus: &Path,
    data: PathBuf,
    model: &str,
    args: &Args,
) -> Result<CairnRun> {
    eprintln!("cairn ingest with {model}");
    let out = Command::new(bin)
        .arg("--data-dir")
        .arg(&data)
        .arg("ingest")
        .arg(corpus)
        .args([
            "--collection",
            "bench",
            "--json",
            "--model",
            model,
            "--chunk-tokens",
        ])
        .arg(args.chunk_tokens.to_string())
        .env("CAIRN_EMBEDDING__MODELS_DIR", models)
        .env("CAIRN_EMBEDDING__THREADS", args.threads.to_string())
        .output()
        .context("running cairn ingest")?;
    if !out.status.success() {
        bail!(
            "cairn ingest failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let v: Value = serde_json::from_slice(&out.stdout)?;
    let f = |k: &str| v[k].as_f64().unwrap_or(0.0);
    Ok(CairnRun {
        model: model.to_string(),
        chunks: v["chunks"].as_u64().unwrap_or(0) as usize,
        seconds: f("seconds"),
        embed_seconds: f("embed_seconds"),
        write_seconds: f("write_seconds"),
        data,
    })
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
    let bin = args.tools.cairn_bin()?;
    let python = args.tools.python()?;
    let dir = tempfile::tempdir()?;
    let corpus = dir.path().join("corpus.jsonl");
    let documents = first_lines(&args.corpus, &corpus, args.limit)?;
    eprintln!("{documents} documents");
    let mut runs = Vec::new();
    for (i, model) in args.cairn_models.iter().enumerate() {
        let data = dir.path().join(format!("data-{i}"));
        runs.push(cairn_ingest(&bin, &models, &corpus, data, model, &args)?);
    }
    let Some(base) = runs.first() else {
        bail!("--cairn-models is empty");
    };
    let (cairn_chunks, data) = (base.chunks, base.data.clone());

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
        .arg(models.join(&base.model))
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
    let peer_rate = rate(chunks.len(), peer_secs);
    let name = args
        .corpus
        .parent()
        .and_then(|p| p.file_name())
        .map_or("corpus".to_string(), |n| n.to_string_lossy().into_owned());
    let cairn: Vec<Value> = runs
        .iter()
        .map(|r| {
            let cps = rate(r.chunks, r.seconds);
            json!({
                "model": r.model,
                "version": env!("CARGO_PKG_VERSION"),
                "chunks": r.chunks,
                "seconds": r.seconds,
                "embed_seconds": r.embed_seconds,
                "write_seconds": r.write_seconds,
                "chunks_per_second": cps,
                "ratio_to_peer": cps / peer_rate.max(1e-9),
            })
        })
        .collect();
    let report = json!({
        "command": std::env::args().collect::<Vec<_>>().join(" "),
        "corpus": name,
        "documents": documents,
        "chunks": cairn_chunks,
        "chunk_tokens": args.chunk_tokens,
        "threads": args.threads,
        "cairn": cairn,
        "peer": {
            "name": peer["peer"],
            "model": base.model,
            "versions": peer["versions"],
            "seconds": peer_secs,
            "embed_seconds": peer["embed_secs"],
            "store_seconds": peer["store_secs"],
            "chunks_per_second": peer_rate,
        },
        "ratio": rate(base.chunks, base.seconds) / peer_rate.max(1e-9),
        "min_cosine_first_chunks": min_cosine,
    });
    std::fs::create_dir_all(&args.tools.out)?;
    let path = args
        .tools
        .out
        .join(format!("ingest-{name}-{documents}.json"));
    std::fs::write(&path, serde_json::to_string_pretty(&report)? + "\n")?;
    println!("{documents} documents, {cairn_chunks} chunks (same chunks for all):");
    for r in &runs {
        let cps = rate(r.chunks, r.seconds);
        println!(
            "  cairn ({}): {cps:.1} chunks/s, {:.2}x the peer",
            r.model,
            cps / peer_rate.max(1e-9)
        );
    }
    println!(
        "  onnxruntime+chromadb ({}): {peer_rate:.1} chunks/s; vectors agree with cairn's to cosine {min_cosine:.5}\nwrote {}",
        base.model,
        path.display()
    );
    Ok(())
}
