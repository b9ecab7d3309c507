//! The integer kernel over 8-bit codes, for [`crate::quantization`].
//!
//! Codes are unsigned (0..=255). Products are summed in 32-bit lanes: a
//! product is at most 255² and pairs are added before widening, so even a
//! 65,536-dim row (`MAX_DIM`) cannot overflow `u32`. Written as plain loops
//! that LLVM turns into `vpmovzxbw` + `vpmaddwd` when compiled for AVX2
//! (chosen at run time, like [`super::NativeKernel`]).

const LANES: usize = 32;

/// `Σ a[i] * b[i]`.
#[inline(always)]
pub fn dot_u8(a: &[u8], b: &[u8]) -> u32 {
    #[cfg(target_arch = "x86_64")]
    if super::native::avx2_fma() {
        // SAFETY: the CPU supports AVX2 (checked just above).
        return unsafe { x86::dot_u8(a, b) };
    }
    dot_lanes(a, b)
}

/// `out[i] = dot_u8(q, rows[i])`, choosing the code once per list.
pub fn dot_u8_many<'a>(q: &[u8], rows: impl Iterator<Item = &'a [u8]>, out: &mut [u32]) {
    #[cfg(target_arch = "x86_64")]
    if super::native::avx2_fma() {
        // SAFETY: the CPU supports AVX2 (checked just above).
        return unsafe { x86::dot_u8_many(q, rows, out) };
    }
    for (o, r) in out.iter_mut().zip(rows) {
        *o = dot_lanes(q, r);
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn dot_u8(a: &[u8], b: &[u8]) -> u32 {
        super::dot_lanes(a, b)
    }

    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn dot_u8_many<'a>(q: &[u8], rows: impl Iterator<Item = &'a [u8]>, out: &mut [u32]) {
        for (o, r) in out.iter_mut().zip(rows) {
            *o = super::dot_lanes(q, r);
        }
    }
}

/// `Σ a[i] * b[i]` over values widened to i32, in 32 independent lanes.
#[inline(always)]
pub(super) fn dot_lanes(a: &[u8], b: &[u8]) -> u32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0i32; LANES];
    let mut ca = a.chunks_exact(LANES);
    let mut cb = b.chunks_exact(LANES);
    for (x, y) in (&mut ca).zip(&mut cb) {
        for i in 0..LANES {
            acc[i] += x[i] as i32 * y[i] as i32;
        }
    }
    let tail: i32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| *x as i32 * *y as i32)
        .sum();
    // Each lane holds at most dim/32 * 255² < 2^31; the total fits u32.
    acc.iter().map(|&l| l as u32).sum::<u32>() + tail as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_kernels_are_exact() {
        for dim in [1, 7, 31, 32, 33, 384, 768, 4096] {
            let a: Vec<u8> = (0..dim).map(|i| ((i * 7919) % 256) as u8).collect();
            let b: Vec<u8> = (0..dim).map(|i| ((i * 104_729) % 251) as u8).collect();
            let dot: u32 = a.iter().zip(&b).map(|(x, y)| *x as u32 * *y as u32).sum();
            assert_eq!(dot_u8(&a, &b), dot, "dim {dim}");
            assert_eq!(dot_lanes(&a, &b), dot);
            let mut out = [0u32; 2];
            dot_u8_many(&a, [&b[..], &a[..]].into_iter(), &mut out);
            assert_eq!(out[0], dot);
            assert_eq!(out[1], dot_u8(&a, &a));
        }
        // The largest values at the largest dimension do not overflow.
        let max = vec![255u8; crate::types::MAX_DIM];
        assert_eq!(
            dot_u8(&max, &max) as u64,
            255 * 255 * crate::types::MAX_DIM as u64
        );
    }
}
