//! Helpers shared by the engine's integration tests.
#![allow(dead_code)]

use cairn_datasets::Vectors;
use cairn_engine::{Collection, Distance, PointId, PointStruct};
use serde_json::Value;

/// Plain-loop distance, independent of the engine's kernels.
pub fn distance(metric: Distance, a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    match metric {
        Distance::Cosine => {
            let na = a.iter().map(|x| x * x).sum::<f32>().sqrt();
            let nb = b.iter().map(|x| x * x).sum::<f32>().sqrt();
            1.0 - dot / (na * nb)
        }
        Distance::Dot => -dot,
        Distance::Euclid => a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum(),
    }
}

/// Exact top-k row indices among `rows` (all if `None`), nearest first.
pub fn brute_force(
    metric: Distance,
    data: &Vectors,
    query: &[f32],
    k: usize,
    rows: Option<&[usize]>,
) -> Vec<u64> {
    let all: Vec<usize>;
    let rows = match rows {
        Some(r) => r,
        None => {
            all = (0..data.len()).collect();
            &all
        }
    };
    let mut scored: Vec<(f32, usize)> = rows
        .iter()
        .map(|&i| (distance(metric, query, data.row(i)), i))
        .collect();
    scored.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    scored.into_iter().take(k).map(|(_, i)| i as u64).collect()
}

/// Fraction of `truth` found in `found`.
pub fn recall(found: &[u64], truth: &[u64]) -> f64 {
    let hits = truth.iter().filter(|t| found.contains(t)).count();
    hits as f64 / truth.len().max(1) as f64
}

pub fn ids(points: &[cairn_engine::ScoredPoint]) -> Vec<u64> {
    points
        .iter()
        .map(|p| match p.id {
            PointId::Num(n) => n,
            PointId::Uuid(_) => panic!("numeric ids only in these tests"),
        })
        .collect()
}

/// Upserts every row of `data` with id = row index, in batches.
pub fn load(c: &Collection, data: &Vectors, payload: impl Fn(usize) -> Option<Value>) {
    let rows: Vec<usize> = (0..data.len()).collect();
    for chunk in rows.chunks(5_000) {
        let batch = chunk
            .iter()
            .map(|&i| {
                PointStruct::new(i as u64, data.row(i).to_vec(), payload(i))
                    .expect("object payload")
            })
            .collect();
        c.upsert(batch).expect("upsert");
    }
}
