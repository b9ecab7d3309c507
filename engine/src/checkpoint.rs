//! Checkpoints: the durable image of a segment at one operation stamp, after
//! which the WAL can be emptied.
//!
//! A checkpoint of generation `g` is `graph-<g>.bin` and `points-<g>.bin`
//! (framed, checksummed), plus `checkpoint.bin`, which names the generation,
//! the last applied stamp, the config, the payload index schema and the valid
//! length and CRC of the vector file. `checkpoint.bin` is replaced last and
//! atomically, so a crash at any step leaves the previous checkpoint whole;
//! files of other generations are leftovers and are removed on open.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{EngineError, Result};
use crate::file_format::{read_framed, read_framed_versions, write_framed};
use crate::graph::Graph;
use crate::id_tracker::IdTrackerData;
use crate::types::{
    CollectionConfig, Distance, EmbeddingConfig, HnswConfig, Payload, PayloadSchemaType,
    ScalarQuantizationV1,
};

const META_MAGIC: &[u8; 8] = b"CAIRNCKP";
const GRAPH_MAGIC: &[u8; 8] = b"CAIRNGRF";
const POINTS_MAGIC: &[u8; 8] = b"CAIRNPTS";
const VERSION: u32 = 1;
/// Version 2 added `CollectionConfig::quantization`, version 3
/// `CollectionConfig::embedding`, version 4 `ScalarQuantization::kind`;
/// every older version still reads.
const META_VERSION: u32 = 4;
pub const META_FILE: &str = "checkpoint.bin";

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CheckpointMeta {
    pub generation: u64,
    pub applied_seq: u64,
    pub config: CollectionConfig,
    pub payload_indexes: Vec<(String, PayloadSchemaType)>,
    pub vectors_file: String,
    pub vectors_len: u64,
    pub vectors_crc: u32,
}

/// `CheckpointMeta` as version 1 wrote it (no quantization).
#[derive(Deserialize)]
struct CheckpointMetaV1 {
    generation: u64,
    applied_seq: u64,
    config: (usize, Distance, HnswConfig),
    payload_indexes: Vec<(String, PayloadSchemaType)>,
    vectors_file: String,
    vectors_len: u64,
    vectors_crc: u32,
}

impl From<CheckpointMetaV1> for CheckpointMeta {
    fn from(v1: CheckpointMetaV1) -> Self {
        let (dim, distance, hnsw) = v1.config;
        CheckpointMetaV2 {
            generation: v1.generation,
            applied_seq: v1.applied_seq,
            config: (dim, distance, hnsw, None),
            payload_indexes: v1.payload_indexes,
            vectors_file: v1.vectors_file,
            vectors_len: v1.vectors_len,
            vectors_crc: v1.vectors_crc,
        }
        .into()
    }
}

/// `CheckpointMeta` as version 2 wrote it (no embedding model).
#[derive(Deserialize)]
struct CheckpointMetaV2 {
    generation: u64,
    applied_seq: u64,
    config: (usize, Distance, HnswConfig, Option<ScalarQuantizationV1>),
    payload_indexes: Vec<(String, PayloadSchemaType)>,
    vectors_file: String,
    vectors_len: u64,
    vectors_crc: u32,
}

impl From<CheckpointMetaV2> for CheckpointMeta {
    fn from(v2: CheckpointMetaV2) -> Self {
        let (dim, distance, hnsw, quantization) = v2.config;
        CheckpointMetaV3 {
            generation: v2.generation,
            applied_seq: v2.applied_seq,
            config: (dim, distance, hnsw, quantization, None),
            payload_indexes: v2.payload_indexes,
            vectors_file: v2.vectors_file,
            vectors_len: v2.vectors_len,
            vectors_crc: v2.vectors_crc,
        }
        .into()
    }
}

/// `CheckpointMeta` as version 3 wrote it (quantization always int8).
#[derive(Deserialize)]
struct CheckpointMetaV3 {
    generation: u64,
    applied_seq: u64,
    #[allow(clippy::type_complexity)]
    config: (
        usize,
        Distance,
        HnswConfig,
        Option<ScalarQuantizationV1>,
        Option<EmbeddingConfig>,
    ),
    payload_indexes: Vec<(String, PayloadSchemaType)>,
    vectors_file: String,
    vectors_len: u64,
    vectors_crc: u32,
}

impl From<CheckpointMetaV3> for CheckpointMeta {
    fn from(v3: CheckpointMetaV3) -> Self {
        let (dim, distance, hnsw, quantization, embedding) = v3.config;
        CheckpointMeta {
            generation: v3.generation,
            applied_seq: v3.applied_seq,
            config: CollectionConfig {
                dim,
                distance,
                hnsw,
                quantization: quantization.map(Into::into),
                embedding,
            },
            payload_indexes: v3.payload_indexes,
            vectors_file: v3.vectors_file,
            vectors_len: v3.vectors_len,
            vectors_crc: v3.vectors_crc,
        }
    }
}

#[derive(Serialize, Deserialize)]
pub struct PointsData {
    pub ids: IdTrackerData,
    pub payloads: Vec<(u32, Payload)>,
}

pub fn graph_file(generation: u64) -> String {
    format!("graph-{generation}.bin")
}

pub fn points_file(generation: u64) -> String {
    format!("points-{generation}.bin")
}

/// Writes generation `meta.generation` and makes it current.
pub fn write(dir: &Path, meta: &CheckpointMeta, graph: &[u8], points: &PointsData) -> Result<()> {
    let encode =
        |e: bincode::Error| EngineError::corrupt(dir, format!("cannot encode checkpoint: {e}"));
    write_framed(
        &dir.join(graph_file(meta.generation)),
        GRAPH_MAGIC,
        VERSION,
        graph,
    )?;
    let points = bincode::serialize(points).map_err(encode)?;
    write_framed(
        &dir.join(points_file(meta.generation)),
        POINTS_MAGIC,
        VERSION,
        &points,
    )?;
    let meta_bytes = bincode::serialize(meta).map_err(encode)?;
    write_framed(&dir.join(META_FILE), META_MAGIC, META_VERSION, &meta_bytes)
}

fn decode_meta(version: u32, body: &[u8]) -> bincode::Result<CheckpointMeta> {
    match version {
        1 => bincode::deserialize::<CheckpointMetaV1>(body).map(Into::into),
        2 => bincode::deserialize::<CheckpointMetaV2>(body).map(Into::into),
        3 => bincode::deserialize::<CheckpointMetaV3>(body).map(Into::into),
        _ => bincode::deserialize(body),
    }
}

/// Reads the current checkpoint, verifying every checksum.
pub fn read(dir: &Path) -> Result<(CheckpointMeta, Graph, PointsData)> {
    let meta_path = dir.join(META_FILE);
    let (version, body) = read_framed_versions(&meta_path, META_MAGIC, 1..=META_VERSION)?;
    let meta =
        decode_meta(version, &body).map_err(|e| EngineError::corrupt(&meta_path, e.to_string()))?;
    let graph_path = dir.join(graph_file(meta.generation));
    let graph = Graph::from_bytes(&read_framed(&graph_path, GRAPH_MAGIC, VERSION)?)
        .map_err(|e| EngineError::corrupt(&graph_path, e))?;
    let points_path = dir.join(points_file(meta.generation));
    let points: PointsData =
        bincode::deserialize(&read_framed(&points_path, POINTS_MAGIC, VERSION)?)
            .map_err(|e| EngineError::corrupt(&points_path, e.to_string()))?;
    Ok((meta, graph, points))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{ScalarQuantization, ScalarType};

    #[test]
    fn older_metadata_versions_still_read() {
        let hnsw = HnswConfig::default();
        let v1 = bincode::serialize(&(
            7u64,
            42u64,
            (768usize, Distance::Cosine, hnsw.clone()),
            vec![("tag".to_string(), PayloadSchemaType::Keyword)],
            "vectors-7.bin".to_string(),
            100u64,
            0xABCDu32,
        ))
        .expect("encode");
        let meta = decode_meta(1, &v1).expect("v1 decodes");
        assert_eq!((meta.generation, meta.applied_seq), (7, 42));
        assert_eq!(meta.config.dim, 768);
        assert_eq!(meta.config.hnsw, hnsw);
        assert_eq!(meta.config.quantization, None);
        assert_eq!(meta.vectors_crc, 0xABCD);
        // Version 2 (with quantization) reads too.
        let v2 = bincode::serialize(&(
            7u64,
            42u64,
            (
                768usize,
                Distance::Cosine,
                hnsw.clone(),
                Some(ScalarQuantizationV1 { quantile: 0.97 }),
            ),
            Vec::<(String, PayloadSchemaType)>::new(),
            "vectors-7.bin".to_string(),
            100u64,
            0xABCDu32,
        ))
        .expect("encode");
        let meta2 = decode_meta(2, &v2).expect("v2 decodes");
        let int8 = ScalarQuantization {
            quantile: 0.97,
            kind: ScalarType::Int8,
        };
        assert_eq!(meta2.config.quantization, Some(int8.clone()));
        assert_eq!(meta2.config.embedding, None);
        // Version 3 (with an embedding model, quantization always int8).
        let embedding = EmbeddingConfig {
            model: "all-MiniLM-L6-v2".into(),
        };
        let v3 = bincode::serialize(&(
            7u64,
            42u64,
            (
                768usize,
                Distance::Cosine,
                hnsw.clone(),
                Some(ScalarQuantizationV1 { quantile: 0.97 }),
                Some(embedding.clone()),
            ),
            Vec::<(String, PayloadSchemaType)>::new(),
            "vectors-7.bin".to_string(),
            100u64,
            0xABCDu32,
        ))
        .expect("encode");
        let meta3 = decode_meta(3, &v3).expect("v3 decodes");
        assert_eq!(meta3.config.quantization, Some(int8));
        assert_eq!(meta3.config.embedding, Some(embedding));
        // The current version round-trips, int4 and embedding included.
        let mut current = meta.clone();
        current.config.quantization = Some(ScalarQuantization::of(ScalarType::Int4));
        current.config.embedding = Some(crate::types::EmbeddingConfig {
            model: "all-MiniLM-L6-v2".into(),
        });
        let bytes = bincode::serialize(&current).expect("encode");
        let back = decode_meta(META_VERSION, &bytes).expect("v4 decodes");
        assert_eq!(back.config, current.config);
        // A current body is not mistaken for an older one, nor the reverse.
        assert!(decode_meta(META_VERSION, &v1).is_err());
        assert!(decode_meta(1, &bytes).is_err());
        assert!(decode_meta(META_VERSION, &v3).is_err());
    }
}
