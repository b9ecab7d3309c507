//! The metadata catalog: one suite, run against embedded SQLite and a real
//! PostgreSQL (started by scripts/postgres.sh on 127.0.0.1, or
//! `DATABASE_URL` when given) — migrations up/down, documents and chunks
//! (two documents may share content), backups, the audit log.

use std::process::Command;

use cairn_server::catalog::{Backend, Catalog, NewDocument};

async fn suite(url: &str, backend: Backend) {
    let catalog = Catalog::open(url).await.expect("open + migrate");
    assert_eq!(catalog.backend(), backend);
    let status = catalog.status().await.expect("status");
    assert!(
        status.len() >= 2 && status.iter().all(|m| m.applied),
        "{status:?}"
    );

    // Rollback one step, then migrate forward again.
    let reverted = catalog.rollback(1).await.expect("rollback");
    assert_eq!(reverted, [status.last().expect("some").version]);
    let after = catalog.status().await.expect("status");
    assert!(!after.last().expect("some").applied);
    assert!(after[0].applied);
    catalog.migrate().await.expect("migrate again");
    assert!(catalog
        .status()
        .await
        .expect("status")
        .iter()
        .all(|m| m.applied));

    // Documents and their chunks.
    catalog
        .record_collection("docs", 384, "Cosine")
        .await
        .expect("collection");
    let doc = |id: &'static str, hash: &'static str| NewDocument {
        collection: "docs",
        document_id: id,
        source: Some("/corpus/a.md"),
        title: Some("A"),
        content_hash: hash,
    };
    let points: Vec<String> = (0..3).map(|i| format!("p{i}")).collect();
    let a = catalog
        .put_document(&doc("a", "h1"), &points)
        .await
        .expect("put");
    catalog
        .put_document(&doc("b", "h2"), &points[..1])
        .await
        .expect("put b");
    assert_eq!(catalog.chunk_points(a).await.expect("chunks"), points);
    let found = catalog
        .document_by_hash("docs", "h1")
        .await
        .expect("by hash")
        .expect("found");
    assert_eq!((found.document_id.as_str(), found.chunk_count), ("a", 3));
    // Two documents may share content (migration 3 dropped the unique key).
    catalog
        .put_document(&doc("c", "h1"), &[])
        .await
        .expect("same content, other document");
    assert!(catalog.delete_document("docs", "c").await.expect("delete"));
    assert!(!catalog.delete_document("docs", "c").await.expect("again"));
    // Re-putting a document replaces its chunks.
    let a2 = catalog
        .put_document(&doc("a", "h3"), &points[..2])
        .await
        .expect("replace");
    assert_eq!(catalog.chunk_points(a2).await.expect("chunks").len(), 2);
    assert!(catalog
        .document_by_hash("docs", "h1")
        .await
        .expect("q")
        .is_none());
    let listed = catalog.list_documents("docs", 10, 0).await.expect("list");
    let summary: Vec<(&str, i64)> = listed
        .iter()
        .map(|d| (d.document_id.as_str(), d.chunk_count))
        .collect();
    assert_eq!(summary, [("a", 2), ("b", 1)]);
    assert_eq!(
        catalog
            .list_documents("docs", 1, 1)
            .await
            .expect("page")
            .len(),
        1
    );

    // Ingestion runs, backups, audit.
    let run = catalog.start_ingestion_run("docs").await.expect("run");
    catalog
        .finish_ingestion_run(run, "done", [2, 0, 1, 0], None)
        .await
        .expect("finish run");
    assert_eq!(catalog.last_good_backup_ms().await.expect("q"), None);
    catalog
        .start_backup("b1", "s3://x/y", &["docs".into()], "cli")
        .await
        .expect("start");
    catalog
        .finish_backup("b1", true, 123, Some("abc"), None)
        .await
        .expect("finish");
    catalog
        .start_backup("b2", "s3://x/y", &["docs".into()], "schedule")
        .await
        .expect("start");
    catalog
        .finish_backup("b2", false, 0, None, Some("S3 down"))
        .await
        .expect("finish");
    catalog.mark_verified("b1").await.expect("verify");
    let b1 = catalog.backup("b1").await.expect("q").expect("row");
    assert_eq!((b1.status.as_str(), b1.size), ("good", 123));
    assert!(b1.verified_at.is_some());
    let b2 = catalog.backup("b2").await.expect("q").expect("row");
    assert_eq!(
        (b2.status.as_str(), b2.error.as_deref()),
        ("failed", Some("S3 down"))
    );
    assert_eq!(
        catalog.last_good_backup_ms().await.expect("q"),
        b1.finished_at
    );
    catalog
        .audit("full:1a2b3c4d", "create_collection", Some("docs"), "")
        .await
        .expect("audit");
    catalog
        .audit("cli:root", "prune", None, "b0")
        .await
        .expect("audit");
    let log = catalog.audit_log(10).await.expect("log");
    assert_eq!(log[0].action, "prune");
    assert_eq!(log[1].collection.as_deref(), Some("docs"));

    // Dropping a collection forgets its documents.
    catalog.forget_collection("docs").await.expect("forget");
    assert!(catalog
        .list_documents("docs", 10, 0)
        .await
        .expect("list")
        .is_empty());
    assert!(catalog.ping().await.is_ok());
    catalog.close().await;
}

#[tokio::test]
async fn catalog_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = cairn_server::catalog::default_url(dir.path());
    suite(&url, Backend::Sqlite).await;
    // The file persists: reopening finds the schema applied.
    let again = Catalog::open(&url).await.expect("reopen");
    assert!(again
        .status()
        .await
        .expect("status")
        .iter()
        .all(|m| m.applied));
}

/// A fresh database on the test PostgreSQL server, so runs never collide.
async fn fresh_postgres() -> String {
    let base = match std::env::var("DATABASE_URL") {
        Ok(url) => url,
        Err(_) => {
            let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/postgres.sh");
            let out = Command::new(script).output().expect("scripts/postgres.sh");
            assert!(
                out.status.success(),
                "postgres.sh: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8_lossy(&out.stdout).trim().to_string()
        }
    };
    sqlx::any::install_default_drivers();
    let admin = sqlx::AnyPool::connect(&base)
        .await
        .expect("connect postgres");
    let name = format!("cairn_test_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin)
        .await
        .expect("create database");
    admin.close().await;
    let (prefix, _) = base.rsplit_once('/').expect("url has a database");
    format!("{prefix}/{name}")
}

#[tokio::test]
async fn catalog_on_postgres() {
    let url = fresh_postgres().await;
    suite(&url, Backend::Postgres).await;
}

/// `cairn db status | rollback | migrate` on the default SQLite catalog.
#[test]
fn db_commands() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cairn = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_cairn"))
            .arg("--data-dir")
            .arg(dir.path())
            .args(args)
            .env_remove("CAIRN_METADATA_URL")
            .output()
            .expect("cairn");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let applied = |json: &str| -> Vec<bool> {
        let v: serde_json::Value = serde_json::from_str(json).expect("json");
        v.as_array()
            .expect("array")
            .iter()
            .map(|m| m["applied"].as_bool().expect("bool"))
            .collect()
    };
    assert_eq!(
        applied(&cairn(&["db", "status", "--json"])),
        [false, false, false]
    );
    cairn(&["db", "migrate"]);
    assert_eq!(
        applied(&cairn(&["db", "status", "--json"])),
        [true, true, true]
    );
    assert!(cairn(&["db", "rollback"]).contains("[3]"));
    assert_eq!(
        applied(&cairn(&["db", "status", "--json"])),
        [true, true, false]
    );
    assert!(cairn(&["db", "rollback", "--steps", "5"]).contains("[1, 2]"));
    assert_eq!(
        applied(&cairn(&["db", "status", "--json"])),
        [false, false, false]
    );
    assert!(cairn(&["db", "status"]).contains("pending"));
    cairn(&["db", "migrate"]);
    assert_eq!(
        applied(&cairn(&["db", "status", "--json"])),
        [true, true, true]
    );
    let out = Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(["db", "status", "--metadata-url", "mysql://nope"])
        .output()
        .expect("cairn");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unsupported metadata_url"));
}
