//! The `cairn` CLI, run as a real process.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn cairn(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cairn"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .output()
        .expect("run cairn")
}

fn ok(data: &Path, args: &[&str]) -> String {
    let out = cairn(data, args);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn fails(data: &Path, args: &[&str], needle: &str) {
    let out = cairn(data, args);
    assert!(!out.status.success(), "{args:?} should fail");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(needle),
        "{args:?}: stderr {err:?} should mention {needle:?}"
    );
}

#[test]
fn create_import_search_info_drop() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    ok(
        &data,
        &[
            "collection",
            "create",
            "docs",
            "--dim",
            "3",
            "--distance",
            "cosine",
            "--m",
            "16",
            "--ef-construct",
            "100",
        ],
    );
    let file = dir.path().join("points.jsonl");
    std::fs::write(
        &file,
        concat!(
            "{\"id\": 1, \"vector\": [1, 0, 0], \"payload\": {\"lang\": \"en\"}}\n",
            "{\"id\": \"550e8400-e29b-41d4-a716-446655440000\", \"vector\": [0, 1, 0], \"payload\": {\"lang\": \"fr\"}}\n",
            "\n",
            "{\"id\": 3, \"vector\": [0.9, 0.1, 0]}\n"
        ),
    )
    .expect("write");
    assert!(ok(
        &data,
        &[
            "import",
            "--collection",
            "docs",
            file.to_str().expect("utf8")
        ]
    )
    .contains("imported 3"));

    let out = ok(
        &data,
        &[
            "search",
            "--collection",
            "docs",
            "--vector",
            "[1, 0, 0]",
            "-k",
            "2",
            "--json",
        ],
    );
    let hits: Vec<Value> = serde_json::from_str(&out).expect("json output");
    assert_eq!(hits.len(), 2);
    assert_eq!(hits[0]["id"], 1);
    assert_eq!(hits[0]["payload"]["lang"], "en");
    assert_eq!(hits[1]["id"], 3);
    assert!(hits[0]["score"].as_f64().expect("score") > hits[1]["score"].as_f64().expect("score"));

    let filter = r#"{"must": [{"key": "lang", "match": {"value": "fr"}}]}"#;
    let out = ok(
        &data,
        &[
            "search",
            "--collection",
            "docs",
            "--vector",
            "[1, 0, 0]",
            "--filter",
            filter,
            "--json",
        ],
    );
    let hits: Vec<Value> = serde_json::from_str(&out).expect("json output");
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0]["id"], "550e8400-e29b-41d4-a716-446655440000");

    let human = ok(
        &data,
        &["search", "--collection", "docs", "--vector", "[1, 0, 0]"],
    );
    assert!(
        human.contains("score") && human.contains("\"lang\":\"en\""),
        "{human}"
    );

    let info: Value =
        serde_json::from_str(&ok(&data, &["collection", "info", "docs", "--json"])).expect("json");
    assert_eq!(info["points_count"], 3);
    assert_eq!(info["config"]["hnsw"]["m"], 16);
    let list: Vec<String> =
        serde_json::from_str(&ok(&data, &["collection", "list", "--json"])).expect("json");
    assert_eq!(list, vec!["docs"]);
    ok(&data, &["collection", "drop", "docs"]);
    assert!(ok(&data, &["collection", "list"]).contains("no collections"));
}

#[test]
fn fvecs_import() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let file = dir.path().join("v.fvecs");
    let vectors = cairn_datasets::Vectors {
        dim: 2,
        data: vec![1.0, 0.0, 0.0, 1.0, 0.7, 0.7],
    };
    cairn_datasets::texmex::write_fvecs(&file, &vectors).expect("write");
    ok(
        &data,
        &[
            "collection",
            "create",
            "v",
            "--dim",
            "2",
            "--distance",
            "euclid",
        ],
    );
    assert!(ok(
        &data,
        &["import", "--collection", "v", file.to_str().expect("utf8")]
    )
    .contains("imported 3"));
    let hits: Vec<Value> = serde_json::from_str(&ok(
        &data,
        &[
            "search",
            "--collection",
            "v",
            "--vector",
            "[0.7, 0.7]",
            "-k",
            "1",
            "--json",
        ],
    ))
    .expect("json");
    assert_eq!(hits[0]["id"], 2);
    assert_eq!(hits[0]["score"], 0.0);
}

#[test]
fn errors_go_to_stderr_with_a_nonzero_exit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    fails(
        &data,
        &[
            "collection",
            "create",
            "../x",
            "--dim",
            "3",
            "--distance",
            "dot",
        ],
        "invalid collection name",
    );
    fails(
        &data,
        &[
            "collection",
            "create",
            "c",
            "--dim",
            "0",
            "--distance",
            "dot",
        ],
        "dim must be",
    );
    fails(
        &data,
        &[
            "collection",
            "create",
            "c",
            "--dim",
            "3",
            "--distance",
            "manhattan",
        ],
        "invalid value",
    );
    ok(
        &data,
        &[
            "collection",
            "create",
            "c",
            "--dim",
            "3",
            "--distance",
            "dot",
        ],
    );
    fails(
        &data,
        &[
            "collection",
            "create",
            "c",
            "--dim",
            "3",
            "--distance",
            "dot",
        ],
        "already exists",
    );
    fails(&data, &["collection", "info", "nope"], "not found");
    fails(
        &data,
        &["search", "--collection", "c", "--vector", "[1, 2]"],
        "wrong vector dimension",
    );
    fails(
        &data,
        &["search", "--collection", "c", "--vector", "[1, 2"],
        "--vector must be a JSON array",
    );
    fails(
        &data,
        &[
            "search",
            "--collection",
            "c",
            "--vector",
            "[1, 2, 3]",
            "--filter",
            "{\"must\": 5}",
        ],
        "malformed filter",
    );
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(
        &bad,
        "{\"id\": 1, \"vector\": [1, 2, 3]}\n{\"id\": 2, \"vector\": [1, 2]}\n",
    )
    .expect("write");
    fails(
        &data,
        &["import", "--collection", "c", bad.to_str().expect("utf8")],
        "wrong vector dimension",
    );
    let info: Value =
        serde_json::from_str(&ok(&data, &["collection", "info", "c", "--json"])).expect("json");
    assert_eq!(
        info["points_count"], 0,
        "the refused batch left nothing behind"
    );
    std::fs::write(&bad, "{\"id\": -1, \"vector\": [1, 2, 3]}\n").expect("write");
    fails(
        &data,
        &["import", "--collection", "c", bad.to_str().expect("utf8")],
        "line 1",
    );
}

/// `cairn serve` as a process: settings from a TOML file and `CAIRN_*`
/// variables, serving, and exit code 0 after SIGTERM.
#[test]
fn serve_reads_config_and_env_and_stops_cleanly_on_sigterm() {
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::time::{Duration, Instant};

    let dir = tempfile::tempdir().expect("tempdir");
    let port = TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let config = dir.path().join("cairn.toml");
    let data = dir.path().join("from-config");
    std::fs::write(
        &config,
        format!("data_dir = {:?}\nlisten = \"127.0.0.1:1\"\n", data),
    )
    .expect("write");
    let mut child = Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(["serve", "--config", config.to_str().expect("utf8")])
        .env("CAIRN_LISTEN", format!("127.0.0.1:{port}")) // the variable beats the file
        .env_remove("CAIRN_DATA_DIR")
        .spawn()
        .expect("spawn serve");
    let get = |path: &str| -> Option<String> {
        let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .ok()?;
        let mut out = String::new();
        s.read_to_string(&mut out).ok()?;
        Some(out)
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while !get("/readyz").is_some_and(|r| r.starts_with("HTTP/1.1 200")) {
        assert!(Instant::now() < deadline, "serve did not become ready");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(get("/collections")
        .expect("answer")
        .contains("\"collections\":[]"));
    assert!(
        data.join("collections").is_dir(),
        "data_dir came from the config file"
    );
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let status = child.wait().expect("wait");
    assert!(
        status.success(),
        "serve exits 0 after SIGTERM, got {status:?}"
    );
}
