//! The HTTP API over real sockets: every endpoint of the Qdrant dialect that
//! Cairn serves, each error code, readiness and graceful shutdown.

mod common;

use cairn_server::config::ServeConfig;
use common::Server;
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};

async fn make_collection(s: &Server, name: &str, dim: usize) {
    s.ok(
        Method::PUT,
        &format!("/collections/{name}"),
        Some(json!({"vectors": {"size": dim, "distance": "Cosine"}})),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_endpoints_and_collection_lifecycle() {
    let s = Server::start().await;
    let (code, root) = s.call(Method::GET, "/", None).await;
    assert_eq!(code, StatusCode::OK);
    assert!(root["version"].is_string());
    for path in ["/healthz", "/livez", "/readyz"] {
        assert_eq!(
            s.call(Method::GET, path, None).await.0,
            StatusCode::OK,
            "{path}"
        );
    }
    assert_eq!(
        s.ok(Method::GET, "/collections", None).await,
        json!({"collections": []})
    );
    let created = s
        .ok(
            Method::PUT,
            "/collections/docs",
            Some(json!({
                "vectors": {"size": 4, "distance": "Dot"},
                "hnsw_config": {"m": 8, "ef_construct": 64, "full_scan_threshold": 10},
                "shard_number": null, "optimizers_config": null
            })),
        )
        .await;
    assert_eq!(created, true);
    let info = s.ok(Method::GET, "/collections/docs", None).await;
    assert_eq!(info["status"], "green");
    assert_eq!(info["points_count"], 0);
    assert_eq!(
        info["config"]["params"]["vectors"],
        json!({"size": 4, "distance": "Dot"})
    );
    assert_eq!(info["config"]["hnsw_config"]["m"], 8);
    assert_eq!(info["config"]["hnsw_config"]["full_scan_threshold"], 10);
    assert_eq!(
        s.ok(Method::GET, "/collections", None).await,
        json!({"collections": [{"name": "docs"}]})
    );
    assert_eq!(
        s.ok(Method::GET, "/collections/docs/exists", None).await,
        json!({"exists": true})
    );
    assert_eq!(
        s.ok(Method::GET, "/collections/nope/exists", None).await,
        json!({"exists": false})
    );

    let put = Some(json!({"vectors": {"size": 4, "distance": "Dot"}}));
    s.fails(
        Method::PUT,
        "/collections/docs",
        put.clone(),
        StatusCode::CONFLICT,
        "already exists",
    )
    .await;
    s.fails(
        Method::PUT,
        "/collections/bad%20name",
        put,
        StatusCode::BAD_REQUEST,
        "invalid collection name",
    )
    .await;
    s.fails(
        Method::PUT,
        "/collections/x",
        Some(json!({"vectors": {"a": {"size": 4, "distance": "Dot"}}})),
        StatusCode::BAD_REQUEST,
        "named vectors",
    )
    .await;
    s.fails(
        Method::PUT,
        "/collections/x",
        Some(json!({"vectors": {"size": 4, "distance": "Manhattan"}})),
        StatusCode::BAD_REQUEST,
        "unknown distance",
    )
    .await;
    s.fails(
        Method::PUT,
        "/collections/x",
        Some(json!({"vectors": {"size": 0, "distance": "Dot"}})),
        StatusCode::BAD_REQUEST,
        "dim must be",
    )
    .await;
    s.fails(
        Method::PUT,
        "/collections/x",
        Some(json!({})),
        StatusCode::BAD_REQUEST,
        "`vectors` is required",
    )
    .await;
    s.fails(
        Method::GET,
        "/collections/nope",
        None,
        StatusCode::NOT_FOUND,
        "not found",
    )
    .await;
    s.fails(
        Method::GET,
        "/no/such/path",
        None,
        StatusCode::NOT_FOUND,
        "no such endpoint",
    )
    .await;

    let patched = s
        .ok(
            Method::PATCH,
            "/collections/docs",
            Some(json!({
                "hnsw_config": {"m": 12, "full_scan_threshold": 5},
                "optimizers_config": {"indexing_threshold": 1000}
            })),
        )
        .await;
    assert_eq!(patched, true);
    let info = s.ok(Method::GET, "/collections/docs", None).await;
    assert_eq!(info["config"]["hnsw_config"]["m"], 12);
    assert_eq!(info["config"]["hnsw_config"]["full_scan_threshold"], 5);
    s.fails(
        Method::PATCH,
        "/collections/docs",
        Some(json!({"hnsw_config": {"m": 1}})),
        StatusCode::BAD_REQUEST,
        "m must be",
    )
    .await;
    s.fails(
        Method::PATCH,
        "/collections/nope",
        Some(json!({})),
        StatusCode::NOT_FOUND,
        "not found",
    )
    .await;
    assert_eq!(s.ok(Method::DELETE, "/collections/docs", None).await, true);
    s.fails(
        Method::DELETE,
        "/collections/docs",
        None,
        StatusCode::NOT_FOUND,
        "not found",
    )
    .await;
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn points_payloads_scroll_count_and_indexes() {
    let s = Server::start().await;
    make_collection(&s, "c", 3).await;
    let r = s
        .ok(
            Method::PUT,
            "/collections/c/points?wait=true",
            Some(json!({"points": [
                {"id": 1, "vector": [1, 0, 0], "payload": {"lang": "en", "n": 1}},
                {"id": 2, "vector": [0, 1, 0], "payload": {"lang": "fr", "n": 2}},
                {"id": "550e8400-e29b-41d4-a716-446655440000", "vector": [0, 0, 1]}
            ]})),
        )
        .await;
    assert_eq!(r["status"], "completed");
    assert!(r["operation_id"].is_u64());
    let r = s
        .ok(Method::PUT, "/collections/c/points?wait=false", Some(json!({"batch": {
            "ids": [3, 4], "vectors": [[0.9, 0.1, 0], [0.5, 0.5, 0]], "payloads": [{"lang": "en", "n": 3}, null]
        }})))
        .await;
    assert_eq!(r["status"], "acknowledged");
    // Acknowledged once logged; visible as soon as the background apply ran.
    for _ in 0..200 {
        let n = s
            .ok(Method::POST, "/collections/c/points/count", None)
            .await;
        if n["count"] == 5 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }

    let got = s
        .ok(
            Method::POST,
            "/collections/c/points",
            Some(json!({"ids": [2, 1, 99], "with_vector": true})),
        )
        .await;
    assert_eq!(got.as_array().expect("list").len(), 2);
    assert_eq!(got[0]["id"], 2);
    assert_eq!(got[0]["payload"], json!({"lang": "fr", "n": 2}));
    assert_eq!(got[0]["vector"], json!([0.0, 1.0, 0.0]));
    let got = s
        .ok(
            Method::POST,
            "/collections/c/points",
            Some(json!({"ids": [1], "with_payload": ["n"]})),
        )
        .await;
    assert_eq!(got[0]["payload"], json!({"n": 1}));
    assert!(got[0].get("vector").is_none());
    let got = s
        .ok(
            Method::POST,
            "/collections/c/points",
            Some(json!({"ids": [1], "with_payload": {"exclude": ["n"]}})),
        )
        .await;
    assert_eq!(got[0]["payload"], json!({"lang": "en"}));
    let one = s
        .ok(
            Method::GET,
            "/collections/c/points/550e8400-e29b-41d4-a716-446655440000",
            None,
        )
        .await;
    assert_eq!(one["vector"], json!([0.0, 0.0, 1.0]));
    s.fails(
        Method::GET,
        "/collections/c/points/77",
        None,
        StatusCode::NOT_FOUND,
        "not found",
    )
    .await;
    s.fails(
        Method::GET,
        "/collections/c/points/not-an-id",
        None,
        StatusCode::BAD_REQUEST,
        "not a point id",
    )
    .await;

    // Scroll to exhaustion, two at a time.
    let (mut seen, mut offset) = (Vec::new(), Value::Null);
    loop {
        let page = s
            .ok(
                Method::POST,
                "/collections/c/points/scroll",
                Some(json!({"limit": 2, "offset": offset})),
            )
            .await;
        seen.extend(
            page["points"]
                .as_array()
                .expect("points")
                .iter()
                .map(|p| p["id"].clone()),
        );
        offset = page["next_page_offset"].clone();
        if offset.is_null() {
            break;
        }
    }
    assert_eq!(
        seen,
        vec![
            json!(1),
            json!(2),
            json!(3),
            json!(4),
            json!("550e8400-e29b-41d4-a716-446655440000")
        ]
    );

    let en = json!({"must": [{"key": "lang", "match": {"value": "en"}}]});
    assert_eq!(
        s.ok(Method::POST, "/collections/c/points/count", None)
            .await,
        json!({"count": 5})
    );
    assert_eq!(
        s.ok(
            Method::POST,
            "/collections/c/points/count",
            Some(json!({"filter": en, "exact": true}))
        )
        .await,
        json!({"count": 2})
    );
    let page = s
        .ok(
            Method::POST,
            "/collections/c/points/scroll",
            Some(json!({"filter": en})),
        )
        .await;
    assert_eq!(page["points"].as_array().expect("points").len(), 2);

    // Payload writes.
    s.ok(
        Method::POST,
        "/collections/c/points/payload?wait=true",
        Some(json!({"payload": {"tag": "x"}, "points": [1, 2]})),
    )
    .await;
    s.ok(
        Method::PUT,
        "/collections/c/points/payload",
        Some(json!({"payload": {"only": true}, "points": [2]})),
    )
    .await;
    s.ok(
        Method::POST,
        "/collections/c/points/payload/delete",
        Some(json!({"keys": ["n"], "filter": en})),
    )
    .await;
    let got = s
        .ok(
            Method::POST,
            "/collections/c/points",
            Some(json!({"ids": [1, 2, 3]})),
        )
        .await;
    assert_eq!(got[0]["payload"], json!({"lang": "en", "tag": "x"}));
    assert_eq!(got[1]["payload"], json!({"only": true}));
    assert_eq!(got[2]["payload"], json!({"lang": "en"}));
    s.ok(
        Method::POST,
        "/collections/c/points/payload/clear",
        Some(json!({"points": [3]})),
    )
    .await;
    assert_eq!(
        s.ok(
            Method::POST,
            "/collections/c/points",
            Some(json!({"ids": [3]}))
        )
        .await[0]["payload"],
        json!({})
    );
    s.fails(
        Method::POST,
        "/collections/c/points/payload",
        Some(json!({"payload": {"a": 1}})),
        StatusCode::BAD_REQUEST,
        "select points",
    )
    .await;
    s.fails(
        Method::POST,
        "/collections/c/points/payload",
        Some(json!({"payload": [1], "points": [1]})),
        StatusCode::BAD_REQUEST,
        "JSON object",
    )
    .await;
    s.fails(
        Method::POST,
        "/collections/c/points/payload/delete",
        Some(json!({"points": [1]})),
        StatusCode::BAD_REQUEST,
        "keys",
    )
    .await;

    // Payload indexes.
    s.ok(
        Method::PUT,
        "/collections/c/index?wait=true",
        Some(json!({"field_name": "lang", "field_schema": "keyword"})),
    )
    .await;
    let info = s.ok(Method::GET, "/collections/c", None).await;
    assert_eq!(
        info["payload_schema"]["lang"],
        json!({"data_type": "keyword", "points": 1})
    );
    s.fails(
        Method::PUT,
        "/collections/c/index",
        Some(json!({"field_name": "g", "field_schema": "geo"})),
        StatusCode::BAD_REQUEST,
        "unknown payload index type",
    )
    .await;
    s.ok(Method::DELETE, "/collections/c/index/lang", None)
        .await;
    s.fails(
        Method::DELETE,
        "/collections/c/index/lang",
        None,
        StatusCode::BAD_REQUEST,
        "no payload index",
    )
    .await;

    // Deletes, by ids and by filter.
    s.ok(
        Method::POST,
        "/collections/c/points/delete?wait=true",
        Some(json!({"points": [4]})),
    )
    .await;
    s.ok(
        Method::POST,
        "/collections/c/points/delete",
        Some(json!({"filter": {"must": [{"key": "only", "match": {"value": true}}]}})),
    )
    .await;
    assert_eq!(
        s.ok(Method::POST, "/collections/c/points/count", None)
            .await,
        json!({"count": 3})
    );
    s.fails(
        Method::POST,
        "/collections/c/points/delete",
        Some(json!({})),
        StatusCode::BAD_REQUEST,
        "select points",
    )
    .await;
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_and_query_in_every_shape() {
    let s = Server::start().await;
    make_collection(&s, "q", 2).await;
    let points: Vec<Value> = (0..50)
        .map(|i| {
            let a = i as f64 / 50.0 * std::f64::consts::PI;
            json!({"id": i, "vector": [a.cos(), a.sin()], "payload": {"even": i % 2 == 0}})
        })
        .collect();
    s.ok(
        Method::PUT,
        "/collections/q/points",
        Some(json!({"points": points})),
    )
    .await;

    let hits = s
        .ok(
            Method::POST,
            "/collections/q/points/search",
            Some(json!({"vector": [1, 0], "limit": 3, "with_payload": true})),
        )
        .await;
    let ids: Vec<i64> = hits
        .as_array()
        .expect("list")
        .iter()
        .map(|h| h["id"].as_i64().expect("id"))
        .collect();
    assert_eq!(ids, vec![0, 1, 2]);
    assert_eq!(hits[0]["version"], 0);
    assert!((hits[0]["score"].as_f64().expect("score") - 1.0).abs() < 1e-6);
    assert_eq!(hits[1]["payload"], json!({"even": false}));

    let odd = json!({"must": [{"key": "even", "match": {"value": false}}]});
    let r = s
        .ok(
            Method::POST,
            "/collections/q/points/query",
            Some(json!({"query": [1, 0], "limit": 2, "filter": odd, "params": {"hnsw_ef": 64}})),
        )
        .await;
    let ids: Vec<i64> = r["points"]
        .as_array()
        .expect("points")
        .iter()
        .map(|h| h["id"].as_i64().expect("id"))
        .collect();
    assert_eq!(ids, vec![1, 3]);
    assert!(
        r["points"][0].get("payload").is_none(),
        "query returns no payload unless asked"
    );

    // By point id: nearest to point 10's vector, without point 10.
    let r = s
        .ok(
            Method::POST,
            "/collections/q/points/query",
            Some(json!({"query": 10, "limit": 2})),
        )
        .await;
    let ids: Vec<i64> = r["points"]
        .as_array()
        .expect("points")
        .iter()
        .map(|h| h["id"].as_i64().expect("id"))
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&9) && ids.contains(&11), "{ids:?}");
    let r = s.ok(Method::POST, "/collections/q/points/query", Some(json!({"query": {"nearest": [0, 1]}, "limit": 1, "offset": 1, "params": {"exact": true}}))).await;
    assert_eq!(r["points"].as_array().expect("points").len(), 1);
    let r = s
        .ok(
            Method::POST,
            "/collections/q/points/query",
            Some(json!({"query": [1, 0], "limit": 50, "score_threshold": 0.99})),
        )
        .await;
    assert!(r["points"]
        .as_array()
        .expect("points")
        .iter()
        .all(|p| p["score"].as_f64().expect("score") >= 0.99));

    let batch = s.ok(Method::POST, "/collections/q/points/search/batch", Some(json!({"searches": [{"vector": [1, 0], "limit": 1}, {"vector": [-1, 0], "limit": 1}]}))).await;
    assert_eq!(batch[0][0]["id"], 0);
    assert_eq!(batch[1][0]["id"], 49);
    let batch = s
        .ok(
            Method::POST,
            "/collections/q/points/query/batch",
            Some(json!({"searches": [{"query": [1, 0], "limit": 1}, {"query": 0, "limit": 1}]})),
        )
        .await;
    assert_eq!(batch[0]["points"][0]["id"], 0);
    assert_eq!(batch[1]["points"][0]["id"], 1);

    s.fails(
        Method::POST,
        "/collections/q/points/query",
        Some(json!({"query": [1, 0, 0]})),
        StatusCode::BAD_REQUEST,
        "wrong vector dimension",
    )
    .await;
    s.fails(
        Method::POST,
        "/collections/q/points/query",
        Some(json!({"query": 999})),
        StatusCode::NOT_FOUND,
        "point 999 not found",
    )
    .await;
    s.fails(
        Method::POST,
        "/collections/q/points/query",
        Some(json!({"limit": 3})),
        StatusCode::BAD_REQUEST,
        "`query` is required",
    )
    .await;
    s.fails(
        Method::POST,
        "/collections/q/points/query",
        Some(json!({"query": [1, 0], "filter": {"must": [{"key": "x"}]}})),
        StatusCode::BAD_REQUEST,
        "malformed filter",
    )
    .await;
    s.fails(
        Method::POST,
        "/collections/q/points/search",
        Some(json!({"vector": {"name": [1, 0]}})),
        StatusCode::BAD_REQUEST,
        "named and sparse",
    )
    .await;
    s.fails(
        Method::POST,
        "/collections/nope/points/search",
        Some(json!({"vector": [1, 0]})),
        StatusCode::NOT_FOUND,
        "not found",
    )
    .await;
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_bodies_get_400_413_415_and_422() {
    let s = Server::start_with(4_096).await;
    make_collection(&s, "b", 3).await;
    let url = format!("{}/collections/b/points", s.base);
    let send = |body: String, json_type: bool| {
        let mut req = s.client.put(&url).body(body);
        if json_type {
            req = req.header("content-type", "application/json");
        }
        req.send()
    };
    let resp = send("{\"points\": [{\"id\": 1, \"vector\": [1, 0".into(), true)
        .await
        .expect("send");
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let resp = send(
        "{\"points\": [{\"id\": 1, \"vector\": [NaN, 0, 0]}]}".into(),
        true,
    )
    .await
    .expect("send");
    assert_eq!(
        resp.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "NaN is not JSON"
    );
    let big = format!(
        "{{\"points\": [{{\"id\": 1, \"vector\": [1, 0, 0], \"payload\": {{\"x\": \"{}\"}}}}]}}",
        "a".repeat(8_000)
    );
    let resp = send(big, true).await.expect("send");
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let v: Value = resp.json().await.expect("json");
    assert!(v["status"]["error"]
        .as_str()
        .expect("error")
        .contains("limit"));
    let resp = send("{\"points\": []}".into(), false).await.expect("send");
    assert_eq!(resp.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    s.fails(
        Method::PUT,
        "/collections/b/points",
        Some(json!({"points": [{"id": 1, "vector": [1e39, 0, 0]}]})),
        StatusCode::BAD_REQUEST,
        "non-finite",
    )
    .await;
    s.fails(
        Method::PUT,
        "/collections/b/points",
        Some(json!({"points": [{"id": -5, "vector": [1, 0, 0]}]})),
        StatusCode::BAD_REQUEST,
        "unsigned",
    )
    .await;
    s.fails(
        Method::PUT,
        "/collections/b/points",
        Some(json!({"batch": {"ids": [1, 2], "vectors": [[1, 0, 0]]}})),
        StatusCode::BAD_REQUEST,
        "must be equal",
    )
    .await;
    s.fails(
        Method::PUT,
        "/collections/b/points",
        Some(json!({"nothing": 1})),
        StatusCode::BAD_REQUEST,
        "needs `points`",
    )
    .await;
    s.fails(
        Method::POST,
        "/collections/b/points/scroll",
        Some(json!({"limit": "ten"})),
        StatusCode::BAD_REQUEST,
        "format error",
    )
    .await;
    // Search vectors are parsed straight into numbers: a wrong element is
    // a 400 naming the rule, wherever the vector is.
    for (path, body) in [
        ("search", json!({"vector": [1, "a", 0], "limit": 1})),
        ("query", json!({"query": [1, 0, null], "limit": 1})),
        ("query", json!({"query": [[1, 0, 0]], "limit": 1})),
    ] {
        s.fails(
            Method::POST,
            &format!("/collections/b/points/{path}"),
            Some(body),
            StatusCode::BAD_REQUEST,
            "a vector must be a list of numbers",
        )
        .await;
    }
    // A shape error comes first in the text, but the body is not JSON at
    // all: still 422.
    let search = format!("{}/collections/b/points/search", s.base);
    let post_raw = |content_type: &'static str, body: &'static str| {
        s.client
            .post(&search)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let resp = post_raw("application/json", "{\"vector\": \"x\", \"limit\": 1, ")
        .await
        .expect("send");
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // `application/…+json` is JSON too (as with axum's extractor).
    let resp = post_raw(
        "application/vnd.api+json; charset=utf-8",
        "{\"vector\": [1, 0, 0], \"limit\": 1}",
    )
    .await
    .expect("send");
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        s.ok(Method::POST, "/collections/b/points/count", None)
            .await,
        json!({"count": 0}),
        "nothing was written"
    );
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_ready_answers_503() {
    // A router whose engine never loads stands for the loading phase.
    let app = cairn_server::http::router(
        cairn_server::http::AppState::default(),
        &ServeConfig::default(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let client = Client::new();
    let ready = client
        .get(format!("{base}/readyz"))
        .send()
        .await
        .expect("send");
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        client
            .get(format!("{base}/livez"))
            .send()
            .await
            .expect("send")
            .status(),
        StatusCode::OK
    );
    let resp = client
        .get(format!("{base}/collections"))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    let v: Value = resp.json().await.expect("json");
    assert!(v["status"]["error"]
        .as_str()
        .expect("error")
        .contains("loading"));
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_checkpoints_and_data_survives() {
    let s = Server::start().await;
    make_collection(&s, "keep", 3).await;
    s.ok(
        Method::PUT,
        "/collections/keep/points?wait=true",
        Some(json!({"points": [{"id": 7, "vector": [1, 2, 3], "payload": {"k": "v"}}]})),
    )
    .await;
    let (data_dir, _keep) = s.shutdown().await;
    let engine = cairn_engine::Engine::open(&data_dir).expect("reopen");
    let c = engine.collection("keep").expect("collection");
    let info = c.info();
    assert_eq!(info.points_count, 1);
    assert_eq!(info.wal_bytes, 0, "shutdown checkpointed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_keys_gate_reads_and_writes() {
    let s = Server::start_config(|c| {
        c.api_key = Some("full-key".into());
        c.read_only_api_key = Some("read-key".into());
    })
    .await;
    let send =
        |method: Method, path: &str, auth: Option<(&'static str, String)>, body: Option<Value>| {
            let mut req = s.client.request(method, format!("{}{path}", s.base));
            if let Some((name, value)) = auth {
                req = req.header(name, value);
            }
            if let Some(b) = body {
                req = req.json(&b);
            }
            async move { req.send().await.expect("send").status() }
        };
    let full = || Some(("api-key", "full-key".to_string()));
    let bearer = |k: &str| Some(("authorization", format!("Bearer {k}")));
    let read = || Some(("api-key", "read-key".to_string()));
    let create = Some(json!({"vectors": {"size": 2, "distance": "Dot"}}));

    assert_eq!(
        send(Method::GET, "/readyz", None, None).await,
        StatusCode::OK,
        "health stays open"
    );
    assert_eq!(
        send(Method::GET, "/collections", None, None).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        send(
            Method::GET,
            "/collections",
            Some(("api-key", "nope".into())),
            None
        )
        .await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        send(Method::PUT, "/collections/k", read(), create.clone()).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        send(Method::PUT, "/collections/k", full(), create).await,
        StatusCode::OK
    );
    let points = Some(json!({"points": [{"id": 1, "vector": [1, 0]}]}));
    assert_eq!(
        send(Method::PUT, "/collections/k/points", read(), points.clone()).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        send(
            Method::PUT,
            "/collections/k/points",
            bearer("full-key"),
            points
        )
        .await,
        StatusCode::OK
    );
    assert_eq!(
        send(Method::GET, "/collections/k", read(), None).await,
        StatusCode::OK
    );
    assert_eq!(
        send(Method::GET, "/collections/k", bearer("read-key"), None).await,
        StatusCode::OK
    );
    let query = Some(json!({"query": [1, 0]}));
    assert_eq!(
        send(Method::POST, "/collections/k/points/query", read(), query).await,
        StatusCode::OK
    );
    assert_eq!(
        send(
            Method::POST,
            "/collections/k/points/scroll",
            read(),
            Some(json!({}))
        )
        .await,
        StatusCode::OK
    );
    assert_eq!(
        send(Method::POST, "/collections/k/points/count", read(), None).await,
        StatusCode::OK
    );
    assert_eq!(
        send(
            Method::POST,
            "/collections/k/points",
            read(),
            Some(json!({"ids": [1]}))
        )
        .await,
        StatusCode::OK
    );
    let del = Some(json!({"points": [1]}));
    assert_eq!(
        send(Method::POST, "/collections/k/points/delete", read(), del).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        send(Method::DELETE, "/collections/k", read(), None).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        send(Method::POST, "/collections/k/points/count", full(), None).await,
        StatusCode::OK
    );
    let (_, _keep) = s.shutdown().await;

    let closed = Server::start_config(|c| {
        c.api_key = Some("full-key".into());
        c.open_health_endpoints = false;
    })
    .await;
    let status = closed
        .client
        .get(format!("{}/healthz", closed.base))
        .send()
        .await
        .expect("send")
        .status();
    assert_eq!(status, StatusCode::UNAUTHORIZED, "health can be closed too");
    closed.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_routes_collections_and_searches() {
    let s = Server::start().await;
    make_collection(&s, "metered", 2).await;
    s.ok(
        Method::PUT,
        "/collections/metered/points",
        Some(json!({"points": [{"id": 1, "vector": [1, 0]}, {"id": 2, "vector": [0, 1]}]})),
    )
    .await;
    s.ok(
        Method::POST,
        "/collections/metered/points/query",
        Some(json!({"query": [1, 0], "params": {"hnsw_ef": 40}})),
    )
    .await;
    s.fails(
        Method::GET,
        "/collections/missing-one",
        None,
        StatusCode::NOT_FOUND,
        "not found",
    )
    .await;
    let resp = s
        .client
        .get(format!("{}/metrics", s.base))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), StatusCode::OK);
    let text = resp.text().await.expect("text");
    for needle in [
        r#"cairn_http_requests_total{method="PUT",route="/collections/{name}",status="200"}"#,
        r#"cairn_http_requests_total{method="GET",route="/collections/{name}",status="404"}"#,
        r#"cairn_http_request_duration_seconds_bucket{method="POST",route="/collections/{name}/points/query""#,
        r#"cairn_collection_points{collection="metered"} 2"#,
        r#"cairn_collection_segments{collection="metered"} 1"#,
        r#"cairn_wal_bytes{collection="metered"}"#,
        r#"cairn_search_ef_sum{collection="metered"} 40"#,
        r#"cairn_search_results_sum{collection="metered"} 2"#,
        "cairn_process_resident_memory_bytes ",
    ] {
        assert!(text.contains(needle), "metrics lack {needle}:\n{text}");
    }
    assert!(
        !text.contains("missing-one"),
        "raw paths never become labels"
    );
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_handler_is_a_500_and_the_server_keeps_serving() {
    use axum::routing::get;
    // The real layer stack around a route that panics (no such route exists
    // in the API; this stands for a bug that slipped through).
    let routes = axum::Router::new()
        .route("/boom", get(|| async { panic!("a bug") as &'static str }))
        .route("/fine", get(|| async { "fine" }));
    let app = cairn_server::http::layered(routes, &ServeConfig::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let client = Client::new();
    for _ in 0..3 {
        let resp = client
            .get(format!("{base}/boom"))
            .send()
            .await
            .expect("send");
        assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let v: Value = resp.json().await.expect("json");
        assert!(v["status"]["error"]
            .as_str()
            .expect("error shape")
            .contains("internal error"));
        let fine = client
            .get(format!("{base}/fine"))
            .send()
            .await
            .expect("send");
        assert_eq!(fine.status(), StatusCode::OK, "still serving after a panic");
    }
    server.abort();
}

/// Distinct 8-d points (the first component is the id).
fn spread(i: usize) -> Vec<f32> {
    (0..8)
        .map(|d| {
            if d == 0 {
                i as f32
            } else {
                ((i * 7 + d * 13) % 50) as f32
            }
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quantization_config_and_search_params() {
    let s = Server::start().await;
    s.ok(
        Method::PUT,
        "/collections/q",
        Some(json!({
            "vectors": {"size": 8, "distance": "Euclid"},
            "hnsw_config": {"full_scan_threshold": 10},
            "quantization_config": {"scalar": {"type": "int8", "quantile": 0.95, "always_ram": true}}
        })),
    )
    .await;
    let info = s.ok(Method::GET, "/collections/q", None).await;
    assert_eq!(
        info["config"]["quantization_config"]["scalar"]["type"],
        "int8"
    );
    assert!(
        (info["config"]["quantization_config"]["scalar"]["quantile"]
            .as_f64()
            .expect("q")
            - 0.95)
            .abs()
            < 1e-6
    );
    let points: Vec<Value> = (0..500)
        .map(|i| json!({"id": i, "vector": spread(i)}))
        .collect();
    s.ok(
        Method::PUT,
        "/collections/q/points?wait=true",
        Some(json!({"points": points})),
    )
    .await;
    let probe = spread(42);
    for params in [
        json!({}),
        json!({"quantization": {"rescore": true, "oversampling": 2.0}}),
        json!({"quantization": {"ignore": true}}),
        json!({"hnsw_ef": 128, "quantization": {"rescore": false}}),
    ] {
        let found = s
            .ok(
                Method::POST,
                "/collections/q/points/query",
                Some(json!({"query": probe, "limit": 1, "params": params})),
            )
            .await;
        assert_eq!(found["points"][0]["id"], 42, "{params}");
    }
    s.fails(
        Method::POST,
        "/collections/q/points/query",
        Some(json!({"query": probe, "params": {"quantization": {"oversampling": 0.5}}})),
        StatusCode::BAD_REQUEST,
        "oversampling",
    )
    .await;
    for bad in [
        json!({"product": {"compression": "x16"}}),
        json!({"scalar": {"type": "int2"}}),
        json!({"scalar": {"quantile": 0.9}}),
    ] {
        s.fails(
            Method::PATCH,
            "/collections/q",
            Some(json!({"quantization_config": bad})),
            StatusCode::BAD_REQUEST,
            "quantization_config",
        )
        .await;
    }
    s.fails(
        Method::PATCH,
        "/collections/q",
        Some(json!({"quantization_config": {"scalar": {"type": "int8", "quantile": 0.1}}})),
        StatusCode::BAD_REQUEST,
        "quantile",
    )
    .await;
    // Int4 (Cairn's extension): the codes are rebuilt, and searches still
    // find the point.
    s.ok(
        Method::PATCH,
        "/collections/q",
        Some(json!({"quantization_config": {"scalar": {"type": "int4"}}})),
    )
    .await;
    let info = s.ok(Method::GET, "/collections/q", None).await;
    assert_eq!(
        info["config"]["quantization_config"]["scalar"]["type"],
        "int4"
    );
    // Without rescoring, 16 levels over 8 dims tie near neighbours, so only
    // the rescored answer is asserted exact.
    let query = |rescore: bool| {
        json!({"query": probe, "limit": 1,
            "params": {"quantization": {"rescore": rescore}}})
    };
    let found = s
        .ok(
            Method::POST,
            "/collections/q/points/query",
            Some(query(true)),
        )
        .await;
    assert_eq!(found["points"][0]["id"], 42);
    let found = s
        .ok(
            Method::POST,
            "/collections/q/points/query",
            Some(query(false)),
        )
        .await;
    assert!(found["points"][0]["id"].is_u64(), "{found}");
    s.ok(
        Method::PATCH,
        "/collections/q",
        Some(json!({"quantization_config": "Disabled"})),
    )
    .await;
    let info = s.ok(Method::GET, "/collections/q", None).await;
    assert_eq!(info["config"]["quantization_config"], Value::Null);
}
