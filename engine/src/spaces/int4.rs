//! The integer kernel between a query's 8-bit codes and a row's packed
//! 4-bit codes, for [`crate::quantization`]'s `int4` codes.
//!
//! A row is stored in blocks of 64 components packed into 32 bytes: byte
//! `j` of block `b` holds component `64b + j` in its low nibble and
//! `64b + 32 + j` in its high one (zero past the row's end). That order lets
//! one 32-byte load unpack, with a shift and two masks, into the 64 bytes
//! that line up with the query's next 64 codes. The query stays 8-bit (the
//! "asymmetric" distance of Jégou et al., "Product Quantization for Nearest
//! Neighbor Search", 2011): only the stored side loses precision.
//!
//! Nibbles are at most 15, so they are valid *signed* bytes: AVX-512 VNNI's
//! `vpdpbusd` (unsigned × signed) takes the query as the unsigned operand and
//! needs none of the shift [`super::int8`] corrects for. Sums are exact: a
//! product is at most 255 · 15, and 65,536 of them fit `u32`. Without
//! AVX-512 VNNI, AVX2's `vpmaddubsw` (also unsigned × signed) does the same
//! with 32 bytes at a time.

/// Components per packed block.
pub const BLOCK: usize = 64;

/// Bytes of one packed row of `dim` components.
pub fn packed_len(dim: usize) -> usize {
    dim.div_ceil(BLOCK) * BLOCK / 2
}

/// Packs `codes` (each 0..=15) into `out` (`packed_len(codes.len())`
/// bytes), in the block order of the module docs.
pub fn pack(codes: &[u8], out: &mut [u8]) {
    let at = |i: usize| codes.get(i).copied().unwrap_or(0) & 0x0F;
    for (b, block) in out.chunks_exact_mut(BLOCK / 2).enumerate() {
        for (j, byte) in block.iter_mut().enumerate() {
            *byte = at(b * BLOCK + j) | (at(b * BLOCK + BLOCK / 2 + j) << 4);
        }
    }
}

/// `Σ q[i] · u[i]`, where `u` is `row` unpacked and `q` has
/// `packed_len(dim) * 2` codes (zero past `dim`).
#[inline(always)]
pub fn dot_u8_u4(q: &[u8], row: &[u8]) -> u32 {
    #[cfg(target_arch = "x86_64")]
    {
        if vnni::available() {
            // SAFETY: the CPU supports AVX-512 F, BW, VL and VNNI (checked just above).
            return unsafe { vnni::dot(q, row) };
        }
        if avx2::available() {
            // SAFETY: the CPU supports AVX2 (checked just above).
            return unsafe { avx2::dot(q, row) };
        }
    }
    dot_portable(q, row)
}

/// `out[i] = dot_u8_u4(q, rows[i])`, choosing the code once per list.
pub fn dot_u8_u4_many<'a>(q: &[u8], rows: impl Iterator<Item = &'a [u8]>, out: &mut [u32]) {
    #[cfg(target_arch = "x86_64")]
    if vnni::available() {
        // SAFETY: the CPU supports AVX-512 F, BW, VL and VNNI (checked just above).
        return unsafe { vnni::dot_many(q, rows, out) };
    }
    #[cfg(target_arch = "x86_64")]
    if avx2::available() {
        // SAFETY: the CPU supports AVX2 (checked just above).
        return unsafe { avx2::dot_many(q, rows, out) };
    }
    for (o, r) in out.iter_mut().zip(rows) {
        *o = dot_portable(q, r);
    }
}

/// The reference loop, and the kernel on CPUs without AVX2.
pub(super) fn dot_portable(q: &[u8], row: &[u8]) -> u32 {
    let mut sum = 0u32;
    for (qb, rb) in q.chunks_exact(BLOCK).zip(row.chunks_exact(BLOCK / 2)) {
        let (q_lo, q_hi) = qb.split_at(BLOCK / 2);
        for j in 0..BLOCK / 2 {
            sum += q_lo[j] as u32 * (rb[j] & 0x0F) as u32 + q_hi[j] as u32 * (rb[j] >> 4) as u32;
        }
    }
    sum
}

#[cfg(target_arch = "x86_64")]
mod vnni {
    use std::arch::x86_64::*;

    pub fn available() -> bool {
        super::super::int8::vnni_available()
    }

    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni")]
    pub unsafe fn dot_many<'a>(q: &[u8], rows: impl Iterator<Item = &'a [u8]>, out: &mut [u32]) {
        for (o, r) in out.iter_mut().zip(rows) {
            *o = dot(q, r);
        }
    }

    #[inline]
    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni")]
    pub fn dot(q: &[u8], row: &[u8]) -> u32 {
        let blocks = (q.len() / super::BLOCK).min(row.len() / (super::BLOCK / 2));
        let nibble = _mm256_set1_epi8(0x0F);
        let mut acc = _mm512_setzero_si512();
        for b in 0..blocks {
            // SAFETY: block `b` spans bytes `32b..32b + 32` of `row` and
            // `64b..64b + 64` of `q`, inside both slices.
            let (packed, query) = unsafe {
                (
                    _mm256_loadu_si256(row.as_ptr().add(b * 32).cast()),
                    _mm512_loadu_si512(q.as_ptr().add(b * 64).cast()),
                )
            };
            let lo = _mm256_and_si256(packed, nibble);
            let hi = _mm256_and_si256(_mm256_srli_epi16::<4>(packed), nibble);
            let codes = _mm512_inserti64x4::<1>(_mm512_castsi256_si512(lo), hi);
            acc = _mm512_dpbusd_epi32(acc, query, codes);
        }
        _mm512_reduce_add_epi32(acc) as u32
    }
}

/// The kernel on CPUs with AVX2 but no AVX-512 VNNI: `vpmaddubsw`
/// multiplies the query's unsigned bytes by the nibbles (valid signed
/// bytes) and adds adjacent pairs into `i16`; the low and high halves' sums
/// add to at most 4 · 255 · 15 = 15,300, so nothing saturates, and
/// `vpmaddwd` by ones widens them to `i32`.
#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    /// The test the f32 and int8 kernels use (every AVX2 CPU has FMA).
    pub fn available() -> bool {
        super::super::native::avx2_fma()
    }

    #[target_feature(enable = "avx2")]
    pub unsafe fn dot_many<'a>(q: &[u8], rows: impl Iterator<Item = &'a [u8]>, out: &mut [u32]) {
        for (o, r) in out.iter_mut().zip(rows) {
            *o = dot(q, r);
        }
    }

    #[inline]
    #[target_feature(enable = "avx2")]
    pub fn dot(q: &[u8], row: &[u8]) -> u32 {
        let blocks = (q.len() / super::BLOCK).min(row.len() / (super::BLOCK / 2));
        let nibble = _mm256_set1_epi8(0x0F);
        let ones = _mm256_set1_epi16(1);
        let mut acc = _mm256_setzero_si256();
        for b in 0..blocks {
            // SAFETY: block `b` spans bytes `32b..32b + 32` of `row` and
            // `64b..64b + 64` of `q`, inside both slices.
            let (packed, q_lo, q_hi) = unsafe {
                (
                    _mm256_loadu_si256(row.as_ptr().add(b * 32).cast()),
                    _mm256_loadu_si256(q.as_ptr().add(b * 64).cast()),
                    _mm256_loadu_si256(q.as_ptr().add(b * 64 + 32).cast()),
                )
            };
            let lo = _mm256_and_si256(packed, nibble);
            let hi = _mm256_and_si256(_mm256_srli_epi16::<4>(packed), nibble);
            let pairs = _mm256_add_epi16(
                _mm256_maddubs_epi16(q_lo, lo),
                _mm256_maddubs_epi16(q_hi, hi),
            );
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(pairs, ones));
        }
        let mut lanes = [0u32; 8];
        // SAFETY: `lanes` is 32 bytes.
        unsafe { _mm256_storeu_si256(lanes.as_mut_ptr().cast(), acc) };
        lanes.iter().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_kernels_are_exact() {
        for dim in [1, 7, 31, 32, 33, 63, 64, 65, 127, 384, 768, 4096] {
            let u: Vec<u8> = (0..dim).map(|i| ((i * 7919) % 16) as u8).collect();
            let mut q: Vec<u8> = (0..dim).map(|i| ((i * 104_729) % 251) as u8).collect();
            q.resize(packed_len(dim) * 2, 0);
            let mut row = vec![0u8; packed_len(dim)];
            pack(&u, &mut row);
            let dot: u32 = u.iter().zip(&q).map(|(x, y)| *x as u32 * *y as u32).sum();
            assert_eq!(dot_portable(&q, &row), dot, "dim {dim}");
            assert_eq!(dot_u8_u4(&q, &row), dot, "dim {dim}");
            let mut out = [0u32; 1];
            dot_u8_u4_many(&q, [&row[..]].into_iter(), &mut out);
            assert_eq!(out[0], dot);
        }
        // The largest values at the largest dimension do not overflow.
        let dim = crate::types::MAX_DIM;
        let q = vec![255u8; dim];
        let row = vec![0xFFu8; packed_len(dim)];
        assert_eq!(dot_u8_u4(&q, &row) as u64, 255 * 15 * dim as u64);
    }
}
