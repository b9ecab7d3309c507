//! Snapshot endpoints in Qdrant's shapes: create, list, download (streamed,
//! checksum matches), recover from file:// and from an upload, refusal of a
//! damaged upload with the live collection untouched, delete, full-storage
//! snapshots; and the audit log and health report the server keeps.

mod common;

use cairn_server::catalog::{default_url, Catalog};
use common::Server;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

async fn load(s: &Server, n: usize) {
    s.ok(
        Method::PUT,
        "/collections/docs",
        Some(json!({"vectors": {"size": 8, "distance": "Cosine"}})),
    )
    .await;
    let points: Vec<Value> = (0..n)
        .map(|i| {
            let v: Vec<f32> = (0..8)
                .map(|d| ((i * 7 + d * 3) % 11) as f32 + 0.5)
                .collect();
            json!({"id": i, "vector": v, "payload": {"i": i}})
        })
        .collect();
    s.ok(
        Method::PUT,
        "/collections/docs/points?wait=true",
        Some(json!({"points": points})),
    )
    .await;
}

async fn count(s: &Server) -> u64 {
    s.ok(
        Method::POST,
        "/collections/docs/points/count",
        Some(json!({"exact": true})),
    )
    .await["count"]
        .as_u64()
        .expect("count")
}

async fn upload(s: &Server, bytes: Vec<u8>, query: &str) -> (StatusCode, Value) {
    let part = reqwest::multipart::Part::bytes(bytes).file_name("x.snapshot");
    let form = reqwest::multipart::Form::new().part("snapshot", part);
    let resp = s
        .client
        .post(format!(
            "{}/collections/docs/snapshots/upload{query}",
            s.base
        ))
        .multipart(form)
        .send()
        .await
        .expect("upload");
    let status = resp.status();
    (status, resp.json().await.expect("json"))
}

#[tokio::test]
async fn snapshot_endpoints_round_trip() {
    let s = Server::start().await;
    load(&s, 300).await;
    let created = s
        .ok(Method::POST, "/collections/docs/snapshots", None)
        .await;
    let name = created["name"].as_str().expect("name").to_string();
    assert!(
        name.starts_with("docs-") && name.ends_with(".snapshot"),
        "{name}"
    );
    let checksum = created["checksum"].as_str().expect("checksum").to_string();
    let listed = s.ok(Method::GET, "/collections/docs/snapshots", None).await;
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    assert_eq!(listed[0]["name"], name.as_str());
    assert_eq!(listed[0]["size"], created["size"]);

    // Download: the bytes hash to the advertised checksum.
    let resp = s
        .client
        .get(format!("{}/collections/docs/snapshots/{name}", s.base))
        .send()
        .await
        .expect("download");
    assert_eq!(resp.status(), StatusCode::OK);
    let bytes = resp.bytes().await.expect("bytes").to_vec();
    assert_eq!(bytes.len() as u64, created["size"].as_u64().expect("size"));
    assert_eq!(hex::encode(Sha256::digest(&bytes)), checksum);
    let saved = s.data_dir.parent().expect("parent").join("saved.snapshot");
    std::fs::write(&saved, &bytes).expect("save");

    // Change the collection, then recover from the file: back to 300.
    s.ok(
        Method::POST,
        "/collections/docs/points/delete?wait=true",
        Some(json!({"points": [0, 1, 2]})),
    )
    .await;
    assert_eq!(count(&s).await, 297);
    s.ok(
        Method::PUT,
        "/collections/docs/snapshots/recover",
        Some(json!({"location": format!("file://{}", saved.display()), "checksum": checksum})),
    )
    .await;
    assert_eq!(count(&s).await, 300);

    // And from an http:// URL (this server's own download endpoint).
    s.ok(
        Method::POST,
        "/collections/docs/points/delete?wait=true",
        Some(json!({"points": [9]})),
    )
    .await;
    s.ok(
        Method::PUT,
        "/collections/docs/snapshots/recover",
        Some(json!({"location": format!("{}/collections/docs/snapshots/{name}", s.base)})),
    )
    .await;
    assert_eq!(count(&s).await, 300);

    // A damaged upload is refused; the collection is as it was.
    s.ok(
        Method::POST,
        "/collections/docs/points/delete?wait=true",
        Some(json!({"points": [5]})),
    )
    .await;
    let mut damaged = bytes.clone();
    let mid = damaged.len() / 2;
    damaged[mid] ^= 0x55;
    let (status, body) = upload(&s, damaged, "").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["status"]["error"]
            .as_str()
            .is_some_and(|e| e.contains("snapshot")),
        "{body}"
    );
    let (status, _) = upload(&s, bytes[..bytes.len() / 3].to_vec(), "").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, body) = upload(&s, bytes.clone(), "?checksum=00ff").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(count(&s).await, 299);
    // A good upload restores.
    let (status, body) = upload(&s, bytes.clone(), &format!("?checksum={checksum}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(count(&s).await, 300);

    // Bad locations and names get clear errors.
    s.fails(
        Method::PUT,
        "/collections/docs/snapshots/recover",
        Some(json!({"location": "file:///nonexistent/x.snapshot"})),
        StatusCode::BAD_REQUEST,
        "no snapshot file",
    )
    .await;
    s.fails(
        Method::PUT,
        "/collections/docs/snapshots/recover",
        Some(json!({"location": "ftp://x/y"})),
        StatusCode::BAD_REQUEST,
        "unsupported",
    )
    .await;
    s.fails(
        Method::GET,
        "/collections/docs/snapshots/nope.snapshot",
        None,
        StatusCode::NOT_FOUND,
        "not found",
    )
    .await;
    s.fails(
        Method::GET,
        "/collections/docs/snapshots/..%2Fx.snapshot",
        None,
        StatusCode::BAD_REQUEST,
        "invalid snapshot name",
    )
    .await;
    s.fails(
        Method::POST,
        "/collections/missing/snapshots",
        None,
        StatusCode::NOT_FOUND,
        "not found",
    )
    .await;

    // Delete; full-storage snapshots.
    s.ok(
        Method::DELETE,
        &format!("/collections/docs/snapshots/{name}"),
        None,
    )
    .await;
    let listed = s.ok(Method::GET, "/collections/docs/snapshots", None).await;
    assert_eq!(listed.as_array().map(Vec::len), Some(0));
    let full = s.ok(Method::POST, "/snapshots", None).await;
    let full_name = full["name"].as_str().expect("name").to_string();
    let listed = s.ok(Method::GET, "/snapshots", None).await;
    assert_eq!(listed[0]["name"], full_name.as_str());
    let resp = s
        .client
        .get(format!("{}/snapshots/{full_name}", s.base))
        .send()
        .await
        .expect("download full");
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        hex::encode(Sha256::digest(resp.bytes().await.expect("bytes"))),
        full["checksum"].as_str().expect("checksum")
    );
    s.ok(Method::DELETE, &format!("/snapshots/{full_name}"), None)
        .await;

    // The catalog recorded who did what (anonymous: no keys configured).
    let catalog = Catalog::open(&default_url(&s.data_dir))
        .await
        .expect("catalog");
    let log = catalog.audit_log(100).await.expect("audit");
    let actions: Vec<&str> = log.iter().rev().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "create_collection",
            "snapshot",
            "restore",
            "restore",
            "restore",
            "delete_snapshot",
            "snapshot",
            "delete_snapshot"
        ]
    );
    assert!(log.iter().all(|e| e.actor == "anonymous"));

    // Health: the engine and catalog are fine; no backup location → WARNING.
    let report = s.ok_raw("/health/report").await;
    let component = |name: &str| {
        report["components"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["name"] == name))
            .cloned()
            .unwrap_or_else(|| panic!("{name} in {report}"))
    };
    assert_eq!(component("engine")["status"], "HEALTHY", "{report}");
    assert_eq!(component("metadata")["status"], "HEALTHY", "{report}");
    assert_eq!(component("backup")["status"], "WARNING", "{report}");
    assert!(component("disk")["figure"]
        .as_str()
        .is_some_and(|f| f.contains("% free")));
    assert_eq!(report["status"], "WARNING");
    let metrics = s
        .client
        .get(format!("{}/metrics", s.base))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        metrics.contains("cairn_health_status{component=\"backup\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("cairn_health_value{component=\"disk\",figure=\"free_percent\"}"));
    s.shutdown().await;
}

#[tokio::test]
async fn api_keys_are_audited_by_id_never_by_value() {
    let s = Server::start_config(|c| c.api_key = Some("secret-full-key".into())).await;
    let resp = s
        .client
        .put(format!("{}/collections/k", s.base))
        .header("api-key", "secret-full-key")
        .json(&json!({"vectors": {"size": 2, "distance": "Dot"}}))
        .send()
        .await
        .expect("create");
    assert_eq!(resp.status(), StatusCode::OK);
    let catalog = Catalog::open(&default_url(&s.data_dir))
        .await
        .expect("catalog");
    let log = catalog.audit_log(10).await.expect("audit");
    assert_eq!(log.len(), 1);
    let digest = hex::encode(Sha256::digest(b"secret-full-key"));
    assert_eq!(log[0].actor, format!("full:{}", &digest[..8]));
    assert!(!format!("{log:?}").contains("secret-full-key"));
    s.shutdown().await;
}

/// What ingestion records in the catalog, the documents endpoint lists.
#[tokio::test]
async fn documents_endpoint_lists_catalog_documents() {
    let s = Server::start().await;
    load(&s, 10).await;
    let catalog = Catalog::open(&default_url(&s.data_dir))
        .await
        .expect("catalog");
    for (id, hash, chunks) in [("b", "h2", 1usize), ("a", "h1", 3)] {
        let points: Vec<String> = (0..chunks).map(|i| format!("{id}-{i}")).collect();
        catalog
            .put_document(
                &cairn_server::catalog::NewDocument {
                    collection: "docs",
                    document_id: id,
                    source: Some("corpus/x.md"),
                    title: None,
                    content_hash: hash,
                },
                &points,
            )
            .await
            .expect("put");
    }
    let listed = s.ok(Method::GET, "/collections/docs/documents", None).await;
    let docs = listed["documents"].as_array().expect("array");
    let summary: Vec<(&str, i64)> = docs
        .iter()
        .map(|d| {
            (
                d["document_id"].as_str().expect("id"),
                d["chunk_count"].as_i64().expect("n"),
            )
        })
        .collect();
    assert_eq!(summary, [("a", 3), ("b", 1)]);
    let page = s
        .ok(
            Method::GET,
            "/collections/docs/documents?limit=1&offset=1",
            None,
        )
        .await;
    assert_eq!(page["documents"][0]["document_id"], "b");
    s.fails(
        Method::GET,
        "/collections/docs/documents?limit=0",
        None,
        StatusCode::BAD_REQUEST,
        "limit",
    )
    .await;
    s.fails(
        Method::GET,
        "/collections/missing/documents",
        None,
        StatusCode::NOT_FOUND,
        "not found",
    )
    .await;
    s.shutdown().await;
}
