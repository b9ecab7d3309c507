//! Cairn's default kernels: f32 arithmetic in 16 independent lanes, compiled
//! twice — for AVX2 + FMA (chosen at run time when the CPU has both) and for
//! the baseline target (SSE2 on x86-64, NEON on aarch64).
//!
//! Why not simsimd here: its f32 kernels widen to f64 and accumulate four
//! lanes in one dependency chain (more precise, about 3× slower at the
//! 50–768 dims the graph spends its time on: see `benches/benches/kernels.rs`
//! and the profile in the README). Ranking needs no f64 sums; hnswlib and
//! FAISS accumulate in f32 too. The lanes are a plain array that LLVM turns
//! into two 8-wide registers; no intrinsics, so the code stays portable.

use super::Kernel;

const LANES: usize = 16;

#[derive(Clone, Copy, Debug, Default)]
pub struct NativeKernel;

impl Kernel for NativeKernel {
    #[inline(always)]
    fn dot(a: &[f32], b: &[f32]) -> f32 {
        #[cfg(target_arch = "x86_64")]
        if avx2_fma() {
            // SAFETY: the CPU supports AVX2 and FMA (checked just above).
            return unsafe { x86::dot(a, b) };
        }
        dot_lanes::<false>(a, b)
    }

    #[inline(always)]
    fn l2sq(a: &[f32], b: &[f32]) -> f32 {
        #[cfg(target_arch = "x86_64")]
        if avx2_fma() {
            // SAFETY: the CPU supports AVX2 and FMA (checked just above).
            return unsafe { x86::l2sq(a, b) };
        }
        l2sq_lanes::<false>(a, b)
    }

    fn dot_many<'a>(q: &[f32], rows: impl Iterator<Item = &'a [f32]>, out: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        if avx2_fma() {
            // SAFETY: the CPU supports AVX2 and FMA (checked just above).
            return unsafe { x86::dot_many(q, rows, out) };
        }
        many::<false>(q, rows, out, |x, y| (x, y))
    }

    fn l2sq_many<'a>(q: &[f32], rows: impl Iterator<Item = &'a [f32]>, out: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        if avx2_fma() {
            // SAFETY: the CPU supports AVX2 and FMA (checked just above).
            return unsafe { x86::l2sq_many(q, rows, out) };
        }
        many::<false>(q, rows, out, |x, y| (x - y, x - y))
    }
}

#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(super) fn avx2_fma() -> bool {
    // Each macro reads a cached atomic after the first call.
    std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn dot(a: &[f32], b: &[f32]) -> f32 {
        super::dot_lanes::<true>(a, b)
    }

    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn l2sq(a: &[f32], b: &[f32]) -> f32 {
        super::l2sq_lanes::<true>(a, b)
    }

    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn dot_many<'a>(q: &[f32], rows: impl Iterator<Item = &'a [f32]>, out: &mut [f32]) {
        super::many::<true>(q, rows, out, |x, y| (x, y))
    }

    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn l2sq_many<'a>(q: &[f32], rows: impl Iterator<Item = &'a [f32]>, out: &mut [f32]) {
        super::many::<true>(q, rows, out, |x, y| (x - y, x - y))
    }
}

/// `acc + x * y`, fused only where the CPU has FMA (elsewhere `mul_add`
/// would be a slow library call).
#[inline(always)]
fn madd<const FMA: bool>(x: f32, y: f32, acc: f32) -> f32 {
    if FMA {
        x.mul_add(y, acc)
    } else {
        acc + x * y
    }
}

#[inline(always)]
pub(super) fn dot_lanes<const FMA: bool>(a: &[f32], b: &[f32]) -> f32 {
    sum_of_products::<FMA>(a, b, |x, y| (x, y))
}

#[inline(always)]
pub(super) fn l2sq_lanes<const FMA: bool>(a: &[f32], b: &[f32]) -> f32 {
    sum_of_products::<FMA>(a, b, |x, y| (x - y, x - y))
}

/// `Σ p.0 * p.1` over `p = factors(a[i], b[i])`, in 16 independent lanes.
#[inline(always)]
fn sum_of_products<const FMA: bool>(
    a: &[f32],
    b: &[f32],
    factors: impl Fn(f32, f32) -> (f32, f32),
) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f32; LANES];
    let mut ca = a.chunks_exact(LANES);
    let mut cb = b.chunks_exact(LANES);
    for (x, y) in (&mut ca).zip(&mut cb) {
        for i in 0..LANES {
            let (p, q) = factors(x[i], y[i]);
            acc[i] = madd::<FMA>(p, q, acc[i]);
        }
    }
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| {
            let (p, q) = factors(*x, *y);
            p * q
        })
        .sum();
    acc.iter().sum::<f32>() + tail
}

/// Below this many dimensions, rows are scored one by one: four rows'
/// accumulators cost more to reduce than the shared query loads save
/// (`list/` in `benches/benches/kernels.rs`: 0.7× at 50 dims, level at 128,
/// 1.15× at 384, 1.4× at 768).
const BATCH_MIN_DIM: usize = 256;

/// `out[i] = Σ factors(q, rows[i])`, four rows at a time: each block of the
/// query is loaded once for four rows, and four independent row streams
/// are in flight, so the loop is bound by multiply-adds rather than loads
/// (FAISS's `fvec_inner_product_batch_4` does the same). Leftover rows go
/// one by one.
#[inline(always)]
fn many<'a, const FMA: bool>(
    q: &[f32],
    mut rows: impl Iterator<Item = &'a [f32]>,
    out: &mut [f32],
    factors: impl Fn(f32, f32) -> (f32, f32) + Copy,
) {
    if q.len() < BATCH_MIN_DIM {
        for (o, r) in out.iter_mut().zip(rows) {
            *o = sum_of_products::<FMA>(q, r, factors);
        }
        return;
    }
    let mut blocks = out.chunks_exact_mut(4);
    for block in &mut blocks {
        match (rows.next(), rows.next(), rows.next(), rows.next()) {
            (Some(r0), Some(r1), Some(r2), Some(r3)) => {
                block.copy_from_slice(&sum_of_products_4::<FMA>(q, [r0, r1, r2, r3], factors));
            }
            // Fewer rows than outputs: score what there is, like `zip`.
            (r0, r1, r2, _) => {
                for (o, r) in block.iter_mut().zip([r0, r1, r2].into_iter().flatten()) {
                    *o = sum_of_products::<FMA>(q, r, factors);
                }
                return;
            }
        }
    }
    for (o, r) in blocks.into_remainder().iter_mut().zip(rows) {
        *o = sum_of_products::<FMA>(q, r, factors);
    }
}

/// [`sum_of_products`] of one query against four rows.
#[inline(always)]
fn sum_of_products_4<const FMA: bool>(
    q: &[f32],
    rows: [&[f32]; 4],
    factors: impl Fn(f32, f32) -> (f32, f32),
) -> [f32; 4] {
    let n = rows.iter().fold(q.len(), |n, r| n.min(r.len()));
    let q = &q[..n];
    let rows = rows.map(|r| &r[..n]);
    let mut acc = [[0.0f32; LANES]; 4];
    let body = n - n % LANES;
    for start in (0..body).step_by(LANES) {
        let x = &q[start..start + LANES];
        for (acc, row) in acc.iter_mut().zip(&rows) {
            let y = &row[start..start + LANES];
            for i in 0..LANES {
                let (p, r) = factors(x[i], y[i]);
                acc[i] = madd::<FMA>(p, r, acc[i]);
            }
        }
    }
    let mut sums = [0.0f32; 4];
    for ((sum, acc), row) in sums.iter_mut().zip(&acc).zip(&rows) {
        let tail: f32 = q[body..]
            .iter()
            .zip(&row[body..])
            .map(|(x, y)| {
                let (p, r) = factors(*x, *y);
                p * r
            })
            .sum();
        *sum = acc.iter().sum::<f32>() + tail;
    }
    sums
}
