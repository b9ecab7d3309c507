//! Evaluating a [`Filter`] against one point's payload.

use serde_json::{Map, Value};

use super::{Condition, FieldCondition, Filter, Match, MatchValue};
use crate::types::PointId;

/// Every value reachable by a dotted `path`, with arrays flattened both along
/// the way and at the end (Qdrant's multi-value semantics).
pub fn values_at<'a>(payload: &'a Map<String, Value>, path: &str) -> Vec<&'a Value> {
    let mut current: Vec<&Value> = Vec::new();
    let mut parts = path.split('.');
    let Some(first) = parts.next() else {
        return current;
    };
    if let Some(v) = payload.get(first) {
        current.push(v);
    }
    for part in parts {
        let mut next = Vec::new();
        for v in current {
            match v {
                Value::Object(o) => next.extend(o.get(part)),
                Value::Array(items) => {
                    next.extend(items.iter().filter_map(|i| i.as_object()?.get(part)))
                }
                _ => {}
            }
        }
        current = next;
    }
    let mut flat = Vec::with_capacity(current.len());
    for v in current {
        match v {
            Value::Array(items) => flat.extend(items.iter()),
            other => flat.push(other),
        }
    }
    flat
}

impl Filter {
    /// True when the point with `id` and `payload` passes the filter.
    pub fn check(&self, id: PointId, payload: Option<&Map<String, Value>>) -> bool {
        let empty = Map::new();
        self.check_in(id, payload.unwrap_or(&empty))
    }

    fn check_in(&self, id: PointId, payload: &Map<String, Value>) -> bool {
        self.must.iter().all(|c| c.check(id, payload))
            && (self.should.is_empty() || self.should.iter().any(|c| c.check(id, payload)))
            && !self.must_not.iter().any(|c| c.check(id, payload))
    }
}

impl Condition {
    fn check(&self, id: PointId, payload: &Map<String, Value>) -> bool {
        match self {
            Condition::Field(f) => f.check(payload),
            Condition::IsEmpty(key) => values_at(payload, key).iter().all(|v| v.is_null()),
            Condition::IsNull(key) => values_at(payload, key).iter().any(|v| v.is_null()),
            Condition::HasId(ids) => ids.contains(&id),
            Condition::Filter(f) => f.check_in(id, payload),
        }
    }
}

impl FieldCondition {
    fn check(&self, payload: &Map<String, Value>) -> bool {
        let values = values_at(payload, &self.key);
        let match_ok = match &self.r#match {
            None => true,
            Some(Match::Value(m)) => values.iter().any(|v| m.equals(v)),
            Some(Match::Any(ms)) => values.iter().any(|v| ms.iter().any(|m| m.equals(v))),
            Some(Match::Except(ms)) => {
                let present: Vec<_> = values.iter().filter(|v| !v.is_null()).collect();
                present.is_empty() || present.iter().any(|v| !ms.iter().any(|m| m.equals(v)))
            }
        };
        let range_ok = match &self.range {
            None => true,
            Some(r) => values
                .iter()
                .any(|v| v.as_f64().is_some_and(|x| r.contains(x))),
        };
        match_ok && range_ok
    }
}

impl MatchValue {
    pub fn equals(&self, v: &Value) -> bool {
        match (self, v) {
            (MatchValue::Keyword(s), Value::String(t)) => s == t,
            (MatchValue::Integer(i), Value::Number(n)) => n.as_i64() == Some(*i),
            (MatchValue::Bool(b), Value::Bool(c)) => b == c,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(filter: Value, payload: Value) -> bool {
        let f = Filter::from_json(&filter).expect("valid filter");
        f.check(PointId::Num(1), payload.as_object())
    }

    #[test]
    fn dotted_paths_reach_through_arrays() {
        let p = json!({"meta": [{"lang": "en"}, {"lang": "fr"}]});
        assert!(check(
            json!({"must": [{"key": "meta.lang", "match": {"value": "fr"}}]}),
            p.clone()
        ));
        assert!(!check(
            json!({"must": [{"key": "meta.lang", "match": {"value": "de"}}]}),
            p
        ));
    }

    #[test]
    fn except_matches_missing_and_arrays_with_an_outsider() {
        let f = json!({"must": [{"key": "c", "match": {"except": ["a", "b"]}}]});
        assert!(check(f.clone(), json!({})));
        assert!(check(f.clone(), json!({"c": ["a", "z"]})));
        assert!(!check(f.clone(), json!({"c": ["a", "b"]})));
        assert!(!check(f, json!({"c": "a"})));
    }

    #[test]
    fn empty_and_null() {
        let empty = json!({"must": [{"is_empty": {"key": "t"}}]});
        let null = json!({"must": [{"is_null": {"key": "t"}}]});
        assert!(check(empty.clone(), json!({})));
        assert!(check(empty.clone(), json!({"t": []})));
        assert!(check(empty.clone(), json!({"t": null})));
        assert!(!check(empty, json!({"t": ["x"]})));
        assert!(check(null.clone(), json!({"t": null})));
        assert!(!check(null.clone(), json!({})));
        assert!(!check(null, json!({"t": []})));
    }

    #[test]
    fn should_and_must_not() {
        let f = json!({
            "should": [{"key": "a", "match": {"value": 1}}, {"key": "b", "match": {"value": true}}],
            "must_not": {"key": "x", "range": {"gte": 10}}
        });
        assert!(check(f.clone(), json!({"a": 1, "x": 3})));
        assert!(check(f.clone(), json!({"b": true})));
        assert!(!check(f.clone(), json!({"a": 2})));
        assert!(!check(f, json!({"a": 1, "x": 10.5})));
    }

    #[test]
    fn malformed_filters_name_the_problem() {
        for (bad, needle) in [
            (json!([]), "expected an object"),
            (json!({"must": [{"key": "a"}]}), "needs `match` or `range`"),
            (
                json!({"must": [{"key": "a", "match": {"value": 1.5}}]}),
                "not an integer",
            ),
            (
                json!({"must": [{"key": "a", "range": {"gt": "x"}}]}),
                "must be a number",
            ),
            (json!({"must": [{"foo": 1}]}), "needs one of"),
            (json!({"whatever": []}), "unknown key"),
            (json!({"must": [{"has_id": [-1]}]}), "has_id"),
        ] {
            let e = Filter::from_json(&bad)
                .expect_err("must be refused")
                .to_string();
            assert!(e.contains(needle), "{e} should mention {needle}");
        }
    }
}
