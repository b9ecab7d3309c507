//! The integer kernel over 8-bit codes, for [`crate::quantization`].
//!
//! Codes are unsigned (0..=255). Products are summed in 32-bit lanes: a
//! product is at most 255² and pairs are added before widening, so even a
//! 65,536-dim row (`MAX_DIM`) cannot overflow `u32`. The portable version is
//! a plain loop that LLVM turns into `vpmovzxbw` + `vpmaddwd` under AVX2;
//! CPUs with AVX-512 VNNI get `vpdpbusd`, which multiplies and sums 64 byte
//! pairs in one instruction (chosen at run time, like
//! [`super::NativeKernel`]).

const LANES: usize = 32;

/// Whether the CPU has AVX-512 F, BW, VL and VNNI (every CPU with VNNI
/// has VL).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(super) fn vnni_available() -> bool {
    vnni::available()
}

/// `Σ a[i] * b[i]`.
#[inline(always)]
pub fn dot_u8(a: &[u8], b: &[u8]) -> u32 {
    #[cfg(target_arch = "x86_64")]
    if vnni::available() {
        // SAFETY: the CPU supports AVX-512 F, BW and VNNI (checked just above).
        return unsafe { vnni::dot_u8(a, b) };
    }
    dot_u8_without_vnni(a, b)
}

/// [`dot_u8`] without the AVX-512 VNNI kernel (AVX2 where the CPU has it,
/// else portable), so the kernels benchmark can put the two side by side.
#[inline(always)]
pub fn dot_u8_without_vnni(a: &[u8], b: &[u8]) -> u32 {
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
    if vnni::available() {
        // SAFETY: the CPU supports AVX-512 F, BW and VNNI (checked just above).
        return unsafe { vnni::dot_u8_many(q, rows, out) };
    }
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

/// The AVX-512 VNNI kernel. `vpdpbusd` multiplies unsigned bytes by
/// *signed* ones, so `a` is shifted into `i8` as `a − 128` (an `xor` with
/// `0x80`) and the shift is added back: `Σ aᵢbᵢ = Σ (aᵢ − 128)bᵢ + 128 Σ bᵢ`,
/// with `Σ bᵢ` from `vpsadbw`. The result is exact, like the other kernels:
/// a lane sums at most 4 · 1,024 products of magnitude < 2¹⁵ at `MAX_DIM`.
#[cfg(target_arch = "x86_64")]
mod vnni {
    use std::arch::x86_64::*;

    pub fn available() -> bool {
        // Each macro reads a cached atomic after the first call.
        std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512bw")
            && std::arch::is_x86_feature_detected!("avx512vl")
            && std::arch::is_x86_feature_detected!("avx512vnni")
    }

    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    pub unsafe fn dot_u8(a: &[u8], b: &[u8]) -> u32 {
        dot(a, b)
    }

    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    pub unsafe fn dot_u8_many<'a>(q: &[u8], rows: impl Iterator<Item = &'a [u8]>, out: &mut [u32]) {
        for (o, r) in out.iter_mut().zip(rows) {
            *o = dot(q, r);
        }
    }

    #[inline]
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    fn dot(a: &[u8], b: &[u8]) -> u32 {
        let n = a.len().min(b.len());
        let shift = _mm512_set1_epi8(0x80u8 as i8);
        let zero = _mm512_setzero_si512();
        let (mut products, mut sums) = (zero, zero);
        let mut step = |x: __m512i, y: __m512i| {
            // Masked-off tail bytes of `x` become −128 here, but meet zeros
            // in `y`.
            let x = _mm512_xor_si512(x, shift);
            products = _mm512_dpbusd_epi32(products, y, x);
            sums = _mm512_add_epi64(sums, _mm512_sad_epu8(y, zero));
        };
        let full = n / 64 * 64;
        for i in (0..full).step_by(64) {
            // SAFETY: bytes `i..i + 64` lie inside both slices.
            unsafe {
                step(
                    _mm512_loadu_si512(a.as_ptr().add(i).cast()),
                    _mm512_loadu_si512(b.as_ptr().add(i).cast()),
                )
            };
        }
        if full < n {
            // The tail is a masked load: bytes past `n` read as zero and are
            // not touched in memory. (Masked loads only here: in a loop they
            // made a scan from memory 3× slower.)
            let mask: __mmask64 = (1u64 << (n - full)) - 1;
            // SAFETY: the mask covers only bytes `full..n`, inside both slices.
            unsafe {
                step(
                    _mm512_maskz_loadu_epi8(mask, a.as_ptr().add(full).cast()),
                    _mm512_maskz_loadu_epi8(mask, b.as_ptr().add(full).cast()),
                )
            };
        }
        let products = _mm512_reduce_add_epi32(products) as i64;
        let sums = _mm512_reduce_add_epi64(sums);
        (products + 128 * sums) as u32
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
        for dim in [1, 7, 31, 32, 33, 63, 64, 65, 127, 384, 768, 4096] {
            let a: Vec<u8> = (0..dim).map(|i| ((i * 7919) % 256) as u8).collect();
            let b: Vec<u8> = (0..dim).map(|i| ((i * 104_729) % 251) as u8).collect();
            let dot: u32 = a.iter().zip(&b).map(|(x, y)| *x as u32 * *y as u32).sum();
            assert_eq!(dot_u8(&a, &b), dot, "dim {dim}");
            assert_eq!(dot_lanes(&a, &b), dot);
            assert_eq!(dot_u8_without_vnni(&a, &b), dot);
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
