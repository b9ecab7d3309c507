//! Readers for the benchmark and evaluation data Cairn is measured on, and a
//! seeded synthetic generator.
//!
//! - [`texmex`]: `.fvecs` / `.ivecs` / `.bvecs` (ANN benchmark vectors and
//!   ground truth; each record is an `i32` dim then that many values, LE).
//! - [`npy`]: NumPy `.npy` float32 matrices (format 1.0–3.0, C order).
//! - [`beir`]: BEIR corpora, queries (JSON lines) and qrels (TSV).
//! - [`synthetic`]: uniform and clustered vectors from a seed.

pub mod beir;
pub mod npy;
pub mod synthetic;
pub mod texmex;

use std::path::PathBuf;

/// A dense row-major matrix of `f32` vectors.
#[derive(Clone, Debug, PartialEq)]
pub struct Vectors {
    pub dim: usize,
    pub data: Vec<f32>,
}

impl Vectors {
    pub fn len(&self) -> usize {
        self.data.len().checked_div(self.dim).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.dim..(i + 1) * self.dim]
    }

    pub fn rows(&self) -> impl Iterator<Item = &[f32]> {
        self.data.chunks_exact(self.dim.max(1))
    }

    /// Splits off the rows from `at` on (e.g. held-out queries drawn from the
    /// same distribution as the base).
    pub fn split_off(&mut self, at: usize) -> Vectors {
        Vectors {
            dim: self.dim,
            data: self.data.split_off(at.min(self.len()) * self.dim),
        }
    }

    /// The first `n` rows.
    pub fn truncated(mut self, n: usize) -> Vectors {
        self.data.truncate(n.min(self.len()) * self.dim);
        self
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {reason}")]
    Format { path: PathBuf, reason: String },
}

pub type Result<T> = std::result::Result<T, DatasetError>;

pub(crate) fn read(path: &std::path::Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|source| DatasetError::Io {
        path: path.to_path_buf(),
        source,
    })
}

pub(crate) fn format_err<T>(path: &std::path::Path, reason: impl Into<String>) -> Result<T> {
    Err(DatasetError::Format {
        path: path.to_path_buf(),
        reason: reason.into(),
    })
}
