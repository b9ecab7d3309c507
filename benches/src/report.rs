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

    /// Queries/s at exactly `recall`, interpolated (log-linear) between the
    /// two runs of the sweep that bracket it, so libraries whose `ef` steps
    /// land on different recalls are compared at the same one. `None` when
    /// no run reaches it; the first run's figure when every run exceeds it.
    pub fn qps_at(&self, recall: f64) -> Option<f64> {
        let mut runs: Vec<&EfRun> = self.runs.iter().collect();
        runs.sort_by(|a, b| a.recall.total_cmp(&b.recall));
        let i = runs.iter().position(|r| r.recall >= recall)?;
        let hi = runs[i];
        let Some(lo) = i.checked_sub(1).map(|j| runs[j]) else {
            return Some(hi.qps);
        };
        let t = (recall - lo.recall) / (hi.recall - lo.recall).max(f64::MIN_POSITIVE);
        Some((lo.qps.ln() + t * (hi.qps.ln() - lo.qps.ln())).exp())
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
    fn qps_interpolates_between_bracketing_runs() {
        let run = |recall, qps| EfRun {
            ef: 0,
            qps,
            p50_us: 0.0,
            p99_us: 0.0,
            ids: String::new(),
            recall,
        };
        let lib = LibReport {
            lib: "x".into(),
            version: String::new(),
            build_secs: 0.0,
            threads: 1,
            peak_rss_bytes: 0,
            loaded_rss_bytes: 0,
            runs: vec![run(0.99, 1000.0), run(0.90, 4000.0)],
        };
        let mid = lib.qps_at(0.945).expect("bracketed");
        assert!((mid - 2000.0).abs() < 1.0, "{mid}");
        assert_eq!(lib.qps_at(0.8), Some(4000.0));
        assert_eq!(lib.qps_at(0.995), None);
    }

    #[test]
    fn percentiles_by_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), 50.0);
        assert_eq!(percentile(&v, 99.0), 99.0);
        assert_eq!(percentile(&v, 100.0), 100.0);
        assert_eq!(percentile(&[], 50.0), 0.0);
    }
}
