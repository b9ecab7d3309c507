//! BEIR retrieval data: `corpus.jsonl` (`{"_id","title","text"}`),
//! `queries.jsonl` (`{"_id","text"}`) and qrels TSV files
//! (`query-id<TAB>corpus-id<TAB>score`, with or without a header line, LF or
//! CRLF line ends).

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

use crate::{format_err, read, Result};

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Document {
    #[serde(rename = "_id")]
    pub id: String,
    #[serde(default)]
    pub title: String,
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Query {
    #[serde(rename = "_id")]
    pub id: String,
    pub text: String,
}

/// Relevance judgments: query id → (document id → grade).
pub type Qrels = HashMap<String, HashMap<String, i32>>;

fn jsonl<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Vec<T>> {
    let bytes = read(path)?;
    let text = String::from_utf8_lossy(&bytes);
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).or_else(|e| format_err(path, format!("line {}: {e}", i + 1)))
        })
        .collect()
}

pub fn read_corpus(path: impl AsRef<Path>) -> Result<Vec<Document>> {
    jsonl(path.as_ref())
}

pub fn read_queries(path: impl AsRef<Path>) -> Result<Vec<Query>> {
    jsonl(path.as_ref())
}

pub fn read_qrels(path: impl AsRef<Path>) -> Result<Qrels> {
    let path = path.as_ref();
    let bytes = read(path)?;
    let mut qrels = Qrels::new();
    for (i, line) in String::from_utf8_lossy(&bytes).lines().enumerate() {
        let line = line.trim_end_matches('\r');
        let cols: Vec<&str> = line.split('\t').collect();
        if line.is_empty() || (i == 0 && cols.first() == Some(&"query-id")) {
            continue;
        }
        let [q, d, score] = cols[..] else {
            return format_err(
                path,
                format!("line {}: expected 3 tab-separated columns", i + 1),
            );
        };
        let score = score.trim().parse().or_else(|_| {
            format_err(
                path,
                format!("line {}: score `{score}` is not an integer", i + 1),
            )
        })?;
        qrels
            .entry(q.to_string())
            .or_default()
            .insert(d.to_string(), score);
    }
    Ok(qrels)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_corpus_queries_and_crlf_qrels() {
        let dir = tempfile::tempdir().expect("tempdir");
        let c = dir.path().join("corpus.jsonl");
        std::fs::write(
            &c,
            "{\"_id\":\"d1\",\"title\":\"T\",\"text\":\"x\",\"metadata\":{}}\n",
        )
        .expect("write");
        assert_eq!(read_corpus(&c).expect("corpus")[0].title, "T");
        let q = dir.path().join("test.tsv");
        std::fs::write(&q, "query-id\tcorpus-id\tscore\r\n1\td1\t1\r\n1\td2\t2\r\n")
            .expect("write");
        let qrels = read_qrels(&q).expect("qrels");
        assert_eq!(qrels["1"]["d2"], 2);
        std::fs::write(&q, "1\td1\n").expect("write");
        assert!(read_qrels(&q).is_err());
    }
}
