//! `cairn ingest PATH... --collection C [--server URL | --data-dir DIR]`.
//!
//! Embedded (the default), it opens the data directory, records each
//! written document and the run in the metadata catalog, and checkpoints on
//! exit. With `--server`, it embeds here and writes through the server's
//! REST API, which records the documents in its own catalog.

use std::path::PathBuf;

use anyhow::Context;
use cairn_engine::Engine;
use cairn_ingest::chunker::ChunkerConfig;
use cairn_ingest::embed::Embedder;
use cairn_ingest::loader::{JsonlFields, LoadOptions};
use cairn_ingest::{EngineSink, HttpSink, Ingest, IngestOptions, Summary};
use cairn_server::catalog::Catalog;
use cairn_server::config::ServeConfig;
use cairn_server::ingestion::{run_record, Recording};

use crate::cli::IngestArgs;

pub fn run(data_dir: Option<PathBuf>, args: IngestArgs) -> anyhow::Result<()> {
    let config = ServeConfig::load_for_tool(args.config.as_deref(), data_dir)?;
    let models = config.sidecars.embedding.model_cache();
    let embedder = models.get(&args.model)?;
    let options = IngestOptions {
        chunker: ChunkerConfig {
            chunk_tokens: args
                .chunk_tokens
                .unwrap_or(ChunkerConfig::default().chunk_tokens),
            overlap: args.overlap.unwrap_or(ChunkerConfig::default().overlap),
        },
        whole_documents: args.whole_documents,
        load: LoadOptions {
            jsonl: JsonlFields {
                text: args.text_field.clone(),
                id: args.id_field.clone(),
                title: args.title_field.clone(),
                metadata: if args.metadata_fields.is_empty() {
                    JsonlFields::default().metadata
                } else {
                    args.metadata_fields.clone()
                },
            },
            tags: args.tags.clone(),
        },
        prune: args.prune,
        force: args.force,
        progress: !args.json,
        ..IngestOptions::default()
    };
    let summary = match &args.server {
        Some(url) => {
            let sink = HttpSink::open(
                url,
                args.api_key.as_deref(),
                &args.collection,
                embedder.dim(),
                embedder.model_name(),
            )?;
            Ingest::new(&*embedder, &sink, options).paths(&args.paths)?
        }
        None => embedded(&config, &args, &*embedder, options)?,
    };
    report(&summary, args.json)?;
    if summary.failed > 0 {
        std::process::exit(2);
    }
    Ok(())
}

fn embedded(
    config: &ServeConfig,
    args: &IngestArgs,
    embedder: &dyn Embedder,
    options: IngestOptions,
) -> anyhow::Result<Summary> {
    let engine = Engine::open(&config.data_dir)
        .with_context(|| format!("cannot open data directory {}", config.data_dir.display()))?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let url = config.sidecars.metadata_url(&config.data_dir);
    let catalog = match runtime.block_on(Catalog::open(&url)) {
        Ok(c) => Some(c),
        Err(e) => {
            tracing::warn!(error = %e, "metadata catalog unavailable; this run is not recorded");
            None
        }
    };
    let sink = EngineSink::open(
        &engine,
        &args.collection,
        embedder.dim(),
        embedder.model_name(),
    )?;
    if let Some(c) = &catalog {
        let cfg = sink.collection().config();
        let distance = format!("{:?}", cfg.distance);
        if let Err(e) = runtime.block_on(c.record_collection(&args.collection, cfg.dim, &distance))
        {
            tracing::warn!(error = %e, "cannot record the collection in the catalog");
        }
    }
    let run_id = catalog.as_ref().and_then(|c| {
        runtime
            .block_on(c.start_ingestion_run(&args.collection))
            .ok()
    });
    let sink = Recording::new(
        sink,
        catalog.clone(),
        &args.collection,
        runtime.handle().clone(),
    );
    let outcome = Ingest::new(embedder, &sink, options).paths(&args.paths);
    if let (Some(c), Some(id)) = (&catalog, run_id) {
        let (status, counts, error) = run_record(&outcome);
        if let Err(e) =
            runtime.block_on(c.finish_ingestion_run(id, status, counts, error.as_deref()))
        {
            tracing::warn!(error = %e, "cannot record the ingestion run");
        }
    }
    engine.close().context("cannot checkpoint on exit")?;
    Ok(outcome?)
}

fn report(summary: &Summary, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(summary)?);
        return Ok(());
    }
    println!("{}", summary.line());
    for f in &summary.failures {
        eprintln!("failed: {}: {}", f.source, f.error);
    }
    for u in &summary.unsupported_files {
        eprintln!("skipped (unsupported type): {u}");
    }
    Ok(())
}
