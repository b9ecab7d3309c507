//! Cairn's batch document ingestion: load files, chunk them by tokens, embed
//! the chunks with an ONNX model and upsert them, idempotently by content hash.
//!
//! Not built yet: this crate is an empty placeholder in the workspace so the
//! layout is stable. It exports nothing, and nothing calls it. The ingestion
//! issue fills it in.
