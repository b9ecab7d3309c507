//! JSON → [`Filter`], with errors that name the path of the bad part.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::{Condition, FieldCondition, Filter, Match, MatchValue, Range};
use crate::error::{EngineError, Result};
use crate::types::{json_kind, PointId};

fn err<T>(at: &str, msg: impl std::fmt::Display) -> Result<T> {
    Err(EngineError::MalformedFilter(format!("{at}: {msg}")))
}

pub(super) fn filter(value: &Value, at: &str) -> Result<Filter> {
    let Value::Object(obj) = value else {
        return err(at, format!("expected an object, got {}", json_kind(value)));
    };
    let mut out = Filter::default();
    for (k, v) in obj {
        let list = match k.as_str() {
            "must" => &mut out.must,
            "should" => &mut out.should,
            "must_not" => &mut out.must_not,
            // Qdrant's optional minimum-should clause is not supported; say so.
            other => {
                return err(
                    at,
                    format!("unknown key `{other}` (expected must, should or must_not)"),
                )
            }
        };
        let path = format!("{at}.{k}");
        match v {
            Value::Null => {}
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    list.push(condition(item, &format!("{path}[{i}]"))?);
                }
            }
            // Qdrant accepts a single condition in place of a list.
            single => list.push(condition(single, &path)?),
        }
    }
    Ok(out)
}

fn condition(value: &Value, at: &str) -> Result<Condition> {
    let Value::Object(obj) = value else {
        return err(
            at,
            format!("a condition must be an object, got {}", json_kind(value)),
        );
    };
    if obj.contains_key("key") {
        return field_condition(obj, at).map(Condition::Field);
    }
    if let Some(v) = obj.get("is_empty") {
        return Ok(Condition::IsEmpty(key_of(v, &format!("{at}.is_empty"))?));
    }
    if let Some(v) = obj.get("is_null") {
        return Ok(Condition::IsNull(key_of(v, &format!("{at}.is_null"))?));
    }
    if let Some(v) = obj.get("has_id") {
        let Value::Array(ids) = v else {
            return err(&format!("{at}.has_id"), "expected a list of point ids");
        };
        let ids = ids
            .iter()
            .map(PointId::from_json)
            .collect::<Result<HashSet<_>>>()
            .or_else(|e| err(&format!("{at}.has_id"), e))?;
        return Ok(Condition::HasId(ids));
    }
    if obj.contains_key("must") || obj.contains_key("should") || obj.contains_key("must_not") {
        return Ok(Condition::Filter(Box::new(filter(value, at)?)));
    }
    if obj.contains_key("nested") || obj.contains_key("filter") {
        return err(
            at,
            "nested-object conditions are not supported; use dotted keys",
        );
    }
    err(
        at,
        "a condition needs one of: key, is_empty, is_null, has_id, must, should, must_not",
    )
}

fn key_of(value: &Value, at: &str) -> Result<String> {
    match value.get("key") {
        Some(Value::String(k)) if !k.is_empty() => Ok(k.clone()),
        _ => err(at, "expected {\"key\": \"<field>\"}"),
    }
}

fn field_condition(obj: &Map<String, Value>, at: &str) -> Result<FieldCondition> {
    let key = match obj.get("key") {
        Some(Value::String(k)) if !k.is_empty() => k.clone(),
        _ => return err(at, "`key` must be a non-empty string"),
    };
    let mut cond = FieldCondition {
        key,
        r#match: None,
        range: None,
    };
    for (k, v) in obj {
        match k.as_str() {
            "key" => {}
            "match" => cond.r#match = Some(match_of(v, &format!("{at}.match"))?),
            "range" => cond.range = Some(range_of(v, &format!("{at}.range"))?),
            other => {
                return err(
                    at,
                    format!("unsupported field condition `{other}` (supported: match, range)"),
                )
            }
        }
    }
    if cond.r#match.is_none() && cond.range.is_none() {
        return err(at, "a field condition needs `match` or `range`");
    }
    Ok(cond)
}

fn match_of(value: &Value, at: &str) -> Result<Match> {
    let Value::Object(obj) = value else {
        return err(at, "expected an object like {\"value\": ...}");
    };
    if obj.len() != 1 {
        return err(at, "expected exactly one of value, any, except");
    }
    let (kind, v) = obj.iter().next().expect("one entry");
    match kind.as_str() {
        "value" => Ok(Match::Value(match_value(v, &format!("{at}.value"))?)),
        "any" => Ok(Match::Any(match_values(v, &format!("{at}.any"))?)),
        "except" => Ok(Match::Except(match_values(v, &format!("{at}.except"))?)),
        "text" | "phrase" => err(at, "full-text match is not supported yet"),
        other => err(
            at,
            format!("unknown match kind `{other}` (use value, any or except)"),
        ),
    }
}

fn match_values(value: &Value, at: &str) -> Result<Vec<MatchValue>> {
    let Value::Array(items) = value else {
        return err(at, "expected a list");
    };
    items
        .iter()
        .enumerate()
        .map(|(i, v)| match_value(v, &format!("{at}[{i}]")))
        .collect()
}

fn match_value(value: &Value, at: &str) -> Result<MatchValue> {
    match value {
        Value::String(s) => Ok(MatchValue::Keyword(s.clone())),
        Value::Bool(b) => Ok(MatchValue::Bool(*b)),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Ok(MatchValue::Integer(i)),
            None => err(
                at,
                format!("{n} is not an integer; use `range` for other numbers"),
            ),
        },
        other => err(
            at,
            format!(
                "expected a string, integer or boolean, got {}",
                json_kind(other)
            ),
        ),
    }
}

fn range_of(value: &Value, at: &str) -> Result<Range> {
    let Value::Object(obj) = value else {
        return err(at, "expected an object with gt, gte, lt or lte");
    };
    let mut range = Range::default();
    for (k, v) in obj {
        let bound = match v {
            Value::Null => None,
            Value::Number(n) => match n.as_f64() {
                Some(x) if x.is_finite() => Some(x),
                _ => return err(at, format!("bound `{k}` is not a finite number")),
            },
            other => {
                return err(
                    at,
                    format!("bound `{k}` must be a number, got {}", json_kind(other)),
                )
            }
        };
        match k.as_str() {
            "gt" => range.gt = bound,
            "gte" => range.gte = bound,
            "lt" => range.lt = bound,
            "lte" => range.lte = bound,
            other => {
                return err(
                    at,
                    format!("unknown bound `{other}` (use gt, gte, lt, lte)"),
                )
            }
        }
    }
    Ok(range)
}
