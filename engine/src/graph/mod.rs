//! Cairn's HNSW graph (Malkov & Yashunin, "Efficient and robust approximate
//! nearest neighbor search using Hierarchical Navigable Small World graphs",
//! 2016/2018).
//!
//! Layout, chosen for cache behaviour and cheap concurrency:
//! - layer 0 is one flat array with a fixed slot of `1 + 2*m` words per node
//!   (neighbour count, then neighbour ids);
//! - upper layers, which only ~1/m of the nodes reach, are a small boxed
//!   array per node with `1 + m` words per layer;
//! - words are `AtomicU32` read with plain (relaxed/acquire) loads, so search
//!   takes no lock, while the parallel build serialises writers of one
//!   node's list with that node's 1-byte lock. A reader may see a list mid
//!   update; every id in it is still an allocated node, which is all that
//!   search needs.
//!
//! The graph holds no vectors: callers pass a [`VectorSource`]. Node ids are
//! the collection's internal offsets. Tombstoned nodes stay in the graph as
//! waypoints; searches skip them through the `accept` predicate, which is
//! also how filters are applied during traversal (hnswlib's approach: keep
//! walking through rejected nodes, collect only accepted ones).

mod candidate_pool;
mod visited;

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::ops::Range;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::*};

use parking_lot::Mutex;
use rayon::prelude::*;

use candidate_pool::CandidatePool;
use visited::with_visited;

/// How much of a vector or list [`prefetch`] asks for. The hardware
/// prefetcher follows longer runs on its own; asking for 128 bytes rather
/// than 256 measured +8% queries/s on GloVe (200-byte rows), level at
/// 768-d and -1.5% on the in-cache SciFact set, in back-to-back runs.
const PREFETCH_BYTES: usize = 128;

/// Asks the CPU to start loading the first cache lines of `v` (up to
/// [`PREFETCH_BYTES`]).
#[inline(always)]
pub fn prefetch<T>(v: &[T]) {
    prefetch_up_to(v, PREFETCH_BYTES)
}

/// Asks the CPU to start loading the first `limit` bytes of `v`.
#[inline(always)]
pub fn prefetch_up_to<T>(v: &[T], limit: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let bytes = std::mem::size_of_val(v).min(limit);
        let p = v.as_ptr().cast::<i8>();
        for offset in (0..bytes).step_by(64) {
            // SAFETY: prefetching is a hint; it never faults, and the address
            // stays inside `v`.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(p.add(offset)) };
        }
    }
}

/// Where the graph reads full-precision vectors and distances from: what
/// the build links with.
pub trait VectorSource: Sync {
    fn vector(&self, node: u32) -> &[f32];
    /// Internal distance: smaller is closer.
    fn distance(&self, a: &[f32], b: &[f32]) -> f32;
    /// Distances from `q` to each of `nodes`, into `out` (one call per
    /// neighbour list; see [`crate::spaces::Kernel::dot_many`]).
    fn distances(&self, q: &[f32], nodes: &[u32], out: &mut [f32]) {
        for (o, &n) in out.iter_mut().zip(nodes) {
            *o = self.distance(q, self.vector(n));
        }
    }
}

/// Distances from one fixed query to graph nodes: what a search walks
/// with. The query may be encoded for the stored form (e.g. int8 codes, see
/// [`crate::quantization`]), so the graph never sees a vector itself.
pub trait QueryScorer {
    /// Hints that `node`'s stored vector is about to be read.
    fn prefetch(&self, node: u32);
    fn score(&self, node: u32) -> f32;
    /// `out[i] = score(nodes[i])`.
    fn score_many(&self, nodes: &[u32], out: &mut [f32]);
    /// Whether a walk should prefetch the next candidate's neighbours
    /// while this one's are scored (see [`Graph::expand`]).
    fn looks_ahead(&self) -> bool {
        false
    }
}

/// A full-precision query against a [`VectorSource`].
pub struct SourceQuery<'a, S: VectorSource> {
    pub src: &'a S,
    pub query: &'a [f32],
}

impl<S: VectorSource> QueryScorer for SourceQuery<'_, S> {
    #[inline(always)]
    fn prefetch(&self, node: u32) {
        prefetch(self.src.vector(node));
    }
    #[inline(always)]
    fn score(&self, node: u32) -> f32 {
        self.src.distance(self.query, self.src.vector(node))
    }
    #[inline(always)]
    fn score_many(&self, nodes: &[u32], out: &mut [f32]) {
        self.src.distances(self.query, nodes, out)
    }
}

/// A node and its distance to the query; ordered by distance, then id.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Neighbor {
    pub dist: f32,
    pub id: u32,
}

impl Eq for Neighbor {}
impl PartialOrd for Neighbor {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Neighbor {
    fn cmp(&self, other: &Self) -> Ordering {
        self.dist
            .total_cmp(&other.dist)
            .then(self.id.cmp(&other.id))
    }
}

const NO_ENTRY: u64 = u64::MAX;
const MAX_LEVEL: usize = 16;
/// The longest upper-layer list, `m`, that [`Graph::greedy`]'s stack
/// buffers hold: the largest `m` a collection config accepts.
const MAX_UPPER_LINKS: usize = 256;
const FORMAT_VERSION: u32 = 1;

pub struct Graph {
    m: usize,
    m0: usize,
    seed: u64,
    levels: Vec<u8>,
    links0: Vec<AtomicU32>,
    upper: Vec<Box<[AtomicU32]>>,
    locks: Vec<Mutex<()>>,
    /// `(level << 32) | node`, or `NO_ENTRY`.
    entry: AtomicU64,
    entry_lock: Mutex<()>,
}

impl Graph {
    pub fn new(m: usize, seed: u64) -> Self {
        Graph {
            m,
            m0: 2 * m,
            seed,
            levels: Vec::new(),
            links0: Vec::new(),
            upper: Vec::new(),
            locks: Vec::new(),
            entry: AtomicU64::new(NO_ENTRY),
            entry_lock: Mutex::new(()),
        }
    }

    pub fn len(&self) -> usize {
        self.levels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.levels.is_empty()
    }

    pub fn m(&self) -> usize {
        self.m
    }

    /// Allocates `count` unlinked nodes; returns their ids. Each node's level
    /// is drawn from a hash of its id, so rebuilding gives the same levels.
    pub fn add_nodes(&mut self, count: usize) -> Range<u32> {
        let start = self.len() as u32;
        let mult = 1.0 / (self.m as f64).ln();
        for node in start..start + count as u32 {
            let u = (splitmix64(self.seed ^ (node as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
                >> 11) as f64
                / (1u64 << 53) as f64;
            let level = ((-(1.0 - u).ln() * mult) as usize).min(MAX_LEVEL);
            self.levels.push(level as u8);
            self.links0.extend((0..=self.m0).map(|_| AtomicU32::new(0)));
            self.upper.push(
                (0..level * (self.m + 1))
                    .map(|_| AtomicU32::new(0))
                    .collect(),
            );
            self.locks.push(Mutex::new(()));
        }
        start..start + count as u32
    }

    /// Links every node in `nodes` into the graph, in parallel.
    pub fn insert_all<S: VectorSource>(&self, nodes: Range<u32>, ef_construct: usize, src: &S) {
        if nodes.len() < 64 {
            nodes.for_each(|n| self.insert(n, ef_construct, src));
        } else {
            nodes
                .into_par_iter()
                .for_each(|n| self.insert(n, ef_construct, src));
        }
    }

    fn entry(&self) -> Option<(u32, usize)> {
        match self.entry.load(Acquire) {
            NO_ENTRY => None,
            e => Some((e as u32, (e >> 32) as usize)),
        }
    }

    #[inline(always)]
    fn list(&self, node: u32, layer: usize) -> &[AtomicU32] {
        if layer == 0 {
            let s = node as usize * (self.m0 + 1);
            &self.links0[s..s + self.m0 + 1]
        } else {
            let s = (layer - 1) * (self.m + 1);
            &self.upper[node as usize][s..s + self.m + 1]
        }
    }

    fn capacity(&self, layer: usize) -> usize {
        if layer == 0 {
            self.m0
        } else {
            self.m
        }
    }

    /// The filled slots of `node`'s list on `layer` (its count word read
    /// once, and capped, since a concurrent writer may be mid-update).
    #[inline(always)]
    fn links(&self, node: u32, layer: usize) -> &[AtomicU32] {
        let list = self.list(node, layer);
        let count = (list[0].load(Acquire) as usize).min(self.capacity(layer));
        &list[1..=count]
    }

    /// A copy of `node`'s neighbours on `layer`.
    pub fn neighbors(&self, node: u32, layer: usize) -> Vec<u32> {
        self.links(node, layer)
            .iter()
            .map(|a| a.load(Relaxed))
            .collect()
    }

    fn set_neighbors(&self, node: u32, layer: usize, ids: impl ExactSizeIterator<Item = u32>) {
        let list = self.list(node, layer);
        let n = ids.len();
        for (slot, id) in list[1..].iter().zip(ids) {
            slot.store(id, Relaxed);
        }
        list[0].store(n as u32, Release);
    }

    fn insert<S: VectorSource>(&self, node: u32, ef_construct: usize, src: &S) {
        let level = self.levels[node as usize] as usize;
        let (mut cur, max_level) = loop {
            if let Some(e) = self.entry() {
                break e;
            }
            let _guard = self.entry_lock.lock();
            if self.entry().is_none() {
                self.entry
                    .store(((level as u64) << 32) | node as u64, Release);
                return;
            }
        };
        let q = SourceQuery {
            src,
            query: src.vector(node),
        };
        let mut cur_dist = q.score(cur);
        for layer in (level + 1..=max_level).rev() {
            (cur, cur_dist) = self.greedy(&q, cur, cur_dist, layer);
        }
        for layer in (0..=level.min(max_level)).rev() {
            let entry = [Neighbor {
                dist: cur_dist,
                id: cur,
            }];
            let mut found =
                self.search_layer(&q, &entry, ef_construct, layer, None::<&fn(u32) -> bool>);
            found.retain(|n| n.id != node);
            let chosen = self.select(&found, self.capacity(layer), src);
            {
                let _guard = self.locks[node as usize].lock();
                self.set_neighbors(node, layer, chosen.iter().map(|n| n.id));
            }
            for n in &chosen {
                self.link(n.id, node, n.dist, layer, src);
            }
            if let Some(best) = found.first() {
                (cur, cur_dist) = (best.id, best.dist);
            }
        }
        if level > max_level {
            let _guard = self.entry_lock.lock();
            if self.entry().is_some_and(|(_, l)| level > l) {
                self.entry
                    .store(((level as u64) << 32) | node as u64, Release);
            }
        }
    }

    /// Adds `new` to `node`'s list on `layer`, re-selecting by the heuristic
    /// when the list is full.
    fn link<S: VectorSource>(&self, node: u32, new: u32, dist: f32, layer: usize, src: &S) {
        let _guard = self.locks[node as usize].lock();
        let list = self.list(node, layer);
        let cap = self.capacity(layer);
        let count = (list[0].load(Acquire) as usize).min(cap);
        if list[1..=count].iter().any(|a| a.load(Relaxed) == new) {
            return;
        }
        if count < cap {
            list[count + 1].store(new, Relaxed);
            list[0].store(count as u32 + 1, Release);
            return;
        }
        let base = src.vector(node);
        let mut candidates: Vec<Neighbor> = list[1..=count]
            .iter()
            .map(|a| {
                let id = a.load(Relaxed);
                Neighbor {
                    dist: src.distance(base, src.vector(id)),
                    id,
                }
            })
            .collect();
        candidates.push(Neighbor { dist, id: new });
        candidates.sort_unstable();
        let chosen = self.select(&candidates, cap, src);
        self.set_neighbors(node, layer, chosen.iter().map(|n| n.id));
    }

    /// Malkov's neighbour-selection heuristic (algorithm 4): walking the
    /// candidates nearest first, keep one only if it is closer to the base
    /// than to every neighbour kept so far. This keeps links pointing in
    /// diverse directions, which is what lets clustered data stay connected.
    fn select<S: VectorSource>(&self, sorted: &[Neighbor], m: usize, src: &S) -> Vec<Neighbor> {
        if sorted.len() <= m {
            return sorted.to_vec();
        }
        let mut kept: Vec<Neighbor> = Vec::with_capacity(m);
        for c in sorted {
            if kept.len() >= m {
                break;
            }
            let v = src.vector(c.id);
            if kept
                .iter()
                .all(|k| src.distance(v, src.vector(k.id)) > c.dist)
            {
                kept.push(*c);
            }
        }
        kept
    }

    fn greedy<Q: QueryScorer>(
        &self,
        q: &Q,
        mut cur: u32,
        mut cur_dist: f32,
        layer: usize,
    ) -> (u32, f32) {
        // Upper layers have at most `m` links: score each list in one call
        // after prefetching all of it, as the layer-0 walk does.
        let mut ids = [0u32; MAX_UPPER_LINKS];
        let mut dists = [0f32; MAX_UPPER_LINKS];
        loop {
            let links = self.links(cur, layer);
            let count = links.len().min(MAX_UPPER_LINKS);
            for (id, slot) in ids.iter_mut().zip(links) {
                *id = slot.load(Relaxed);
                q.prefetch(*id);
            }
            q.score_many(&ids[..count], &mut dists[..count]);
            let best = ids[..count]
                .iter()
                .zip(&dists[..count])
                .min_by(|a, b| a.1.total_cmp(b.1));
            match best {
                Some((&n, &d)) if d < cur_dist => (cur, cur_dist) = (n, d),
                _ => return (cur, cur_dist),
            }
        }
    }

    /// Best-first search of one layer (algorithm 2), returning up to `ef`
    /// accepted nodes, nearest first. Without a filter the walk keeps one
    /// sorted candidate list ([`CandidatePool`]); with one it keeps HNSW's
    /// two heaps ([`Graph::search_layer_filtered`]).
    fn search_layer<Q: QueryScorer, F: Fn(u32) -> bool + ?Sized>(
        &self,
        q: &Q,
        entries: &[Neighbor],
        ef: usize,
        layer: usize,
        accept: Option<&F>,
    ) -> Vec<Neighbor> {
        if let Some(accept) = accept {
            return self.search_layer_filtered(q, entries, ef, layer, accept);
        }
        let cap = self.capacity(layer);
        with_visited(self.len(), |visited| {
            let mut pool = CandidatePool::new(ef);
            let mut fresh: Vec<u32> = Vec::with_capacity(cap);
            let mut dists: Vec<f32> = Vec::with_capacity(cap);
            for e in entries {
                visited.insert(e.id);
                pool.offer(*e);
            }
            let looks_ahead = q.looks_ahead();
            while let Some(c) = pool.pop_unexpanded() {
                let next = pool.peek_unexpanded().map(|n| n.id);
                if let Some(next) = next {
                    prefetch(self.list(next, layer));
                }
                let ahead = next.filter(|_| looks_ahead);
                self.expand(q, c.id, ahead, layer, visited, &mut fresh, &mut dists);
                for (&n, &d) in fresh.iter().zip(&dists) {
                    if d <= pool.bound() {
                        pool.offer(Neighbor { dist: d, id: n });
                    }
                }
            }
            pool.into_sorted()
        })
    }

    /// Reads `node`'s neighbour list on `layer`, keeps the neighbours not
    /// visited yet in `fresh` and their distances in `dists`. Three passes:
    /// keep the new ones (without a branch per neighbour: +7.5% queries/s
    /// on SciFact, +4% on GloVe, level at 768-d), prefetch their vectors,
    /// then score them, so the memory loads overlap instead of stalling one
    /// by one.
    ///
    /// With `ahead` (the node likely expanded next), the rows of *its*
    /// unvisited neighbours are prefetched too, before this node's are
    /// scored: a software pipeline one expansion deep, so the next burst
    /// of misses is in flight while this one is computed. Scorers opt in
    /// through [`QueryScorer::looks_ahead`], since it pays only where a
    /// row's wait is long against the work of reading a list twice.
    /// (Prefetching a few rows ahead *within* one list instead measured 6%
    /// slower on GloVe: the burst keeps more loads in flight.)
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn expand<Q: QueryScorer>(
        &self,
        q: &Q,
        node: u32,
        ahead: Option<u32>,
        layer: usize,
        visited: &mut visited::VisitedSet,
        fresh: &mut Vec<u32>,
        dists: &mut Vec<f32>,
    ) {
        let links = self.links(node, layer);
        // Keep the unvisited without a branch: write every neighbour, and
        // advance past it only if it is new.
        fresh.clear();
        fresh.resize(links.len(), 0);
        let mut kept = 0;
        for slot in links {
            let n = slot.load(Relaxed);
            fresh[kept] = n;
            kept += usize::from(visited.insert(n));
        }
        fresh.truncate(kept);
        for &n in fresh.iter() {
            q.prefetch(n);
        }
        if let Some(ahead) = ahead {
            // Its list was prefetched as this expansion began. Nothing is
            // marked: the walk may pick another node next after all.
            for slot in self.links(ahead, layer) {
                let n = slot.load(Relaxed);
                if !visited.contains(n) {
                    q.prefetch(n);
                }
            }
        }
        dists.resize(fresh.len(), 0.0);
        q.score_many(fresh, dists);
    }

    /// [`Graph::search_layer`] under a filter: candidates and results are
    /// separate heaps, since rejected nodes are still expanded (they are
    /// waypoints) but never returned, and while fewer than `ef` nodes are
    /// accepted the search keeps going, so a filter or tombstones cannot
    /// starve the result.
    fn search_layer_filtered<Q: QueryScorer, F: Fn(u32) -> bool + ?Sized>(
        &self,
        q: &Q,
        entries: &[Neighbor],
        ef: usize,
        layer: usize,
        accepts: &F,
    ) -> Vec<Neighbor> {
        let cap = self.capacity(layer);
        with_visited(self.len(), |visited| {
            let mut candidates: BinaryHeap<Reverse<Neighbor>> = BinaryHeap::with_capacity(ef * 2);
            let mut results: BinaryHeap<Neighbor> = BinaryHeap::with_capacity(ef + 1);
            let mut fresh: Vec<u32> = Vec::with_capacity(cap);
            let mut dists: Vec<f32> = Vec::with_capacity(cap);
            for e in entries {
                visited.insert(e.id);
                candidates.push(Reverse(*e));
                if accepts(e.id) {
                    results.push(*e);
                }
            }
            let mut bound = results.peek().map_or(f32::INFINITY, |w| w.dist);
            while let Some(Reverse(c)) = candidates.pop() {
                if c.dist > bound && results.len() >= ef {
                    break;
                }
                // The next candidate's links are likely read next: start
                // loading them while this one is expanded (as hnswlib does).
                if let Some(Reverse(next)) = candidates.peek() {
                    prefetch(self.list(next.id, layer));
                }
                self.expand(q, c.id, None, layer, visited, &mut fresh, &mut dists);
                for (&n, &d) in fresh.iter().zip(&dists) {
                    if results.len() < ef || d < bound {
                        let found = Neighbor { dist: d, id: n };
                        candidates.push(Reverse(found));
                        if accepts(n) {
                            if results.len() < ef {
                                results.push(found);
                            } else if let Some(mut worst) = results.peek_mut() {
                                // Full, and `d < bound`: the new node takes
                                // the worst one's place, one sift instead of
                                // a push and a pop.
                                *worst = found;
                            }
                        }
                        if let Some(w) = results.peek() {
                            bound = w.dist;
                        }
                    }
                }
            }
            results.into_sorted_vec()
        })
    }

    /// The `k` nearest accepted nodes to the scorer's query, nearest first.
    pub fn search<Q: QueryScorer, F: Fn(u32) -> bool + ?Sized>(
        &self,
        q: &Q,
        k: usize,
        ef: usize,
        accept: Option<&F>,
    ) -> Vec<Neighbor> {
        let Some((mut cur, max_level)) = self.entry() else {
            return Vec::new();
        };
        let mut cur_dist = q.score(cur);
        for layer in (1..=max_level).rev() {
            (cur, cur_dist) = self.greedy(q, cur, cur_dist, layer);
        }
        let entry = [Neighbor {
            dist: cur_dist,
            id: cur,
        }];
        let mut found = self.search_layer(q, &entry, ef.max(k), 0, accept);
        found.truncate(k);
        found
    }

    /// Serialises the graph (little-endian words).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(40 + self.len() * (1 + 4 * (self.m0 + 1)));
        for w in [
            FORMAT_VERSION as u64,
            self.m as u64,
            self.seed,
            self.len() as u64,
        ] {
            out.extend_from_slice(&w.to_le_bytes());
        }
        out.extend_from_slice(&self.entry.load(Acquire).to_le_bytes());
        out.extend_from_slice(&self.levels);
        let words = self
            .links0
            .iter()
            .chain(self.upper.iter().flat_map(|u| u.iter()));
        for w in words {
            out.extend_from_slice(&w.load(Acquire).to_le_bytes());
        }
        out
    }

    /// Reads a graph written by [`Graph::to_bytes`], checking every id.
    pub fn from_bytes(bytes: &[u8]) -> Result<Graph, String> {
        let word = |i: usize| -> Result<u64, String> {
            bytes
                .get(i * 8..i * 8 + 8)
                .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
                .ok_or_else(|| "graph file is truncated".to_string())
        };
        if word(0)? != FORMAT_VERSION as u64 {
            return Err(format!("graph format version {}", word(0)?));
        }
        let (m, seed, n, entry) = (word(1)? as usize, word(2)?, word(3)? as usize, word(4)?);
        if !(2..=256).contains(&m) {
            return Err(format!("graph has m = {m}"));
        }
        let mut g = Graph::new(m, seed);
        let levels = bytes.get(40..40 + n).ok_or("graph file is truncated")?;
        let upper_words: usize = levels.iter().map(|&l| l as usize * (m + 1)).sum();
        let words_at = 40 + n;
        let total = n * (g.m0 + 1) + upper_words;
        if bytes.len() != words_at + total * 4 {
            return Err("graph file has the wrong length".into());
        }
        let mut words = bytes[words_at..]
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes")));
        g.levels = levels.to_vec();
        g.links0 = words
            .by_ref()
            .take(n * (g.m0 + 1))
            .map(AtomicU32::new)
            .collect();
        g.upper = levels
            .iter()
            .map(|&l| {
                words
                    .by_ref()
                    .take(l as usize * (m + 1))
                    .map(AtomicU32::new)
                    .collect()
            })
            .collect();
        g.locks = (0..n).map(|_| Mutex::new(())).collect();
        for node in 0..n as u32 {
            for layer in 0..=g.levels[node as usize] as usize {
                let list = g.list(node, layer);
                let count = list[0].load(Relaxed) as usize;
                if count > g.capacity(layer)
                    || list[1..=count]
                        .iter()
                        .any(|a| a.load(Relaxed) as usize >= n)
                {
                    return Err(format!("node {node} has an invalid neighbour list"));
                }
            }
        }
        if entry != NO_ENTRY && ((entry as u32) as usize >= n || (entry >> 32) as usize > MAX_LEVEL)
        {
            return Err("graph entry point is out of range".into());
        }
        g.entry = AtomicU64::new(entry);
        Ok(g)
    }
}

fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Points(Vec<Vec<f32>>);
    impl VectorSource for Points {
        fn vector(&self, node: u32) -> &[f32] {
            &self.0[node as usize]
        }
        fn distance(&self, a: &[f32], b: &[f32]) -> f32 {
            a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
        }
    }

    fn grid(n: usize) -> Points {
        Points(
            (0..n)
                .map(|i| vec![(i % 37) as f32, (i / 37) as f32, ((i * 7) % 11) as f32])
                .collect(),
        )
    }

    /// `grid(n)` and a graph of it (m = 8, ef_construction = 64).
    fn built(n: usize, seed: u64) -> (Points, Graph) {
        let pts = grid(n);
        let mut g = Graph::new(8, seed);
        let nodes = g.add_nodes(pts.0.len());
        g.insert_all(nodes, 64, &pts);
        (pts, g)
    }

    #[test]
    fn finds_exact_neighbours_on_a_small_set_and_round_trips() {
        let (pts, g) = built(2000, 42);
        let mut hits = 0;
        for q in (0..2000).step_by(41) {
            let query = SourceQuery {
                src: &pts,
                query: &pts.0[q],
            };
            // A parallel build is not deterministic, and on this integer
            // lattice (many exact distance ties, which the heuristic prunes
            // hard at m=8) 1-3 of the 49 probes come out unreachable in
            // about one build in twenty; real data is checked in tests/.
            let found = g.search(&query, 10, 64, None::<&fn(u32) -> bool>);
            hits += found.iter().any(|c| c.dist == 0.0) as usize;
        }
        assert!(hits >= 46, "self-recall {hits}/49");
        let back = Graph::from_bytes(&g.to_bytes()).expect("round trip");
        assert_eq!(back.to_bytes(), g.to_bytes());
        let mut bytes = g.to_bytes();
        bytes.truncate(bytes.len() - 3);
        assert!(Graph::from_bytes(&bytes).is_err());
    }

    /// A full-precision scorer that counts its prefetches, with the
    /// look-ahead on or off.
    struct Counting<'a> {
        inner: SourceQuery<'a, Points>,
        ahead: bool,
        prefetches: std::cell::Cell<usize>,
    }
    impl QueryScorer for Counting<'_> {
        fn prefetch(&self, node: u32) {
            self.prefetches.set(self.prefetches.get() + 1);
            self.inner.prefetch(node)
        }
        fn score(&self, node: u32) -> f32 {
            self.inner.score(node)
        }
        fn score_many(&self, nodes: &[u32], out: &mut [f32]) {
            self.inner.score_many(nodes, out)
        }
        fn looks_ahead(&self) -> bool {
            self.ahead
        }
    }

    #[test]
    fn looking_ahead_prefetches_more_and_finds_the_same() {
        let (pts, g) = built(2000, 7);
        let none = None::<&fn(u32) -> bool>;
        for q in (0..2000).step_by(97) {
            let [plain, ahead] = [false, true].map(|ahead| Counting {
                inner: SourceQuery {
                    src: &pts,
                    query: &pts.0[q],
                },
                ahead,
                prefetches: Default::default(),
            });
            // The look-ahead marks nothing, so the walk is the same one...
            assert_eq!(
                g.search(&ahead, 10, 48, none),
                g.search(&plain, 10, 48, none)
            );
            // ...with the next candidate's neighbours prefetched on top.
            assert!(
                ahead.prefetches.get() > plain.prefetches.get(),
                "query {q}: {} against {}",
                ahead.prefetches.get(),
                plain.prefetches.get()
            );
        }
    }

    #[test]
    fn predicate_results_are_all_accepted() {
        let (pts, g) = built(3000, 1);
        let accept = |id: u32| id % 10 == 3;
        let query = SourceQuery {
            src: &pts,
            query: &pts.0[0],
        };
        let found = g.search(&query, 10, 50, Some(&accept));
        assert_eq!(found.len(), 10);
        assert!(found.iter().all(|n| accept(n.id)));
    }
}
