//! 32 concurrent clients mix upserts and queries against one collection for
//! 30 seconds: no request fails, and every acknowledged write is there
//! afterwards (count and retrieve match what was acknowledged).
//! Traffic stays on loopback; every loop is bounded by the deadline.

mod common;

use std::time::{Duration, Instant};

use common::Server;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const CLIENTS: u64 = 32;
const DIM: usize = 32;
const BATCH: u64 = 8;
const RUN_FOR: Duration = Duration::from_secs(30);

/// A small deterministic generator, so each client's vectors are its own.
fn vector(seed: u64) -> Vec<f32> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..DIM)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % 2_000) as f32 / 1_000.0 - 1.0
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_two_clients_lose_no_acknowledged_write() {
    let s = Server::start().await;
    s.ok(
        Method::PUT,
        "/collections/soak",
        Some(json!({"vectors": {"size": DIM, "distance": "Cosine"}})),
    )
    .await;
    let deadline = Instant::now() + RUN_FOR;
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let (http, base) = (s.client.clone(), s.base.clone());
            tokio::spawn(async move {
                let (mut acked, mut queries, mut seq) = (Vec::new(), 0u64, 0u64);
                while Instant::now() < deadline {
                    let ids: Vec<u64> = (0..BATCH).map(|k| client * 1_000_000 + seq * BATCH + k).collect();
                    let points: Vec<Value> = ids
                        .iter()
                        .map(|id| json!({"id": id, "vector": vector(*id), "payload": {"client": client, "seq": seq}}))
                        .collect();
                    let resp = http
                        .put(format!("{base}/collections/soak/points?wait=true"))
                        .json(&json!({"points": points}))
                        .send()
                        .await
                        .expect("upsert sent");
                    assert_eq!(resp.status(), StatusCode::OK, "client {client}: upsert failed");
                    acked.extend(ids);
                    seq += 1;
                    let resp = http
                        .post(format!("{base}/collections/soak/points/query"))
                        .json(&json!({"query": vector(client ^ seq), "limit": 10, "with_payload": true}))
                        .send()
                        .await
                        .expect("query sent");
                    assert_eq!(resp.status(), StatusCode::OK, "client {client}: query failed");
                    let body: Value = resp.json().await.expect("json");
                    assert!(body["result"]["points"].as_array().expect("points").len() <= 10);
                    queries += 1;
                }
                (acked, queries)
            })
        })
        .collect();
    let mut acked = Vec::new();
    let mut queries = 0;
    for t in tasks {
        let (ids, q) = t.await.expect("client task");
        acked.extend(ids);
        queries += q;
    }
    eprintln!("{} acknowledged points, {queries} queries", acked.len());
    assert!(queries >= CLIENTS, "every client got to query");

    let count = s
        .ok(
            Method::POST,
            "/collections/soak/points/count",
            Some(json!({"exact": true})),
        )
        .await;
    assert_eq!(
        count["count"],
        acked.len(),
        "count equals acknowledged writes"
    );
    for chunk in acked.chunks(1_000) {
        let got = s
            .ok(
                Method::POST,
                "/collections/soak/points",
                Some(json!({"ids": chunk})),
            )
            .await;
        let got = got.as_array().expect("records");
        assert_eq!(
            got.len(),
            chunk.len(),
            "every acknowledged id is retrievable"
        );
        for r in got {
            let id = r["id"].as_u64().expect("id");
            assert_eq!(
                r["payload"]["client"],
                id / 1_000_000,
                "point {id} has its writer's payload"
            );
        }
    }
    s.shutdown().await;
}
