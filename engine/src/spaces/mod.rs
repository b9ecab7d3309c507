//! Distance spaces.
//!
//! Internally every metric is a *distance*: smaller is closer, so the graph
//! and the exact scan share one ordering. [`Metric`] converts to and from the
//! user-facing *score* (Qdrant's convention: cosine similarity and dot product
//! are higher-is-better, Euclid is the plain L2 distance, lower-is-better).
//!
//! The arithmetic lives behind the small [`Kernel`] trait so a kernel can be
//! swapped: [`NativeKernel`] (the default) accumulates in 16 f32 lanes,
//! compiled for AVX2+FMA when the CPU has them; [`SimdKernel`] calls
//! `simsimd` (runtime-dispatched, f64 accumulation: more precise, slower);
//! [`ScalarKernel`] is a plain loop kept as the reference.
//!
//! - Cosine: vectors are L2-normalised once on insert (and queries on
//!   arrival), so cosine distance is `1 - dot`.
//! - Dot: distance `-dot`.
//! - Euclid: distance is the *squared* L2 (monotone in L2, no square root in
//!   the hot loop); the score is its square root.

pub mod int4;
pub mod int8;
mod native;
mod scalar;
mod simd;

pub use native::NativeKernel;
pub use scalar::ScalarKernel;
pub use simd::SimdKernel;

use crate::types::Distance;

/// The two primitive reductions every metric is built from.
pub trait Kernel: Send + Sync + Copy + 'static {
    fn dot(a: &[f32], b: &[f32]) -> f32;
    fn l2sq(a: &[f32], b: &[f32]) -> f32;

    /// `out[i] = dot(q, rows[i])`. One call per neighbour list, so a kernel
    /// that picks its code by CPU decides once per list, not per vector.
    fn dot_many<'a>(q: &[f32], rows: impl Iterator<Item = &'a [f32]>, out: &mut [f32]) {
        for (o, r) in out.iter_mut().zip(rows) {
            *o = Self::dot(q, r);
        }
    }

    /// `out[i] = l2sq(q, rows[i])`.
    fn l2sq_many<'a>(q: &[f32], rows: impl Iterator<Item = &'a [f32]>, out: &mut [f32]) {
        for (o, r) in out.iter_mut().zip(rows) {
            *o = Self::l2sq(q, r);
        }
    }
}

/// A collection's metric, bound to a kernel.
#[derive(Clone, Copy, Debug)]
pub struct Metric<K: Kernel = NativeKernel> {
    pub distance: Distance,
    kernel: std::marker::PhantomData<K>,
}

impl<K: Kernel> Metric<K> {
    pub fn new(distance: Distance) -> Self {
        Metric {
            distance,
            kernel: std::marker::PhantomData,
        }
    }

    /// Internal distance (smaller is closer).
    #[inline(always)]
    pub fn distance(&self, a: &[f32], b: &[f32]) -> f32 {
        match self.distance {
            Distance::Cosine => 1.0 - K::dot(a, b),
            Distance::Dot => -K::dot(a, b),
            Distance::Euclid => K::l2sq(a, b),
        }
    }

    /// Internal distances from `q` to each of `rows`, into `out`.
    #[inline]
    pub fn distances<'a>(&self, q: &[f32], rows: impl Iterator<Item = &'a [f32]>, out: &mut [f32]) {
        match self.distance {
            Distance::Cosine => {
                K::dot_many(q, rows, out);
                out.iter_mut().for_each(|d| *d = 1.0 - *d);
            }
            Distance::Dot => {
                K::dot_many(q, rows, out);
                out.iter_mut().for_each(|d| *d = -*d);
            }
            Distance::Euclid => K::l2sq_many(q, rows, out),
        }
    }

    /// Internal distance → user-facing score.
    pub fn score(&self, distance: f32) -> f32 {
        match self.distance {
            Distance::Cosine => 1.0 - distance,
            Distance::Dot => -distance,
            Distance::Euclid => distance.max(0.0).sqrt(),
        }
    }

    /// Whether a score passes a `score_threshold`.
    pub fn passes(&self, score: f32, threshold: f32) -> bool {
        match self.distance {
            Distance::Cosine | Distance::Dot => score >= threshold,
            Distance::Euclid => score <= threshold,
        }
    }

    /// Prepares a vector for storage or querying (cosine: unit length).
    /// The caller has already refused zero vectors for cosine.
    pub fn preprocess(&self, v: &mut [f32]) {
        if self.distance == Distance::Cosine {
            let norm = K::dot(v, v).sqrt();
            if norm > 0.0 {
                v.iter_mut().for_each(|x| *x /= norm);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernels_agree_with_the_reference() {
        for dim in [1, 3, 16, 50, 128, 384, 768, 4096] {
            let a: Vec<f32> = (0..dim)
                .map(|i| ((i * 7919) % 97) as f32 / 97.0 - 0.5)
                .collect();
            let b: Vec<f32> = (0..dim)
                .map(|i| ((i * 104729) % 89) as f32 / 89.0 - 0.5)
                .collect();
            let tol = 1e-4 * dim as f32;
            let (dot, l2sq) = (ScalarKernel::dot(&a, &b), ScalarKernel::l2sq(&a, &b));
            assert!((SimdKernel::dot(&a, &b) - dot).abs() < tol);
            assert!((SimdKernel::l2sq(&a, &b) - l2sq).abs() < tol);
            assert!((NativeKernel::dot(&a, &b) - dot).abs() < tol, "dim {dim}");
            assert!((NativeKernel::l2sq(&a, &b) - l2sq).abs() < tol, "dim {dim}");
            // The portable lanes (what a CPU without AVX2 runs).
            assert!((native::dot_lanes(&a, &b) - dot).abs() < tol);
            assert!((native::l2sq_lanes(&a, &b) - l2sq).abs() < tol);
        }
    }

    #[test]
    fn many_rows_agree_with_one_by_one() {
        for dim in [3, 16, 31, 32, 33, 50, 128, 384, 770] {
            let q: Vec<f32> = (0..dim)
                .map(|i| ((i * 31) % 17) as f32 / 17.0 - 0.5)
                .collect();
            let rows: Vec<Vec<f32>> = (0..11)
                .map(|r| {
                    (0..dim)
                        .map(|i| ((i * 13 + r * 7) % 23) as f32 / 23.0 - 0.5)
                        .collect()
                })
                .collect();
            let tol = 1e-4 * dim as f32;
            for count in 0..=rows.len() {
                let mut dots = vec![f32::NAN; count];
                let mut l2s = vec![f32::NAN; count];
                NativeKernel::dot_many(&q, rows[..count].iter().map(|r| &r[..]), &mut dots);
                NativeKernel::l2sq_many(&q, rows[..count].iter().map(|r| &r[..]), &mut l2s);
                for (i, r) in rows[..count].iter().enumerate() {
                    // Bit for bit what the one-row kernel gives: the graph
                    // scores through `*_many`, exact scans and rescoring
                    // one by one, and both must report the same score.
                    let (dot, l2sq) = (NativeKernel::dot(&q, r), NativeKernel::l2sq(&q, r));
                    assert_eq!(dots[i].to_bits(), dot.to_bits(), "dim {dim} row {i}");
                    assert_eq!(l2s[i].to_bits(), l2sq.to_bits(), "dim {dim} row {i}");
                    assert!(
                        (dots[i] - ScalarKernel::dot(&q, r)).abs() < tol,
                        "dim {dim} row {i}"
                    );
                    assert!(
                        (l2s[i] - ScalarKernel::l2sq(&q, r)).abs() < tol,
                        "dim {dim} row {i}"
                    );
                }
            }
        }
    }

    #[test]
    fn scores_follow_qdrant_conventions() {
        let m = Metric::<ScalarKernel>::new(Distance::Euclid);
        let d = m.distance(&[0.0, 0.0], &[3.0, 4.0]);
        assert_eq!(m.score(d), 5.0);
        let m = Metric::<ScalarKernel>::new(Distance::Cosine);
        let mut a = vec![2.0, 0.0];
        m.preprocess(&mut a);
        assert_eq!(m.score(m.distance(&a, &a)), 1.0);
        let m = Metric::<ScalarKernel>::new(Distance::Dot);
        assert_eq!(m.score(m.distance(&[1.0, 2.0], &[3.0, 4.0])), 11.0);
    }
}
