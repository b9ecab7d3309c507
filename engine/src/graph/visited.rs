//! A reusable visited set: one epoch tag per node, so clearing it between
//! searches is a single increment instead of a memset (as in hnswlib).

use std::cell::RefCell;

pub struct VisitedSet {
    marks: Vec<u16>,
    epoch: u16,
}

impl VisitedSet {
    const fn new() -> Self {
        VisitedSet {
            marks: Vec::new(),
            epoch: 0,
        }
    }

    fn reset(&mut self, nodes: usize) {
        if self.marks.len() < nodes {
            self.marks.resize(nodes, 0);
        }
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            self.marks.fill(0);
            self.epoch = 1;
        }
    }

    /// Whether `node` is marked in this search.
    #[inline(always)]
    pub fn contains(&self, node: u32) -> bool {
        self.marks[node as usize] == self.epoch
    }

    /// Marks `node`; true if it was not marked yet in this search. The
    /// mark is stored either way, so callers can use the answer without a
    /// branch (whether a neighbour was seen is a coin toss the branch
    /// predictor loses).
    #[inline(always)]
    pub fn insert(&mut self, node: u32) -> bool {
        let mark = &mut self.marks[node as usize];
        let new = *mark != self.epoch;
        *mark = self.epoch;
        new
    }
}

thread_local! {
    static VISITED: RefCell<VisitedSet> = const { RefCell::new(VisitedSet::new()) };
}

/// Runs `f` with this thread's visited set, cleared for `nodes` nodes.
pub fn with_visited<R>(nodes: usize, f: impl FnOnce(&mut VisitedSet) -> R) -> R {
    VISITED.with(|v| {
        let mut v = v.borrow_mut();
        v.reset(nodes);
        f(&mut v)
    })
}
