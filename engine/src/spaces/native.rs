//! Cairn's default kernels: f32 arithmetic in independent lanes — AVX2 + FMA
//! intrinsics, chosen at run time when the CPU has both, and otherwise 16
//! lanes of plain Rust for the baseline target (SSE2 on x86-64, NEON on
//! aarch64).
//!
//! Why not simsimd here: its f32 kernels widen to f64 and accumulate four
//! lanes in one dependency chain (more precise, about 3× slower at the
//! 50–768 dims the graph spends its time on: see `benches/benches/kernels.rs`
//! and the profile in the README). Ranking needs no f64 sums; hnswlib and
//! FAISS accumulate in f32 too. The portable lanes are a plain array that
//! LLVM vectorises for whatever the target has.

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
        dot_lanes(a, b)
    }

    #[inline(always)]
    fn l2sq(a: &[f32], b: &[f32]) -> f32 {
        #[cfg(target_arch = "x86_64")]
        if avx2_fma() {
            // SAFETY: the CPU supports AVX2 and FMA (checked just above).
            return unsafe { x86::l2sq(a, b) };
        }
        l2sq_lanes(a, b)
    }

    fn dot_many<'a>(q: &[f32], rows: impl Iterator<Item = &'a [f32]>, out: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        if avx2_fma() {
            // SAFETY: the CPU supports AVX2 and FMA (checked just above).
            return unsafe { x86::dot_many(q, rows, out) };
        }
        many(q, rows, out, |x, y| (x, y))
    }

    fn l2sq_many<'a>(q: &[f32], rows: impl Iterator<Item = &'a [f32]>, out: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        if avx2_fma() {
            // SAFETY: the CPU supports AVX2 and FMA (checked just above).
            return unsafe { x86::l2sq_many(q, rows, out) };
        }
        many(q, rows, out, |x, y| (x - y, x - y))
    }
}

#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(super) fn avx2_fma() -> bool {
    // Each macro reads a cached atomic after the first call.
    std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
}

/// The AVX2 + FMA kernels, written with intrinsics rather than left to the
/// auto-vectoriser: at 50 dims the generic lanes' final in-order sum of 16
/// floats and an out-of-line tail call cost as much as the multiply-adds,
/// and a pairwise sum written in plain Rust made LLVM regroup the lanes
/// into 2-wide registers (2.5× slower at 768 dims). Here the reduction is
/// three vector adds and two shuffles, whatever the compiler decides.
#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn dot(a: &[f32], b: &[f32]) -> f32 {
        sum::<false>(a, b)
    }

    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn l2sq(a: &[f32], b: &[f32]) -> f32 {
        sum::<true>(a, b)
    }

    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn dot_many<'a>(q: &[f32], rows: impl Iterator<Item = &'a [f32]>, out: &mut [f32]) {
        many::<false>(q, rows, out)
    }

    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn l2sq_many<'a>(q: &[f32], rows: impl Iterator<Item = &'a [f32]>, out: &mut [f32]) {
        many::<true>(q, rows, out)
    }

    /// `acc + x·y`, or `acc + (x−y)²` when `L2`.
    #[inline(always)]
    unsafe fn step<const L2: bool>(x: __m256, y: __m256, acc: __m256) -> __m256 {
        if L2 {
            let d = _mm256_sub_ps(x, y);
            _mm256_fmadd_ps(d, d, acc)
        } else {
            _mm256_fmadd_ps(x, y, acc)
        }
    }

    #[inline(always)]
    unsafe fn hsum(v: __m256) -> f32 {
        let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
        let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)))
    }

    /// The components past the last full block of 8, one by one.
    #[inline(always)]
    unsafe fn tail<const L2: bool>(a: &[f32], b: &[f32], from: usize, n: usize) -> f32 {
        let mut sum = 0.0f32;
        for i in from..n {
            let (x, y) = (*a.get_unchecked(i), *b.get_unchecked(i));
            sum += if L2 { (x - y) * (x - y) } else { x * y };
        }
        sum
    }

    /// One pair: two independent 8-wide accumulators over blocks of 16, one
    /// more block of 8 if it fits, then the scalar tail.
    #[inline(always)]
    unsafe fn sum<const L2: bool>(a: &[f32], b: &[f32]) -> f32 {
        let n = a.len().min(b.len());
        let (pa, pb) = (a.as_ptr(), b.as_ptr());
        let (mut acc0, mut acc1) = (_mm256_setzero_ps(), _mm256_setzero_ps());
        let mut i = 0;
        // SAFETY (all loads): `i + 16 <= n` or `i + 8 <= n`, and both
        // slices hold at least `n` floats.
        while i + 16 <= n {
            acc0 = step::<L2>(_mm256_loadu_ps(pa.add(i)), _mm256_loadu_ps(pb.add(i)), acc0);
            acc1 = step::<L2>(
                _mm256_loadu_ps(pa.add(i + 8)),
                _mm256_loadu_ps(pb.add(i + 8)),
                acc1,
            );
            i += 16;
        }
        if i + 8 <= n {
            acc0 = step::<L2>(_mm256_loadu_ps(pa.add(i)), _mm256_loadu_ps(pb.add(i)), acc0);
            i += 8;
        }
        hsum(_mm256_add_ps(acc0, acc1)) + tail::<L2>(a, b, i, n)
    }

    /// One query against four rows: each block of the query is loaded once
    /// for all four (see [`super::BATCH_MIN_DIM`] for when this pays).
    /// Each row is accumulated exactly as [`sum`] does it (two accumulators
    /// over blocks of 16, one more block of 8, the same tail), so a point
    /// scores bit for bit the same whichever kernel the caller took: the
    /// graph and the exact scan must agree on every score they share.
    #[inline(always)]
    unsafe fn sum4<const L2: bool>(q: &[f32], rows: [&[f32]; 4]) -> [f32; 4] {
        let n = rows.iter().fold(q.len(), |n, r| n.min(r.len()));
        let pq = q.as_ptr();
        let pr = rows.map(|r| r.as_ptr());
        let mut acc0 = [_mm256_setzero_ps(); 4];
        let mut acc1 = [_mm256_setzero_ps(); 4];
        let mut i = 0;
        // SAFETY (all loads): `i + 16 <= n` or `i + 8 <= n`, and every
        // slice holds at least `n` floats.
        while i + 16 <= n {
            let (x0, x1) = (_mm256_loadu_ps(pq.add(i)), _mm256_loadu_ps(pq.add(i + 8)));
            for r in 0..4 {
                acc0[r] = step::<L2>(x0, _mm256_loadu_ps(pr[r].add(i)), acc0[r]);
                acc1[r] = step::<L2>(x1, _mm256_loadu_ps(pr[r].add(i + 8)), acc1[r]);
            }
            i += 16;
        }
        if i + 8 <= n {
            let x = _mm256_loadu_ps(pq.add(i));
            for r in 0..4 {
                acc0[r] = step::<L2>(x, _mm256_loadu_ps(pr[r].add(i)), acc0[r]);
            }
            i += 8;
        }
        let mut out = [0.0f32; 4];
        for r in 0..4 {
            out[r] = hsum(_mm256_add_ps(acc0[r], acc1[r])) + tail::<L2>(q, rows[r], i, n);
        }
        out
    }

    // `target_feature` rather than `inline(always)`: the closures below
    // inherit it, so `sum` and `sum4` inline into them with AVX2 enabled
    // (without it, `list/batched/50` ran 19× slower).
    #[target_feature(enable = "avx2,fma")]
    unsafe fn many<'a, const L2: bool>(
        q: &[f32],
        rows: impl Iterator<Item = &'a [f32]>,
        out: &mut [f32],
    ) {
        // SAFETY: the closures inherit this function's AVX2+FMA, which its
        // callers have checked the CPU for.
        super::by_rows(
            q,
            rows,
            out,
            |r| unsafe { sum::<L2>(q, r) },
            |rows| unsafe { sum4::<L2>(q, rows) },
        )
    }
}

#[inline(always)]
pub(super) fn dot_lanes(a: &[f32], b: &[f32]) -> f32 {
    sum_of_products(a, b, |x, y| (x, y))
}

#[inline(always)]
pub(super) fn l2sq_lanes(a: &[f32], b: &[f32]) -> f32 {
    sum_of_products(a, b, |x, y| (x - y, x - y))
}

/// `Σ p.0 * p.1` over `p = factors(a[i], b[i])`, in 16 independent lanes.
#[inline(always)]
fn sum_of_products(a: &[f32], b: &[f32], factors: impl Fn(f32, f32) -> (f32, f32)) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f32; LANES];
    let mut ca = a.chunks_exact(LANES);
    let mut cb = b.chunks_exact(LANES);
    for (x, y) in (&mut ca).zip(&mut cb) {
        for i in 0..LANES {
            let (p, q) = factors(x[i], y[i]);
            acc[i] += p * q;
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
/// accumulators would cost more to reduce than the shared query loads
/// save. With the auto-vectorised lanes the four-row kernel measured 0.7×
/// at 50 dims and level at 128, so the threshold was 256; with the
/// intrinsics kernels it measured +10% queries/s in the SciFact (128-d)
/// search loop and +2% on GloVe (50-d), three pairs each, so it is 32.
const BATCH_MIN_DIM: usize = 32;

/// `out[i] = Σ factors(q, rows[i])`: see [`by_rows`].
#[inline(always)]
fn many<'a>(
    q: &[f32],
    rows: impl Iterator<Item = &'a [f32]>,
    out: &mut [f32],
    factors: impl Fn(f32, f32) -> (f32, f32) + Copy,
) {
    by_rows(
        q,
        rows,
        out,
        |r| sum_of_products(q, r, factors),
        |rows| sum_of_products_4(q, rows, factors),
    )
}

/// `out[i] = one(rows[i])`, or four rows at a time through `four` from
/// [`BATCH_MIN_DIM`] dims up: each block of the query is then loaded once
/// for four rows, and four independent row streams are in flight, so the
/// loop is bound by multiply-adds rather than loads (FAISS's
/// `fvec_inner_product_batch_4` does the same). Leftover rows go one by
/// one. Shared by the AVX2 and the portable kernels.
#[inline(always)]
fn by_rows<'a>(
    q: &[f32],
    mut rows: impl Iterator<Item = &'a [f32]>,
    out: &mut [f32],
    one: impl Fn(&[f32]) -> f32,
    four: impl Fn([&'a [f32]; 4]) -> [f32; 4],
) {
    if q.len() < BATCH_MIN_DIM {
        for (o, r) in out.iter_mut().zip(rows) {
            *o = one(r);
        }
        return;
    }
    let mut blocks = out.chunks_exact_mut(4);
    for block in &mut blocks {
        match (rows.next(), rows.next(), rows.next(), rows.next()) {
            (Some(r0), Some(r1), Some(r2), Some(r3)) => {
                block.copy_from_slice(&four([r0, r1, r2, r3]));
            }
            // Fewer rows than outputs: score what there is, like `zip`.
            (r0, r1, r2, _) => {
                for (o, r) in block.iter_mut().zip([r0, r1, r2].into_iter().flatten()) {
                    *o = one(r);
                }
                return;
            }
        }
    }
    for (o, r) in blocks.into_remainder().iter_mut().zip(rows) {
        *o = one(r);
    }
}

/// [`sum_of_products`] of one query against four rows.
#[inline(always)]
fn sum_of_products_4(
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
                acc[i] += p * r;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The portable four-row kernel sums each row in the same order as the
    /// one-row kernel (what a CPU without AVX2 runs; the AVX2 pair is
    /// checked in `spaces::tests`).
    #[test]
    fn portable_rows_match_one_by_one_bit_for_bit() {
        for dim in [32, 33, 50, 128, 770] {
            let q: Vec<f32> = (0..dim).map(|i| (i as f32 * 0.37).sin()).collect();
            let rows: Vec<Vec<f32>> = (0..9)
                .map(|r| {
                    (0..dim)
                        .map(|i| ((i + 3 * r) as f32 * 0.91).cos())
                        .collect()
                })
                .collect();
            let mut out = vec![0.0; rows.len()];
            many(&q, rows.iter().map(|r| &r[..]), &mut out, |x, y| (x, y));
            for (o, r) in out.iter().zip(&rows) {
                assert_eq!(o.to_bits(), dot_lanes(&q, r).to_bits(), "dim {dim}");
            }
            many(&q, rows.iter().map(|r| &r[..]), &mut out, |x, y| {
                (x - y, x - y)
            });
            for (o, r) in out.iter().zip(&rows) {
                assert_eq!(o.to_bits(), l2sq_lanes(&q, r).to_bits(), "dim {dim}");
            }
        }
    }
}
