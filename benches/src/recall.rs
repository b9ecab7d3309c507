//! Recall@k: the fraction of the true k nearest neighbours a search found.

/// Mean recall@k of `found` (one id list per query) against `truth` (the
/// exact nearest ids per query, nearest first). Rows of `found` may be
/// shorter than k (a library returned fewer hits); they simply score less.
pub fn recall_at(k: usize, found: &[Vec<u32>], truth: &[Vec<u32>]) -> f64 {
    if found.is_empty() || k == 0 {
        return 0.0;
    }
    let hits: usize = found
        .iter()
        .zip(truth)
        .map(|(f, t)| {
            let t = &t[..k.min(t.len())];
            f.iter().take(k).filter(|id| t.contains(id)).count()
        })
        .sum();
    hits as f64 / (found.len() * k) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_overlap_per_query() {
        let truth = vec![vec![1, 2, 3, 9], vec![4, 5, 6, 9]];
        assert_eq!(recall_at(3, &[vec![3, 2, 1], vec![4, 5, 6]], &truth), 1.0);
        assert_eq!(recall_at(3, &[vec![1, 9, 8], vec![6]], &truth), 2.0 / 6.0);
        assert_eq!(recall_at(3, &[], &truth), 0.0);
    }
}
