//! [`OnnxEmbedder`]: a sentence-transformers model exported to ONNX, run by
//! ONNX Runtime, with its own `tokenizer.json`.
//!
//! The recipe is sentence-transformers': tokenize (truncating at the model's
//! `max_seq_length`, special tokens included), run the transformer, pool the
//! token vectors with the attention mask (mean, CLS, max or mean/√len, per
//! `1_Pooling/config.json`), L2-normalise. Graphs that already output a
//! pooled `sentence_embedding` are used as they are.
//!
//! Speed: inputs are sorted by token length and cut into batches, each padded
//! only to its own longest input. Unsorted batches pay for the padding of
//! their longest member (about 3× slower on mixed-length text).
//!
//! `tokenizer.json` files often carry their own padding and truncation
//! (all-MiniLM-L6-v2's pads and cuts every input to 128 tokens); both are
//! replaced here, so the model sees what sentence-transformers would give it.

use std::borrow::Cow;
use std::path::PathBuf;

use ort::session::builder::GraphOptimizationLevel;
use ort::session::{Session, SessionInputValue};
use ort::value::Tensor;
use parking_lot::Mutex;
use tokenizers::{Encoding, Tokenizer, TruncationParams};

use super::model_files::{ModelFiles, Pooling};
use super::{normalize, runtime, Embedder};
use crate::error::{IngestError, Result};

/// How an [`OnnxEmbedder`] runs.
#[derive(Clone, Debug)]
pub struct OnnxOptions {
    /// The ONNX Runtime shared library.
    pub runtime: PathBuf,
    /// Inputs per inference call. 32 was fastest for MiniLM on 2 cores
    /// (128 was slower: longer padding, worse cache use).
    pub batch_size: usize,
    /// Intra-op threads; 0 = one per CPU.
    pub threads: usize,
}

impl OnnxOptions {
    pub fn new(runtime: impl Into<PathBuf>) -> Self {
        OnnxOptions {
            runtime: runtime.into(),
            batch_size: 32,
            threads: 0,
        }
    }
}

/// What the graph's output holds.
enum Output {
    /// `[batch, sequence, dim]` token vectors, to pool.
    Tokens(String),
    /// `[batch, dim]` sentence vectors, already pooled.
    Pooled(String),
}

pub struct OnnxEmbedder {
    files: ModelFiles,
    /// Truncates at `max_seq_length`; never pads (batches pad themselves).
    tokenizer: Tokenizer,
    /// No truncation: for measuring whole documents.
    spans_tokenizer: Tokenizer,
    special_tokens: usize,
    session: Mutex<Session>,
    inputs: Vec<String>,
    output: Output,
    dim: usize,
    batch_size: usize,
}

fn tok_err(e: impl ToString) -> IngestError {
    IngestError::Tokenizer(e.to_string())
}

fn infer_err(e: impl ToString) -> IngestError {
    IngestError::Inference(e.to_string())
}

impl OnnxEmbedder {
    pub fn load(files: ModelFiles, options: &OnnxOptions) -> Result<OnnxEmbedder> {
        let dir = files.dir.clone();
        let model_err = |reason: String| IngestError::Model {
            dir: dir.clone(),
            reason,
        };
        let mut tokenizer = Tokenizer::from_file(&files.tokenizer)
            .map_err(|e| model_err(format!("tokenizer.json: {e}")))?;
        tokenizer.with_padding(None);
        let mut spans_tokenizer = tokenizer.clone();
        spans_tokenizer.with_truncation(None).map_err(tok_err)?;
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: files.max_seq_length,
                ..TruncationParams::default()
            }))
            .map_err(tok_err)?;
        let special_tokens = tokenizer.encode("", true).map_err(tok_err)?.get_ids().len();

        let env = runtime::init_runtime(&options.runtime)?;
        let threads = match options.threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        let session = Session::builder(&env)
            .and_then(|b| Ok(b.with_optimization_level(GraphOptimizationLevel::All)?))
            .and_then(|b| Ok(b.with_intra_threads(threads)?))
            .and_then(|mut b| b.commit_from_file(&files.onnx))
            .map_err(|e| model_err(format!("{}: {e}", files.onnx.display())))?;
        let inputs: Vec<String> = session
            .inputs()
            .iter()
            .map(|i| i.name().to_string())
            .collect();
        for name in &inputs {
            if !["input_ids", "attention_mask", "token_type_ids"].contains(&name.as_str()) {
                return Err(model_err(format!(
                    "the graph wants an input `{name}`; Cairn feeds input_ids, attention_mask and token_type_ids"
                )));
            }
        }
        let outputs: Vec<String> = session
            .outputs()
            .iter()
            .map(|o| o.name().to_string())
            .collect();
        let output = if let Some(o) = outputs.iter().find(|o| *o == "sentence_embedding") {
            Output::Pooled(o.clone())
        } else {
            let o = outputs
                .iter()
                .find(|o| *o == "last_hidden_state" || *o == "token_embeddings")
                .or(outputs.first())
                .ok_or_else(|| model_err("the graph has no outputs".into()))?;
            Output::Tokens(o.clone())
        };
        let mut embedder = OnnxEmbedder {
            files,
            tokenizer,
            spans_tokenizer,
            special_tokens,
            session: Mutex::new(session),
            inputs,
            output,
            dim: 0,
            batch_size: options.batch_size.max(1),
        };
        // The graph, not a config file, has the last word on the dimension.
        let probe = embedder.embed(&["dimension probe"])?;
        embedder.dim = probe.first().map_or(0, Vec::len);
        if embedder.dim == 0 || embedder.files.dim.is_some_and(|d| d != embedder.dim) {
            return Err(model_err(format!(
                "the graph outputs {}-d vectors, the configs say {:?}",
                embedder.dim, embedder.files.dim
            )));
        }
        Ok(embedder)
    }

    pub fn files(&self) -> &ModelFiles {
        &self.files
    }

    /// One inference call over encodings of similar length.
    fn run_batch(&self, batch: &[&Encoding]) -> Result<Vec<Vec<f32>>> {
        let rows = batch.len();
        let width = batch.iter().map(|e| e.len()).max().unwrap_or(0).max(1);
        let mut ids = vec![0i64; rows * width];
        let mut mask = vec![0i64; rows * width];
        let mut types = vec![0i64; rows * width];
        for (r, e) in batch.iter().enumerate() {
            for (t, ((id, m), ty)) in e
                .get_ids()
                .iter()
                .zip(e.get_attention_mask())
                .zip(e.get_type_ids())
                .enumerate()
            {
                ids[r * width + t] = *id as i64;
                mask[r * width + t] = *m as i64;
                types[r * width + t] = *ty as i64;
            }
        }
        let shape = vec![rows as i64, width as i64];
        let mut feed: Vec<(Cow<str>, SessionInputValue)> = Vec::with_capacity(3);
        for name in &self.inputs {
            let data = match name.as_str() {
                "input_ids" => ids.clone(),
                "attention_mask" => mask.clone(),
                _ => types.clone(),
            };
            let tensor = Tensor::from_array((shape.clone(), data)).map_err(infer_err)?;
            feed.push((Cow::Owned(name.clone()), tensor.into()));
        }
        let mut session = self.session.lock();
        let outputs = session.run(feed).map_err(infer_err)?;
        let (name, pooled) = match &self.output {
            Output::Tokens(n) => (n, false),
            Output::Pooled(n) => (n, true),
        };
        let (dims, data) = outputs[name.as_str()]
            .try_extract_tensor::<f32>()
            .map_err(infer_err)?;
        let dims: Vec<usize> = dims.iter().map(|d| *d as usize).collect();
        let mut out = Vec::with_capacity(rows);
        match (pooled, dims.as_slice()) {
            (true, [n, d]) if *n == rows => {
                for r in 0..rows {
                    out.push(data[r * d..(r + 1) * d].to_vec());
                }
            }
            (false, [n, w, d]) if *n == rows && *w == width => {
                for r in 0..rows {
                    let tokens = &data[r * w * d..(r + 1) * w * d];
                    out.push(pool(
                        self.files.pooling,
                        tokens,
                        &mask[r * width..(r + 1) * width],
                        *d,
                    ));
                }
            }
            _ => {
                return Err(IngestError::Inference(format!(
                    "output `{name}` has shape {dims:?} for a batch of {rows}×{width}"
                )))
            }
        }
        if self.files.normalize {
            out.iter_mut().for_each(|v| normalize(v));
        }
        Ok(out)
    }
}

/// Pools `[width, d]` token vectors into one, over the tokens `mask` keeps.
fn pool(pooling: Pooling, tokens: &[f32], mask: &[i64], d: usize) -> Vec<f32> {
    let kept = || {
        mask.iter()
            .enumerate()
            .filter(|(_, m)| **m != 0)
            .map(|(t, _)| &tokens[t * d..(t + 1) * d])
    };
    let n = mask.iter().filter(|m| **m != 0).count().max(1) as f32;
    match pooling {
        Pooling::Cls => tokens[..d].to_vec(),
        Pooling::Max => {
            let mut v = vec![f32::NEG_INFINITY; d];
            for t in kept() {
                v.iter_mut().zip(t).for_each(|(a, b)| *a = a.max(*b));
            }
            v
        }
        Pooling::Mean | Pooling::MeanSqrtLen => {
            let mut v = vec![0f32; d];
            for t in kept() {
                v.iter_mut().zip(t).for_each(|(a, b)| *a += b);
            }
            let by = if pooling == Pooling::Mean {
                n
            } else {
                n.sqrt()
            };
            v.iter_mut().for_each(|x| *x /= by);
            v
        }
    }
}

impl Embedder for OnnxEmbedder {
    fn model_name(&self) -> &str {
        &self.files.name
    }
    fn dim(&self) -> usize {
        self.dim
    }
    fn max_tokens(&self) -> usize {
        self.files.max_seq_length
    }
    fn special_tokens(&self) -> usize {
        self.special_tokens
    }
    fn token_spans(&self, text: &str) -> Result<Vec<(usize, usize)>> {
        let e = self.spans_tokenizer.encode(text, false).map_err(tok_err)?;
        Ok(e.get_offsets().to_vec())
    }
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let encodings = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(tok_err)?;
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| encodings[i].len());
        let mut out = vec![Vec::new(); texts.len()];
        for batch in order.chunks(self.batch_size) {
            let encs: Vec<&Encoding> = batch.iter().map(|&i| &encodings[i]).collect();
            for (i, v) in batch.iter().zip(self.run_batch(&encs)?) {
                out[*i] = v;
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_pooling_ignores_masked_tokens() {
        let tokens = [1.0, 2.0, 3.0, 4.0, 100.0, 100.0];
        assert_eq!(pool(Pooling::Mean, &tokens, &[1, 1, 0], 2), vec![2.0, 3.0]);
        assert_eq!(pool(Pooling::Max, &tokens, &[1, 1, 0], 2), vec![3.0, 4.0]);
        assert_eq!(pool(Pooling::Cls, &tokens, &[1, 1, 0], 2), vec![1.0, 2.0]);
    }
}
