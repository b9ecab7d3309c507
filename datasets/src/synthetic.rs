//! Seeded synthetic vectors: the same seed always gives the same data.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Normal};

use crate::Vectors;

/// `n` vectors with coordinates uniform in [-1, 1).
pub fn uniform(n: usize, dim: usize, seed: u64) -> Vectors {
    let mut rng = StdRng::seed_from_u64(seed);
    let data = (0..n * dim)
        .map(|_| rng.random_range(-1.0f32..1.0))
        .collect();
    Vectors { dim, data }
}

/// `n` vectors around `clusters` random centres (uniform in [-1, 1)), with
/// Gaussian spread `sigma` per coordinate: the lumpy shape of real
/// embeddings, which is harder on graph connectivity than uniform data.
pub fn clustered(n: usize, dim: usize, clusters: usize, sigma: f32, seed: u64) -> Vectors {
    let mut rng = StdRng::seed_from_u64(seed);
    let centres = uniform(clusters.max(1), dim, seed ^ 0x5EED);
    let noise = Normal::new(0.0f32, sigma.max(f32::MIN_POSITIVE)).expect("positive sigma");
    let mut data = Vec::with_capacity(n * dim);
    for _ in 0..n {
        let c = centres.row(rng.random_range(0..centres.len()));
        data.extend(c.iter().map(|x| x + noise.sample(&mut rng)));
    }
    Vectors { dim, data }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_and_shaped() {
        assert_eq!(uniform(10, 4, 7), uniform(10, 4, 7));
        assert_ne!(uniform(10, 4, 7), uniform(10, 4, 8));
        let c = clustered(100, 8, 5, 0.05, 1);
        assert_eq!((c.len(), c.dim), (100, 8));
        assert!(c.data.iter().all(|x| x.is_finite()));
    }
}
