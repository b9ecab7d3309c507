//! The writes a collection logs. Each is stamped with a sequence number (its
//! operation stamp) when it enters the WAL, and applied to the segment in
//! stamp order, both live and on replay.
//!
//! Writes that select points by filter are resolved to ids *before* they are
//! logged, so replaying the log never depends on the state it is replayed on.

use serde::{Deserialize, Serialize};

use crate::types::{
    HnswConfig, Payload, PayloadSchemaType, PointId, PointStruct, ScalarQuantization,
    ScalarQuantizationV1,
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
    /// Turned int8 quantization on or off, in logs written before int4
    /// existed; read, never written. Variants are appended, never removed:
    /// bincode numbers them by position, so older logs still read.
    UpdateQuantization(Option<ScalarQuantizationV1>),
    /// Turns scalar quantization on (with these parameters) or off.
    SetQuantization(Option<ScalarQuantization>),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantization_records_of_older_logs_still_decode() {
        // What a log written before int4 holds for "quantile 0.9": variant
        // 9, `Some`, the quantile.
        let mut old = 9u32.to_le_bytes().to_vec();
        old.push(1);
        old.extend(0.9f32.to_le_bytes());
        match bincode::deserialize::<Operation>(&old).expect("decodes") {
            Operation::UpdateQuantization(Some(q)) => {
                let q: ScalarQuantization = q.into();
                assert_eq!(
                    q,
                    ScalarQuantization {
                        quantile: 0.9,
                        kind: crate::types::ScalarType::Int8,
                    }
                );
            }
            other => panic!("decoded as {other:?}"),
        }
        // The record written now carries the type.
        let new = Operation::SetQuantization(Some(ScalarQuantization::of(
            crate::types::ScalarType::Int4,
        )));
        let bytes = bincode::serialize(&new).expect("encodes");
        assert_eq!(&bytes[..4], &10u32.to_le_bytes());
        let back: Operation = bincode::deserialize(&bytes).expect("decodes");
        assert!(
            matches!(back, Operation::SetQuantization(Some(q)) if q.kind == crate::types::ScalarType::Int4)
        );
    }
}
