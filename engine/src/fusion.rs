//! Combining ranked lists from different retrievers (dense vectors, BM25)
//! into one, without comparing their scores.
//!
//! Reciprocal Rank Fusion (Cormack, Clarke & Büttcher, SIGIR 2009): a point
//! scores `Σᵢ wᵢ / (k + rankᵢ)` over the lists it appears in (ranks from 1),
//! so agreement between retrievers lifts it, and a single list's score
//! scale never matters. `k` = 60 is the paper's constant: it damps the
//! advantage of the very top ranks.

use std::collections::HashMap;

use crate::types::{PointId, ScoredPoint};

/// The paper's `k`.
pub const DEFAULT_RRF_K: f32 = 60.0;

/// Fuses `lists` (each best first) with weights (1 each when `None`),
/// returning the best `limit` with their fused scores, best first. Ties keep
/// the order of first appearance. The payload and vector of a point are
/// taken from the first list that has it.
pub fn reciprocal_rank_fusion(
    lists: Vec<Vec<ScoredPoint>>,
    k: f32,
    weights: Option<&[f32]>,
    limit: usize,
) -> Vec<ScoredPoint> {
    let mut fused: Vec<ScoredPoint> = Vec::new();
    let mut at: HashMap<PointId, usize> = HashMap::new();
    for (i, list) in lists.into_iter().enumerate() {
        let w = weights.and_then(|w| w.get(i)).copied().unwrap_or(1.0);
        for (rank, mut point) in list.into_iter().enumerate() {
            let gain = w / (k + rank as f32 + 1.0);
            match at.get(&point.id) {
                Some(&j) => {
                    let kept = &mut fused[j];
                    kept.score += gain;
                    if kept.payload.is_none() {
                        kept.payload = point.payload.take();
                    }
                    if kept.vector.is_none() {
                        kept.vector = point.vector.take();
                    }
                }
                None => {
                    at.insert(point.id, fused.len());
                    point.score = gain;
                    fused.push(point);
                }
            }
        }
    }
    // Stable: equal scores keep the order of first appearance.
    fused.sort_by(|a, b| b.score.total_cmp(&a.score));
    fused.truncate(limit);
    fused
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(ids: &[u64]) -> Vec<ScoredPoint> {
        ids.iter()
            .map(|&id| ScoredPoint {
                id: id.into(),
                score: 100.0 - id as f32, // scores on a scale RRF must ignore
                payload: None,
                vector: None,
            })
            .collect()
    }

    fn ids(points: &[ScoredPoint]) -> Vec<u64> {
        points
            .iter()
            .map(|p| match p.id {
                PointId::Num(n) => n,
                PointId::Uuid(_) => unreachable!(),
            })
            .collect()
    }

    #[test]
    fn agreement_wins_and_scores_follow_the_formula() {
        let fused =
            reciprocal_rank_fusion(vec![list(&[1, 2, 3]), list(&[3, 4, 1])], 60.0, None, 10);
        // 1: 1/61 + 1/63; 3: 1/63 + 1/61; 2: 1/62; 4: 1/62.
        assert_eq!(ids(&fused), vec![1, 3, 2, 4]);
        assert!((fused[0].score - (1.0 / 61.0 + 1.0 / 63.0)).abs() < 1e-6);
        assert!((fused[2].score - 1.0 / 62.0).abs() < 1e-6);
        let top = reciprocal_rank_fusion(vec![list(&[1, 2]), list(&[2, 1])], 60.0, None, 1);
        assert_eq!(top.len(), 1);
    }

    #[test]
    fn weights_shift_the_balance() {
        let fused = reciprocal_rank_fusion(
            vec![list(&[1, 2]), list(&[2, 1])],
            60.0,
            Some(&[1.0, 3.0]),
            10,
        );
        assert_eq!(ids(&fused), vec![2, 1]);
        assert!(reciprocal_rank_fusion(Vec::new(), 60.0, None, 10).is_empty());
    }
}
