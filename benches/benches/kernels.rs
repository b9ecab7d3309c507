//! Distance kernels: Cairn's native lanes (what the engine runs), simsimd and
//! a plain loop, for
//! cosine / dot / L2 at 384, 768, 1536 and 4096 dims, reported in GB/s of
//! vector data read, beside this machine's memory-read bandwidth.
//!
//! ```text
//! cargo bench -p cairn-benches --bench kernels
//! ```
//!
//! - `kernel/<metric>/<impl>/<dim>`: two vectors that stay in L1/L2 cache,
//!   so this is the arithmetic's speed.
//! - dims 50 (GloVe) too, where call overhead and tails matter most.
//! - `list/<how>/<dim>`: one query against a 32-row neighbour list in
//!   cache, scored by one `distances` call (four rows per pass) or row by
//!   row: what the graph does per expanded node.
//! - `scan/<impl>/768`: one query against 65,536 vectors (192 MiB), as an
//!   exact scan does: this is where memory bandwidth caps a kernel.
//! - `int8/dot/<impl>/<dim>`: the integer kernel over int8 codes that a
//!   quantized collection walks its graph with (throughput counts the bytes
//!   of the *f32* vectors they stand in for, so GB/s compare like for like);
//!   `native` is what the engine runs (AVX-512 VNNI where the CPU has it),
//!   `without_vnni` the AVX2 kernel beside it.
//! - `int4/dot/native/<dim>`: the kernel between a query's int8 codes and
//!   a row's packed int4 codes (half the bytes of int8), same accounting.
//! - `scan/int8/768`: the same scan over the 48 MiB of codes (and
//!   `scan/int8_without_vnni/768` with the AVX2 kernel); `scan/int4/768`
//!   over the 24 MiB of packed int4 codes.
//! - `memory_read`: summing a 256 MiB buffer of u64, the machine's ceiling.

use std::hint::black_box;

use cairn_engine::spaces::int4::{dot_u8_u4, pack, packed_len};
use cairn_engine::spaces::int8::{dot_u8, dot_u8_without_vnni};
use cairn_engine::spaces::{Kernel, Metric, NativeKernel, ScalarKernel, SimdKernel};
use cairn_engine::Distance;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

fn vector(dim: usize, seed: u32) -> Vec<f32> {
    // Deterministic, cheap, and not all equal.
    (0..dim)
        .map(|i| {
            ((i as u32).wrapping_mul(2_654_435_761).wrapping_add(seed) % 1000) as f32 / 1000.0 - 0.5
        })
        .collect()
}

fn kernels(c: &mut Criterion) {
    for (name, distance) in [
        ("cosine", Distance::Cosine),
        ("dot", Distance::Dot),
        ("l2", Distance::Euclid),
    ] {
        let mut group = c.benchmark_group(format!("kernel/{name}"));
        for dim in [50, 384, 768, 1536, 4096] {
            let (a, b) = (vector(dim, 1), vector(dim, 2));
            group.throughput(Throughput::Bytes((2 * dim * 4) as u64));
            bench_pair::<NativeKernel>(&mut group, "native", dim, distance, &a, &b);
            bench_pair::<SimdKernel>(&mut group, "simsimd", dim, distance, &a, &b);
            bench_pair::<ScalarKernel>(&mut group, "loop", dim, distance, &a, &b);
        }
        group.finish();
    }
}

fn codes(dim: usize, seed: u32) -> Vec<u8> {
    (0..dim)
        .map(|i| ((i as u32).wrapping_mul(2_654_435_761).wrapping_add(seed) >> 24) as u8)
        .collect()
}

/// One integer dot product serves all three metrics (see
/// `cairn_engine::quantization`).
fn int8_kernels(c: &mut Criterion) {
    let mut group = c.benchmark_group("int8/dot");
    for dim in [50, 384, 768, 1536, 4096] {
        let (a, b) = (codes(dim, 1), codes(dim, 2));
        group.throughput(Throughput::Bytes((2 * dim * 4) as u64));
        group.bench_with_input(BenchmarkId::new("native", dim), &dim, |bench, _| {
            bench.iter(|| dot_u8(black_box(&a), black_box(&b)))
        });
        group.bench_with_input(BenchmarkId::new("without_vnni", dim), &dim, |bench, _| {
            bench.iter(|| dot_u8_without_vnni(black_box(&a), black_box(&b)))
        });
    }
    group.finish();
    let mut group = c.benchmark_group("int4/dot");
    for dim in [50, 384, 768, 1536, 4096] {
        let (q, row) = (padded_query(dim, 1), packed(dim, 2));
        group.throughput(Throughput::Bytes((2 * dim * 4) as u64));
        group.bench_with_input(BenchmarkId::new("native", dim), &dim, |bench, _| {
            bench.iter(|| dot_u8_u4(black_box(&q), black_box(&row)))
        });
    }
    group.finish();
}

/// A query's int8 codes, zero-padded to the packed rows' length.
fn padded_query(dim: usize, seed: u32) -> Vec<u8> {
    let mut q = codes(dim, seed);
    q.resize(packed_len(dim) * 2, 0);
    q
}

/// A row of `dim` int4 codes, packed.
fn packed(dim: usize, seed: u32) -> Vec<u8> {
    let levels: Vec<u8> = codes(dim, seed).iter().map(|c| c >> 4).collect();
    let mut row = vec![0u8; packed_len(dim)];
    pack(&levels, &mut row);
    row
}

fn bench_pair<K: Kernel>(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    dim: usize,
    distance: Distance,
    a: &[f32],
    b: &[f32],
) {
    let metric: Metric<K> = Metric::new(distance);
    group.bench_with_input(BenchmarkId::new(name, dim), &dim, |bench, _| {
        bench.iter(|| metric.distance(black_box(a), black_box(b)))
    });
}

fn neighbour_list(c: &mut Criterion) {
    let mut group = c.benchmark_group("list");
    for dim in [50, 128, 384, 768] {
        let rows: Vec<Vec<f32>> = (0..32).map(|r| vector(dim, 100 + r)).collect();
        let q = vector(dim, 7);
        let metric: Metric<NativeKernel> = Metric::new(Distance::Dot);
        let mut out = vec![0.0f32; rows.len()];
        group.throughput(Throughput::Bytes((rows.len() * dim * 4) as u64));
        group.bench_with_input(BenchmarkId::new("batched", dim), &dim, |bench, _| {
            bench.iter(|| {
                metric.distances(black_box(&q), rows.iter().map(|r| &r[..]), &mut out);
                out[0]
            })
        });
        group.bench_with_input(BenchmarkId::new("one_by_one", dim), &dim, |bench, _| {
            bench.iter(|| {
                for (o, r) in out.iter_mut().zip(&rows) {
                    *o = metric.distance(black_box(&q), r);
                }
                out[0]
            })
        });
    }
    group.finish();
}

fn scan(c: &mut Criterion) {
    let (dim, rows) = (768, 65_536);
    let matrix: Vec<f32> = (0..rows).flat_map(|r| vector(dim, r as u32)).collect();
    let q = vector(dim, 7);
    let mut group = c.benchmark_group("scan");
    group.sample_size(10);
    group.throughput(Throughput::Bytes((matrix.len() * 4) as u64));
    fn run<K: Kernel>(matrix: &[f32], q: &[f32], dim: usize) -> f32 {
        let metric: Metric<K> = Metric::new(Distance::Dot);
        matrix
            .chunks_exact(dim)
            .map(|v| metric.distance(q, v))
            .fold(f32::INFINITY, f32::min)
    }
    group.bench_function(BenchmarkId::new("native", dim), |b| {
        b.iter(|| run::<NativeKernel>(black_box(&matrix), &q, dim))
    });
    group.bench_function(BenchmarkId::new("simsimd", dim), |b| {
        b.iter(|| run::<SimdKernel>(black_box(&matrix), &q, dim))
    });
    group.bench_function(BenchmarkId::new("loop", dim), |b| {
        b.iter(|| run::<ScalarKernel>(black_box(&matrix), &q, dim))
    });
    // Codes for the same rows: a quarter of the bytes (throughput still
    // counts the f32 bytes they replace).
    let coded: Vec<u8> = (0..rows).flat_map(|r| codes(dim, r as u32)).collect();
    let cq = codes(dim, 7);
    let int8: [(&str, CodeDot); 2] = [("int8", dot_u8), ("int8_without_vnni", dot_u8_without_vnni)];
    for (name, dot) in int8 {
        group.bench_function(BenchmarkId::new(name, dim), |b| {
            b.iter(|| {
                black_box(&coded)
                    .chunks_exact(dim)
                    .map(|v| dot(&cq, v))
                    .max()
            })
        });
    }
    let packed_rows: Vec<u8> = (0..rows).flat_map(|r| packed(dim, r as u32)).collect();
    let pq = padded_query(dim, 7);
    group.bench_function(BenchmarkId::new("int4", dim), |b| {
        b.iter(|| {
            black_box(&packed_rows)
                .chunks_exact(packed_len(dim))
                .map(|v| dot_u8_u4(&pq, v))
                .max()
        })
    });
    group.finish();
}

/// An int8 code kernel, as `dot_u8`.
type CodeDot = fn(&[u8], &[u8]) -> u32;

fn memory_read(c: &mut Criterion) {
    let words: Vec<u64> = (0..(256usize << 20) / 8).map(|i| i as u64).collect();
    let mut group = c.benchmark_group("memory_read");
    group.sample_size(10);
    group.throughput(Throughput::Bytes((words.len() * 8) as u64));
    group.bench_function("sum_u64_256MiB", |b| {
        b.iter(|| {
            black_box(&words)
                .iter()
                .fold(0u64, |s, w| s.wrapping_add(*w))
        })
    });
    group.finish();
}

criterion_group!(
    benches,
    kernels,
    int8_kernels,
    neighbour_list,
    scan,
    memory_read
);
criterion_main!(benches);
