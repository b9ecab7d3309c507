//! Retrieval quality on a BEIR data set: the corpus goes through the same
//! ingestion (chunking, embedding, text index) a user's documents do, and
//! each test query through the same dense, BM25 and hybrid (RRF over the
//! two) searches the server's query API runs. Chunk hits become document
//! hits by their best chunk.
//!
//! Metrics, as BEIR computes them (pytrec_eval):
//! - nDCG@10: `Σ rel_i / log2(i + 1)` over the first 10 results, divided by
//!   the same for the ideal order (graded relevance as gain);
//! - Recall@100: relevant documents found in the first 100 ÷ relevant ones;
//! - MRR@10: 1 / rank of the first relevant result in the first 10 (0 if
//!   none).
//!
//! Averaged over the queries that have judgments. As in BEIR, a document
//! whose id equals the query's is not counted as a result.

use std::collections::{HashMap, HashSet};

use cairn_datasets::beir::{Document as BeirDocument, Qrels, Query};
use cairn_engine::{
    reciprocal_rank_fusion, Collection, PointId, ScoredPoint, SearchRequest, TextSearchRequest,
    DEFAULT_RRF_K,
};
use serde::Serialize;

use crate::chunk_point::keys;
use crate::document::Document;
use crate::embed::Embedder;
use crate::error::Result;

/// The three figures of one retriever.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Metrics {
    #[serde(rename = "ndcg@10")]
    pub ndcg_at_10: f64,
    #[serde(rename = "recall@100")]
    pub recall_at_100: f64,
    #[serde(rename = "mrr@10")]
    pub mrr_at_10: f64,
}

/// Dense, BM25 and hybrid side by side (`cairn eval beir --json`).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Report {
    pub dense: Metrics,
    pub bm25: Metrics,
    pub hybrid: Metrics,
    pub queries: usize,
    pub documents: usize,
    pub chunks: usize,
}

/// nDCG@10, Recall@100 and MRR@10 of one ranked list of document ids.
pub fn score(ranked: &[String], judged: &HashMap<String, i32>) -> Metrics {
    let rel = |id: &String| judged.get(id).copied().unwrap_or(0).max(0) as f64;
    let dcg: f64 = ranked
        .iter()
        .take(10)
        .enumerate()
        .map(|(i, id)| rel(id) / ((i + 2) as f64).log2())
        .sum();
    let mut ideal: Vec<f64> = judged.values().map(|r| (*r).max(0) as f64).collect();
    ideal.sort_by(|a, b| b.total_cmp(a));
    let idcg: f64 = ideal
        .iter()
        .take(10)
        .enumerate()
        .map(|(i, r)| r / ((i + 2) as f64).log2())
        .sum();
    let relevant = judged.values().filter(|r| **r > 0).count();
    let found = ranked.iter().take(100).filter(|id| rel(id) > 0.0).count();
    let first = ranked.iter().take(10).position(|id| rel(id) > 0.0);
    Metrics {
        ndcg_at_10: if idcg > 0.0 { dcg / idcg } else { 0.0 },
        recall_at_100: if relevant > 0 {
            found as f64 / relevant as f64
        } else {
            0.0
        },
        mrr_at_10: first.map_or(0.0, |i| 1.0 / (i + 1) as f64),
    }
}

fn mean(all: &[Metrics]) -> Metrics {
    let n = all.len().max(1) as f64;
    Metrics {
        ndcg_at_10: all.iter().map(|m| m.ndcg_at_10).sum::<f64>() / n,
        recall_at_100: all.iter().map(|m| m.recall_at_100).sum::<f64>() / n,
        mrr_at_10: all.iter().map(|m| m.mrr_at_10).sum::<f64>() / n,
    }
}

/// A BEIR corpus document as Cairn ingests it: title and text joined by a
/// space (what BEIR's sentence-transformers evaluation embeds).
pub fn corpus_document(d: &BeirDocument) -> Document {
    let text = match (d.title.trim(), d.text.trim()) {
        ("", t) => t.to_string(),
        (title, t) => format!("{title} {t}"),
    };
    Document {
        id: d.id.clone(),
        source: "beir".into(),
        title: d.title.clone(),
        text,
        file_type: "jsonl",
        tags: Vec::new(),
        metadata: None,
    }
}

/// How many chunk hits to ask for so that `docs` distinct documents are
/// likely among them.
const CHUNKS_PER_DOC: usize = 3;

/// Distinct document ids of chunk hits, best first, up to `n`.
fn documents_of(
    hits: &[ScoredPoint],
    doc_of: &HashMap<PointId, String>,
    query_id: &str,
    n: usize,
) -> Vec<String> {
    let mut seen = HashSet::new();
    hits.iter()
        .filter_map(|h| doc_of.get(&h.id))
        .filter(|d| d.as_str() != query_id && seen.insert(d.as_str()))
        .take(n)
        .cloned()
        .collect()
}

/// Runs the test queries against a collection holding the ingested corpus.
pub fn evaluate(
    collection: &Collection,
    embedder: &dyn Embedder,
    queries: &[Query],
    qrels: &Qrels,
) -> Result<Report> {
    // Which document each chunk point belongs to.
    let mut doc_of: HashMap<PointId, String> = HashMap::new();
    let mut offset = None;
    loop {
        let page = collection.scroll(&cairn_engine::ScrollRequest {
            offset,
            limit: 4096,
            filter: None,
            with_payload: true,
            with_vector: false,
        });
        for p in page.points {
            if let Some(d) = p
                .payload
                .as_ref()
                .and_then(|pl| pl.0.get(keys::DOCUMENT_ID))
                .and_then(|v| v.as_str())
            {
                doc_of.insert(p.id, d.to_string());
            }
        }
        match page.next_page_offset {
            Some(o) => offset = Some(o),
            None => break,
        }
    }
    let documents: HashSet<&String> = doc_of.values().collect();

    let judged: Vec<&Query> = queries
        .iter()
        .filter(|q| qrels.contains_key(&q.id))
        .collect();
    let texts: Vec<&str> = judged.iter().map(|q| q.text.as_str()).collect();
    let vectors = embedder.embed(&texts)?;
    let want = 100 * CHUNKS_PER_DOC;
    let (mut dense, mut bm25, mut hybrid) = (Vec::new(), Vec::new(), Vec::new());
    for (q, vector) in judged.iter().zip(vectors) {
        let dense_hits = collection.search(&SearchRequest::new(vector, want))?;
        let text_hits = collection.search_text(&TextSearchRequest::new(q.text.clone(), want))?;
        let fused = reciprocal_rank_fusion(
            vec![dense_hits.clone(), text_hits.clone()],
            DEFAULT_RRF_K,
            None,
            want,
        );
        let judged = &qrels[&q.id];
        dense.push(score(
            &documents_of(&dense_hits, &doc_of, &q.id, 100),
            judged,
        ));
        bm25.push(score(
            &documents_of(&text_hits, &doc_of, &q.id, 100),
            judged,
        ));
        hybrid.push(score(&documents_of(&fused, &doc_of, &q.id, 100), judged));
    }
    Ok(Report {
        dense: mean(&dense),
        bm25: mean(&bm25),
        hybrid: mean(&hybrid),
        queries: judged.len(),
        documents: documents.len(),
        chunks: doc_of.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn metrics_match_hand_computed_values() {
        let judged: HashMap<String, i32> = [("a".to_string(), 1), ("b".to_string(), 1)].into();
        // Relevant at ranks 2 and 3: DCG = 1/log2(3) + 1/log2(4), IDCG = 1 + 1/log2(3).
        let m = score(&ids(&["x", "a", "b"]), &judged);
        let dcg = 1.0 / 3f64.log2() + 0.5;
        let idcg = 1.0 + 1.0 / 3f64.log2();
        assert!((m.ndcg_at_10 - dcg / idcg).abs() < 1e-12);
        assert_eq!((m.recall_at_100, m.mrr_at_10), (1.0, 0.5));
        let none = score(&ids(&["x", "y"]), &judged);
        assert_eq!(none, Metrics::default());
        // Graded gains, and a relevant document past rank 10 counts for recall only.
        let graded: HashMap<String, i32> = [("a".to_string(), 2), ("b".to_string(), 1)].into();
        let mut ranked: Vec<String> = (0..10).map(|i| format!("n{i}")).collect();
        ranked.push("a".into());
        let m = score(&ranked, &graded);
        assert_eq!(
            (m.ndcg_at_10, m.recall_at_100, m.mrr_at_10),
            (0.0, 0.5, 0.0)
        );
        let perfect = score(&ids(&["a", "b"]), &graded);
        assert!((perfect.ndcg_at_10 - 1.0).abs() < 1e-12);
    }
}
