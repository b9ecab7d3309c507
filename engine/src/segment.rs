//! A segment: the points of a collection and the structures that search them.
//!
//! Storage is split by what is stored — [`VectorStorage`] (mmap'd rows),
//! [`IdTracker`] (ids ↔ offsets, tombstones), [`PayloadStorage`] — apart from
//! how it is searched — [`Graph`] (HNSW) and [`PayloadIndex`] (field indexes).
//! An internal offset is at once a vector row, a graph node and a payload slot.
//!
//! Search planning: a collection, or a filter's candidate set, with at most
//! `full_scan_threshold` points is searched exactly; otherwise the graph is
//! walked with the filter as an acceptance predicate. Both paths compute the
//! same distances, so results differ only by the graph's approximation.

use std::collections::{BTreeMap, BinaryHeap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use roaring::RoaringBitmap;
use serde_json::{Map, Value};

use crate::checkpoint::PointsData;
use crate::error::{EngineError, Result};
use crate::filter::{Condition, Filter};
use crate::graph::{prefetch_up_to, Graph, Neighbor, SourceQuery, VectorSource};
use crate::id_tracker::IdTracker;
use crate::operation::Operation;
use crate::payload_index::PayloadIndex;
use crate::payload_storage::PayloadStorage;
use crate::quantization::QuantizedVectors;
use crate::spaces::Metric;
use crate::text_index::{self, TextIndex};
use crate::types::{
    CollectionConfig, Distance, PayloadSchemaType, PointId, PointStruct, Record,
    ScalarQuantization, ScoredPoint, ScrollRequest, ScrollResult, SearchRequest, TextSearchRequest,
};
use crate::vector_storage::{Rows, VectorStorage};

/// Seed for graph levels; fixed so rebuilds are reproducible.
const GRAPH_SEED: u64 = 0xCA1B_0000_0000_0001;
/// How many points the selectivity estimate of an unindexed filter samples.
const ESTIMATE_SAMPLE: usize = 512;
/// How much of each full-precision row the int8 path prefetches before
/// rescoring its candidates; the hardware prefetcher streams the rest. A
/// top 10's 40 rescored 768-d rows took 15.6 µs without prefetching, 10.0 µs
/// at 128 bytes, 9.7 µs at 512 and 10.6 µs at whole rows (modes alternated
/// query by query in one `search_loop synthetic:768:100000 … 64 80 int8`).
const RESCORE_PREFETCH_BYTES: usize = 512;

pub struct Segment {
    config: CollectionConfig,
    metric: Metric,
    pub(crate) vectors: VectorStorage,
    ids: IdTracker,
    payloads: PayloadStorage,
    index: PayloadIndex,
    pub(crate) graph: Graph,
    /// Int8 codes of `vectors`, when the config asks for quantization.
    quantized: Option<QuantizedVectors>,
    /// The collection's directory (text indexes live in sub-directories).
    dir: PathBuf,
    /// Full-text indexes by payload field. Shared with the segment a
    /// compaction builds: they are keyed by point id, not offset.
    texts: BTreeMap<String, Arc<TextIndex>>,
}

/// The text a point holds at `field`: its string values, one per line.
fn text_of(payload: &Map<String, Value>, field: &str) -> Option<String> {
    let parts: Vec<&str> = crate::filter::values_at(payload, field)
        .into_iter()
        .filter_map(Value::as_str)
        .collect();
    (!parts.is_empty()).then(|| parts.join("\n"))
}

/// Every stored row, by offset (what the quantizer encodes).
fn all_rows(vectors: &VectorStorage) -> impl ExactSizeIterator<Item = &[f32]> + Clone + '_ {
    (0..vectors.len() as u32).map(move |o| vectors.get(o))
}

fn quantize(config: &CollectionConfig, vectors: &VectorStorage) -> Option<QuantizedVectors> {
    config
        .quantization
        .as_ref()
        .map(|q| QuantizedVectors::build(config.distance, config.dim, q, all_rows(vectors)))
}

struct Source<'a> {
    vectors: Rows<'a>,
    metric: Metric,
}

impl VectorSource for Source<'_> {
    #[inline(always)]
    fn vector(&self, node: u32) -> &[f32] {
        self.vectors.get(node)
    }
    #[inline(always)]
    fn distance(&self, a: &[f32], b: &[f32]) -> f32 {
        self.metric.distance(a, b)
    }
    #[inline(always)]
    fn distances(&self, q: &[f32], nodes: &[u32], out: &mut [f32]) {
        self.metric
            .distances(q, nodes.iter().map(|&n| self.vectors.get(n)), out)
    }
}

impl Segment {
    pub fn create(config: CollectionConfig, vectors_path: &Path) -> Result<Segment> {
        let vectors = VectorStorage::create(vectors_path, config.dim)?;
        Ok(Segment {
            dir: vectors_path
                .parent()
                .unwrap_or(Path::new("."))
                .to_path_buf(),
            texts: BTreeMap::new(),
            metric: Metric::new(config.distance),
            graph: Graph::new(config.hnsw.m, GRAPH_SEED),
            quantized: quantize(&config, &vectors),
            config,
            vectors,
            ids: IdTracker::default(),
            payloads: PayloadStorage::default(),
            index: PayloadIndex::default(),
        })
    }

    pub fn load(
        config: CollectionConfig,
        vectors: VectorStorage,
        graph: Graph,
        points: PointsData,
        indexes: &[(String, PayloadSchemaType)],
        text_seqs: (u64, u64),
    ) -> Result<Segment> {
        let ids = IdTracker::from_data(points.ids);
        let vectors_dir = vectors
            .path()
            .parent()
            .unwrap_or(Path::new("."))
            .to_path_buf();
        if graph.len() != vectors.len() || ids.total() != vectors.len() {
            return Err(EngineError::corrupt(
                vectors.path(),
                format!(
                    "checkpoint disagrees with itself: {} vectors, {} graph nodes, {} ids",
                    vectors.len(),
                    graph.len(),
                    ids.total()
                ),
            ));
        }
        let mut segment = Segment {
            metric: Metric::new(config.distance),
            quantized: quantize(&config, &vectors),
            config,
            vectors,
            ids,
            payloads: PayloadStorage::from_data(points.payloads),
            index: PayloadIndex::default(),
            graph,
            dir: vectors_dir,
            texts: BTreeMap::new(),
        };
        let (min_seq, max_seq) = text_seqs;
        for (field, kind) in indexes {
            if *kind == PayloadSchemaType::Text {
                let dir = segment.dir.join(text_index::dir_name(field));
                let text = match TextIndex::open(field, &dir, min_seq, max_seq) {
                    Some(t) => t,
                    None => TextIndex::create(field, &dir, segment.live_texts(field), min_seq)?,
                };
                segment.texts.insert(field.clone(), Arc::new(text));
            } else {
                segment.create_field_index(field, *kind);
            }
        }
        Ok(segment)
    }

    /// `(id, text)` of every live point with text at `field`.
    fn live_texts<'a>(&'a self, field: &'a str) -> impl Iterator<Item = (PointId, String)> + 'a {
        self.ids.live_offsets().filter_map(move |off| {
            let text = text_of(self.payloads.get(off)?, field)?;
            Some((self.ids.id(off), text))
        })
    }

    pub fn config(&self) -> &CollectionConfig {
        &self.config
    }

    pub fn live_count(&self) -> usize {
        self.ids.live_count()
    }

    pub fn tombstones(&self) -> usize {
        self.ids.tombstones()
    }

    pub fn total(&self) -> usize {
        self.ids.total()
    }

    pub fn payload_schema(&self) -> Vec<(String, PayloadSchemaType)> {
        let mut schema = self.index.schema();
        schema.extend(
            self.texts
                .keys()
                .map(|f| (f.clone(), PayloadSchemaType::Text)),
        );
        schema.sort_by(|a, b| a.0.cmp(&b.0));
        schema
    }

    pub fn has_field_index(&self, field: &str) -> bool {
        self.index.has(field) || self.texts.contains_key(field)
    }

    pub fn has_text_index(&self, field: &str) -> bool {
        self.texts.contains_key(field)
    }

    /// Checks a vector against the collection; `Ok` means it can be stored.
    pub fn validate_vector(&self, v: &[f32]) -> Result<()> {
        if v.is_empty() {
            return Err(EngineError::EmptyVector);
        }
        if v.len() != self.config.dim {
            return Err(EngineError::DimensionMismatch {
                expected: self.config.dim,
                got: v.len(),
            });
        }
        if let Some(i) = v.iter().position(|x| !x.is_finite()) {
            return Err(EngineError::NonFiniteVector(i));
        }
        if self.config.distance == Distance::Cosine && v.iter().all(|x| *x == 0.0) {
            return Err(EngineError::ZeroVector);
        }
        Ok(())
    }

    /// Validates a batch and returns it ready for the log (normalised).
    pub fn prepare_upsert(&self, points: Vec<PointStruct>) -> Result<Vec<PointStruct>> {
        points
            .into_iter()
            .map(|mut p| {
                self.validate_vector(&p.vector)?;
                self.metric.preprocess(&mut p.vector);
                Ok(p)
            })
            .collect()
    }

    /// Makes room so that applying `op` cannot fail.
    pub fn reserve_for(&mut self, op: &Operation) -> Result<()> {
        match op {
            Operation::Upsert(points) => self.vectors.reserve(points.len()),
            _ => Ok(()),
        }
    }

    /// Applies the operation logged at stamp `seq`. Infallible once
    /// `reserve_for` succeeded: a text index that cannot follow is marked
    /// stale (and rebuilt at the next checkpoint) rather than failing it.
    pub fn apply(&mut self, seq: u64, op: Operation) {
        let touched: Vec<PointId> = match &op {
            _ if self.texts.is_empty() => Vec::new(),
            Operation::Upsert(points) => points.iter().map(|p| p.id).collect(),
            Operation::Delete(ids)
            | Operation::SetPayload { ids, .. }
            | Operation::OverwritePayload { ids, .. }
            | Operation::DeletePayloadKeys { ids, .. }
            | Operation::ClearPayload { ids } => ids.clone(),
            _ => Vec::new(),
        };
        self.apply_to_storage(seq, op);
        if !touched.is_empty() {
            self.sync_texts(seq, &touched);
        }
    }

    /// Re-states in every text index the text of the points `ids`.
    fn sync_texts(&self, seq: u64, ids: &[PointId]) {
        for (field, text) in &self.texts {
            if text.is_stale() {
                continue;
            }
            let changes: Vec<(PointId, Option<String>)> = ids
                .iter()
                .map(|id| {
                    let body = self
                        .ids
                        .offset(*id)
                        .and_then(|off| self.payloads.get(off))
                        .and_then(|p| text_of(p, field));
                    (*id, body)
                })
                .collect();
            if let Err(e) = text.update(seq, &changes) {
                tracing::error!(field = %field, error = %e, "text index update failed; it will be rebuilt at the next checkpoint");
                text.mark_stale();
            }
        }
    }

    /// Brings every text index to stamp `seq` before a checkpoint claims it:
    /// stale ones are rebuilt, the others stamped (so the next open knows
    /// they are current even if the last writes did not touch them).
    pub fn checkpoint_texts(&mut self, seq: u64) -> Result<()> {
        let fields: Vec<String> = self.texts.keys().cloned().collect();
        for field in fields {
            let Some(text) = self.texts.get(&field) else {
                continue;
            };
            if text.is_stale() {
                let dir = text.dir().to_path_buf();
                self.texts.remove(&field); // closes its writer before the rebuild
                let fresh = TextIndex::create(&field, &dir, self.live_texts(&field), seq)?;
                self.texts.insert(field, Arc::new(fresh));
            } else {
                text.stamp(seq)?;
            }
        }
        Ok(())
    }

    fn apply_to_storage(&mut self, seq: u64, op: Operation) {
        match op {
            Operation::Upsert(points) => self.upsert(points),
            Operation::Delete(ids) => {
                for id in ids {
                    if let Some(off) = self.ids.remove(id) {
                        self.drop_payload(off);
                    }
                }
            }
            Operation::SetPayload { ids, payload } => self.update_payloads(&ids, |p| {
                p.extend(payload.0.iter().map(|(k, v)| (k.clone(), v.clone())))
            }),
            Operation::OverwritePayload { ids, payload } => {
                self.update_payloads(&ids, |p| *p = payload.0.clone())
            }
            Operation::DeletePayloadKeys { ids, keys } => self.update_payloads(&ids, |p| {
                for k in &keys {
                    remove_path(p, k);
                }
            }),
            Operation::ClearPayload { ids } => self.update_payloads(&ids, |p| p.clear()),
            Operation::CreateFieldIndex { field, kind } => {
                self.drop_field_index(&field);
                if kind == PayloadSchemaType::Text {
                    self.create_text_index(seq, &field);
                } else {
                    self.create_field_index(&field, kind);
                }
            }
            Operation::DeleteFieldIndex { field } => self.drop_field_index(&field),
            Operation::UpdateHnsw(hnsw) => self.config.hnsw = hnsw,
            Operation::UpdateQuantization(q) => self.set_quantization(q.map(Into::into)),
            Operation::SetQuantization(q) => self.set_quantization(q),
        }
    }

    fn set_quantization(&mut self, q: Option<ScalarQuantization>) {
        if self.config.quantization != q {
            self.config.quantization = q;
            self.quantized = quantize(&self.config, &self.vectors);
        }
    }

    fn upsert(&mut self, points: Vec<PointStruct>) {
        let n = points.len();
        for p in points {
            let off = self.vectors.push(&p.vector);
            if let Some(old) = self.ids.insert(p.id, off) {
                self.drop_payload(old);
            }
            if let Some(payload) = p.payload {
                self.index.add(off, &payload.0);
                self.payloads.set(off, Some(payload.0));
            }
        }
        if let Some(q) = &mut self.quantized {
            q.extend(all_rows(&self.vectors));
        }
        let nodes = self.graph.add_nodes(n);
        let src = Source {
            vectors: self.vectors.rows(),
            metric: self.metric,
        };
        self.graph
            .insert_all(nodes, self.config.hnsw.ef_construct, &src);
    }

    fn drop_payload(&mut self, off: u32) {
        if let Some(old) = self.payloads.take(off) {
            self.index.remove(off, &old);
        }
    }

    fn update_payloads(&mut self, ids: &[PointId], change: impl Fn(&mut Map<String, Value>)) {
        for id in ids {
            let Some(off) = self.ids.offset(*id) else {
                continue;
            };
            let mut payload = self.payloads.take(off).unwrap_or_default();
            self.index.remove(off, &payload);
            change(&mut payload);
            self.index.add(off, &payload);
            self.payloads.set(off, Some(payload));
        }
    }

    fn create_text_index(&mut self, seq: u64, field: &str) {
        let dir = self.dir.join(text_index::dir_name(field));
        match TextIndex::create(field, &dir, self.live_texts(field), seq) {
            Ok(text) => {
                self.texts.insert(field.to_string(), Arc::new(text));
            }
            Err(e) => {
                tracing::error!(field, error = %e, "cannot build the text index");
                let _ = std::fs::remove_dir_all(&dir);
            }
        }
    }

    fn drop_field_index(&mut self, field: &str) {
        self.index.drop_field(field);
        if let Some(text) = self.texts.remove(field) {
            let dir = text.dir().to_path_buf();
            drop(text);
            let _ = std::fs::remove_dir_all(dir);
        }
    }

    fn create_field_index(&mut self, field: &str, kind: PayloadSchemaType) {
        self.index.create(field, kind);
        let offsets: Vec<u32> = self.ids.live_offsets().collect();
        for off in offsets {
            if let Some(p) = self.payloads.get(off) {
                self.index.add(off, p);
            }
        }
    }

    fn accepts(&self, off: u32, filter: Option<&Filter>) -> bool {
        !self.ids.is_deleted(off)
            && filter.is_none_or(|f| f.check(self.ids.id(off), self.payloads.get(off)))
    }

    /// Offsets that may pass `filter` according to the indexes (a superset),
    /// or `None` when no index narrows it.
    fn candidates(&self, filter: &Filter) -> Option<RoaringBitmap> {
        let mut found = self.index.candidates(filter);
        for c in &filter.must {
            if let Condition::HasId(ids) = c {
                let set: RoaringBitmap = ids.iter().filter_map(|id| self.ids.offset(*id)).collect();
                found = Some(match found {
                    Some(f) => f & set,
                    None => set,
                });
            }
        }
        found
    }

    /// Offsets of live points passing `filter`, in offset order.
    fn matching_offsets(&self, filter: Option<&Filter>) -> Vec<u32> {
        match filter.and_then(|f| self.candidates(f)) {
            Some(c) => c.iter().filter(|o| self.accepts(*o, filter)).collect(),
            None => self
                .ids
                .live_offsets()
                .filter(|o| self.accepts(*o, filter))
                .collect(),
        }
    }

    /// Estimated number of live points passing an unindexed filter, from an
    /// evenly spaced sample of offsets.
    fn estimate_matches(&self, filter: &Filter) -> usize {
        let total = self.ids.total();
        let step = (total / ESTIMATE_SAMPLE).max(1);
        let (mut seen, mut hits) = (0usize, 0usize);
        for off in (0..total).step_by(step).map(|o| o as u32) {
            if !self.ids.is_deleted(off) {
                seen += 1;
                hits += self.accepts(off, Some(filter)) as usize;
            }
        }
        (hits * self.ids.live_count())
            .checked_div(seen)
            .unwrap_or(0)
    }

    pub fn search(&self, req: &SearchRequest) -> Result<Vec<ScoredPoint>> {
        self.validate_vector(&req.vector)?;
        let mut query = req.vector.clone();
        self.metric.preprocess(&mut query);
        // Never more than there are points: `limit` is user input, and it
        // sizes heaps and the candidate list.
        let want = req
            .limit
            .saturating_add(req.offset)
            .min(self.ids.live_count());
        if want == 0 {
            return Ok(Vec::new());
        }
        let filter = req.filter.as_ref();
        let threshold = self.config.hnsw.full_scan_threshold;
        let scan =
            |offsets: &mut dyn Iterator<Item = u32>| self.exact(&query, want, offsets, filter);
        let hits = if req.exact || self.ids.live_count() <= threshold {
            scan(&mut self.ids.live_offsets())
        } else {
            match filter.map(|f| (f, self.candidates(f))) {
                Some((_, Some(c))) if c.len() as usize <= threshold => scan(&mut c.iter()),
                Some((f, None)) if self.estimate_matches(f) <= threshold => {
                    scan(&mut self.ids.live_offsets())
                }
                _ => {
                    // A list longer than the graph buys nothing (and `ef` is user input).
                    let ef = req
                        .ef
                        .unwrap_or(self.config.hnsw.ef)
                        .max(want)
                        .min(self.graph.len());
                    let accept = |off: u32| self.accepts(off, filter);
                    // Every node qualifies: skip the per-node check, and let
                    // the walk stop as plain HNSW does.
                    let everyone = filter.is_none() && self.ids.tombstones() == 0;
                    self.walk(&query, want, ef, req, (!everyone).then_some(&accept))
                }
            }
        };
        Ok(hits
            .into_iter()
            .skip(req.offset)
            .map(|n| (n, self.metric.score(n.dist)))
            .filter(|(_, score)| {
                req.score_threshold
                    .is_none_or(|t| self.metric.passes(*score, t))
            })
            .map(|(n, score)| {
                let r = self.record(n.id, req.with_payload, req.with_vector);
                ScoredPoint {
                    id: r.id,
                    score,
                    payload: r.payload,
                    vector: r.vector,
                }
            })
            .collect())
    }

    /// The `limit` best BM25 matches of a text query among live points
    /// passing the filter (after `offset`), best first.
    pub fn search_text(&self, req: &TextSearchRequest) -> Result<Vec<ScoredPoint>> {
        let text = match &req.field {
            Some(f) => self.texts.get(f).ok_or_else(|| {
                EngineError::InvalidRequest(format!(
                    "no text index on `{f}`: create one (payload index of type text) first"
                ))
            })?,
            None => match self.texts.len() {
                1 => self.texts.values().next().expect("one"),
                0 => {
                    return Err(EngineError::InvalidRequest(
                        "this collection has no text index: create a payload index of type text (e.g. on `content`) first".into(),
                    ))
                }
                _ => {
                    return Err(EngineError::InvalidRequest(format!(
                        "this collection has text indexes on {:?}: say which field to search",
                        self.texts.keys().collect::<Vec<_>>()
                    )))
                }
            },
        };
        if text.is_stale() {
            return Err(EngineError::InvalidRequest(format!(
                "the text index on `{}` is being rebuilt after a failed write; retry after the next checkpoint",
                text.field()
            )));
        }
        let want = req
            .limit
            .saturating_add(req.offset)
            .min(self.ids.live_count());
        let filter = req.filter.as_ref();
        let accept = |id: PointId| {
            self.ids
                .offset(id)
                .is_some_and(|off| self.accepts(off, filter))
        };
        let hits = text.search(&req.query, want, &accept)?;
        Ok(hits
            .into_iter()
            .skip(req.offset)
            .filter(|(_, score)| req.score_threshold.is_none_or(|t| *score >= t))
            .filter_map(|(id, score)| {
                let off = self.ids.offset(id)?;
                let r = self.record(off, req.with_payload, req.with_vector);
                Some(ScoredPoint {
                    id,
                    score,
                    payload: r.payload,
                    vector: r.vector,
                })
            })
            .collect())
    }

    /// The graph search proper: over the int8 codes (then rescored) when
    /// the collection has them and the request does not opt out, else over
    /// the full-precision vectors.
    fn walk(
        &self,
        query: &[f32],
        want: usize,
        ef: usize,
        req: &SearchRequest,
        accept: Option<&dyn Fn(u32) -> bool>,
    ) -> Vec<Neighbor> {
        let params = &req.quantization;
        match &self.quantized {
            Some(codes) if !params.ignore => {
                // `oversampling` is user input: NaN or negative means none,
                // infinity means every candidate the walk finds.
                let keep = if params.rescore {
                    ((want as f32 * params.oversampling).ceil() as usize).clamp(want, ef.max(want))
                } else {
                    want
                };
                let mut found = self.graph.search(&codes.query(query), keep, ef, accept);
                if params.rescore {
                    // Start every row's load before the first is read, so the
                    // misses overlap rather than stall one by one.
                    for n in &found {
                        prefetch_up_to(self.vectors.get(n.id), RESCORE_PREFETCH_BYTES);
                    }
                    for n in &mut found {
                        n.dist = self.metric.distance(query, self.vectors.get(n.id));
                    }
                    found.sort_unstable();
                    found.truncate(want);
                }
                found
            }
            _ => {
                let src = Source {
                    vectors: self.vectors.rows(),
                    metric: self.metric,
                };
                let q = SourceQuery { src: &src, query };
                self.graph.search(&q, want, ef, accept)
            }
        }
    }

    /// Bytes of int8 codes held in RAM (0 without quantization).
    pub fn quantized_bytes(&self) -> usize {
        self.quantized.as_ref().map_or(0, |q| q.memory_bytes())
    }

    fn exact(
        &self,
        query: &[f32],
        k: usize,
        offsets: &mut dyn Iterator<Item = u32>,
        filter: Option<&Filter>,
    ) -> Vec<Neighbor> {
        let mut heap: BinaryHeap<Neighbor> = BinaryHeap::with_capacity(k + 1);
        for off in offsets {
            if !self.accepts(off, filter) {
                continue;
            }
            let dist = self.metric.distance(query, self.vectors.get(off));
            if heap.len() < k || heap.peek().is_some_and(|w| dist < w.dist) {
                heap.push(Neighbor { dist, id: off });
                if heap.len() > k {
                    heap.pop();
                }
            }
        }
        heap.into_sorted_vec()
    }

    fn record(&self, off: u32, with_payload: bool, with_vector: bool) -> Record {
        Record {
            id: self.ids.id(off),
            payload: with_payload.then(|| {
                crate::types::Payload(self.payloads.get(off).cloned().unwrap_or_default())
            }),
            vector: with_vector.then(|| self.vectors.get(off).to_vec()),
        }
    }

    pub fn get(&self, ids: &[PointId], with_payload: bool, with_vector: bool) -> Vec<Record> {
        let mut seen = HashSet::new();
        ids.iter()
            .filter(|id| seen.insert(**id))
            .filter_map(|id| self.ids.offset(*id))
            .map(|off| self.record(off, with_payload, with_vector))
            .collect()
    }

    pub fn scroll(&self, req: &ScrollRequest) -> ScrollResult {
        let filter = req.filter.as_ref();
        let mut page = self
            .ids
            .iter_from(req.offset)
            .filter(|(_, off)| self.accepts(*off, filter))
            .take(req.limit.saturating_add(1));
        let points = page
            .by_ref()
            .take(req.limit)
            .map(|(_, off)| self.record(off, req.with_payload, req.with_vector))
            .collect();
        ScrollResult {
            points,
            next_page_offset: page.next().map(|(id, _)| id),
        }
    }

    pub fn count(&self, filter: Option<&Filter>) -> usize {
        match filter {
            None => self.ids.live_count(),
            Some(_) => self.matching_offsets(filter).len(),
        }
    }

    /// Ids of live points passing `filter` (writes resolve filters with this).
    pub fn matching_ids(&self, filter: &Filter) -> Vec<PointId> {
        self.matching_offsets(Some(filter))
            .into_iter()
            .map(|o| self.ids.id(o))
            .collect()
    }

    /// The ids of `ids` that name live points, without duplicates.
    pub fn live_ids(&self, ids: Vec<PointId>) -> Vec<PointId> {
        let mut seen = HashSet::new();
        ids.into_iter()
            .filter(|id| self.ids.offset(*id).is_some() && seen.insert(*id))
            .collect()
    }

    /// The persisted form of ids and payloads.
    pub fn points_data(&self) -> PointsData {
        PointsData {
            ids: self.ids.to_data(),
            payloads: self.payloads.to_data(),
        }
    }

    /// A new segment holding only the live points, with a freshly built
    /// graph and its vectors in `vectors_path`: how tombstones are reclaimed.
    pub fn compacted(&self, vectors_path: &Path) -> Result<Segment> {
        let mut fresh = Segment::create(self.config.clone(), vectors_path)?;
        for (field, kind) in self.index.schema() {
            fresh.index.create(&field, kind);
        }
        fresh.vectors.reserve(self.ids.live_count())?;
        for (id, off) in self.ids.iter_from(None) {
            let new = fresh.vectors.push(self.vectors.get(off));
            fresh.ids.insert(id, new);
            if let Some(p) = self.payloads.get(off) {
                fresh.index.add(new, p);
                fresh.payloads.set(new, Some(p.clone()));
            }
        }
        fresh.quantized = quantize(&fresh.config, &fresh.vectors);
        fresh.texts = self.texts.clone();
        let nodes = fresh.graph.add_nodes(fresh.vectors.len());
        let src = Source {
            vectors: fresh.vectors.rows(),
            metric: fresh.metric,
        };
        fresh
            .graph
            .insert_all(nodes, fresh.config.hnsw.ef_construct, &src);
        Ok(fresh)
    }
}

/// Removes a dotted path from a payload (`a.b` removes `b` inside `a`).
fn remove_path(payload: &mut Map<String, Value>, path: &str) {
    match path.split_once('.') {
        None => {
            payload.remove(path);
        }
        Some((head, rest)) => match payload.get_mut(head) {
            Some(Value::Object(inner)) => remove_path(inner, rest),
            Some(Value::Array(items)) => {
                for item in items.iter_mut().filter_map(Value::as_object_mut) {
                    remove_path(item, rest);
                }
            }
            _ => {}
        },
    }
}
