use super::Kernel;

/// Plain loops: the reference the SIMD kernel is checked against.
#[derive(Clone, Copy, Debug, Default)]
pub struct ScalarKernel;

impl Kernel for ScalarKernel {
    fn dot(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    fn l2sq(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
    }
}
