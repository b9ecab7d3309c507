//! `cairn eval beir DIR`: retrieval quality of Cairn's dense, BM25 and
//! hybrid search on a BEIR data set, measured through the same ingestion
//! and search code users run (see `cairn_ingest::evaluation`).

use anyhow::Context;
use cairn_datasets::beir;
use cairn_engine::Engine;
use cairn_ingest::chunker::ChunkerConfig;
use cairn_ingest::embed::Embedder;
use cairn_ingest::evaluation::{corpus_document, evaluate, Report};
use cairn_ingest::{EngineSink, Ingest, IngestOptions};
use cairn_server::config::ServeConfig;

use crate::cli::{EvalBeirArgs, EvalCommand};

pub fn run(cmd: EvalCommand) -> anyhow::Result<()> {
    match cmd {
        EvalCommand::Beir(args) => beir_eval(args),
    }
}

fn beir_eval(args: EvalBeirArgs) -> anyhow::Result<()> {
    let config = ServeConfig::load_for_tool(args.config.as_deref(), None)?;
    let dir = &args.dir;
    let corpus = beir::read_corpus(dir.join("corpus.jsonl"))?;
    let queries = beir::read_queries(dir.join("queries.jsonl"))?;
    let qrels_path = dir.join("qrels").join(format!("{}.tsv", args.split));
    let qrels = beir::read_qrels(&qrels_path)
        .with_context(|| format!("cannot read the judgments {}", qrels_path.display()))?;
    let embedder = config.sidecars.embedding.model_cache().get(&args.model)?;

    let scratch = tempfile::tempdir().context("cannot make a scratch directory")?;
    let engine = Engine::open(scratch.path())?;
    let sink = EngineSink::open(&engine, "beir", embedder.dim(), embedder.model_name())?;
    let options = IngestOptions {
        chunker: ChunkerConfig {
            chunk_tokens: args.chunk_tokens.unwrap_or(0),
            overlap: args.overlap,
        },
        whole_documents: args.chunk_tokens.is_none(),
        progress: !args.json,
        ..IngestOptions::default()
    };
    eprintln!(
        "ingesting {} documents with {} ({})",
        corpus.len(),
        embedder.model_name(),
        match args.chunk_tokens {
            Some(n) => format!("chunks of {n} tokens, overlap {}", args.overlap),
            None => "one chunk per document".into(),
        }
    );
    let documents = corpus.iter().map(corpus_document).collect();
    let ingested = Ingest::new(&*embedder, &sink, options).documents(documents)?;
    if ingested.failed > 0 {
        eprintln!(
            "warning: {} documents could not be ingested",
            ingested.failed
        );
    }
    eprintln!(
        "ingested {} chunks in {:.0} s ({:.0} chunks/s); running {} queries",
        ingested.chunks,
        ingested.seconds,
        ingested.chunks_per_second,
        qrels.len()
    );
    let report = evaluate(sink.collection(), &*embedder, &queries, &qrels)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", table(&report));
    }
    Ok(())
}

fn table(r: &Report) -> String {
    let mut out = format!(
        "{} queries, {} documents, {} chunks\n{:<8} {:>8} {:>11} {:>8}\n",
        r.queries, r.documents, r.chunks, "", "nDCG@10", "Recall@100", "MRR@10"
    );
    for (name, m) in [("dense", r.dense), ("bm25", r.bm25), ("hybrid", r.hybrid)] {
        out.push_str(&format!(
            "{name:<8} {:>8.4} {:>11.4} {:>8.4}\n",
            m.ndcg_at_10, m.recall_at_100, m.mrr_at_10
        ));
    }
    out
}
