//! Maps external point ids to internal offsets (rows of the vector storage
//! and nodes of the graph) and back, and remembers which offsets are
//! tombstones: rows whose point was deleted or replaced.

use std::collections::BTreeMap;
use std::ops::Bound;

use fixedbitset::FixedBitSet;
use serde::{Deserialize, Serialize};

use crate::types::PointId;

#[derive(Default)]
pub struct IdTracker {
    /// Live points, ordered by id (scroll walks this).
    by_id: BTreeMap<PointId, u32>,
    /// Offset → the id that was stored there (live or not).
    by_offset: Vec<PointId>,
    deleted: FixedBitSet,
}

/// The tracker's persisted form.
#[derive(Serialize, Deserialize)]
pub struct IdTrackerData {
    pub ids: Vec<PointId>,
    pub deleted: Vec<u32>,
}

impl IdTracker {
    /// Records that `id` now lives at `offset` (the next offset); returns the
    /// offset it lived at before, which becomes a tombstone.
    pub fn insert(&mut self, id: PointId, offset: u32) -> Option<u32> {
        debug_assert_eq!(offset as usize, self.by_offset.len());
        self.by_offset.push(id);
        self.deleted.grow(self.by_offset.len());
        let old = self.by_id.insert(id, offset);
        if let Some(old) = old {
            self.deleted.insert(old as usize);
        }
        old
    }

    /// Deletes `id`; returns its offset, now a tombstone.
    pub fn remove(&mut self, id: PointId) -> Option<u32> {
        let old = self.by_id.remove(&id)?;
        self.deleted.insert(old as usize);
        Some(old)
    }

    pub fn offset(&self, id: PointId) -> Option<u32> {
        self.by_id.get(&id).copied()
    }

    pub fn id(&self, offset: u32) -> PointId {
        self.by_offset[offset as usize]
    }

    #[inline(always)]
    pub fn is_deleted(&self, offset: u32) -> bool {
        self.deleted.contains(offset as usize)
    }

    pub fn live_count(&self) -> usize {
        self.by_id.len()
    }

    /// All offsets ever handed out, live or tombstoned.
    pub fn total(&self) -> usize {
        self.by_offset.len()
    }

    pub fn tombstones(&self) -> usize {
        self.total() - self.live_count()
    }

    /// Live points with id >= `from`, in id order.
    pub fn iter_from(&self, from: Option<PointId>) -> impl Iterator<Item = (PointId, u32)> + '_ {
        let lower = match from {
            Some(id) => Bound::Included(id),
            None => Bound::Unbounded,
        };
        self.by_id
            .range((lower, Bound::Unbounded))
            .map(|(id, off)| (*id, *off))
    }

    /// Live offsets in offset order.
    pub fn live_offsets(&self) -> impl Iterator<Item = u32> + '_ {
        self.deleted.zeroes().map(|o| o as u32)
    }

    pub fn to_data(&self) -> IdTrackerData {
        IdTrackerData {
            ids: self.by_offset.clone(),
            deleted: self.deleted.ones().map(|o| o as u32).collect(),
        }
    }

    pub fn from_data(data: IdTrackerData) -> Self {
        let mut deleted = FixedBitSet::with_capacity(data.ids.len());
        for d in &data.deleted {
            deleted.insert(*d as usize);
        }
        let by_id = data
            .ids
            .iter()
            .enumerate()
            .filter(|(off, _)| !deleted.contains(*off))
            .map(|(off, id)| (*id, off as u32))
            .collect();
        IdTracker {
            by_id,
            by_offset: data.ids,
            deleted,
        }
    }
}
