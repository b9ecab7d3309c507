//! Ingestion as Cairn's own processes run it — `cairn ingest` on a data
//! directory and the server's documents endpoint: the pipeline of
//! `cairn-ingest` over an engine collection, with each written document
//! (and each removed one) recorded in the metadata catalog.
//!
//! The collection stays the source of truth (its chunks carry
//! `document_id` and `content_hash`); the catalog is the queryable record
//! beside it, so a catalog that cannot be reached is logged, never fatal.

use std::collections::HashMap;

use cairn_ingest::sink::{DocumentRecord, StoredDocument, WriteBatch};
use cairn_ingest::{Result, Sink, Summary};

use crate::catalog::{self, Catalog, NewDocument};

/// Writes `records` and forgets `removed` documents of `collection`.
pub async fn record(
    catalog: &Catalog,
    collection: &str,
    records: &[DocumentRecord],
    removed: &[String],
) -> catalog::Result<()> {
    let docs: Vec<NewDocument> = records
        .iter()
        .map(|r| NewDocument {
            collection,
            document_id: &r.document_id,
            source: Some(&r.source),
            title: Some(&r.title),
            content_hash: &r.content_hash,
        })
        .collect();
    let with_points: Vec<(&NewDocument, &[String])> = docs
        .iter()
        .zip(records)
        .map(|(d, r)| (d, r.point_ids.as_slice()))
        .collect();
    let removed: Vec<(&str, &str)> = removed.iter().map(|id| (collection, id.as_str())).collect();
    catalog.put_documents(&with_points, &removed).await?;
    Ok(())
}

/// How a finished run is recorded in `ingestion_runs`: its status
/// (`good`, `partial` when some documents failed, `failed`), the counts
/// (added, updated, skipped, failed) and the error.
pub fn run_record<E: std::fmt::Display>(
    outcome: &std::result::Result<Summary, E>,
) -> (&'static str, [i64; 4], Option<String>) {
    match outcome {
        Ok(s) => (
            if s.failed > 0 { "partial" } else { "good" },
            [s.added, s.updated, s.skipped, s.failed].map(|n| n as i64),
            None,
        ),
        Err(e) => ("failed", [0; 4], Some(e.to_string())),
    }
}

/// A sink that also records what it wrote in the catalog.
pub struct Recording<S> {
    inner: S,
    catalog: Option<Catalog>,
    collection: String,
    runtime: tokio::runtime::Handle,
}

impl<S: Sink> Recording<S> {
    /// `runtime` runs the catalog's queries; `write` is called from
    /// ordinary threads (the pipeline's writer), which may block on it.
    pub fn new(
        inner: S,
        catalog: Option<Catalog>,
        collection: &str,
        runtime: tokio::runtime::Handle,
    ) -> Self {
        Recording {
            inner,
            catalog,
            collection: collection.to_string(),
            runtime,
        }
    }
}

impl<S: Sink> Sink for Recording<S> {
    fn stored_documents(&self) -> Result<HashMap<String, StoredDocument>> {
        self.inner.stored_documents()
    }

    fn shares_cpu(&self) -> bool {
        self.inner.shares_cpu()
    }

    fn write(&self, batch: &WriteBatch) -> Result<()> {
        self.inner.write(batch)?;
        if let Some(catalog) = &self.catalog {
            let records = batch.records();
            let done =
                self.runtime
                    .block_on(record(catalog, &self.collection, &records, &batch.removed));
            if let Err(e) = done {
                tracing::warn!(error = %e, collection = %self.collection, "the chunks are written; the catalog missed them");
            }
        }
        Ok(())
    }
}
