//! The engine's public data types: point ids, payloads, collection configs,
//! and the request/response shapes of reads.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::error::{EngineError, Result};
use crate::filter::Filter;

/// A point's external id: an unsigned 64-bit integer or a UUID, as in Qdrant.
///
/// Ordering (used by scroll) puts every numeric id before every UUID.
/// In JSON it is a bare number or a UUID string; in the engine's binary files
/// it is a tagged enum, because bincode cannot read untagged values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PointId {
    Num(u64),
    Uuid(Uuid),
}

impl fmt::Display for PointId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PointId::Num(n) => write!(f, "{n}"),
            PointId::Uuid(u) => write!(f, "{u}"),
        }
    }
}

impl From<u64> for PointId {
    fn from(n: u64) -> Self {
        PointId::Num(n)
    }
}

impl From<Uuid> for PointId {
    fn from(u: Uuid) -> Self {
        PointId::Uuid(u)
    }
}

impl FromStr for PointId {
    type Err = EngineError;
    fn from_str(s: &str) -> Result<Self> {
        if let Ok(n) = s.parse::<u64>() {
            return Ok(PointId::Num(n));
        }
        Uuid::parse_str(s).map(PointId::Uuid).map_err(|_| {
            EngineError::InvalidRequest(format!(
                "`{s}` is not a point id: use an unsigned integer or a UUID"
            ))
        })
    }
}

impl PointId {
    /// Reads an id from JSON: a non-negative integer or a UUID string.
    pub fn from_json(value: &Value) -> Result<Self> {
        match value {
            Value::Number(n) => n.as_u64().map(PointId::Num).ok_or_else(|| {
                EngineError::InvalidRequest(format!(
                    "point id {n} is not an unsigned 64-bit integer"
                ))
            }),
            Value::String(s) => Uuid::parse_str(s).map(PointId::Uuid).map_err(|_| {
                EngineError::InvalidRequest(format!("point id `{s}` is not a valid UUID"))
            }),
            other => Err(EngineError::InvalidRequest(format!(
                "point id must be an unsigned integer or a UUID string, got {}",
                json_kind(other)
            ))),
        }
    }
}

#[derive(Serialize, Deserialize)]
enum PointIdRepr {
    Num(u64),
    Uuid([u8; 16]),
}

impl Serialize for PointId {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match (self, s.is_human_readable()) {
            (PointId::Num(n), true) => s.serialize_u64(*n),
            (PointId::Uuid(u), true) => s.serialize_str(&u.hyphenated().to_string()),
            (PointId::Num(n), false) => PointIdRepr::Num(*n).serialize(s),
            (PointId::Uuid(u), false) => PointIdRepr::Uuid(*u.as_bytes()).serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for PointId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        if d.is_human_readable() {
            let value = Value::deserialize(d)?;
            PointId::from_json(&value).map_err(serde::de::Error::custom)
        } else {
            Ok(match PointIdRepr::deserialize(d)? {
                PointIdRepr::Num(n) => PointId::Num(n),
                PointIdRepr::Uuid(b) => PointId::Uuid(Uuid::from_bytes(b)),
            })
        }
    }
}

/// A point's payload: a JSON object. Stored as JSON text in binary files
/// (WAL, checkpoints), since bincode cannot encode self-describing values.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Payload(pub Map<String, Value>);

impl Payload {
    /// Accepts only a JSON object; anything else is a typed error.
    pub fn from_json(value: Value) -> Result<Self> {
        match value {
            Value::Object(map) => Ok(Payload(map)),
            other => Err(EngineError::PayloadNotObject(json_kind(&other))),
        }
    }
}

impl Serialize for Payload {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            self.0.serialize(s)
        } else {
            let text = serde_json::to_vec(&self.0).map_err(serde::ser::Error::custom)?;
            s.serialize_bytes(&text)
        }
    }
}

impl<'de> Deserialize<'de> for Payload {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        if d.is_human_readable() {
            Payload::from_json(Value::deserialize(d)?).map_err(serde::de::Error::custom)
        } else {
            let bytes: Vec<u8> = serde_bytes_compat::deserialize(d)?;
            serde_json::from_slice(&bytes)
                .map(Payload)
                .map_err(serde::de::Error::custom)
        }
    }
}

/// bincode hands byte strings back as a sequence; accept both forms.
mod serde_bytes_compat {
    use serde::de::{Deserializer, Error, SeqAccess, Visitor};
    use std::fmt;

    struct BytesVisitor;
    impl<'de> Visitor<'de> for BytesVisitor {
        type Value = Vec<u8>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("bytes")
        }
        fn visit_bytes<E: Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
            Ok(v.to_vec())
        }
        fn visit_byte_buf<E: Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
            Ok(v)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u8>, A::Error> {
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
            while let Some(b) = seq.next_element()? {
                out.push(b);
            }
            Ok(out)
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        d.deserialize_byte_buf(BytesVisitor)
    }
}

pub(crate) fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// How vectors are compared. Scores follow Qdrant: Cosine and Dot are
/// similarities (higher is better), Euclid is a distance (lower is better).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Distance {
    Cosine,
    Dot,
    Euclid,
}

impl FromStr for Distance {
    type Err = EngineError;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "cosine" => Ok(Distance::Cosine),
            "dot" => Ok(Distance::Dot),
            "euclid" | "euclidean" | "l2" => Ok(Distance::Euclid),
            _ => Err(EngineError::InvalidConfig(format!(
                "unknown distance `{s}`: use cosine, dot or euclid"
            ))),
        }
    }
}

impl fmt::Display for Distance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Distance::Cosine => "Cosine",
            Distance::Dot => "Dot",
            Distance::Euclid => "Euclid",
        })
    }
}

/// HNSW parameters of a collection.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HnswConfig {
    /// Links per node on upper layers; layer 0 keeps `2 * m`.
    pub m: usize,
    /// Candidate list size while building.
    pub ef_construct: usize,
    /// Default candidate list size while searching.
    pub ef: usize,
    /// Collections (or filtered candidate sets) with at most this many points
    /// are searched exactly instead of through the graph.
    pub full_scan_threshold: usize,
}

impl Default for HnswConfig {
    fn default() -> Self {
        // Chosen so recall@10 >= 0.98 holds at the default ef even on hard
        // data (uniform random 128-d); see README "Index defaults".
        HnswConfig {
            m: 32,
            ef_construct: 200,
            ef: 384,
            full_scan_threshold: 1_000,
        }
    }
}

/// Largest dimension a collection may have.
pub const MAX_DIM: usize = 65_536;

/// Scalar quantization of a collection's vectors (Qdrant's
/// `quantization_config.scalar`); see [`crate::quantization`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScalarQuantization {
    /// The central fraction of component values the code range covers;
    /// the rest clip to its ends.
    pub quantile: f32,
    /// Bits per stored component (Qdrant's `type`). Absent from snapshot
    /// manifests written before int4 existed, which were all int8.
    #[serde(default, rename = "type")]
    pub kind: ScalarType,
}

impl Default for ScalarQuantization {
    fn default() -> Self {
        ScalarQuantization {
            quantile: 0.99,
            kind: ScalarType::Int8,
        }
    }
}

impl ScalarQuantization {
    /// The default quantile with codes of `kind`.
    pub fn of(kind: ScalarType) -> Self {
        ScalarQuantization {
            kind,
            ..Default::default()
        }
    }
}

/// How many bits a quantized component keeps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScalarType {
    /// One byte per component: a quarter of f32's memory.
    #[default]
    Int8,
    /// Half a byte per component (Cairn's extension of Qdrant's types): an
    /// eighth of f32's memory, and the walk's distances read half of int8's.
    Int4,
}

impl ScalarType {
    pub fn name(self) -> &'static str {
        match self {
            ScalarType::Int8 => "int8",
            ScalarType::Int4 => "int4",
        }
    }
}

/// [`ScalarQuantization`] as WAL records and checkpoints held it before
/// [`ScalarType`] existed (always int8). Kept so older files still read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct ScalarQuantizationV1 {
    pub quantile: f32,
}

impl From<ScalarQuantizationV1> for ScalarQuantization {
    fn from(v1: ScalarQuantizationV1) -> Self {
        ScalarQuantization {
            quantile: v1.quantile,
            kind: ScalarType::Int8,
        }
    }
}

/// The embedding model a collection's text is turned into vectors with
/// (Cairn's extension of Qdrant's collection config). The engine only
/// records it; the server and the ingestion job run the model.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmbeddingConfig {
    /// A model name, e.g. `all-MiniLM-L6-v2`.
    pub model: String,
}

/// Everything that defines a collection.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CollectionConfig {
    pub dim: usize,
    pub distance: Distance,
    pub hnsw: HnswConfig,
    /// `None`: searches read the full-precision vectors only.
    pub quantization: Option<ScalarQuantization>,
    /// `None`: clients bring their own vectors.
    #[serde(default)]
    pub embedding: Option<EmbeddingConfig>,
}

impl CollectionConfig {
    pub fn new(dim: usize, distance: Distance) -> Self {
        CollectionConfig {
            dim,
            distance,
            hnsw: HnswConfig::default(),
            quantization: None,
            embedding: None,
        }
    }

    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(EngineError::InvalidConfig(m));
        if self.dim == 0 || self.dim > MAX_DIM {
            return bad(format!("dim must be in 1..={MAX_DIM}, got {}", self.dim));
        }
        let h = &self.hnsw;
        if !(2..=256).contains(&h.m) {
            return bad(format!("m must be in 2..=256, got {}", h.m));
        }
        if h.ef_construct == 0 || h.ef_construct > 10_000 {
            return bad(format!(
                "ef_construct must be in 1..=10000, got {}",
                h.ef_construct
            ));
        }
        if h.ef == 0 || h.ef > 100_000 {
            return bad(format!("ef must be in 1..=100000, got {}", h.ef));
        }
        if let Some(e) = &self.embedding {
            if e.model.is_empty() || e.model.len() > 255 {
                return bad("embedding model name must be 1..=255 characters".into());
            }
        }
        if let Some(q) = &self.quantization {
            if !(0.5..=1.0).contains(&q.quantile) {
                return bad(format!(
                    "quantization quantile must be in 0.5..=1.0, got {}",
                    q.quantile
                ));
            }
        }
        Ok(())
    }
}

/// Kinds of payload index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PayloadSchemaType {
    /// Exact string values: `match value`/`match any`.
    Keyword,
    /// Integer values: `match value`/`match any` and `range`.
    Integer,
    /// Full text: a BM25 index ([`crate::text_index`]) for text queries.
    /// Appended last: bincode numbers variants by position.
    Text,
}

impl FromStr for PayloadSchemaType {
    type Err = EngineError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "keyword" => Ok(PayloadSchemaType::Keyword),
            "integer" => Ok(PayloadSchemaType::Integer),
            "text" => Ok(PayloadSchemaType::Text),
            _ => Err(EngineError::InvalidRequest(format!(
                "unknown payload index type `{s}`: use keyword, integer or text"
            ))),
        }
    }
}

/// A point to upsert.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PointStruct {
    pub id: PointId,
    pub vector: Vec<f32>,
    #[serde(default)]
    pub payload: Option<Payload>,
}

impl PointStruct {
    pub fn new(id: impl Into<PointId>, vector: Vec<f32>, payload: Option<Value>) -> Result<Self> {
        Ok(PointStruct {
            id: id.into(),
            vector,
            payload: payload.map(Payload::from_json).transpose()?,
        })
    }
}

/// A stored point as read back.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Record {
    pub id: PointId,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload: Option<Payload>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vector: Option<Vec<f32>>,
}

/// A search hit.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ScoredPoint {
    pub id: PointId,
    pub score: f32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload: Option<Payload>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vector: Option<Vec<f32>>,
}

/// A top-k search.
#[derive(Clone, Debug)]
pub struct SearchRequest {
    pub vector: Vec<f32>,
    pub limit: usize,
    pub offset: usize,
    pub filter: Option<Filter>,
    /// Candidate list size; the collection's default `ef` when `None`.
    pub ef: Option<usize>,
    /// Cosine/Dot: keep scores >= threshold. Euclid: keep distances <= threshold.
    pub score_threshold: Option<f32>,
    pub with_payload: bool,
    pub with_vector: bool,
    /// Skip the graph and compare against every candidate.
    pub exact: bool,
    /// How a quantized collection uses its codes for this search.
    pub quantization: QuantizationSearchParams,
}

/// Per-search use of quantized vectors (Qdrant's `params.quantization`).
#[derive(Clone, Debug, PartialEq)]
pub struct QuantizationSearchParams {
    /// Walk the graph with full-precision vectors even if codes exist.
    pub ignore: bool,
    /// Re-rank the candidates with full-precision vectors.
    pub rescore: bool,
    /// Rescore `ceil(limit × oversampling)` candidates (at least `limit`).
    pub oversampling: f32,
}

impl Default for QuantizationSearchParams {
    fn default() -> Self {
        QuantizationSearchParams {
            ignore: false,
            rescore: true,
            oversampling: DEFAULT_OVERSAMPLING,
        }
    }
}

/// Rescoring 4 × limit candidates (40 for a top 10, capped at `ef`) keeps
/// recall within 0.01 of full precision in `tests/quantization.rs` and in the
/// `cairn-int8` benchmark runs (README), while reading 40 f32 rows instead of
/// the ~1,000 a walk scores. Qdrant's default is 1 (no oversampling).
pub const DEFAULT_OVERSAMPLING: f32 = 4.0;

impl SearchRequest {
    pub fn new(vector: Vec<f32>, limit: usize) -> Self {
        SearchRequest {
            vector,
            limit,
            offset: 0,
            filter: None,
            ef: None,
            score_threshold: None,
            with_payload: false,
            with_vector: false,
            exact: false,
            quantization: QuantizationSearchParams::default(),
        }
    }
}

/// A full-text (BM25) search over a text-indexed payload field.
#[derive(Clone, Debug)]
pub struct TextSearchRequest {
    pub query: String,
    /// The indexed field; `None` when the collection has exactly one.
    pub field: Option<String>,
    pub limit: usize,
    pub offset: usize,
    pub filter: Option<Filter>,
    /// Keep BM25 scores >= threshold.
    pub score_threshold: Option<f32>,
    pub with_payload: bool,
    pub with_vector: bool,
}

impl TextSearchRequest {
    pub fn new(query: impl Into<String>, limit: usize) -> Self {
        TextSearchRequest {
            query: query.into(),
            field: None,
            limit,
            offset: 0,
            filter: None,
            score_threshold: None,
            with_payload: false,
            with_vector: false,
        }
    }
}

/// A page of points in id order.
#[derive(Clone, Debug, Default)]
pub struct ScrollRequest {
    /// First id to return (inclusive).
    pub offset: Option<PointId>,
    pub limit: usize,
    pub filter: Option<Filter>,
    pub with_payload: bool,
    pub with_vector: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ScrollResult {
    pub points: Vec<Record>,
    /// Pass as `offset` to get the next page; `None` at the end.
    pub next_page_offset: Option<PointId>,
}

/// A collection's state as reported by `info`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CollectionInfo {
    pub name: String,
    pub config: CollectionConfig,
    /// Live points.
    pub points_count: usize,
    /// Graph nodes whose point was deleted or replaced, not yet compacted away.
    pub tombstones: usize,
    pub payload_indexes: Vec<(String, PayloadSchemaType)>,
    /// Bytes in the write-ahead log since the last checkpoint.
    pub wal_bytes: u64,
    /// Stamp of the last applied write.
    pub last_seq: u64,
}

/// Returned by every write: the operation stamp it was logged under.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct UpdateResult {
    pub operation_id: u64,
}
