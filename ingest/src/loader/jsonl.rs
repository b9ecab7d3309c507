//! JSON lines: one document per line. Which fields hold the text, the id,
//! the title and the metadata is chosen by [`JsonlFields`]; a bad line is
//! that record's error, and the other lines still load.

use std::path::Path;

use serde_json::Value;

use super::{as_text, Loaded, Metadata};
use crate::document::Document;
use crate::error::{IngestError, Result};

/// Field names of a JSON-lines record.
#[derive(Clone, Debug)]
pub struct JsonlFields {
    pub text: String,
    /// `None`: `_id`, else `id`, else the line number.
    pub id: Option<String>,
    pub title: String,
    /// Fields copied into the chunks' payload under `metadata`.
    pub metadata: Vec<String>,
}

impl Default for JsonlFields {
    fn default() -> Self {
        JsonlFields {
            text: "text".into(),
            id: None,
            title: "title".into(),
            metadata: vec!["metadata".into()],
        }
    }
}

pub fn load(path: &Path, source: &str, fields: &JsonlFields, tags: &[String]) -> Result<Loaded> {
    let bytes = std::fs::read(path).map_err(IngestError::io(path))?;
    let text = String::from_utf8_lossy(&bytes);
    let mut loaded = Loaded::default();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let at = format!("{source}:{}", i + 1);
        match record(line, i + 1, fields) {
            Ok((id, title, body, metadata)) => loaded.documents.push(Document {
                id,
                source: source.to_string(),
                title,
                text: body,
                file_type: "jsonl",
                tags: tags.to_vec(),
                metadata,
            }),
            Err(why) => loaded.errors.push((at, why)),
        }
    }
    Ok(loaded)
}

type Record = (String, String, String, Option<Metadata>);

fn record(line: &str, number: usize, fields: &JsonlFields) -> Result<Record, String> {
    let value: Value = serde_json::from_str(line).map_err(|e| format!("not valid JSON: {e}"))?;
    let Value::Object(obj) = value else {
        return Err("expected a JSON object".into());
    };
    let text = match obj.get(&fields.text) {
        Some(Value::String(s)) => s.clone(),
        Some(other) if !other.is_null() => as_text(other),
        _ => {
            return Err(format!(
                "no `{}` field (choose one with --text-field)",
                fields.text
            ))
        }
    };
    let id = match &fields.id {
        Some(f) => obj
            .get(f)
            .filter(|v| !v.is_null())
            .map(as_text)
            .ok_or_else(|| format!("no `{f}` field (choose one with --id-field)"))?,
        None => obj
            .get("_id")
            .or_else(|| obj.get("id"))
            .filter(|v| !v.is_null())
            .map(as_text)
            .unwrap_or_else(|| format!("line-{number}")),
    };
    let title = obj.get(&fields.title).map(as_text).unwrap_or_default();
    let mut metadata = Metadata::new();
    for f in &fields.metadata {
        if let Some(v) = obj.get(f) {
            match v {
                // A `metadata` object is spread; other fields keep their name.
                Value::Object(inner) if f == "metadata" => {
                    metadata.extend(inner.iter().map(|(k, v)| (k.clone(), v.clone())))
                }
                Value::Null => {}
                other => {
                    metadata.insert(f.clone(), other.clone());
                }
            }
        }
    }
    Ok((id, title, text, (!metadata.is_empty()).then_some(metadata)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_good_lines_and_reports_bad_ones() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("docs.jsonl");
        std::fs::write(
            &path,
            concat!(
                "{\"_id\": \"a\", \"title\": \"A\", \"text\": \"alpha\", \"metadata\": {\"year\": 2020}}\n",
                "not json\n",
                "\n",
                "{\"id\": 7, \"text\": \"seven\", \"lang\": \"en\"}\n",
                "{\"_id\": \"c\"}\n",
            ),
        )
        .expect("write");
        let fields = JsonlFields {
            metadata: vec!["metadata".into(), "lang".into()],
            ..JsonlFields::default()
        };
        let loaded = load(&path, "docs.jsonl", &fields, &["t".into()]).expect("load");
        assert_eq!(loaded.documents.len(), 2);
        let a = &loaded.documents[0];
        assert_eq!(
            (a.id.as_str(), a.title.as_str(), a.text.as_str()),
            ("a", "A", "alpha")
        );
        assert_eq!(
            a.metadata.as_ref().and_then(|m| m.get("year")),
            Some(&Value::from(2020))
        );
        assert_eq!(loaded.documents[1].id, "7");
        assert_eq!(loaded.documents[1].tags, vec!["t".to_string()]);
        assert_eq!(loaded.errors.len(), 2);
        assert!(
            loaded.errors[0].0.ends_with(":2") && loaded.errors[0].1.contains("not valid JSON")
        );
        assert!(
            loaded.errors[1].1.contains("--text-field"),
            "{:?}",
            loaded.errors[1]
        );
    }
}
