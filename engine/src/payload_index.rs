//! Payload indexes: per-field inverted indexes that turn a selective filter
//! into a small candidate set instead of a scan over every point.
//!
//! An index answers a condition with a *superset* of the matching offsets (the
//! full filter is still checked on every candidate), or declines with `None`
//! when it cannot answer that kind of condition. So results never depend on
//! which indexes exist, only their cost does.

use std::collections::{BTreeMap, HashMap};

use roaring::RoaringBitmap;
use serde_json::{Map, Value};

use crate::filter::{values_at, Condition, Filter, Match, MatchValue, Range};
use crate::types::PayloadSchemaType;

enum FieldIndex {
    Keyword(HashMap<String, RoaringBitmap>),
    Integer {
        values: BTreeMap<i64, RoaringBitmap>,
        /// Points with non-integer numbers: a range may match them, so they
        /// are always candidates for a range.
        other_numbers: RoaringBitmap,
    },
}

#[derive(Default)]
pub struct PayloadIndex {
    fields: BTreeMap<String, (PayloadSchemaType, FieldIndex)>,
}

impl PayloadIndex {
    pub fn schema(&self) -> Vec<(String, PayloadSchemaType)> {
        self.fields
            .iter()
            .map(|(k, (t, _))| (k.clone(), *t))
            .collect()
    }

    pub fn has(&self, key: &str) -> bool {
        self.fields.contains_key(key)
    }

    /// Adds an (empty) index; the caller then feeds it every live point.
    /// Text indexes are not kept here (see [`crate::text_index`]).
    pub fn create(&mut self, key: &str, kind: PayloadSchemaType) {
        let index = match kind {
            PayloadSchemaType::Keyword => FieldIndex::Keyword(HashMap::new()),
            PayloadSchemaType::Integer => FieldIndex::Integer {
                values: BTreeMap::new(),
                other_numbers: RoaringBitmap::new(),
            },
            PayloadSchemaType::Text => return,
        };
        self.fields.insert(key.to_string(), (kind, index));
    }

    pub fn drop_field(&mut self, key: &str) -> bool {
        self.fields.remove(key).is_some()
    }

    pub fn add(&mut self, offset: u32, payload: &Map<String, Value>) {
        self.update(offset, payload, true);
    }

    pub fn remove(&mut self, offset: u32, payload: &Map<String, Value>) {
        self.update(offset, payload, false);
    }

    fn update(&mut self, offset: u32, payload: &Map<String, Value>, add: bool) {
        let apply = |bitmap: &mut RoaringBitmap| {
            if add {
                bitmap.insert(offset);
            } else {
                bitmap.remove(offset);
            }
        };
        for (key, (_, index)) in self.fields.iter_mut() {
            for v in values_at(payload, key) {
                match (&mut *index, v) {
                    (FieldIndex::Keyword(map), Value::String(s)) => {
                        apply(map.entry(s.clone()).or_default())
                    }
                    (FieldIndex::Integer { values, .. }, Value::Number(n)) if n.is_i64() => {
                        apply(values.entry(n.as_i64().expect("is_i64")).or_default())
                    }
                    (FieldIndex::Integer { other_numbers, .. }, Value::Number(_)) => {
                        apply(other_numbers)
                    }
                    _ => {}
                }
            }
        }
    }

    /// A superset of the offsets passing `filter`, from its `must` clauses
    /// that some index can answer; `None` if none can.
    pub fn candidates(&self, filter: &Filter) -> Option<RoaringBitmap> {
        let mut result: Option<RoaringBitmap> = None;
        for c in &filter.must {
            let found = match c {
                Condition::Field(f) => {
                    let by_match = f.r#match.as_ref().and_then(|m| self.by_match(&f.key, m));
                    let by_range = f.range.as_ref().and_then(|r| self.by_range(&f.key, r));
                    match (by_match, by_range) {
                        (Some(a), Some(b)) => Some(a & b),
                        (a, b) => a.or(b),
                    }
                }
                Condition::Filter(inner) => self.candidates(inner),
                _ => None,
            };
            if let Some(found) = found {
                result = Some(match result {
                    Some(acc) => acc & found,
                    None => found,
                });
            }
        }
        result
    }

    fn by_match(&self, key: &str, m: &Match) -> Option<RoaringBitmap> {
        let (_, index) = self.fields.get(key)?;
        let wanted: &[MatchValue] = match m {
            Match::Value(v) => std::slice::from_ref(v),
            Match::Any(vs) => vs,
            Match::Except(_) => return None,
        };
        let mut out = RoaringBitmap::new();
        for w in wanted {
            match (index, w) {
                (FieldIndex::Keyword(map), MatchValue::Keyword(s)) => {
                    if let Some(b) = map.get(s) {
                        out |= b;
                    }
                }
                (FieldIndex::Integer { values, .. }, MatchValue::Integer(i)) => {
                    if let Some(b) = values.get(i) {
                        out |= b;
                    }
                }
                // A value this index does not hold (e.g. a bool on a keyword
                // index) could still match unindexed data: decline.
                _ => return None,
            }
        }
        Some(out)
    }

    fn by_range(&self, key: &str, r: &Range) -> Option<RoaringBitmap> {
        let (
            _,
            FieldIndex::Integer {
                values,
                other_numbers,
            },
        ) = self.fields.get(key)?
        else {
            return None;
        };
        // Widen float bounds to the integers they admit; the exact check runs later.
        let lo = [r.gt, r.gte]
            .into_iter()
            .flatten()
            .fold(f64::NEG_INFINITY, f64::max);
        let hi = [r.lt, r.lte]
            .into_iter()
            .flatten()
            .fold(f64::INFINITY, f64::min);
        let mut out = other_numbers.clone();
        if lo > hi {
            return Some(out);
        }
        let lo = if lo.is_finite() {
            lo.floor().max(i64::MIN as f64) as i64
        } else {
            i64::MIN
        };
        let hi = if hi.is_finite() {
            hi.ceil().min(i64::MAX as f64) as i64
        } else {
            i64::MAX
        };
        for b in values.range(lo..=hi).map(|(_, b)| b) {
            out |= b;
        }
        Some(out)
    }
}
