//! Text → vectors. [`Embedder`] is the small trait the chunker, the
//! ingestion pipeline, the server and the evaluation share; two strategies
//! sit behind it:
//!
//! - [`OnnxEmbedder`]: any local sentence-transformers style ONNX export
//!   (`model.onnx` + `tokenizer.json` + pooling config), run by ONNX Runtime
//!   through `ort`, with the model's own tokenizer. The real thing, and the
//!   only default.
//! - [`HashEmbedder`]: a deterministic bag-of-words hashing embedder, only
//!   for fast unit tests that need vectors but not meaning.

mod cache;
mod hashing;
mod model_files;
mod onnx;
mod runtime;

pub use cache::ModelCache;
pub use hashing::HashEmbedder;
pub use model_files::{same_model, ModelFiles, ModelRegistry, Pooling, DEFAULT_MODEL};
pub use onnx::{OnnxEmbedder, OnnxOptions};
pub use runtime::{default_runtime_path, init_runtime};

use crate::error::Result;

/// Turns texts into fixed-dimension, L2-normalised vectors.
pub trait Embedder: Send + Sync {
    /// The model's name as collections record it (e.g. `all-MiniLM-L6-v2`).
    fn model_name(&self) -> &str;
    /// Dimension of every vector `embed` returns.
    fn dim(&self) -> usize;
    /// Most tokens one input may have, special tokens included; longer
    /// inputs are truncated.
    fn max_tokens(&self) -> usize;
    /// Tokens the model's tokenizer adds around every input ([CLS], [SEP]).
    fn special_tokens(&self) -> usize;
    /// Byte spans of `text`'s tokens (without special tokens), in order:
    /// what the chunker measures and cuts by.
    fn token_spans(&self, text: &str) -> Result<Vec<(usize, usize)>>;
    /// One vector per text, in order.
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>>;
}

/// Scales `v` to unit length (a zero vector stays zero).
pub(crate) fn normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}
