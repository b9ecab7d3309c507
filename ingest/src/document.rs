//! A document as loaded, before chunking, and the fingerprint that makes
//! ingestion idempotent.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// One document: a file, or one record of a JSON-lines file.
#[derive(Clone, Debug, PartialEq)]
pub struct Document {
    /// Stable identity across runs: the file's canonical path, or a
    /// JSON-lines record's id.
    pub id: String,
    /// The file it came from (canonical path).
    pub source: String,
    pub title: String,
    /// Plain text to chunk and embed.
    pub text: String,
    /// `txt`, `md`, `html`, `pdf` or `jsonl`.
    pub file_type: &'static str,
    pub tags: Vec<String>,
    /// Extra fields (JSON-lines metadata), stored in every chunk's payload.
    pub metadata: Option<Map<String, Value>>,
}

impl Document {
    /// SHA-256 of everything that ends up in the index: title, text, tags
    /// and metadata, each length-prefixed so no two documents collide by
    /// moving text between fields. Unchanged hash ⇒ nothing to re-embed.
    pub fn content_hash(&self) -> String {
        let mut h = Sha256::new();
        let mut field = |bytes: &[u8]| {
            h.update((bytes.len() as u64).to_le_bytes());
            h.update(bytes);
        };
        field(self.title.as_bytes());
        field(self.text.as_bytes());
        field(self.tags.join("\u{1f}").as_bytes());
        let meta = self
            .metadata
            .as_ref()
            .map(|m| Value::Object(m.clone()).to_string())
            .unwrap_or_default();
        field(meta.as_bytes());
        hex::encode(h.finalize())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_follows_content_not_identity() {
        let doc = Document {
            id: "/a.txt".into(),
            source: "/a.txt".into(),
            title: "a".into(),
            text: "hello".into(),
            file_type: "txt",
            tags: vec![],
            metadata: None,
        };
        let mut moved = doc.clone();
        moved.id = "/b.txt".into();
        assert_eq!(doc.content_hash(), moved.content_hash());
        let mut edited = doc.clone();
        edited.text.push('!');
        assert_ne!(doc.content_hash(), edited.content_hash());
        let mut shifted = doc.clone();
        shifted.title = "ah".into();
        shifted.text = "ello".into();
        assert_ne!(doc.content_hash(), shifted.content_hash());
        assert_eq!(doc.content_hash().len(), 64);
    }
}
