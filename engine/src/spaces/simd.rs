use simsimd::SpatialSimilarity;

use super::{Kernel, ScalarKernel};

/// `simsimd` kernels, dispatched at run time to the best instruction set of
/// this CPU. simsimd accumulates in f64 and returns `None` only for slices of
/// unequal length, which the engine never passes; the plain loop covers it.
#[derive(Clone, Copy, Debug, Default)]
pub struct SimdKernel;

impl Kernel for SimdKernel {
    #[inline(always)]
    fn dot(a: &[f32], b: &[f32]) -> f32 {
        match f32::dot(a, b) {
            Some(d) => d as f32,
            None => ScalarKernel::dot(a, b),
        }
    }

    #[inline(always)]
    fn l2sq(a: &[f32], b: &[f32]) -> f32 {
        match f32::l2sq(a, b) {
            Some(d) => d as f32,
            None => ScalarKernel::l2sq(a, b),
        }
    }
}
