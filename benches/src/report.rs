//! What one library's benchmark run reports; the JSON every worker prints
//! (the Python peers print the same shape).

use serde::{Deserialize, Serialize};

/// One library, built once, searched at each `ef` of the sweep.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LibReport {
    pub lib: String,
    pub version: String,
    pub build_secs: f64,
    pub threads: usize,
    /// Peak resident memory of the worker process (dataset included).
    pub peak_rss_bytes: u64,
    /// Resident memory after loading the dataset, before building.
    pub loaded_rss_bytes: u64,
    pub runs: Vec<EfRun>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EfRun {
    pub ef: usize,
    /// Single-thread queries per second (best of the repeats).
    pub qps: f64,
    pub p50_us: f64,
    pub p99_us: f64,
    /// Where the worker wrote its top-k ids (`.ivecs`); scored by the parent.
    pub ids: String,
    /// Filled in by the parent, from `ids` and the ground truth.
    #[serde(default)]
    pub recall: f64,
}

impl LibReport {
    /// Memory the index added over the loaded dataset.
    pub fn index_bytes(&self) -> u64 {
        self.peak_rss_bytes.saturating_sub(self.loaded_rss_bytes)
    }

    /// The fastest run that reaches `recall`, if any.
    pub fn best_qps_at(&self, recall: f64) -> Option<&EfRun> {
        self.runs
            .iter()
            .filter(|r| r.recall >= recall)
            .max_by(|a, b| a.qps.total_cmp(&b.qps))
    }
}

/// Percentile (0–100) of a sample, by nearest rank.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), 50.0);
        assert_eq!(percentile(&v, 99.0), 99.0);
        assert_eq!(percentile(&v, 100.0), 100.0);
        assert_eq!(percentile(&[], 50.0), 0.0);
    }
}
