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
use crate::file_format::{read_framed, write_framed};
use crate::graph::Graph;
use crate::id_tracker::IdTrackerData;
use crate::types::{CollectionConfig, Payload, PayloadSchemaType};

const META_MAGIC: &[u8; 8] = b"CAIRNCKP";
const GRAPH_MAGIC: &[u8; 8] = b"CAIRNGRF";
const POINTS_MAGIC: &[u8; 8] = b"CAIRNPTS";
const VERSION: u32 = 1;
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
    write_framed(&dir.join(META_FILE), META_MAGIC, VERSION, &meta_bytes)
}

/// Reads the current checkpoint, verifying every checksum.
pub fn read(dir: &Path) -> Result<(CheckpointMeta, Graph, PointsData)> {
    let meta_path = dir.join(META_FILE);
    let meta: CheckpointMeta = bincode::deserialize(&read_framed(&meta_path, META_MAGIC, VERSION)?)
        .map_err(|e| EngineError::corrupt(&meta_path, e.to_string()))?;
    let graph_path = dir.join(graph_file(meta.generation));
    let graph = Graph::from_bytes(&read_framed(&graph_path, GRAPH_MAGIC, VERSION)?)
        .map_err(|e| EngineError::corrupt(&graph_path, e))?;
    let points_path = dir.join(points_file(meta.generation));
    let points: PointsData =
        bincode::deserialize(&read_framed(&points_path, POINTS_MAGIC, VERSION)?)
            .map_err(|e| EngineError::corrupt(&points_path, e.to_string()))?;
    Ok((meta, graph, points))
}
