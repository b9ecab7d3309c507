//! Where ingested chunks go. A [`Sink`] is a collection seen through three
//! operations — what documents it holds, write some, remove some — so the
//! pipeline is the same embedded ([`EngineSink`]) and against a server
//! (`HttpSink`).
//!
//! What a collection holds is read back from its chunks' payloads
//! (`document_id`, `content_hash`, `source`): the collection is the source of
//! truth, so a snapshot or backup carries its ingestion state with it.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use cairn_engine::{
    Collection, CollectionConfig, Distance, EmbeddingConfig, Engine, EngineError, HnswConfig,
    PayloadSchemaType, PointId, PointSelector, PointStruct, ScrollRequest,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::chunk_point::{id_text, keys};
use crate::document::Document;
use crate::embed::same_model;
use crate::error::{IngestError, Result};

/// What a collection holds of one document.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StoredDocument {
    /// Content hashes its chunks carry: one, unless an interrupted update
    /// left chunks of two versions (then it is re-ingested).
    pub hashes: BTreeSet<String>,
    pub source: String,
    /// Chunks found.
    pub chunks: usize,
    /// Highest `chunk_index` found: chunk ids are derived from the index,
    /// so `0..=max_index` names every chunk the document may have.
    pub max_index: usize,
}

/// One document's new chunks.
#[derive(Clone, Debug)]
pub struct DocumentWrite {
    pub document: Document,
    pub content_hash: String,
    pub points: Vec<PointStruct>,
}

/// One round of changes to a collection.
#[derive(Clone, Debug, Default)]
pub struct WriteBatch {
    /// Documents (new or changed) whose chunks to upsert. A document's
    /// chunks are never split across batches, so each is replaced whole.
    pub documents: Vec<DocumentWrite>,
    /// Chunk points to delete after the upsert: the tails of documents that
    /// shrank, and every chunk of removed documents.
    pub stale: Vec<PointId>,
    /// Documents removed entirely (their chunks are in `stale`).
    pub removed: Vec<String>,
}

/// What the metadata catalog records of a written document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentRecord {
    pub document_id: String,
    pub source: String,
    pub title: String,
    pub content_hash: String,
    /// Point ids of its chunks, in chunk order.
    pub point_ids: Vec<String>,
}

impl WriteBatch {
    /// The catalog's view of the written documents.
    pub fn records(&self) -> Vec<DocumentRecord> {
        self.documents
            .iter()
            .map(|d| DocumentRecord {
                document_id: d.document.id.clone(),
                source: d.document.source.clone(),
                title: d.document.title.clone(),
                content_hash: d.content_hash.clone(),
                point_ids: d.points.iter().map(|p| id_text(p.id)).collect(),
            })
            .collect()
    }

    pub fn points(&self) -> Vec<PointStruct> {
        self.documents
            .iter()
            .flat_map(|d| d.points.iter().cloned())
            .collect()
    }
}

pub trait Sink: Send + Sync {
    /// Documents the collection holds, by document id.
    fn stored_documents(&self) -> Result<HashMap<String, StoredDocument>>;
    /// Upserts the batch's points (one atomic write), then deletes its
    /// stale points.
    fn write(&self, batch: &WriteBatch) -> Result<()>;
    /// Whether writing runs on this process's CPUs (then the pipeline
    /// writes between embedding rounds instead of beside them).
    fn shares_cpu(&self) -> bool {
        false
    }
}

/// Adds one chunk's payload to the documents map.
pub fn note_chunk(
    stored: &mut HashMap<String, StoredDocument>,
    payload: &serde_json::Map<String, Value>,
) {
    let Some(id) = payload.get(keys::DOCUMENT_ID).and_then(Value::as_str) else {
        return; // not a chunk Cairn wrote
    };
    let doc = stored.entry(id.to_string()).or_default();
    doc.chunks += 1;
    if let Some(i) = payload.get(keys::CHUNK_INDEX).and_then(Value::as_u64) {
        doc.max_index = doc.max_index.max(i as usize);
    }
    if let Some(h) = payload.get(keys::CONTENT_HASH).and_then(Value::as_str) {
        doc.hashes.insert(h.to_string());
    }
    if let Some(s) = payload.get(keys::SOURCE).and_then(Value::as_str) {
        doc.source = s.to_string();
    }
}

/// The graph parameters of collections ingestion creates: Qdrant's and
/// Chroma's defaults (M = 16, ef_construct = 100) rather than Cairn's
/// heavier general default (tuned for uniform random vectors). Sentence
/// embeddings are easy data for HNSW, and building the graph competes with
/// the model for the CPU while ingesting.
pub fn ingest_hnsw() -> HnswConfig {
    HnswConfig {
        m: 16,
        ef_construct: 100,
        ..HnswConfig::default()
    }
}

/// A collection of an engine in this process.
pub struct EngineSink {
    collection: Arc<Collection>,
}

impl EngineSink {
    /// The collection `name`, created for `model`'s vectors (cosine) if it
    /// does not exist, with the indexes ingestion relies on: a text index on
    /// `content` (BM25) and a keyword index on `document_id`.
    pub fn open(engine: &Engine, name: &str, dim: usize, model: &str) -> Result<EngineSink> {
        let collection = match engine.collection(name) {
            Ok(c) => c,
            Err(EngineError::CollectionNotFound(_)) => {
                let mut config = CollectionConfig::new(dim, Distance::Cosine);
                config.hnsw = ingest_hnsw();
                config.embedding = Some(EmbeddingConfig {
                    model: model.to_string(),
                });
                engine.create_collection(name, config)?
            }
            Err(e) => return Err(e.into()),
        };
        let config = collection.config();
        if config.dim != dim {
            return Err(IngestError::Invalid(format!(
                "collection `{name}` holds {}-d vectors but the model `{model}` makes {dim}-d ones: ingest into another collection, or use the model it was made with",
                config.dim
            )));
        }
        if let Some(e) = config
            .embedding
            .as_ref()
            .filter(|e| !same_model(&e.model, model))
        {
            return Err(IngestError::Invalid(format!(
                "collection `{name}` is embedded with `{}`, not `{model}`",
                e.model
            )));
        }
        let schema = collection.info().payload_indexes;
        for (field, kind) in [
            (keys::CONTENT, PayloadSchemaType::Text),
            (keys::DOCUMENT_ID, PayloadSchemaType::Keyword),
        ] {
            if !schema.iter().any(|(f, k)| f == field && *k == kind) {
                collection.create_payload_index(field, kind)?;
            }
        }
        Ok(EngineSink { collection })
    }

    pub fn collection(&self) -> &Arc<Collection> {
        &self.collection
    }
}

impl Sink for EngineSink {
    fn stored_documents(&self) -> Result<HashMap<String, StoredDocument>> {
        let mut stored = HashMap::new();
        let mut offset: Option<PointId> = None;
        loop {
            let page = self.collection.scroll(&ScrollRequest {
                offset,
                limit: 4096,
                filter: None,
                with_payload: true,
                with_vector: false,
            });
            for p in &page.points {
                if let Some(payload) = &p.payload {
                    note_chunk(&mut stored, &payload.0);
                }
            }
            match page.next_page_offset {
                Some(next) => offset = Some(next),
                None => return Ok(stored),
            }
        }
    }

    fn shares_cpu(&self) -> bool {
        true
    }

    fn write(&self, batch: &WriteBatch) -> Result<()> {
        self.collection.upsert(batch.points())?;
        if !batch.stale.is_empty() {
            self.collection
                .delete(PointSelector::Ids(batch.stale.clone()))?;
        }
        Ok(())
    }
}
