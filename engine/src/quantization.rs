//! Scalar quantization: each vector component is stored as one byte (int8)
//! or half a byte (int4), so a graph walk reads a quarter (an eighth) of the
//! memory, and the few best candidates are then rescored with the
//! full-precision vectors.
//!
//! The scheme (Qdrant's `scalar` quantization; see also FAISS's
//! `ScalarQuantizer` and Guo et al., "Accelerating Large-Scale Inference
//! with Anisotropic Vector Quantization", 2020, for the variants): one affine
//! map for the whole collection, `x ≈ lo + step · u` with `u ∈ 0..=255`,
//! where `lo` and `lo + 255·step` are the `(1 ± quantile) / 2` quantiles of
//! a sample of the components (so rare outliers clip rather than stretch the
//! scale for everyone). Queries are encoded the same way and compared in
//! integers:
//!
//! - `x·y ≈ c(x) + c(y) + step² Σ uᵢvᵢ` with `c(x) = lo·step·Σuᵢ + dim·lo²/2`
//!   kept per row;
//! - `‖x − y‖² ≈ c(x) + c(y) − 2 step² Σ uᵢvᵢ` with `c(x) = step² Σ uᵢ²`
//!   (expanding the square lets both metrics share the one integer dot
//!   kernel, which is twice as fast as a difference-of-squares one).
//!
//! Int4 keeps every 17th of those 256 levels (`u ∈ {0, 17, …, 255}`, so the
//! same `lo`/`step` and corrections serve both), packed two to a byte as
//! [`crate::spaces::int4`] lays out. Queries stay 8-bit: only the stored
//! side is coarser, and the integer dot product is scaled by 17.
//!
//! The codes live in RAM (Qdrant's `always_ram`) and are derived from the
//! vector file, so they need no file of their own: they are encoded when a
//! collection loads and extended on every upsert. The scale is recomputed,
//! and every row re-encoded, whenever the collection has doubled since the
//! last calibration, so early points cannot fix a poor scale for good.

use crate::graph::{prefetch_up_to, QueryScorer};
use crate::spaces::int4::{self, dot_u8_u4, dot_u8_u4_many};
use crate::spaces::int8::{dot_u8, dot_u8_many};
use crate::types::{Distance, ScalarQuantization, ScalarType};

/// How many evenly spaced rows the calibration samples.
const CALIBRATION_ROWS: usize = 2_048;
/// How much of a code row a walk prefetches: all of it up to 768 bytes. A
/// code is a quarter the size of its f32 row, so asking for all of it does
/// not flood the memory queues as prefetching whole f32 rows does (see
/// `graph::PREFETCH_BYTES`): 768-d +12% queries/s over the first 128 bytes
/// (`search_loop synthetic:768:100000 … 64 4 int8`, three pairs), 1536-d
/// +5% (768 bytes of 1536), level at 384-d.
const CODE_PREFETCH_BYTES: usize = 768;
/// Below this many rows a calibration is always redone on the next upsert.
const MIN_CALIBRATION_ROWS: usize = 256;

/// A collection's vectors as int8 or int4 codes, row `i` for internal
/// offset `i`.
pub struct QuantizedVectors {
    distance: Distance,
    dim: usize,
    quantile: f32,
    /// Whether rows are packed 4-bit codes (else one byte per component).
    int4: bool,
    /// Bytes per stored row.
    stride: usize,
    lo: f32,
    step: f32,
    /// Steps between adjacent stored levels: 1 for int8, 17 for int4.
    level_steps: u8,
    codes: Vec<u8>,
    /// `c(x)` per row.
    corrections: Vec<f32>,
    /// Rows at the last calibration.
    calibrated_rows: usize,
}

impl QuantizedVectors {
    /// Encodes `rows` (all of a collection's vectors, by offset).
    pub fn build<'a>(
        distance: Distance,
        dim: usize,
        config: &ScalarQuantization,
        rows: impl ExactSizeIterator<Item = &'a [f32]> + Clone,
    ) -> Self {
        let int4 = config.kind == ScalarType::Int4;
        let mut q = QuantizedVectors {
            distance,
            dim,
            quantile: config.quantile,
            int4,
            stride: if int4 { int4::packed_len(dim) } else { dim },
            level_steps: if int4 { 17 } else { 1 },
            lo: 0.0,
            step: 1.0,
            codes: Vec::new(),
            corrections: Vec::new(),
            calibrated_rows: 0,
        };
        q.recalibrate(rows);
        q
    }

    pub fn len(&self) -> usize {
        self.corrections.len()
    }

    pub fn is_empty(&self) -> bool {
        self.corrections.is_empty()
    }

    /// Bytes held in RAM.
    pub fn memory_bytes(&self) -> usize {
        self.codes.capacity() + self.corrections.capacity() * 4
    }

    /// Appends the rows `self.len()..` of `all` (every vector, by offset),
    /// recalibrating when the collection has doubled since the last time.
    pub fn extend<'a>(&mut self, all: impl ExactSizeIterator<Item = &'a [f32]> + Clone) {
        let total = all.len();
        if total >= 2 * self.calibrated_rows || self.calibrated_rows < MIN_CALIBRATION_ROWS {
            self.recalibrate(all);
        } else {
            for row in all.skip(self.len()) {
                self.push(row);
            }
        }
    }

    fn recalibrate<'a>(&mut self, rows: impl ExactSizeIterator<Item = &'a [f32]> + Clone) {
        let n = rows.len();
        let stride = (n / CALIBRATION_ROWS).max(1);
        let mut sample: Vec<f32> = rows
            .clone()
            .step_by(stride)
            .flat_map(|r| r.iter().copied())
            .collect();
        (self.lo, self.step) = bounds(&mut sample, self.quantile);
        self.codes.clear();
        self.corrections.clear();
        self.codes.reserve(n * self.stride);
        self.corrections.reserve(n);
        for row in rows {
            self.push(row);
        }
        self.calibrated_rows = n;
    }

    fn push(&mut self, row: &[f32]) {
        let start = self.codes.len();
        let (lo, step) = (self.lo, self.step);
        if self.int4 {
            let k = self.level_steps;
            // Saturating at 15 is the int8 code's saturation at 255.
            let levels: Vec<u8> = row
                .iter()
                .map(|&x| encode(x, lo, step * k as f32).min(15))
                .collect();
            self.codes.resize(start + self.stride, 0);
            int4::pack(&levels, &mut self.codes[start..]);
            // The correction is over the levels' values on the int8 scale.
            let scaled: Vec<u8> = levels.iter().map(|&u| u * k).collect();
            let c = self.correction(&scaled);
            self.corrections.push(c);
        } else {
            self.codes.extend(row.iter().map(|&x| encode(x, lo, step)));
            let c = self.correction(&self.codes[start..]);
            self.corrections.push(c);
        }
    }

    /// `c(x)` of the module docs, for a row's codes.
    fn correction(&self, codes: &[u8]) -> f32 {
        match self.distance {
            Distance::Euclid => self.step * self.step * dot_u8(codes, codes) as f32,
            Distance::Cosine | Distance::Dot => {
                let sum: u32 = codes.iter().map(|&u| u as u32).sum();
                self.lo * self.step * sum as f32 + self.dim as f32 * self.lo * self.lo / 2.0
            }
        }
    }

    #[inline(always)]
    fn row(&self, offset: u32) -> &[u8] {
        let start = offset as usize * self.stride;
        &self.codes[start..start + self.stride]
    }

    /// A query encoded for this collection (already normalised for cosine).
    pub fn query(&self, vector: &[f32]) -> QuantizedQuery<'_> {
        let mut codes: Vec<u8> = vector
            .iter()
            .map(|&x| encode(x, self.lo, self.step))
            .collect();
        if self.int4 {
            // Zeros past `dim` meet the packed rows' zero padding.
            codes.resize(self.stride * 2, 0);
        }
        QuantizedQuery {
            store: self,
            correction: self.correction(&codes),
            codes,
        }
    }

    /// Internal distance (as [`crate::spaces::Metric::distance`]) from the
    /// integer dot product `raw` of a query's codes and row `offset`'s.
    #[inline(always)]
    fn distance(&self, raw: u32, query_correction: f32, offset: u32) -> f32 {
        let corrections = query_correction + self.corrections[offset as usize];
        let products = self.step * self.step * self.level_steps as f32 * raw as f32;
        match self.distance {
            // Rounding can take a tiny distance just below zero.
            Distance::Euclid => (corrections - 2.0 * products).max(0.0),
            Distance::Cosine => 1.0 - (corrections + products),
            Distance::Dot => -(corrections + products),
        }
    }
}

#[inline(always)]
fn encode(x: f32, lo: f32, step: f32) -> u8 {
    // `as u8` saturates (and maps NaN to 0, though vectors are finite).
    ((x - lo) / step).round() as u8
}

/// `(lo, step)` covering the central `quantile` of `values`.
fn bounds(values: &mut [f32], quantile: f32) -> (f32, f32) {
    if values.is_empty() {
        return (0.0, 1.0);
    }
    let tail = (1.0 - quantile.clamp(0.5, 1.0)) / 2.0;
    let last = values.len() - 1;
    let lo_at = ((last as f32) * tail) as usize;
    let hi_at = ((last as f32) * (1.0 - tail)).ceil() as usize;
    let lo = *values.select_nth_unstable_by(lo_at, f32::total_cmp).1;
    let hi = *values
        .select_nth_unstable_by(hi_at.min(last), f32::total_cmp)
        .1;
    let step = (hi - lo) / 255.0;
    // All components equal: any positive step encodes them exactly.
    (lo, if step > 0.0 { step } else { 1.0 })
}

/// One query against a [`QuantizedVectors`], for a graph walk.
pub struct QuantizedQuery<'a> {
    store: &'a QuantizedVectors,
    codes: Vec<u8>,
    correction: f32,
}

impl QueryScorer for QuantizedQuery<'_> {
    #[inline(always)]
    fn prefetch(&self, node: u32) {
        prefetch_up_to(self.store.row(node), CODE_PREFETCH_BYTES);
        // The row's correction is read with it, from a separate array: int4
        // 768-d +1.4% and +1.9%, int8 768-d +0.9% (alternated A/B,
        // `search_loop synthetic:768:100000 DIR 64 8 int4|int8`), too little
        // to interleave it with the codes, which would push every row off
        // its cache-line boundary.
        let n = node as usize;
        prefetch_up_to(&self.store.corrections[n..n + 1], 4);
    }

    #[inline(always)]
    fn score(&self, node: u32) -> f32 {
        let row = self.store.row(node);
        let raw = if self.store.int4 {
            dot_u8_u4(&self.codes, row)
        } else {
            dot_u8(&self.codes, row)
        };
        self.store.distance(raw, self.correction, node)
    }

    /// Int4 rows of 384 bytes or more (768-d and up). Measured with the
    /// choice alternated query by query in one run (`search_loop
    /// synthetic:DIM:100000 DIR 64 6 int4`, time without / time with):
    /// int4 768-d 1.067, 1536-d 1.027, 384-d 0.99; int8 768-d 1.00, and the
    /// f32 walks slower with it (768-d 0.96, GloVe 0.88), their lists
    /// being read twice for rows that wait less or stream on their own.
    fn looks_ahead(&self) -> bool {
        self.store.int4 && self.store.stride >= 384
    }

    fn score_many(&self, nodes: &[u32], out: &mut [f32]) {
        let mut raw = [0u32; 64];
        for (nodes, out) in nodes.chunks(raw.len()).zip(out.chunks_mut(raw.len())) {
            let raw = &mut raw[..nodes.len()];
            let rows = nodes.iter().map(|&n| self.store.row(n));
            if self.store.int4 {
                dot_u8_u4_many(&self.codes, rows, raw);
            } else {
                dot_u8_many(&self.codes, rows, raw);
            }
            for ((o, &r), &n) in out.iter_mut().zip(raw.iter()).zip(nodes) {
                *o = self.store.distance(r, self.correction, n);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spaces::Metric;

    fn rows(n: usize, dim: usize, seed: u64) -> Vec<Vec<f32>> {
        let mut state = seed;
        let mut next = move || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((state >> 40) as f32 / (1u64 << 24) as f32) - 0.5
        };
        (0..n).map(|_| (0..dim).map(|_| next()).collect()).collect()
    }

    fn int8() -> ScalarQuantization {
        ScalarQuantization::of(ScalarType::Int8)
    }

    /// The largest gap between quantized and exact distances from row 0 to
    /// every row, checking `score` and `score_many` agree.
    fn worst_error(distance: Distance, config: &ScalarQuantization) -> f32 {
        let metric = Metric::<crate::spaces::ScalarKernel>::new(distance);
        let mut data = rows(500, 96, 7);
        data.iter_mut().for_each(|v| metric.preprocess(v));
        let q = QuantizedVectors::build(distance, 96, config, data.iter().map(|v| &v[..]));
        assert_eq!(q.len(), 500);
        let query = q.query(&data[0]);
        let mut worst = 0.0f32;
        let mut many = vec![0.0; 500];
        let nodes: Vec<u32> = (0..500).collect();
        query.score_many(&nodes, &mut many);
        for (i, row) in data.iter().enumerate() {
            let exact = metric.distance(&data[0], row);
            let approx = query.score(i as u32);
            assert_eq!(approx, many[i]);
            worst = worst.max((exact - approx).abs());
        }
        worst
    }

    #[test]
    fn quantized_distances_track_the_exact_ones() {
        for distance in [Distance::Cosine, Distance::Dot, Distance::Euclid] {
            // Components span ~[-0.5, 0.5] (cosine: ~[-0.18, 0.18]): one
            // int8 step is ~0.004, and errors mostly cancel over 96 dims.
            let scale = if distance == Distance::Cosine {
                0.02
            } else {
                0.1
            };
            let int8 = worst_error(distance, &int8());
            assert!(int8 < scale, "{distance:?}: int8 worst error {int8}");
            // An int4 level is 17 int8 steps; only the stored side is
            // coarse, so the error grows by less than that.
            let int4 = worst_error(distance, &ScalarQuantization::of(ScalarType::Int4));
            assert!(int4 < 8.0 * scale, "{distance:?}: int4 worst error {int4}");
            assert!(int4 > int8, "{distance:?}: int4 {int4} vs int8 {int8}");
            eprintln!("{distance:?}: worst error int8 {int8}, int4 {int4}");
        }
    }

    #[test]
    fn extending_recalibrates_when_the_collection_doubles() {
        let data = rows(4_000, 16, 3);
        let all = |n: usize| data[..n].iter().map(|v| &v[..]);
        let mut q = QuantizedVectors::build(Distance::Euclid, 16, &int8(), all(300));
        assert_eq!(q.calibrated_rows, 300);
        q.extend(all(500));
        assert_eq!((q.len(), q.calibrated_rows), (500, 300));
        q.extend(all(600));
        assert_eq!((q.len(), q.calibrated_rows), (600, 600));
        // Codes appended without recalibration equal a fresh encoding.
        q.extend(all(1_000));
        let fresh = QuantizedVectors::build(Distance::Euclid, 16, &int8(), all(600));
        assert_eq!(q.row(700), {
            let mut f = fresh;
            f.extend(all(1_000));
            f.row(700).to_vec()
        });
    }

    #[test]
    fn constant_components_do_not_divide_by_zero() {
        let data = vec![vec![0.25f32; 8]; 10];
        let q = QuantizedVectors::build(Distance::Euclid, 8, &int8(), data.iter().map(|v| &v[..]));
        assert_eq!(q.query(&data[0]).score(3), 0.0);
    }
}
