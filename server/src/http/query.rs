//! The universal `POST …/points/query`: dense, full-text and hybrid
//! retrieval in Qdrant's request shape.
//!
//! `query` may be
//! - a vector, a point id (its nearest others), or `{"nearest": …}`;
//! - `{"text": "…"}` (Qdrant's inference shape, `"model"` optional): the
//!   text is embedded with the collection's model and searched densely;
//! - `{"bm25": "…"}`, or `{"text": "…"}` with `"using": "bm25"` or
//!   `"model": "bm25"`: BM25 over the collection's text index;
//! - `{"fusion": "rrf"}` or `{"rrf": {"k": 60, "weights": [...]}}`: the
//!   results of `prefetch` (a list of sub-queries of the same shape, each
//!   with its own `limit`, `filter`, `params`) fused by Reciprocal Rank
//!   Fusion.
//!
//! With `prefetch`, a vector, text or BM25 `query` re-ranks the union of
//! the prefetched points instead of searching the whole collection. The
//! request's `filter` applies to every prefetch as well (Qdrant's rule).

use std::collections::HashSet;
use std::sync::Arc;

use cairn_engine::{
    reciprocal_rank_fusion, Collection, Condition, Filter, PointId, ScoredPoint, SearchRequest,
    TextSearchRequest, DEFAULT_RRF_K,
};
use cairn_ingest::embed::{same_model, Embedder, ModelCache};
use serde::Deserialize;
use serde_json::Value;

use super::envelope::ApiError;
use super::models::{
    dense_vector, read_search_map, scored_point, PayloadSelector, ScoredPointOut, SearchCommon,
    SearchParams, VectorInput,
};

/// Model names that mean "BM25" in Qdrant's inference shape.
const BM25_NAMES: &[&str] = &["bm25", "qdrant/bm25"];

/// A sub-query of `prefetch`.
#[derive(Deserialize, Default)]
pub struct Prefetch {
    #[serde(default, deserialize_with = "one_or_many")]
    pub prefetch: Vec<Prefetch>,
    #[serde(default)]
    pub query: Option<VectorInput>,
    #[serde(default)]
    pub using: Option<String>,
    #[serde(default)]
    pub filter: Option<Value>,
    #[serde(default)]
    pub params: Option<SearchParams>,
    #[serde(default)]
    pub score_threshold: Option<f32>,
    #[serde(default)]
    pub limit: Option<usize>,
}

/// `prefetch` is one object or a list of them.
pub fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Prefetch>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(v @ Value::Object(_)) => Ok(vec![
            serde_json::from_value(v).map_err(serde::de::Error::custom)?
        ]),
        Some(v) => serde_json::from_value(v).map_err(serde::de::Error::custom),
    }
}

/// The body of `POST …/points/query`.
pub struct QueryBody {
    pub prefetch: Vec<Prefetch>,
    pub query: Option<VectorInput>,
    pub using: Option<String>,
    pub common: SearchCommon,
}

/// [`one_or_many`] as a type, for reading it with `next_value`.
struct Prefetches(Vec<Prefetch>);

impl<'de> Deserialize<'de> for Prefetches {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        one_or_many(d).map(Prefetches)
    }
}

impl<'de> Deserialize<'de> for QueryBody {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = QueryBody;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a query request object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<QueryBody, A::Error> {
                let (mut prefetch, mut query, mut using) = (Vec::new(), None, None);
                let common = read_search_map(map, |key, map| {
                    match key {
                        "prefetch" => prefetch = map.next_value::<Prefetches>()?.0,
                        "query" => query = map.next_value()?,
                        "using" => using = map.next_value()?,
                        _ => return Ok(false),
                    }
                    Ok(true)
                })?;
                Ok(QueryBody {
                    prefetch,
                    query,
                    using,
                    common,
                })
            }
        }
        d.deserialize_map(Visitor)
    }
}

enum Query {
    Vector(Vec<f32>),
    /// Nearest to a stored point, without the point itself.
    Point(PointId),
    Text {
        text: String,
        model: Option<String>,
    },
    Bm25(String),
    Fusion {
        k: f32,
        weights: Option<Vec<f32>>,
    },
}

fn parse(query: Value, using: Option<&str>) -> Result<Query, ApiError> {
    let bm25_using = using.is_some_and(|u| BM25_NAMES.contains(&u.to_ascii_lowercase().as_str()));
    match query {
        Value::Array(_) => Ok(Query::Vector(dense_vector(query, "query")?)),
        Value::Number(_) | Value::String(_) => Ok(Query::Point(PointId::from_json(&query)?)),
        Value::Object(mut o) => {
            if let Some(inner) = o.remove("nearest") {
                return parse(inner, using);
            }
            if let Some(f) = o.remove("fusion") {
                return match f.as_str() {
                    Some("rrf") => Ok(Query::Fusion {
                        k: DEFAULT_RRF_K,
                        weights: None,
                    }),
                    _ => Err(ApiError::bad_request(
                        "`fusion` must be \"rrf\" (DBSF is not supported)",
                    )),
                };
            }
            if let Some(rrf) = o.remove("rrf") {
                let k = match rrf.get("k") {
                    None | Some(Value::Null) => DEFAULT_RRF_K,
                    Some(k) => match k.as_u64() {
                        Some(k) if k >= 1 => k as f32,
                        _ => {
                            return Err(ApiError::bad_request("`rrf.k` must be a positive integer"))
                        }
                    },
                };
                let weights = match rrf.get("weights") {
                    None | Some(Value::Null) => None,
                    Some(w) => Some(
                        w.as_array()
                            .and_then(|a| {
                                a.iter()
                                    .map(|x| x.as_f64().map(|f| f as f32))
                                    .collect::<Option<Vec<_>>>()
                            })
                            .filter(|w| w.iter().all(|x| x.is_finite() && *x >= 0.0))
                            .ok_or_else(|| {
                                ApiError::bad_request(
                                    "`rrf.weights` must be a list of non-negative numbers",
                                )
                            })?,
                    ),
                };
                return Ok(Query::Fusion { k, weights });
            }
            if let Some(b) = o.remove("bm25") {
                return match b {
                    Value::String(s) => Ok(Query::Bm25(s)),
                    _ => Err(ApiError::bad_request("`bm25` must be a string")),
                };
            }
            if let Some(t) = o.remove("text") {
                let Value::String(text) = t else {
                    return Err(ApiError::bad_request("`query.text` must be a string"));
                };
                let model = match o.remove("model") {
                    None | Some(Value::Null) => None,
                    Some(Value::String(m)) => Some(m),
                    Some(_) => return Err(ApiError::bad_request("`query.model` must be a string")),
                };
                let bm25_model = model
                    .as_deref()
                    .is_some_and(|m| BM25_NAMES.contains(&m.to_ascii_lowercase().as_str()));
                return Ok(if bm25_using || bm25_model {
                    Query::Bm25(text)
                } else {
                    Query::Text { text, model }
                });
            }
            Err(ApiError::bad_request(
                "`query` must be a vector, a point id, {\"nearest\": …}, {\"text\": …}, {\"bm25\": …}, {\"fusion\": \"rrf\"} or {\"rrf\": {…}}",
            ))
        }
        _ => Err(ApiError::bad_request(
            "`query` must be a vector, a point id, or an object (nearest, text, bm25, fusion)",
        )),
    }
}

/// Which model embeds text queries on `c`: the collection's own, or the
/// one the query names (which must then agree with it).
fn embedder(
    c: &Collection,
    models: &ModelCache,
    asked: Option<&str>,
) -> Result<Arc<dyn Embedder>, ApiError> {
    let own = c.config().embedding.map(|e| e.model);
    let name = match (own, asked) {
        (Some(own), Some(asked)) if !same_model(&own, asked) => {
            return Err(ApiError::bad_request(format!(
                "collection `{}` is embedded with `{own}`, not `{asked}`",
                c.name()
            )))
        }
        (Some(own), _) => own,
        (None, Some(asked)) => asked.to_string(),
        (None, None) => {
            return Err(ApiError::bad_request(format!(
            "collection `{}` has no embedding model: name one in `query.model`, or send a vector",
            c.name()
        )))
        }
    };
    let model = models.get(&name)?;
    if model.dim() != c.config().dim {
        return Err(ApiError::bad_request(format!(
            "the model `{name}` makes {}-d vectors; collection `{}` holds {}-d ones",
            model.dim(),
            c.name(),
            c.config().dim
        )));
    }
    Ok(model)
}

/// One level of the query tree, resolved to engine terms.
struct Node<'a> {
    prefetch: &'a [Prefetch],
    query: Option<&'a VectorInput>,
    using: Option<&'a str>,
    filter: Option<Filter>,
    params: Option<&'a SearchParams>,
    score_threshold: Option<f32>,
    limit: usize,
    offset: usize,
}

fn and(a: Option<Filter>, b: Option<Filter>) -> Option<Filter> {
    match (a, b) {
        (None, f) | (f, None) => f,
        (Some(a), Some(b)) => Some(Filter {
            must: vec![
                Condition::Filter(Box::new(a)),
                Condition::Filter(Box::new(b)),
            ],
            ..Filter::default()
        }),
    }
}

fn filter_of(v: Option<&Value>) -> Result<Option<Filter>, ApiError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(f) => Ok(Some(Filter::from_json(f)?)),
    }
}

/// Most points any level may ask for: `limit` is user input and sizes work.
const MAX_LIMIT: usize = 100_000;

fn run(c: &Collection, models: &ModelCache, node: Node<'_>) -> Result<Vec<ScoredPoint>, ApiError> {
    let want = node.limit.min(MAX_LIMIT);
    // Prefetches first; the request's filter narrows each of them.
    let mut lists = Vec::with_capacity(node.prefetch.len());
    for p in node.prefetch {
        let sub = Node {
            prefetch: &p.prefetch,
            query: p.query.as_ref(),
            using: p.using.as_deref(),
            filter: and(node.filter.clone(), filter_of(p.filter.as_ref())?),
            params: p.params.as_ref(),
            score_threshold: p.score_threshold,
            limit: p.limit.unwrap_or(10),
            offset: 0,
        };
        lists.push(run(c, models, sub)?);
    }
    let query = node.query.cloned().ok_or_else(|| {
        ApiError::bad_request(
            "`query` is required (a vector, a point id, text, or a fusion of prefetches)",
        )
    })?;
    let query = match query {
        VectorInput::Dense(v) => Query::Vector(v),
        VectorInput::Other(v) => parse(v, node.using)?,
    };
    // With prefetches, a plain query re-ranks only what they found.
    let mut filter = node.filter.clone();
    if !node.prefetch.is_empty() && !matches!(query, Query::Fusion { .. }) {
        let ids: HashSet<PointId> = lists.iter().flatten().map(|p| p.id).collect();
        filter = and(
            filter,
            Some(Filter {
                must: vec![Condition::HasId(ids)],
                ..Filter::default()
            }),
        );
    }
    let dense = |vector: Vec<f32>, filter: Option<Filter>| -> Result<Vec<ScoredPoint>, ApiError> {
        let mut req = SearchRequest::new(vector, want);
        req.offset = node.offset;
        req.filter = filter;
        req.score_threshold = node.score_threshold;
        if let Some(p) = node.params {
            req.ef = p.hnsw_ef;
            req.exact = p.exact || !node.prefetch.is_empty();
            if let Some(q) = &p.quantization {
                req.quantization = q.engine()?;
            }
        } else {
            req.exact = !node.prefetch.is_empty();
        }
        let hits = c.search(&req)?;
        let ef = req
            .ef
            .unwrap_or(c.config().hnsw.ef)
            .max(want.saturating_add(req.offset));
        super::metrics::observe_search(c.name(), ef, hits.len());
        Ok(hits)
    };
    match query {
        Query::Vector(v) => dense(v, filter),
        Query::Point(id) => {
            let vector = c
                .get(&[id], false, true)
                .pop()
                .and_then(|r| r.vector)
                .ok_or_else(|| ApiError::not_found(format!("point {id} not found")))?;
            let not_itself = Filter {
                must_not: vec![Condition::HasId(HashSet::from([id]))],
                ..Filter::default()
            };
            dense(vector, and(filter, Some(not_itself)))
        }
        Query::Text { text, model } => {
            let model = embedder(c, models, model.as_deref())?;
            let vector = model.embed(&[text.as_str()])?.pop().unwrap_or_default();
            dense(vector, filter)
        }
        Query::Bm25(text) => {
            let mut req = TextSearchRequest::new(text, want);
            req.offset = node.offset;
            req.filter = filter;
            req.score_threshold = node.score_threshold;
            Ok(c.search_text(&req)?)
        }
        Query::Fusion { k, weights } => {
            if node.prefetch.is_empty() {
                return Err(ApiError::bad_request(
                    "a fusion query needs `prefetch` (the lists to fuse)",
                ));
            }
            if weights.as_ref().is_some_and(|w| w.len() != lists.len()) {
                return Err(ApiError::bad_request(format!(
                    "`rrf.weights` has {} weights for {} prefetches",
                    weights.as_ref().map_or(0, Vec::len),
                    lists.len()
                )));
            }
            let fused = reciprocal_rank_fusion(
                lists,
                k,
                weights.as_deref(),
                want.saturating_add(node.offset),
            );
            Ok(fused
                .into_iter()
                .skip(node.offset)
                .filter(|p| node.score_threshold.is_none_or(|t| p.score >= t))
                .collect())
        }
    }
}

/// Runs one query request and renders Qdrant's `{"points": [...]}`.
pub fn query_one(
    c: &Collection,
    models: &ModelCache,
    mut body: QueryBody,
) -> Result<QueryAnswer, ApiError> {
    let common = &mut body.common;
    let node = Node {
        prefetch: &body.prefetch,
        query: body.query.as_ref(),
        using: body.using.as_deref(),
        filter: filter_of(common.filter.take().as_ref())?,
        params: common.params.as_ref(),
        score_threshold: common.score_threshold,
        limit: common.limit.unwrap_or(10),
        offset: common.offset.unwrap_or(0),
    };
    let hits = run(c, models, node)?;
    let with_payload = std::mem::take(&mut body.common.with_payload);
    let points = attach(c, hits, &with_payload, body.common.with_vector);
    Ok(QueryAnswer { points })
}

/// Qdrant's answer to a query: `{"points": [...]}`.
#[derive(serde::Serialize)]
pub struct QueryAnswer {
    points: Vec<ScoredPointOut>,
}

/// Sub-queries run without payloads; the final list gets what was asked.
fn attach(
    c: &Collection,
    hits: Vec<ScoredPoint>,
    payload: &PayloadSelector,
    with_vector: bool,
) -> Vec<ScoredPointOut> {
    let ids: Vec<PointId> = hits.iter().map(|h| h.id).collect();
    let mut records: std::collections::HashMap<PointId, cairn_engine::Record> =
        if payload.wanted() || with_vector {
            c.get(&ids, payload.wanted(), with_vector)
                .into_iter()
                .map(|r| (r.id, r))
                .collect()
        } else {
            Default::default()
        };
    hits.into_iter()
        .map(|mut h| {
            if let Some(r) = records.remove(&h.id) {
                h.payload = r.payload;
                h.vector = r.vector;
            }
            scored_point(h, payload)
        })
        .collect()
}
