//! The writes a collection logs. Each is stamped with a sequence number (its
//! operation stamp) when it enters the WAL, and applied to the segment in
//! stamp order, both live and on replay.
//!
//! Writes that select points by filter are resolved to ids *before* they are
//! logged, so replaying the log never depends on the state it is replayed on.

use serde::{Deserialize, Serialize};

use crate::types::{
    HnswConfig, Payload, PayloadSchemaType, PointId, PointStruct, ScalarQuantization,
};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Operation {
    /// Insert or replace points (vectors already validated and normalised).
    Upsert(Vec<PointStruct>),
    Delete(Vec<PointId>),
    /// Merge keys into each point's payload.
    SetPayload {
        ids: Vec<PointId>,
        payload: Payload,
    },
    /// Replace each point's payload.
    OverwritePayload {
        ids: Vec<PointId>,
        payload: Payload,
    },
    /// Remove keys (dotted paths allowed) from each point's payload.
    DeletePayloadKeys {
        ids: Vec<PointId>,
        keys: Vec<String>,
    },
    ClearPayload {
        ids: Vec<PointId>,
    },
    CreateFieldIndex {
        field: String,
        kind: PayloadSchemaType,
    },
    DeleteFieldIndex {
        field: String,
    },
    /// New HNSW parameters; a changed `m` takes effect when the graph is
    /// next rebuilt (the collection compacts right after logging it).
    UpdateHnsw(HnswConfig),
    /// Turns int8 quantization on (with these parameters) or off. Appended
    /// last: bincode numbers variants by position, so older logs still read.
    UpdateQuantization(Option<ScalarQuantization>),
}
