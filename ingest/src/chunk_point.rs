//! A chunk as a point: its deterministic id and its payload.
//!
//! Point ids are derived from `(document_id, chunk_index)`, so re-ingesting
//! a changed document overwrites its chunks in place, and only the chunks
//! past its new end need deleting.

use cairn_engine::{Payload, PointId};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::chunker::Chunk;
use crate::document::Document;

/// The payload keys every chunk carries.
pub mod keys {
    pub const DOCUMENT_ID: &str = "document_id";
    pub const SOURCE: &str = "source";
    pub const TITLE: &str = "title";
    pub const CHUNK_INDEX: &str = "chunk_index";
    pub const CONTENT: &str = "content";
    pub const FILE_TYPE: &str = "file_type";
    pub const TAGS: &str = "tags";
    pub const CREATED_AT: &str = "created_at";
    pub const CONTENT_HASH: &str = "content_hash";
    pub const METADATA: &str = "metadata";
}

/// A UUID (version 8, "custom") from SHA-256 of the document id and index.
pub fn chunk_point_id(document_id: &str, chunk_index: usize) -> PointId {
    let mut h = Sha256::new();
    h.update(document_id.as_bytes());
    h.update([0]);
    h.update((chunk_index as u64).to_le_bytes());
    let digest = h.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    PointId::Uuid(uuid::Builder::from_custom_bytes(bytes).into_uuid())
}

/// The payload of one chunk (the schema in the README).
pub fn chunk_payload(doc: &Document, hash: &str, chunk: &Chunk, created_at: &str) -> Payload {
    let mut p = json!({
        keys::DOCUMENT_ID: doc.id,
        keys::SOURCE: doc.source,
        keys::TITLE: doc.title,
        keys::CHUNK_INDEX: chunk.index,
        keys::CONTENT: chunk.text,
        keys::FILE_TYPE: doc.file_type,
        keys::TAGS: doc.tags,
        keys::CREATED_AT: created_at,
        keys::CONTENT_HASH: hash,
    });
    if let (Some(meta), Value::Object(map)) = (&doc.metadata, &mut p) {
        map.insert(keys::METADATA.into(), Value::Object(meta.clone()));
    }
    match p {
        Value::Object(map) => Payload(map),
        _ => Payload::default(),
    }
}

/// A point id as the catalog stores it.
pub fn id_text(id: PointId) -> String {
    match id {
        PointId::Num(n) => n.to_string(),
        PointId::Uuid(u) => Uuid::hyphenated(u).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_deterministic_and_distinct() {
        assert_eq!(chunk_point_id("a", 0), chunk_point_id("a", 0));
        assert_ne!(chunk_point_id("a", 0), chunk_point_id("a", 1));
        assert_ne!(chunk_point_id("a", 1), chunk_point_id("a1", 0));
    }
}
