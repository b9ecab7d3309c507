//! End-to-end tests that span processes; see `tests/` and `src/bin/`.

/// The vector the crash writer stores for point `id` of batch `batch`, so the
/// checker can tell a complete batch from a mixed one.
pub fn vector_for(batch: u64, id: u64, dim: usize) -> Vec<f32> {
    (0..dim)
        .map(|j| ((batch * 31 + id * 7 + j as u64) % 101) as f32 + 1.0)
        .collect()
}

pub const DIM: usize = 16;
pub const BATCH: u64 = 50;
/// Batches are numbered by their operation stamp; stamp 1 is the text
/// index's creation, so the first batch is 2.
pub const FIRST_BATCH: u64 = 2;

/// Tracing to stderr, filtered by `RUST_LOG` (silent when it is unset):
/// `RUST_LOG=cairn_engine=debug` shows checkpoints, compactions, recoveries
/// and text-index commits when hunting a crash-test failure.
pub fn init_tracing() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
}
