//! The vectors a benchmark runs on: base, held-out queries, exact ground
//! truth and the metric. Real sets come from `../shared/datasets/` (`.fvecs`
//! or `.npy`); the synthetic set is seeded clustered data at any dimension.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use cairn_datasets::{npy, synthetic, texmex, Vectors};
use cairn_engine::spaces::Metric;
use cairn_engine::Distance;
use rayon::prelude::*;

/// Metric names as the peers spell them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum MetricName {
    Cosine,
    Dot,
    L2,
}

impl MetricName {
    pub fn distance(self) -> Distance {
        match self {
            MetricName::Cosine => Distance::Cosine,
            MetricName::Dot => Distance::Dot,
            MetricName::L2 => Distance::Euclid,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MetricName::Cosine => "cosine",
            MetricName::Dot => "dot",
            MetricName::L2 => "l2",
        }
    }
}

pub struct Workload {
    pub name: String,
    pub metric: MetricName,
    pub base: Vectors,
    pub queries: Vectors,
    /// Exact nearest base ids per query, nearest first.
    pub truth: Vec<Vec<u32>>,
}

/// Reads `.fvecs` or `.npy` by extension.
pub fn read_vectors(path: &Path) -> Result<Vectors> {
    Ok(match path.extension().and_then(|e| e.to_str()) {
        Some("npy") => npy::read_npy_f32(path)?,
        Some("fvecs") => texmex::read_fvecs(path)?,
        _ => bail!(
            "{}: expected a .fvecs or .npy file of f32 vectors",
            path.display()
        ),
    })
}

impl Workload {
    /// A staged data set: `base`/`queries` files, ground truth from an
    /// `.ivecs` file when given (it must cover `k`), computed exactly
    /// otherwise. `max_base`/`max_queries` shrink it (then the staged ground
    /// truth no longer applies and is recomputed).
    pub fn from_files(
        base: &Path,
        queries: &Path,
        truth: Option<&Path>,
        metric: MetricName,
        k: usize,
        max_base: Option<usize>,
        max_queries: Option<usize>,
    ) -> Result<Workload> {
        let full = read_vectors(base)?;
        let base_len = full.len();
        let base_vectors = match max_base {
            Some(n) => full.truncated(n),
            None => full,
        };
        let queries = read_vectors(queries)?;
        let queries = match max_queries {
            Some(n) => queries.truncated(n),
            None => queries,
        };
        if queries.dim != base_vectors.dim {
            bail!(
                "queries are {}-d but the base is {}-d",
                queries.dim,
                base_vectors.dim
            );
        }
        let staged = match truth {
            Some(t) if base_vectors.len() == base_len => {
                let rows = texmex::read_ivecs(t)?;
                (rows.len() >= queries.len() && rows.iter().all(|r| r.len() >= k))
                    .then(|| rows.into_iter().take(queries.len()).collect::<Vec<_>>())
            }
            _ => None,
        };
        let truth = match staged {
            Some(t) => t,
            None => exact_neighbors(&base_vectors, &queries, metric.distance(), k),
        };
        let name = base
            .parent()
            .and_then(|p| p.file_name())
            .map_or("dataset".into(), |n| n.to_string_lossy().into_owned());
        Ok(Workload {
            name,
            metric,
            base: base_vectors,
            queries,
            truth,
        })
    }

    /// A data-set folder holding `base.fvecs`, `query.fvecs` and optionally
    /// `groundtruth.ivecs` (the layout of `../shared/datasets/glove-*`).
    pub fn from_dir(
        dir: &Path,
        metric: MetricName,
        k: usize,
        max_base: Option<usize>,
        max_queries: Option<usize>,
    ) -> Result<Workload> {
        let file = |n: &str| dir.join(n);
        if !file("base.fvecs").exists() {
            bail!(
                "{}: no base.fvecs there; pass --base and --queries for other layouts",
                dir.display()
            );
        }
        let truth = file("groundtruth.ivecs");
        Workload::from_files(
            &file("base.fvecs"),
            &file("query.fvecs"),
            truth.exists().then_some(truth.as_path()),
            metric,
            k,
            max_base,
            max_queries,
        )
    }

    /// Seeded clustered vectors (100 clusters), queries held out of the same
    /// distribution, exact ground truth.
    pub fn synthetic(
        n: usize,
        queries: usize,
        dim: usize,
        metric: MetricName,
        k: usize,
    ) -> Workload {
        let mut base = synthetic::clustered(n + queries, dim, 100, 0.5, 42);
        let queries = base.split_off(n);
        let truth = exact_neighbors(&base, &queries, metric.distance(), k);
        Workload {
            name: format!("synthetic-clustered-{dim}d-{n}"),
            metric,
            base,
            queries,
            truth,
        }
    }

    /// Writes base and queries as `.fvecs` into `dir` (what the workers read).
    pub fn write_to(&self, dir: &Path) -> Result<(PathBuf, PathBuf)> {
        let (base, queries) = (dir.join("base.fvecs"), dir.join("query.fvecs"));
        texmex::write_fvecs(&base, &self.base).context("writing the base vectors")?;
        texmex::write_fvecs(&queries, &self.queries).context("writing the queries")?;
        Ok((base, queries))
    }
}

/// Exact k nearest neighbours by brute force (parallel over queries).
pub fn exact_neighbors(
    base: &Vectors,
    queries: &Vectors,
    distance: Distance,
    k: usize,
) -> Vec<Vec<u32>> {
    let metric: Metric = Metric::new(distance);
    let prepare = |v: &[f32]| {
        let mut v = v.to_vec();
        metric.preprocess(&mut v);
        v
    };
    let base: Vec<Vec<f32>> = base.rows().map(prepare).collect();
    queries
        .rows()
        .collect::<Vec<_>>()
        .into_par_iter()
        .map(|q| {
            let q = prepare(q);
            let mut scored: Vec<(f32, u32)> = base
                .iter()
                .enumerate()
                .map(|(i, b)| (metric.distance(&q, b), i as u32))
                .collect();
            let k = k.min(scored.len());
            if k > 0 {
                scored.select_nth_unstable_by(k - 1, |a, b| a.0.total_cmp(&b.0));
            }
            scored.truncate(k);
            scored.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            scored.into_iter().map(|(_, i)| i).collect()
        })
        .collect()
}

/// How many points `upsert_all` writes per call (one WAL record each).
const UPSERT_BATCH: usize = 10_000;

/// Upserts every row of `base` into `collection` with its row number as the
/// point id, in batches, as an embedding application would load it.
pub fn upsert_all(collection: &cairn_engine::Collection, base: &Vectors) -> Result<()> {
    for (batch, rows) in base.data.chunks(UPSERT_BATCH * base.dim).enumerate() {
        let points = rows
            .chunks_exact(base.dim)
            .enumerate()
            .map(|(i, v)| {
                cairn_engine::PointStruct::new((batch * UPSERT_BATCH + i) as u64, v.to_vec(), None)
            })
            .collect::<cairn_engine::Result<Vec<_>>>()?;
        collection.upsert(points)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_neighbors_finds_itself_first() {
        let w = Workload::synthetic(500, 0, 16, MetricName::L2, 5);
        let truth = exact_neighbors(&w.base, &w.base.clone().truncated(20), Distance::Euclid, 5);
        for (i, row) in truth.iter().enumerate() {
            assert_eq!(row[0], i as u32);
            assert_eq!(row.len(), 5);
        }
    }
}
