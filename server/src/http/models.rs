//! Qdrant's request and response shapes, and their conversion to engine
//! types. Fields Qdrant has but Cairn does not use (shard keys, optimizer
//! settings, …) are accepted and ignored, so existing clients can send them.

use cairn_engine::{
    Filter, HnswConfig, Payload, PointId, PointSelector, PointStruct, QuantizationSearchParams,
    Record, ScalarQuantization, ScalarType, ScoredPoint,
};
use serde::de::{IgnoredAny, MapAccess};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{json, Map, Value};

use super::envelope::ApiError;

#[derive(Deserialize)]
pub struct CreateCollection {
    /// Optional when `embedding` names a model: its dimension and cosine.
    #[serde(default)]
    pub vectors: Option<Value>,
    /// Cairn's extension: `{"model": "all-MiniLM-L6-v2"}` makes the server
    /// embed this collection's documents and text queries.
    #[serde(default)]
    pub embedding: Option<EmbeddingBody>,
    #[serde(default)]
    pub hnsw_config: Option<HnswConfigDiff>,
    #[serde(default)]
    pub quantization_config: Option<Value>,
}

#[derive(Deserialize)]
pub struct EmbeddingBody {
    pub model: String,
}

#[derive(Deserialize)]
pub struct UpdateCollection {
    #[serde(default)]
    pub hnsw_config: Option<HnswConfigDiff>,
    #[serde(default)]
    pub quantization_config: Option<Value>,
}

/// Qdrant's `quantization_config`: `{"scalar": {"type": "int8", "quantile"?,
/// "always_ram"?}}`, or (on PATCH) `"Disabled"`, read as `None`. Cairn also
/// takes `"type": "int4"` (half the memory of int8; Qdrant has no such
/// type). Product and binary quantization are refused. Cairn keeps codes in
/// RAM whatever `always_ram` says.
pub fn quantization_config(v: &Value) -> Result<Option<ScalarQuantization>, ApiError> {
    if v.is_null() || v.as_str() == Some("Disabled") {
        return Ok(None);
    }
    let unsupported = || {
        ApiError::bad_request(
            "quantization_config: Cairn supports {\"scalar\": {\"type\": \"int8\" or \"int4\", \"quantile\": 0.99}} or \"Disabled\"",
        )
    };
    let scalar = v.get("scalar").ok_or_else(unsupported)?;
    let kind = match scalar.get("type").and_then(Value::as_str) {
        Some("int8") => ScalarType::Int8,
        Some("int4") => ScalarType::Int4,
        _ => return Err(unsupported()),
    };
    let mut q = ScalarQuantization::of(kind);
    match scalar.get("quantile") {
        None | Some(Value::Null) => {}
        Some(n) => {
            q.quantile = n
                .as_f64()
                .ok_or_else(|| ApiError::bad_request("quantization quantile must be a number"))?
                as f32
        }
    }
    Ok(Some(q))
}

/// The inverse of [`quantization_config`], for collection info.
pub fn quantization_json(q: &Option<ScalarQuantization>) -> Value {
    match q {
        Some(q) => {
            json!({"scalar": {"type": q.kind.name(), "quantile": q.quantile, "always_ram": true}})
        }
        None => Value::Null,
    }
}

#[derive(Deserialize, Default)]
pub struct HnswConfigDiff {
    pub m: Option<usize>,
    pub ef_construct: Option<usize>,
    pub full_scan_threshold: Option<usize>,
}

impl HnswConfigDiff {
    pub fn apply(&self, h: &mut HnswConfig) {
        h.m = self.m.unwrap_or(h.m);
        h.ef_construct = self.ef_construct.unwrap_or(h.ef_construct);
        h.full_scan_threshold = self.full_scan_threshold.unwrap_or(h.full_scan_threshold);
    }
}

/// `vectors: {size, distance}`; named vectors are refused.
pub fn vector_params(v: &Value) -> Result<(usize, cairn_engine::Distance), ApiError> {
    let (Some(size), Some(distance)) = (v.get("size"), v.get("distance")) else {
        return Err(ApiError::bad_request(
            "`vectors` must be {\"size\": N, \"distance\": \"Cosine\"|\"Dot\"|\"Euclid\"}; named vectors are not supported",
        ));
    };
    let size = size
        .as_u64()
        .ok_or_else(|| ApiError::bad_request("`vectors.size` must be a positive integer"))?;
    let distance = distance
        .as_str()
        .ok_or_else(|| ApiError::bad_request("`vectors.distance` must be a string"))?
        .parse()?;
    Ok((size as usize, distance))
}

/// `with_payload`: a bool, a list of keys to include, or
/// `{"include": [...]}` / `{"exclude": [...]}`.
#[derive(Clone, Debug, Default)]
pub enum PayloadSelector {
    #[default]
    None,
    All,
    Include(Vec<String>),
    Exclude(Vec<String>),
}

impl PayloadSelector {
    pub fn wanted(&self) -> bool {
        !matches!(self, PayloadSelector::None)
    }

    pub fn select(&self, payload: Option<Payload>) -> Option<Value> {
        let map = payload?.0;
        let pick = |keep: &dyn Fn(&str) -> bool| -> Map<String, Value> {
            map.iter()
                .filter(|(k, _)| keep(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        };
        Some(Value::Object(match self {
            PayloadSelector::None => return None,
            PayloadSelector::All => map,
            PayloadSelector::Include(keys) => pick(&|k| keys.iter().any(|x| x == k)),
            PayloadSelector::Exclude(keys) => pick(&|k| !keys.iter().any(|x| x == k)),
        }))
    }
}

impl<'de> Deserialize<'de> for PayloadSelector {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let keys = |v: &Value| -> Option<Vec<String>> {
            v.as_array()?
                .iter()
                .map(|k| k.as_str().map(str::to_string))
                .collect()
        };
        let v = Value::deserialize(d)?;
        let bad = || {
            serde::de::Error::custom(
                "with_payload must be a bool, a list of keys, or {include|exclude: [...]}",
            )
        };
        match &v {
            Value::Null | Value::Bool(false) => Ok(PayloadSelector::None),
            Value::Bool(true) => Ok(PayloadSelector::All),
            Value::Array(_) => keys(&v).map(PayloadSelector::Include).ok_or_else(bad),
            Value::Object(o) => match (o.get("include"), o.get("exclude")) {
                (Some(i), _) => keys(i).map(PayloadSelector::Include).ok_or_else(bad),
                (_, Some(e)) => keys(e).map(PayloadSelector::Exclude).ok_or_else(bad),
                _ => Err(bad()),
            },
            _ => Err(bad()),
        }
    }
}

fn yes() -> PayloadSelector {
    PayloadSelector::All
}

/// `with_vector`: a bool (named vectors are not supported).
pub fn with_vector<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    match Value::deserialize(d)? {
        Value::Null | Value::Bool(false) => Ok(false),
        Value::Bool(true) => Ok(true),
        _ => Err(serde::de::Error::custom("with_vector must be a bool")),
    }
}

/// A dense vector; anything else (named or sparse vectors) is refused.
pub fn dense_vector(v: Value, at: &str) -> Result<Vec<f32>, ApiError> {
    match v {
        Value::Array(items) => items
            .iter()
            .map(|x| x.as_f64().map(|f| f as f32))
            .collect::<Option<Vec<f32>>>()
            .ok_or_else(|| ApiError::bad_request(format!("{at} must be an array of numbers"))),
        Value::Object(_) => Err(ApiError::bad_request(format!(
            "{at}: named and sparse vectors are not supported"
        ))),
        _ => Err(ApiError::bad_request(format!(
            "{at} must be an array of numbers"
        ))),
    }
}

/// A request's `vector` or `query` as sent. A list is read straight into
/// a dense vector: building a JSON tree of 768 numbers first and converting
/// it cost a search request more than a tenth of its time. Anything else
/// (a point id, `{"nearest": …}`, `{"text": …}`, …) stays JSON for the
/// handler to interpret.
#[derive(Clone, Debug)]
pub enum VectorInput {
    Dense(Vec<f32>),
    Other(Value),
}

impl VectorInput {
    /// The dense vector, or a 400 naming the field `at`.
    pub fn into_dense(self, at: &str) -> Result<Vec<f32>, ApiError> {
        match self {
            VectorInput::Dense(v) => Ok(v),
            VectorInput::Other(v) => dense_vector(v, at),
        }
    }
}

impl<'de> Deserialize<'de> for VectorInput {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = VectorInput;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a vector (a list of numbers) or a query object")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut items: A,
            ) -> Result<VectorInput, A::Error> {
                // The size hint is the caller's claim; cap what it reserves.
                let mut v = Vec::with_capacity(items.size_hint().unwrap_or(0).min(65_536));
                while let Some(x) = items.next_element::<f32>().map_err(|e| {
                    serde::de::Error::custom(format!(
                        "a vector must be a list of numbers (named, sparse and multi-vectors are not supported): {e}"
                    ))
                })? {
                    v.push(x);
                }
                Ok(VectorInput::Dense(v))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<VectorInput, A::Error> {
                Value::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(VectorInput::Other)
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<VectorInput, E> {
                Ok(VectorInput::Other(Value::String(s.to_string())))
            }
            fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<VectorInput, E> {
                Ok(VectorInput::Other(Value::from(n)))
            }
            fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<VectorInput, E> {
                Ok(VectorInput::Other(Value::from(n)))
            }
            fn visit_f64<E: serde::de::Error>(self, n: f64) -> Result<VectorInput, E> {
                Ok(VectorInput::Other(Value::from(n)))
            }
            fn visit_bool<E: serde::de::Error>(self, b: bool) -> Result<VectorInput, E> {
                Ok(VectorInput::Other(Value::Bool(b)))
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<VectorInput, E> {
                Ok(VectorInput::Other(Value::Null))
            }
            fn visit_none<E: serde::de::Error>(self) -> Result<VectorInput, E> {
                Ok(VectorInput::Other(Value::Null))
            }
        }
        d.deserialize_any(Visitor)
    }
}

fn filter_of(v: Option<Value>) -> Result<Option<Filter>, ApiError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(f) => Ok(Some(Filter::from_json(&f)?)),
    }
}

fn ids_of(v: &Value, at: &str) -> Result<Vec<PointId>, ApiError> {
    let items = v
        .as_array()
        .ok_or_else(|| ApiError::bad_request(format!("`{at}` must be a list of point ids")))?;
    Ok(items
        .iter()
        .map(PointId::from_json)
        .collect::<Result<_, _>>()?)
}

/// The body of `PUT /collections/{name}/points`: `{"points": [...]}` or
/// `{"batch": {"ids", "vectors", "payloads"}}`.
pub fn points_to_upsert(mut body: Map<String, Value>) -> Result<Vec<PointStruct>, ApiError> {
    if let Some(points) = body.remove("points") {
        let Value::Array(points) = points else {
            return Err(ApiError::bad_request("`points` must be a list"));
        };
        return points
            .into_iter()
            .enumerate()
            .map(|(i, p)| {
                let Value::Object(mut p) = p else {
                    return Err(ApiError::bad_request(format!(
                        "points[{i}] must be an object"
                    )));
                };
                let id = PointId::from_json(p.get("id").unwrap_or(&Value::Null))?;
                let vector = dense_vector(
                    p.remove("vector").unwrap_or(Value::Null),
                    &format!("points[{i}].vector"),
                )?;
                let payload = match p.remove("payload") {
                    None | Some(Value::Null) => None,
                    Some(v) => Some(Payload::from_json(v)?),
                };
                Ok(PointStruct {
                    id,
                    vector,
                    payload,
                })
            })
            .collect();
    }
    let Some(Value::Object(mut batch)) = body.remove("batch") else {
        return Err(ApiError::bad_request(
            "body needs `points` (a list of points) or `batch` ({ids, vectors, payloads})",
        ));
    };
    let ids = ids_of(batch.get("ids").unwrap_or(&Value::Null), "batch.ids")?;
    let Some(Value::Array(vectors)) = batch.remove("vectors") else {
        return Err(ApiError::bad_request(
            "`batch.vectors` must be a list of vectors",
        ));
    };
    let payloads = match batch.remove("payloads") {
        None | Some(Value::Null) => vec![Value::Null; ids.len()],
        Some(Value::Array(p)) => p,
        Some(_) => return Err(ApiError::bad_request("`batch.payloads` must be a list")),
    };
    if vectors.len() != ids.len() || payloads.len() != ids.len() {
        return Err(ApiError::bad_request(format!(
            "batch has {} ids, {} vectors and {} payloads; they must be equal",
            ids.len(),
            vectors.len(),
            payloads.len()
        )));
    }
    ids.into_iter()
        .zip(vectors)
        .zip(payloads)
        .enumerate()
        .map(|(i, ((id, v), p))| {
            Ok(PointStruct {
                id,
                vector: dense_vector(v, &format!("batch.vectors[{i}]"))?,
                payload: if p.is_null() {
                    None
                } else {
                    Some(Payload::from_json(p)?)
                },
            })
        })
        .collect()
}

/// `{"points": [ids]}` or `{"filter": {...}}`.
pub fn selector(body: &Map<String, Value>) -> Result<PointSelector, ApiError> {
    match (body.get("points"), body.get("filter")) {
        (Some(p), _) if !p.is_null() => Ok(PointSelector::Ids(ids_of(p, "points")?)),
        (_, Some(f)) if !f.is_null() => Ok(PointSelector::Filter(Filter::from_json(f)?)),
        _ => Err(ApiError::bad_request(
            "select points with `points` (a list of ids) or `filter`",
        )),
    }
}

#[derive(Deserialize)]
pub struct RetrieveBody {
    pub ids: Vec<Value>,
    #[serde(default = "yes")]
    pub with_payload: PayloadSelector,
    #[serde(default, deserialize_with = "with_vector")]
    pub with_vector: bool,
}

impl RetrieveBody {
    pub fn ids(&self) -> Result<Vec<PointId>, ApiError> {
        Ok(self
            .ids
            .iter()
            .map(PointId::from_json)
            .collect::<Result<_, _>>()?)
    }
}

#[derive(Deserialize)]
pub struct ScrollBody {
    #[serde(default)]
    pub offset: Option<Value>,
    #[serde(default)]
    pub limit: Option<usize>,
    #[serde(default)]
    pub filter: Option<Value>,
    #[serde(default = "yes")]
    pub with_payload: PayloadSelector,
    #[serde(default, deserialize_with = "with_vector")]
    pub with_vector: bool,
}

impl ScrollBody {
    pub fn offset(&self) -> Result<Option<PointId>, ApiError> {
        match &self.offset {
            None | Some(Value::Null) => Ok(None),
            Some(v) => Ok(Some(PointId::from_json(v)?)),
        }
    }
    pub fn filter(&mut self) -> Result<Option<Filter>, ApiError> {
        filter_of(self.filter.take())
    }
}

#[derive(Deserialize, Default)]
pub struct CountBody {
    #[serde(default)]
    pub filter: Option<Value>,
}

impl CountBody {
    pub fn filter(&mut self) -> Result<Option<Filter>, ApiError> {
        filter_of(self.filter.take())
    }
}

#[derive(Deserialize, Default)]
pub struct SearchParams {
    pub hnsw_ef: Option<usize>,
    #[serde(default)]
    pub exact: bool,
    #[serde(default)]
    pub quantization: Option<QuantizationParams>,
}

/// Qdrant's `params.quantization`.
#[derive(Deserialize, Default)]
pub struct QuantizationParams {
    pub ignore: Option<bool>,
    pub rescore: Option<bool>,
    pub oversampling: Option<f64>,
}

impl QuantizationParams {
    pub fn engine(&self) -> Result<QuantizationSearchParams, ApiError> {
        let mut p = QuantizationSearchParams::default();
        p.ignore = self.ignore.unwrap_or(p.ignore);
        p.rescore = self.rescore.unwrap_or(p.rescore);
        if let Some(o) = self.oversampling {
            if !(1.0..=100.0).contains(&o) {
                return Err(ApiError::bad_request(format!(
                    "params.quantization.oversampling must be in 1..=100, got {o}"
                )));
            }
            p.oversampling = o as f32;
        }
        Ok(p)
    }
}

/// The shared part of search and query requests. The bodies that hold it
/// read it key by key ([`read_search_map`]) rather than with
/// `#[serde(flatten)]`: flatten buffers the whole body, query vector
/// included, as a tree of serde values before reading it a second time,
/// and that was a fifth of the HTTP workers' time on 768-d queries.
#[derive(Default)]
pub struct SearchCommon {
    pub filter: Option<Value>,
    pub limit: Option<usize>,
    pub offset: Option<usize>,
    pub params: Option<SearchParams>,
    pub score_threshold: Option<f32>,
    pub with_payload: PayloadSelector,
    pub with_vector: bool,
}

/// Reads the keys of a search body's map: `own` takes the body's own keys
/// (it returns false for a key that is not one), the shared keys go to
/// [`SearchCommon`], and any other key is ignored, as with Qdrant's
/// optional fields Cairn does not use.
pub fn read_search_map<'de, A: MapAccess<'de>>(
    mut map: A,
    mut own: impl FnMut(&str, &mut A) -> Result<bool, A::Error>,
) -> Result<SearchCommon, A::Error> {
    let mut common = SearchCommon::default();
    while let Some(key) = map.next_key::<String>()? {
        if own(&key, &mut map)? {
            continue;
        }
        match key.as_str() {
            "filter" => common.filter = map.next_value()?,
            "limit" => common.limit = map.next_value()?,
            "offset" => common.offset = map.next_value()?,
            "params" => common.params = map.next_value()?,
            "score_threshold" => common.score_threshold = map.next_value()?,
            "with_payload" => common.with_payload = map.next_value()?,
            "with_vector" => common.with_vector = map.next_value::<WithVector>()?.0,
            _ => {
                map.next_value::<IgnoredAny>()?;
            }
        }
    }
    Ok(common)
}

/// [`with_vector`] as a type, for reading it with `next_value`.
struct WithVector(bool);

impl<'de> Deserialize<'de> for WithVector {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        with_vector(d).map(WithVector)
    }
}

/// Legacy `POST …/points/search`.
pub struct SearchBody {
    pub vector: VectorInput,
    pub common: SearchCommon,
}

impl<'de> Deserialize<'de> for SearchBody {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = SearchBody;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a search request object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<SearchBody, A::Error> {
                let mut vector = None;
                let common = read_search_map(map, |key, map| {
                    if key != "vector" {
                        return Ok(false);
                    }
                    vector = Some(map.next_value()?);
                    Ok(true)
                })?;
                let vector = vector.ok_or_else(|| serde::de::Error::missing_field("vector"))?;
                Ok(SearchBody { vector, common })
            }
        }
        d.deserialize_map(Visitor)
    }
}

#[derive(Deserialize)]
pub struct Batch<T> {
    pub searches: Vec<T>,
}

impl SearchCommon {
    /// An engine request for `vector`, with the defaults Qdrant uses
    /// (limit 10, no payload, no vector).
    pub fn request(&mut self, vector: Vec<f32>) -> Result<cairn_engine::SearchRequest, ApiError> {
        let mut req = cairn_engine::SearchRequest::new(vector, self.limit.unwrap_or(10));
        req.offset = self.offset.unwrap_or(0);
        req.filter = filter_of(self.filter.take())?;
        req.score_threshold = self.score_threshold;
        req.with_payload = self.with_payload.wanted();
        req.with_vector = self.with_vector;
        if let Some(p) = &self.params {
            req.ef = p.hnsw_ef;
            req.exact = p.exact;
            if let Some(q) = &p.quantization {
                req.quantization = q.engine()?;
            }
        }
        Ok(req)
    }
}

#[derive(Deserialize)]
pub struct IndexBody {
    pub field_name: String,
    pub field_schema: Value,
}

impl IndexBody {
    pub fn kind(&self) -> Result<cairn_engine::PayloadSchemaType, ApiError> {
        let name = match &self.field_schema {
            Value::String(s) => s.as_str(),
            Value::Object(o) => o.get("type").and_then(Value::as_str).unwrap_or(""),
            _ => "",
        };
        Ok(name.parse()?)
    }
}

/// Qdrant's `Record`.
pub fn record_json(r: Record, payload: &PayloadSelector) -> Value {
    let mut out = json!({"id": r.id});
    if let Some(p) = payload.select(r.payload) {
        out["payload"] = p;
    }
    if let Some(v) = r.vector {
        out["vector"] = json!(v);
    }
    out
}

/// Qdrant's `ScoredPoint` as it is answered (`version` is required by
/// clients; Cairn reports 0). Typed, so an answer is written straight out
/// rather than built as a JSON tree first.
#[derive(Serialize)]
pub struct ScoredPointOut {
    id: PointId,
    version: u64,
    score: f32,
    #[serde(skip_serializing_if = "Option::is_none")]
    payload: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    vector: Option<Vec<f32>>,
}

pub fn scored_point(p: ScoredPoint, payload: &PayloadSelector) -> ScoredPointOut {
    ScoredPointOut {
        id: p.id,
        version: 0,
        score: p.score,
        payload: payload.select(p.payload),
        vector: p.vector,
    }
}

#[cfg(test)]
mod tests {
    use super::super::query::QueryBody;
    use super::*;

    #[test]
    fn a_query_body_reads_its_own_and_the_shared_keys_and_ignores_others() {
        let body: QueryBody = serde_json::from_str(
            r#"{"query": [1, 0.5], "using": "", "limit": 3, "offset": null,
                "params": {"hnsw_ef": 40}, "with_payload": ["a"], "with_vector": true,
                "score_threshold": 0.25, "filter": {"must": []},
                "prefetch": {"query": [0, 1], "limit": 7}, "shard_key": "ignored"}"#,
        )
        .expect("a valid query body");
        assert!(matches!(&body.query, Some(VectorInput::Dense(v)) if v == &[1.0, 0.5]));
        assert_eq!(body.using.as_deref(), Some(""));
        assert_eq!(body.prefetch.len(), 1);
        let c = &body.common;
        assert_eq!((c.limit, c.offset), (Some(3), None));
        assert_eq!(c.params.as_ref().and_then(|p| p.hnsw_ef), Some(40));
        assert!(matches!(&c.with_payload, PayloadSelector::Include(k) if k == &["a"]));
        assert!(c.with_vector);
        assert_eq!(c.score_threshold, Some(0.25));
        assert_eq!(c.filter, Some(json!({"must": []})));
    }

    #[test]
    fn an_empty_query_body_takes_the_defaults() {
        let body: QueryBody = serde_json::from_str("{}").expect("an empty query body");
        assert!(body.query.is_none() && body.prefetch.is_empty() && body.using.is_none());
        assert!(body.common.limit.is_none() && !body.common.with_vector);
        assert!(matches!(body.common.with_payload, PayloadSelector::None));
    }

    #[test]
    fn a_search_body_needs_its_vector_and_checks_shared_keys() {
        let body: SearchBody =
            serde_json::from_str(r#"{"limit": 2, "vector": [3, 4]}"#).expect("a valid body");
        assert!(matches!(&body.vector, VectorInput::Dense(v) if v == &[3.0, 4.0]));
        assert_eq!(body.common.limit, Some(2));
        let missing = serde_json::from_str::<SearchBody>(r#"{"limit": 2}"#)
            .err()
            .map(|e| e.to_string());
        assert!(missing.is_some_and(|e| e.contains("missing field `vector`")));
        let bad = serde_json::from_str::<SearchBody>(r#"{"vector": [1], "with_vector": "yes"}"#)
            .err()
            .map(|e| e.to_string());
        assert!(bad.is_some_and(|e| e.contains("with_vector must be a bool")));
        let not_a_map = serde_json::from_str::<SearchBody>("[1, 2]");
        assert!(not_a_map.is_err());
    }

    #[test]
    fn a_scored_point_renders_qdrants_shape_with_only_what_was_asked() {
        let point = |payload: Option<Value>, vector: Option<Vec<f32>>| ScoredPoint {
            id: PointId::Num(7),
            score: 0.1,
            payload: payload.and_then(|p| cairn_engine::Payload::from_json(p).ok()),
            vector,
        };
        let bare = serde_json::to_string(&scored_point(point(None, None), &PayloadSelector::All));
        // f32s are written in their shortest form, as Qdrant writes them.
        assert_eq!(
            bare.ok().as_deref(),
            Some(r#"{"id":7,"version":0,"score":0.1}"#)
        );
        let full = point(Some(json!({"a": 1, "b": 2})), Some(vec![0.5, 0.25]));
        let only_a = PayloadSelector::Include(vec!["a".into()]);
        let out = serde_json::to_value(scored_point(full, &only_a)).ok();
        assert_eq!(
            out,
            Some(
                json!({"id": 7, "version": 0, "score": 0.1f32, "payload": {"a": 1}, "vector": [0.5, 0.25]})
            )
        );
    }
}
