//! A collection on a running server, through Qdrant's REST dialect (so
//! `cairn ingest --server` works against Cairn and, for the points, against
//! Qdrant itself): `GET/PUT /collections/{c}`, payload indexes, `scroll`
//! with a payload projection, `PUT points`, `points/delete`. Documents
//! written are also reported to Cairn's `POST /collections/{c}/documents/records`
//! so the server's metadata catalog lists them; a server without that
//! endpoint (404) is simply not told.

use std::collections::HashMap;
use std::time::Duration;

use cairn_engine::PointId;
use reqwest::blocking::Client;
use reqwest::Method;
use serde_json::{json, Value};

use crate::chunk_point::keys;
use crate::embed::same_model;
use crate::error::{IngestError, Result};
use crate::sink::{note_chunk, Sink, StoredDocument, WriteBatch};

pub struct HttpSink {
    client: Client,
    base: String,
    api_key: Option<String>,
}

fn server_err(what: impl std::fmt::Display) -> IngestError {
    IngestError::Server(what.to_string())
}

impl HttpSink {
    /// The collection `name` on the server at `url`, created for `model`'s
    /// vectors (cosine) if it does not exist, with a text index on
    /// `content` and a keyword index on `document_id`.
    pub fn open(
        url: &str,
        api_key: Option<&str>,
        name: &str,
        dim: usize,
        model: &str,
    ) -> Result<HttpSink> {
        cairn_engine::validate_name(name)?;
        let client = Client::builder()
            .timeout(Duration::from_secs(300))
            .build()
            .map_err(server_err)?;
        let sink = HttpSink {
            client,
            base: format!("{}/collections/{name}", url.trim_end_matches('/')),
            api_key: api_key.map(str::to_string),
        };
        match sink.call(Method::GET, "", None) {
            Ok(info) => {
                let params = &info["result"]["config"]["params"];
                if let Some(own) = params["embedding"]["model"].as_str() {
                    if !same_model(own, model) {
                        return Err(IngestError::Invalid(format!(
                            "collection `{name}` on the server is embedded with `{own}`, not `{model}`"
                        )));
                    }
                }
                let size = params["vectors"]["size"].as_u64();
                if size != Some(dim as u64) {
                    return Err(IngestError::Invalid(format!(
                        "collection `{name}` on the server holds {}-d vectors but the model `{model}` makes {dim}-d ones",
                        size.map_or("?".to_string(), |s| s.to_string())
                    )));
                }
            }
            Err(Failed::Status(404, _)) => {
                sink.call(
                    Method::PUT,
                    "",
                    Some(json!({
                        "vectors": {"size": dim, "distance": "Cosine"},
                        "embedding": {"model": model},
                    })),
                )
                .map_err(|e| e.into_error("create the collection"))?;
            }
            Err(e) => return Err(e.into_error("read the collection")),
        }
        for (field, schema) in [(keys::CONTENT, "text"), (keys::DOCUMENT_ID, "keyword")] {
            sink.call(
                Method::PUT,
                "/index?wait=true",
                Some(json!({"field_name": field, "field_schema": schema})),
            )
            .map_err(|e| e.into_error("create a payload index"))?;
        }
        Ok(sink)
    }

    fn call(&self, method: Method, path: &str, body: Option<Value>) -> Result<Value, Failed> {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(key) = &self.api_key {
            req = req.header("api-key", key);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().map_err(|e| Failed::Transport(e.to_string()))?;
        let status = resp.status().as_u16();
        let text = resp.text().map_err(|e| Failed::Transport(e.to_string()))?;
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        if (200..300).contains(&status) {
            Ok(value)
        } else {
            let msg = value["status"]["error"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| value.to_string());
            Err(Failed::Status(status, msg))
        }
    }
}

enum Failed {
    Transport(String),
    Status(u16, String),
}

impl Failed {
    fn into_error(self, doing: &str) -> IngestError {
        match self {
            Failed::Transport(e) => server_err(format!(
                "cannot {doing}: {e} (is the server running, and is --server right?)"
            )),
            Failed::Status(401 | 403, m) => server_err(format!(
                "cannot {doing}: {m} (pass a full-access --api-key)"
            )),
            Failed::Status(s, m) => server_err(format!("cannot {doing}: {s} {m}")),
        }
    }
}

impl Sink for HttpSink {
    fn stored_documents(&self) -> Result<HashMap<String, StoredDocument>> {
        let mut stored = HashMap::new();
        let mut offset = Value::Null;
        loop {
            let page = self
                .call(
                    Method::POST,
                    "/points/scroll",
                    Some(json!({
                        "limit": 1000,
                        "offset": offset,
                        "with_payload": {"include": [keys::DOCUMENT_ID, keys::CONTENT_HASH, keys::SOURCE, keys::CHUNK_INDEX]},
                        "with_vector": false,
                    })),
                )
                .map_err(|e| e.into_error("list the stored documents"))?;
            for p in page["result"]["points"].as_array().into_iter().flatten() {
                if let Some(payload) = p["payload"].as_object() {
                    note_chunk(&mut stored, payload);
                }
            }
            offset = page["result"]["next_page_offset"].clone();
            if offset.is_null() {
                return Ok(stored);
            }
        }
    }

    fn write(&self, batch: &WriteBatch) -> Result<()> {
        let points: Vec<Value> = batch
            .points()
            .into_iter()
            .map(|p| json!({"id": p.id, "vector": p.vector, "payload": p.payload.map(|p| Value::Object(p.0))}))
            .collect();
        if !points.is_empty() {
            self.call(
                Method::PUT,
                "/points?wait=true",
                Some(json!({"points": points})),
            )
            .map_err(|e| e.into_error("upsert chunks"))?;
        }
        if !batch.stale.is_empty() {
            let ids: Vec<PointId> = batch.stale.clone();
            self.call(
                Method::POST,
                "/points/delete?wait=true",
                Some(json!({"points": ids})),
            )
            .map_err(|e| e.into_error("delete old chunks"))?;
        }
        let report = json!({"documents": batch.records(), "removed": batch.removed});
        match self.call(Method::POST, "/documents/records", Some(report)) {
            Ok(_) => Ok(()),
            Err(Failed::Status(404, _)) => Ok(()), // not a Cairn server: no catalog to tell
            Err(e) => {
                tracing::warn!(error = %e.into_error("record documents in the catalog"), "the points are written; the catalog missed them");
                Ok(())
            }
        }
    }
}
