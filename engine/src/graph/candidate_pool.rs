//! The candidate list of an unfiltered layer search: the `ef` nearest nodes
//! seen so far, kept sorted, each marked once it has been expanded (the
//! "pool" of NSG's and DiskANN's greedy search).
//!
//! HNSW's algorithm 2 keeps two heaps, candidates to expand and the best
//! `ef` results, and stops when the nearest candidate is farther than the
//! worst result. A candidate that falls out of the best `ef` can never be
//! expanded after that (the worst result only gets nearer), so one sorted
//! list of `ef` entries does both jobs: expand the nearest unexpanded entry
//! until there is none. For the small `ef` of a search (tens to a few
//! hundred), inserting each admitted node in place costs less than
//! sifting two heaps, and the result comes out already sorted.
//! Filtered searches keep the heaps: their results and candidates differ.

use super::Neighbor;

/// Pools up to this size insert by shifting entries one by one.
const LINEAR_INSERT_UP_TO: usize = 32;

#[derive(Clone, Copy)]
struct Entry {
    node: Neighbor,
    expanded: bool,
}

pub struct CandidatePool {
    entries: Vec<Entry>,
    capacity: usize,
    /// Every entry before this index has been expanded.
    next: usize,
}

impl CandidatePool {
    /// A pool keeping the `capacity` nearest nodes (at least one).
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        CandidatePool {
            entries: Vec::with_capacity(capacity + 1),
            capacity,
            next: 0,
        }
    }

    /// Distance a node must beat to be admitted: the worst kept one's once
    /// the pool is full, infinity before.
    #[inline(always)]
    pub fn bound(&self) -> f32 {
        if self.entries.len() < self.capacity {
            f32::INFINITY
        } else {
            self.entries.last().map_or(f32::INFINITY, |e| e.node.dist)
        }
    }

    /// Admits `node` if the pool is not full or it is nearer than the
    /// worst entry, which it then displaces.
    #[inline(always)]
    pub fn offer(&mut self, node: Neighbor) {
        if self.entries.len() >= self.capacity {
            match self.entries.last() {
                Some(worst) if node < worst.node => {}
                _ => return,
            }
            self.entries.pop();
        }
        let entry = Entry {
            node,
            expanded: false,
        };
        let at = if self.capacity <= LINEAR_INSERT_UP_TO {
            // One insertion-sort step from the end: for short lists this
            // beats a binary search and a `memmove` call (+3% queries/s at
            // ef 16 on SciFact), for long ones it is much slower (-28% at
            // ef 256, -3% at ef 64).
            self.entries.push(entry);
            let mut at = self.entries.len() - 1;
            while at > 0 && node < self.entries[at - 1].node {
                self.entries[at] = self.entries[at - 1];
                at -= 1;
            }
            self.entries[at] = entry;
            at
        } else {
            let at = self.entries.partition_point(|e| e.node < node);
            self.entries.insert(at, entry);
            at
        };
        self.next = self.next.min(at);
    }

    /// The nearest entry not expanded yet, now marked expanded.
    #[inline(always)]
    pub fn pop_unexpanded(&mut self) -> Option<Neighbor> {
        while let Some(e) = self.entries.get_mut(self.next) {
            self.next += 1;
            if !e.expanded {
                e.expanded = true;
                return Some(e.node);
            }
        }
        None
    }

    /// The entry [`Self::pop_unexpanded`] would return next, if nothing is
    /// admitted before then (what is worth prefetching).
    #[inline(always)]
    pub fn peek_unexpanded(&self) -> Option<Neighbor> {
        self.entries[self.next.min(self.entries.len())..]
            .iter()
            .find(|e| !e.expanded)
            .map(|e| e.node)
    }

    /// The kept nodes, nearest first.
    pub fn into_sorted(self) -> Vec<Neighbor> {
        self.entries.into_iter().map(|e| e.node).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BinaryHeap;

    fn n(dist: f32, id: u32) -> Neighbor {
        Neighbor { dist, id }
    }

    #[test]
    fn keeps_the_nearest_sorted_and_expands_each_once_nearest_first() {
        let mut pool = CandidatePool::new(3);
        assert_eq!(pool.bound(), f32::INFINITY);
        for (d, id) in [(5.0, 1), (3.0, 2), (4.0, 3)] {
            pool.offer(n(d, id));
        }
        assert_eq!(pool.bound(), 5.0);
        assert_eq!(pool.pop_unexpanded(), Some(n(3.0, 2)));
        pool.offer(n(9.0, 4)); // worse than the worst: refused
        pool.offer(n(1.0, 5)); // nearest: displaces 5.0, and is next
        assert_eq!(pool.bound(), 4.0);
        assert_eq!(pool.peek_unexpanded(), Some(n(1.0, 5)));
        assert_eq!(pool.pop_unexpanded(), Some(n(1.0, 5)));
        assert_eq!(pool.pop_unexpanded(), Some(n(4.0, 3)));
        assert_eq!(pool.pop_unexpanded(), None);
        assert_eq!(pool.into_sorted(), vec![n(1.0, 5), n(3.0, 2), n(4.0, 3)]);
    }

    #[test]
    fn agrees_with_a_heap_of_the_best() {
        // Pseudo-random distances with ties; the pool must keep exactly the
        // `cap` smallest (distance, id) pairs, in order, whichever way it
        // inserts (one by one up to 32 entries, by binary search above).
        let mut x: u64 = 7;
        for cap in [1, 2, 5, 16, 64, 65, 200] {
            let mut pool = CandidatePool::new(cap);
            let mut heap = BinaryHeap::new();
            for id in 0..500u32 {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let node = n((x >> 58) as f32, id);
                pool.offer(node);
                heap.push(node);
                if heap.len() > cap {
                    heap.pop();
                }
                if id % 7 == 0 {
                    pool.pop_unexpanded();
                }
            }
            assert_eq!(pool.into_sorted(), heap.into_sorted_vec(), "cap {cap}");
        }
    }
}
