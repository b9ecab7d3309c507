//! Backups against a real S3-compatible server (moto, started here on
//! 127.0.0.1 from the project's venv), driven through the `cairn` binary:
//! the disaster runbook end to end (back up, lose the data directory,
//! list and restore onto an empty one, same search results), verify,
//! GFS prune, and an S3 server stopped mid-upload (the run is recorded as
//! failed and no backup claims to be complete).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use cairn_server::catalog::{default_url, Catalog};
use serde_json::Value;

struct Moto {
    child: Child,
    endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn moto() -> Moto {
    let python = Command::new(repo().join("scripts/python_env.sh"))
        .output()
        .expect("scripts/python_env.sh");
    assert!(python.status.success(), "python env: {python:?}");
    let bin =
        PathBuf::from(String::from_utf8_lossy(&python.stdout).trim()).with_file_name("moto_server");
    let port = TcpListener::bind("127.0.0.1:0")
        .expect("free port")
        .local_addr()
        .expect("addr")
        .port();
    let child = Command::new(bin)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start moto_server");
    let endpoint = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        // Moto takes unsigned requests: create the bucket directly.
        let created = raw_http::blocking_put(&format!("{endpoint}/backups"));
        if created {
            break;
        }
        assert!(Instant::now() < deadline, "moto did not start");
        std::thread::sleep(Duration::from_millis(200));
    }
    Moto { child, endpoint }
}

/// Tiny blocking HTTP helpers over std, so the test needs no runtime.
mod raw_http {
    use std::io::{Read, Write};
    use std::net::TcpStream;

    fn request(url: &str, method: &str) -> Option<String> {
        let rest = url.strip_prefix("http://")?;
        let (host, path) = rest
            .split_once('/')
            .map_or((rest, "/".to_string()), |(h, p)| (h, format!("/{p}")));
        let mut stream = TcpStream::connect(host).ok()?;
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .ok()?;
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
        .ok()?;
        let mut out = String::new();
        stream.read_to_string(&mut out).ok()?;
        Some(out)
    }

    pub fn blocking_put(url: &str) -> bool {
        request(url, "PUT").is_some_and(|r| r.starts_with("HTTP/1.1 200"))
    }

    pub fn blocking_get(url: &str) -> Option<String> {
        request(url, "GET")
    }
}

struct Cairn<'a> {
    data: &'a Path,
    endpoint: &'a str,
    config: Option<&'a Path>,
}

impl Cairn<'_> {
    /// `cairn --data-dir D ARGS` with the test S3 server in the standard
    /// variables (and `--config` for backup commands, when set).
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_cairn"));
        cmd.arg("--data-dir").arg(self.data).args(args);
        if let Some(config) = self.config {
            if args[0] == "backup" {
                cmd.arg("--config").arg(config);
            }
        }
        cmd.env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ENDPOINT_URL", self.endpoint)
            .env("AWS_ALLOW_HTTP", "true");
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run cairn")
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "cairn {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

const LOCATION: &str = "s3://backups/cairn";

fn load(cairn: &Cairn, dir: &Path, name: &str, n: usize, dim: usize) {
    cairn.ok(&[
        "collection",
        "create",
        name,
        "--dim",
        &dim.to_string(),
        "--distance",
        "cosine",
    ]);
    let file = dir.join(format!("{name}.jsonl"));
    let lines: Vec<String> = (0..n)
        .map(|i| {
            let v: Vec<f32> = (0..dim)
                .map(|d| (((i * 31 + d * 17) % 97) as f32 - 48.0) / 10.0)
                .collect();
            serde_json::json!({"id": i, "vector": v, "payload": {"i": i}}).to_string()
        })
        .collect();
    std::fs::write(&file, lines.join("\n")).expect("write points");
    cairn.ok(&["import", "--collection", name, file.to_str().expect("utf8")]);
}

fn search(cairn: &Cairn, name: &str, dim: usize) -> Value {
    let q: Vec<f32> = (0..dim).map(|d| (d % 5) as f32 - 2.0).collect();
    let out = cairn.ok(&[
        "search",
        "--collection",
        name,
        "--vector",
        &serde_json::to_string(&q).expect("json"),
        "-k",
        "10",
        "--json",
    ]);
    serde_json::from_str(&out).expect("search json")
}

#[test]
fn disaster_runbook_backup_lose_everything_restore() {
    let s3 = moto();
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let cairn = Cairn {
        data: &data,
        endpoint: &s3.endpoint,
        config: None,
    };
    load(&cairn, dir.path(), "docs", 2_000, 32);
    load(&cairn, dir.path(), "notes", 300, 8);
    let before = (search(&cairn, "docs", 32), search(&cairn, "notes", 8));

    let created: Value = serde_json::from_str(&cairn.ok(&[
        "backup",
        "create",
        "--all",
        "--location",
        LOCATION,
        "--json",
    ]))
    .expect("json");
    let id = created["id"].as_str().expect("id").to_string();
    assert_eq!(created["collections"].as_array().map(Vec::len), Some(2));
    // The run is recorded as good in the catalog.
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let row = rt.block_on(async {
        let c = Catalog::open(&default_url(&data)).await.expect("catalog");
        let row = c.backup(&id).await.expect("query").expect("row");
        c.close().await;
        row
    });
    assert_eq!(row.status, "good", "{row:?}");
    assert!(row.size > 0);

    let verified = cairn.ok(&["backup", "verify", &id, "--location", LOCATION]);
    assert!(verified.contains("verified"), "{verified}");

    // The disk dies: nothing of the data directory is left.
    std::fs::remove_dir_all(&data).expect("rm -rf data");
    let listed: Value =
        serde_json::from_str(&cairn.ok(&["backup", "list", "--location", LOCATION, "--json"]))
            .expect("json");
    assert_eq!(listed[0]["id"], id.as_str(), "{listed}");
    cairn.ok(&["backup", "restore", &id, "--location", LOCATION]);
    assert_eq!(
        (search(&cairn, "docs", 32), search(&cairn, "notes", 8)),
        before
    );

    // Restore a single collection under another name.
    let single: Value = serde_json::from_str(&cairn.ok(&[
        "backup",
        "create",
        "--collection",
        "notes",
        "--location",
        LOCATION,
        "--json",
    ]))
    .expect("json");
    let single_id = single["id"].as_str().expect("id");
    cairn.ok(&[
        "backup",
        "restore",
        single_id,
        "--location",
        LOCATION,
        "--as",
        "notes2",
    ]);
    assert_eq!(search(&cairn, "notes2", 8), before.1);
    // --as needs a single-collection backup; unknown ids are named.
    let out = cairn.run(&[
        "backup",
        "restore",
        &id,
        "--location",
        LOCATION,
        "--as",
        "x",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--as works with a single one"));
    let out = cairn.run(&[
        "backup",
        "verify",
        "20990101T000000Z-ffff",
        "--location",
        LOCATION,
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no complete backup"));

    // Prune with zero retention keeps only the newest.
    let config = dir.path().join("cairn.toml");
    std::fs::write(
        &config,
        "[backup]\nkeep_hourly = 0\nkeep_daily = 0\nkeep_weekly = 0\n",
    )
    .expect("config");
    let pruning = Cairn {
        config: Some(&config),
        ..cairn
    };
    let pruned: Value =
        serde_json::from_str(&pruning.ok(&["backup", "prune", "--location", LOCATION, "--json"]))
            .expect("json");
    assert_eq!(pruned["deleted"], serde_json::json!([id]));
    let listed: Value =
        serde_json::from_str(&cairn.ok(&["backup", "list", "--location", LOCATION, "--json"]))
            .expect("json");
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
    assert_eq!(listed[0]["id"], single_id);
}

#[test]
fn an_s3_server_stopped_mid_upload_leaves_a_failed_run_and_no_backup() {
    let s3 = moto();
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let config = dir.path().join("cairn.toml");
    // Short timeouts and no retries, so the failure shows in seconds.
    std::fs::write(
        &config,
        "[backup]\nmultipart_part_bytes = 5242880\n[backup.s3]\ntimeout_secs = 3\nmax_retries = 0\n",
    )
    .expect("config");
    let cairn = Cairn {
        data: &data,
        endpoint: &s3.endpoint,
        config: Some(&config),
    };
    // ~50 MB of vectors: several 5 MiB parts.
    load(&cairn, dir.path(), "big", 16_000, 768);

    let mut child = cairn
        .command(&["backup", "create", "--all", "--location", LOCATION])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn backup");
    // Wait until a multipart upload is in progress, then freeze the server.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let uploads =
            raw_http::blocking_get(&format!("{}/backups?uploads", s3.endpoint)).unwrap_or_default();
        if uploads.contains("<UploadId>") {
            break;
        }
        assert!(Instant::now() < deadline, "no upload started");
        assert!(
            child.try_wait().expect("poll").is_none(),
            "backup ended before uploading"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = s3.child.id().to_string();
    assert!(Command::new("kill")
        .args(["-STOP", &pid])
        .status()
        .expect("kill")
        .success());
    let output = child.wait_with_output().expect("backup exits");
    assert!(Command::new("kill")
        .args(["-CONT", &pid])
        .status()
        .expect("kill")
        .success());
    assert!(!output.status.success(), "the backup must fail");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("uploading big"), "{stderr}");

    // No backup claims to be complete, and the run is recorded as failed.
    let cairn = Cairn {
        config: None,
        ..cairn
    };
    let listed: Value =
        serde_json::from_str(&cairn.ok(&["backup", "list", "--location", LOCATION, "--json"]))
            .expect("json");
    assert_eq!(listed, serde_json::json!([]));
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let rows = rt.block_on(async {
        let c = Catalog::open(&default_url(&data)).await.expect("catalog");
        let rows = c.list_backups().await.expect("rows");
        c.close().await;
        rows
    });
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].status, "failed", "{rows:?}");
    assert!(rows[0].error.as_deref().is_some_and(|e| !e.is_empty()));
    // The collection is intact, and a later backup succeeds.
    cairn.ok(&["backup", "create", "--all", "--location", LOCATION]);
}

/// `cairn serve` with `backup.schedule` backs up on its own and records each
/// run; the health report then sees a fresh good backup, and `cairn health`
/// exits with the report's verdict.
#[test]
fn the_server_backs_up_on_schedule_and_reports_health() {
    use cairn_server::config::ServeConfig;

    let s3 = moto();
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let cairn = Cairn {
        data: &data,
        endpoint: &s3.endpoint,
        config: None,
    };
    load(&cairn, dir.path(), "docs", 500, 16);

    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let mut config = ServeConfig {
            data_dir: data.clone(),
            ..ServeConfig::default()
        };
        let b = &mut config.sidecars.backup;
        b.location = Some(LOCATION.into());
        // Every two seconds (six fields: with seconds).
        b.schedule = Some("*/2 * * * * *".into());
        b.s3.endpoint = Some(s3.endpoint.clone());
        b.s3.access_key_id = Some("testing".into());
        b.s3.secret_access_key = Some("testing".into());
        b.s3.region = Some("us-east-1".into());
        b.s3.allow_http = Some(true);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(cairn_server::http::serve(listener, config, async move {
            let _ = stopped.await;
        }));
        let url = default_url(&data);
        let deadline = Instant::now() + Duration::from_secs(60);
        let catalog = loop {
            if let Ok(c) = Catalog::connect(&url).await {
                if c.list_backups()
                    .await
                    .is_ok_and(|rows| rows.iter().filter(|r| r.status == "good").count() >= 2)
                {
                    break c;
                }
            }
            assert!(Instant::now() < deadline, "no scheduled backups recorded");
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        let rows = catalog.list_backups().await.expect("rows");
        assert!(rows.iter().all(|r| r.trigger == "schedule"), "{rows:?}");
        // One at a time: no two runs overlap.
        let mut spans: Vec<(i64, i64)> = rows
            .iter()
            .filter_map(|r| Some((r.started_at, r.finished_at?)))
            .collect();
        spans.sort();
        assert!(spans.windows(2).all(|w| w[0].1 <= w[1].0), "{spans:?}");

        let base = format!("http://{addr}");
        let report: Value = ::reqwest::get(format!("{base}/health/report"))
            .await
            .expect("report")
            .json()
            .await
            .expect("json");
        let backup = report["components"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["name"] == "backup"))
            .cloned()
            .expect("backup component");
        assert_eq!(backup["status"], "HEALTHY", "{report}");

        // `cairn health` prints the same verdict and exits with it.
        let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_cairn"))
            .args(["health", "--server", &base, "--json"])
            .output()
            .await
            .expect("cairn health");
        let printed: Value = serde_json::from_slice(&out.stdout).expect("health json");
        let code = match printed["status"].as_str() {
            Some("HEALTHY") => 0,
            Some("WARNING") => 1,
            _ => 2,
        };
        assert_eq!(out.status.code(), Some(code), "{printed}");
        let table = tokio::process::Command::new(env!("CARGO_BIN_EXE_cairn"))
            .args(["health", "--server", &base])
            .output()
            .await
            .expect("cairn health");
        let text = String::from_utf8_lossy(&table.stdout);
        assert!(
            text.contains("COMPONENT") && text.contains("backup"),
            "{text}"
        );
        let unreachable = tokio::process::Command::new(env!("CARGO_BIN_EXE_cairn"))
            .args(["health", "--server", "http://127.0.0.1:9"])
            .output()
            .await
            .expect("cairn health");
        assert_eq!(unreachable.status.code(), Some(3));

        // Recover a collection over HTTP straight from the bucket (s3://).
        let b = cairn_server::config::BackupConfig {
            s3: cairn_server::backup::location::S3Settings {
                endpoint: Some(s3.endpoint.clone()),
                access_key_id: Some("testing".into()),
                secret_access_key: Some("testing".into()),
                region: Some("us-east-1".into()),
                allow_http: Some(true),
                ..Default::default()
            },
            ..Default::default()
        };
        let location = cairn_server::backup::Location::open(LOCATION, &b.s3).expect("location");
        let newest = cairn_server::backup::list(&location).await.expect("list");
        let key = format!("s3://backups/cairn/{}/docs.snapshot", newest[0].id);
        let client = ::reqwest::Client::new();
        let recovered: Value = client
            .put(format!("{base}/collections/from_s3/snapshots/recover"))
            .json(
                &serde_json::json!({"location": key, "checksum": newest[0].collections[0].sha256}),
            )
            .send()
            .await
            .expect("recover")
            .json()
            .await
            .expect("json");
        assert_eq!(recovered["result"], true, "{recovered}");
        let counted: Value = client
            .post(format!("{base}/collections/from_s3/points/count"))
            .json(&serde_json::json!({"exact": true}))
            .send()
            .await
            .expect("count")
            .json()
            .await
            .expect("json");
        assert_eq!(counted["result"]["count"], 500, "{counted}");
        let log = catalog.audit_log(100).await.expect("audit");
        assert!(
            log.iter()
                .any(|e| e.action == "backup" && e.actor == "schedule"),
            "{log:?}"
        );

        let _ = stop.send(());
        server.await.expect("join").expect("serve ended cleanly");
    });
    // The backups are real, and each scheduled run pruned by the default
    // retention (24 hourly, …): of several runs in this hour, only the
    // newest is kept.
    let listed: Value =
        serde_json::from_str(&cairn.ok(&["backup", "list", "--location", LOCATION, "--json"]))
            .expect("json");
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    assert_eq!(listed[0]["collections"][0]["points_count"], 500);
}
