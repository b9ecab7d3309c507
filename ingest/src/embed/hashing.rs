//! A deterministic embedder for unit tests: lower-cased words hashed into
//! `dim` buckets with a sign, then L2-normalised (the "hashing trick").
//! Texts sharing words get similar vectors, which is all a test of the
//! pipeline needs. Never a default: nothing picks it unless asked by name.

use sha2::{Digest, Sha256};

use super::{normalize, Embedder};
use crate::error::Result;

pub struct HashEmbedder {
    dim: usize,
    max_tokens: usize,
}

impl HashEmbedder {
    pub fn new(dim: usize) -> Self {
        HashEmbedder {
            dim: dim.max(1),
            max_tokens: 256,
        }
    }

    pub fn with_max_tokens(mut self, max_tokens: usize) -> Self {
        self.max_tokens = max_tokens.max(3);
        self
    }
}

/// Byte spans of maximal runs of alphanumeric characters.
pub(crate) fn word_spans(text: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (c.is_alphanumeric(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                spans.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        spans.push((s, text.len()));
    }
    spans
}

impl Embedder for HashEmbedder {
    fn model_name(&self) -> &str {
        "hashing"
    }
    fn dim(&self) -> usize {
        self.dim
    }
    fn max_tokens(&self) -> usize {
        self.max_tokens
    }
    fn special_tokens(&self) -> usize {
        2
    }
    fn token_spans(&self, text: &str) -> Result<Vec<(usize, usize)>> {
        Ok(word_spans(text))
    }
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        Ok(texts
            .iter()
            .map(|text| {
                let mut v = vec![0f32; self.dim];
                for (s, e) in word_spans(text) {
                    let h = Sha256::digest(text[s..e].to_lowercase().as_bytes());
                    let bucket = u64::from_le_bytes(h[..8].try_into().unwrap_or_default());
                    let sign = if h[8] & 1 == 0 { 1.0 } else { -1.0 };
                    v[(bucket % self.dim as u64) as usize] += sign;
                }
                if v.iter().all(|x| *x == 0.0) {
                    v[0] = 1.0; // no words: still a valid cosine vector
                }
                normalize(&mut v);
                v
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similar_texts_are_closer_than_unrelated_ones() {
        let e = HashEmbedder::new(64);
        let v = e
            .embed(&[
                "the cat sat on the mat",
                "a cat on a mat",
                "stock prices fell",
            ])
            .expect("embed");
        let dot = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>();
        assert!(dot(&v[0], &v[1]) > dot(&v[0], &v[2]));
        assert!((dot(&v[0], &v[0]) - 1.0).abs() < 1e-5);
        assert_eq!(word_spans("héllo, wörld!"), vec![(0, 6), (8, 14)]);
    }
}
