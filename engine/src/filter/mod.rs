//! Payload filters with Qdrant's semantics.
//!
//! A [`Filter`] holds three clause lists: every `must` condition holds, at
//! least one `should` condition holds (when there are any), and no `must_not`
//! condition holds. A condition is a field test (`match` value/any/except,
//! `range`), `is_empty`, `is_null`, `has_id`, or a nested filter.
//!
//! Keys are dotted paths (`meta.lang`); arrays met along the path are
//! flattened, so a condition matches a point when any element matches.
//!
//! `match: {except: [...]}` matches every point *except* those whose value is
//! in the list: a point with no value for the key matches, and an array
//! matches when any element lies outside the list.
//!
//! Parsing is done by hand from `serde_json::Value` so that a malformed filter
//! is refused with a message naming the offending part.

mod eval;
mod parse;

use std::collections::HashSet;

use serde::{Deserialize, Deserializer};

use crate::types::PointId;

pub use eval::values_at;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Filter {
    pub must: Vec<Condition>,
    pub should: Vec<Condition>,
    pub must_not: Vec<Condition>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Condition {
    Field(FieldCondition),
    /// The key is missing, null, or an empty array.
    IsEmpty(String),
    /// The key holds `null` (or an array with a `null`).
    IsNull(String),
    HasId(HashSet<PointId>),
    Filter(Box<Filter>),
}

/// A test on the values at `key`. When both `match` and `range` are given,
/// both must hold.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldCondition {
    pub key: String,
    pub r#match: Option<Match>,
    pub range: Option<Range>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Match {
    Value(MatchValue),
    Any(Vec<MatchValue>),
    Except(Vec<MatchValue>),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum MatchValue {
    Keyword(String),
    Integer(i64),
    Bool(bool),
}

/// Bounds on a numeric value; each is optional.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Range {
    pub gt: Option<f64>,
    pub gte: Option<f64>,
    pub lt: Option<f64>,
    pub lte: Option<f64>,
}

impl Range {
    pub fn contains(&self, x: f64) -> bool {
        self.gt.is_none_or(|b| x > b)
            && self.gte.is_none_or(|b| x >= b)
            && self.lt.is_none_or(|b| x < b)
            && self.lte.is_none_or(|b| x <= b)
    }
}

impl Filter {
    /// Parses Qdrant's JSON filter shape.
    pub fn from_json(value: &serde_json::Value) -> crate::Result<Filter> {
        parse::filter(value, "filter")
    }

    pub fn must(conditions: Vec<Condition>) -> Filter {
        Filter {
            must: conditions,
            ..Filter::default()
        }
    }
}

impl Condition {
    pub fn matches(key: &str, value: MatchValue) -> Condition {
        Condition::Field(FieldCondition {
            key: key.to_string(),
            r#match: Some(Match::Value(value)),
            range: None,
        })
    }

    pub fn range(key: &str, range: Range) -> Condition {
        Condition::Field(FieldCondition {
            key: key.to_string(),
            r#match: None,
            range: Some(range),
        })
    }
}

impl<'de> Deserialize<'de> for Filter {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        Filter::from_json(&value).map_err(serde::de::Error::custom)
    }
}
