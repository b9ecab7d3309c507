//! Cutting a document's text into chunks of at most `chunk_tokens` tokens of
//! the model's own tokenizer, with `overlap` tokens shared between
//! neighbours, cutting at paragraph and sentence boundaries where it can.
//!
//! The text is tokenized once, whole; every cut is a token index. From a
//! start `s`, the chunk may reach `s + budget`. It ends at the last paragraph
//! end in the second half of that window, else the last sentence end there,
//! else the last word start (never inside a word's sub-word pieces), else at
//! the window's edge. The next chunk starts `overlap` tokens before that
//! end — moved forward to a sentence start or word start inside the overlap
//! when there is one — so context carries across the cut. Sentences are
//! Unicode sentence boundaries (UAX #29); paragraphs are blank lines.

use unicode_segmentation::UnicodeSegmentation;

use crate::error::{IngestError, Result};

/// Chunk sizes, in tokens of the embedding model's tokenizer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChunkerConfig {
    pub chunk_tokens: usize,
    pub overlap: usize,
}

impl Default for ChunkerConfig {
    fn default() -> Self {
        ChunkerConfig {
            chunk_tokens: 256,
            overlap: 32,
        }
    }
}

impl ChunkerConfig {
    /// The same sizes fitted to a model: a chunk plus the model's special
    /// tokens must fit its input, or the model would silently cut it.
    pub fn fitted(self, max_tokens: usize, special_tokens: usize) -> Result<ChunkerConfig> {
        let room = max_tokens.saturating_sub(special_tokens).max(1);
        let chunk_tokens = self.chunk_tokens.min(room);
        if self.chunk_tokens == 0 {
            return Err(IngestError::Invalid(
                "--chunk-tokens must be at least 1".into(),
            ));
        }
        if self.overlap >= chunk_tokens {
            return Err(IngestError::Invalid(format!(
                "--overlap {} must be smaller than the chunk size {chunk_tokens}",
                self.overlap
            )));
        }
        Ok(ChunkerConfig {
            chunk_tokens,
            overlap: self.overlap,
        })
    }
}

/// One piece of a document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chunk {
    pub index: usize,
    /// The original text from the chunk's first token to the next chunk's
    /// first token (whitespace at the ends trimmed).
    pub text: String,
    pub tokens: usize,
}

/// How good a place to cut before token `i` is.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Cut {
    Inside,
    Word,
    Sentence,
    Paragraph,
}

/// Cuts `text`, whose tokens have the byte spans `spans` (in order, as the
/// model's tokenizer gives them).
pub fn chunk(text: &str, spans: &[(usize, usize)], config: ChunkerConfig) -> Vec<Chunk> {
    let n = spans.len();
    if n == 0 {
        return Vec::new();
    }
    let cuts = cut_quality(text, spans);
    let budget = config.chunk_tokens.max(1);
    let overlap = config.overlap.min(budget - 1);
    let mut chunks = Vec::new();
    let mut start = 0;
    loop {
        let edge = (start + budget).min(n);
        let end = if edge == n {
            n
        } else {
            let lo = start + budget / 2 + 1;
            [Cut::Paragraph, Cut::Sentence, Cut::Word]
                .iter()
                .find_map(|want| (lo..=edge).rev().find(|&i| cuts[i] >= *want))
                .unwrap_or(edge)
        };
        // Text between tokens (punctuation a tokenizer skips, spaces) goes
        // with the chunk before it, so nothing falls between two chunks.
        let from = if start == 0 { 0 } else { spans[start].0 };
        let to = if end == n { text.len() } else { spans[end].0 };
        let body = text[from..to].trim();
        if !body.is_empty() {
            chunks.push(Chunk {
                index: chunks.len(),
                text: body.to_string(),
                tokens: end - start,
            });
        }
        if end == n {
            return chunks;
        }
        // Step back `overlap` tokens, then forward to a clean start inside
        // the overlap; always make progress.
        let back = end.saturating_sub(overlap).max(start + 1);
        start = [Cut::Sentence, Cut::Word]
            .iter()
            .find_map(|want| (back..end).find(|&i| cuts[i] >= *want))
            .unwrap_or(back);
    }
}

/// `cuts[i]` rates a cut just before token `i` (`cuts[n]` is the end).
fn cut_quality(text: &str, spans: &[(usize, usize)]) -> Vec<Cut> {
    let n = spans.len();
    let mut cuts = vec![Cut::Inside; n + 1];
    cuts[0] = Cut::Paragraph;
    cuts[n] = Cut::Paragraph;
    for i in 1..n {
        let gap = &text[spans[i - 1].1.min(spans[i].0)..spans[i].0];
        let glued = gap.is_empty()
            && text[..spans[i].0]
                .chars()
                .next_back()
                .is_some_and(char::is_alphanumeric)
            && text[spans[i].0..]
                .chars()
                .next()
                .is_some_and(char::is_alphanumeric);
        cuts[i] = if gap.contains("\n\n") || gap.contains("\r\n\r\n") {
            Cut::Paragraph
        } else if glued {
            Cut::Inside
        } else {
            Cut::Word
        };
    }
    // Sentence starts, mapped to the first token at or after them.
    let mut t = 0;
    for (at, _) in text.split_sentence_bound_indices() {
        while t < n && spans[t].0 < at {
            t += 1;
        }
        if t > 0 && t < n && cuts[t] < Cut::Sentence && cuts[t] != Cut::Inside {
            cuts[t] = Cut::Sentence;
        }
    }
    cuts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embed::{Embedder, HashEmbedder};

    fn cut(text: &str, chunk_tokens: usize, overlap: usize) -> Vec<Chunk> {
        let spans = HashEmbedder::new(8).token_spans(text).expect("spans");
        chunk(
            text,
            &spans,
            ChunkerConfig {
                chunk_tokens,
                overlap,
            },
        )
    }

    #[test]
    fn short_text_is_one_chunk_and_empty_text_none() {
        assert_eq!(cut("Just one sentence.", 10, 2).len(), 1);
        assert!(cut("  \n\n ", 10, 2).is_empty());
    }

    #[test]
    fn chunks_respect_the_budget_overlap_and_sentences() {
        let text = (0..40)
            .map(|i| format!("Sentence number {i} has six words."))
            .collect::<Vec<_>>()
            .join(" ");
        // Sentences are 6 tokens: an overlap of 8 always holds a sentence start.
        let chunks = cut(&text, 20, 8);
        assert!(chunks.len() > 10);
        for pair in chunks.windows(2) {
            let head: String = pair[1].text.chars().take(20).collect();
            assert!(pair[0].text.contains(&head), "no overlap: {pair:?}");
        }
        for c in &chunks {
            assert!(c.tokens <= 20, "{c:?}");
            assert!(
                c.text.starts_with("Sentence"),
                "starts at a sentence: {c:?}"
            );
            assert!(c.text.ends_with('.'), "ends at a sentence: {c:?}");
        }
        // Consecutive chunks share text (the overlap carried a sentence or
        // part of one across), and together they cover every sentence.
        for i in 0..40 {
            let s = format!("Sentence number {i} has");
            assert!(chunks.iter().any(|c| c.text.contains(&s)), "{s} lost");
        }
        assert_eq!(
            chunks.iter().map(|c| c.index).collect::<Vec<_>>(),
            (0..chunks.len()).collect::<Vec<_>>()
        );
    }

    #[test]
    fn paragraph_breaks_are_preferred_to_sentence_breaks() {
        let para = |w: &str| format!("{w} {w} {w}. {w} {w} {w}.");
        let text = format!("{}\n\n{}\n\n{}", para("alpha"), para("beta"), para("gamma"));
        let chunks = cut(&text, 14, 0);
        assert_eq!(chunks[0].text, para("alpha") + "\n\n" + &para("beta"));
        assert_eq!(chunks[1].text, para("gamma"));
    }

    #[test]
    fn a_sentence_longer_than_the_budget_is_cut_between_words() {
        let text = "word ".repeat(100);
        let chunks = cut(&text, 30, 5);
        assert!(chunks.iter().all(|c| c.tokens <= 30));
        let total: usize = chunks.iter().map(|c| c.tokens).sum();
        assert!(total >= 100 && total <= 100 + 5 * chunks.len());
    }

    #[test]
    fn sub_word_pieces_stay_together() {
        // Spans as a WordPiece tokenizer gives them: "unbelievable" in 3 pieces.
        let text = "an unbelievable story";
        let spans = [(0, 2), (3, 5), (5, 10), (10, 15), (16, 21)];
        let chunks = chunk(
            text,
            &spans,
            ChunkerConfig {
                chunk_tokens: 3,
                overlap: 0,
            },
        );
        assert!(
            chunks
                .iter()
                .all(|c| !c.text.ends_with("unbel") && !c.text.starts_with("ievable")),
            "{chunks:?}"
        );
    }

    #[test]
    fn sizes_are_fitted_to_the_model() {
        let c = ChunkerConfig::default().fitted(256, 2).expect("fit");
        assert_eq!(c.chunk_tokens, 254);
        assert!(ChunkerConfig {
            chunk_tokens: 10,
            overlap: 10
        }
        .fitted(256, 2)
        .is_err());
        assert!(ChunkerConfig {
            chunk_tokens: 0,
            overlap: 0
        }
        .fitted(256, 2)
        .is_err());
    }
}
