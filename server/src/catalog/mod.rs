//! The metadata catalog: what Cairn knows *about* its data, in SQL —
//! collections, ingested documents and their chunks' point ids, ingestion
//! runs, backups, and an audit log of who did what.
//!
//! One code path serves both backends through `sqlx`'s `Any` driver:
//! embedded SQLite by default (`<data>/meta.db`) and PostgreSQL when
//! `metadata_url = "postgres://…"`. Queries use `$n` placeholders, which both
//! understand, and store times as Unix milliseconds. Each backend has its own
//! versioned, reversible migrations (`server/migrations/<backend>/`), applied
//! at start; `cairn db migrate | status | rollback` runs them by hand.

mod records;

use std::time::{Duration, Instant};

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::migrate::{Migrate, Migrator};
use sqlx::{AnyPool, Row};

pub use records::{AuditEntry, BackupRow, DocumentRow, MigrationState, NewDocument};

static SQLITE: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES: Migrator = sqlx::migrate!("migrations/postgres");

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("metadata database: {0}")]
    Sql(#[from] sqlx::Error),
    #[error("metadata database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported metadata_url `{0}`: use sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
}

pub type Result<T, E = CatalogError> = std::result::Result<T, E>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub struct Catalog {
    pool: AnyPool,
    backend: Backend,
}

pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// The default catalog of a data directory: `<data>/meta.db`.
pub fn default_url(data_dir: &std::path::Path) -> String {
    format!("sqlite://{}?mode=rwc", data_dir.join("meta.db").display())
}

impl Catalog {
    /// Connects, without migrating.
    pub async fn connect(url: &str) -> Result<Catalog> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(CatalogError::UnsupportedUrl(redact(url)));
        };
        if backend == Backend::Sqlite {
            if let Some(dir) = url
                .trim_start_matches("sqlite://")
                .split('?')
                .next()
                .and_then(|p| std::path::Path::new(p).parent())
            {
                let _ = std::fs::create_dir_all(dir);
            }
        }
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 4 } else { 8 })
            .acquire_timeout(Duration::from_secs(5))
            .connect(url)
            .await?;
        Ok(Catalog { pool, backend })
    }

    /// Connects and applies every pending migration.
    pub async fn open(url: &str) -> Result<Catalog> {
        let catalog = Catalog::connect(url).await?;
        catalog.migrate().await?;
        Ok(catalog)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    fn migrator(&self) -> &'static Migrator {
        match self.backend {
            Backend::Sqlite => &SQLITE,
            Backend::Postgres => &POSTGRES,
        }
    }

    pub async fn migrate(&self) -> Result<()> {
        self.migrator().run(&self.pool).await?;
        Ok(())
    }

    /// Reverts the newest `steps` applied migrations.
    pub async fn rollback(&self, steps: usize) -> Result<Vec<i64>> {
        let applied: Vec<i64> = self
            .status()
            .await?
            .into_iter()
            .filter(|m| m.applied)
            .map(|m| m.version)
            .collect();
        let keep = applied.len().saturating_sub(steps);
        let target = if keep == 0 { 0 } else { applied[keep - 1] };
        self.migrator().undo(&self.pool, target).await?;
        Ok(applied[keep..].to_vec())
    }

    pub async fn status(&self) -> Result<Vec<MigrationState>> {
        let mut conn = self.pool.acquire().await?;
        conn.ensure_migrations_table().await?;
        let applied = conn.list_applied_migrations().await?;
        Ok(self
            .migrator()
            .iter()
            .filter(|m| m.migration_type.is_up_migration())
            .map(|m| MigrationState {
                version: m.version,
                description: m.description.to_string(),
                applied: applied.iter().any(|a| a.version == m.version),
            })
            .collect())
    }

    /// Round-trip time of a trivial query.
    pub async fn ping(&self) -> Result<Duration> {
        let start = Instant::now();
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(start.elapsed())
    }

    /// (connections open, of which idle, maximum).
    pub fn pool_use(&self) -> (u32, usize, u32) {
        (
            self.pool.size(),
            self.pool.num_idle(),
            self.pool.options().get_max_connections(),
        )
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    // ---- collections ----

    pub async fn record_collection(&self, name: &str, dim: usize, distance: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO collections (name, dim, distance, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (name) DO UPDATE SET dim = $2, distance = $3",
        )
        .bind(name)
        .bind(dim as i64)
        .bind(distance)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Forgets a dropped collection and its documents.
    pub async fn forget_collection(&self, name: &str) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "DELETE FROM chunks WHERE document IN (SELECT id FROM documents WHERE collection = $1)",
        )
        .bind(name)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM documents WHERE collection = $1")
            .bind(name)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM collections WHERE name = $1")
            .bind(name)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    // ---- documents and chunks ----

    /// Records a document and the point ids of its chunks, replacing what
    /// was recorded under the same `document_id` before.
    pub async fn put_document(&self, doc: &NewDocument<'_>, point_ids: &[String]) -> Result<i64> {
        let mut ids = self.put_documents(&[(doc, point_ids)], &[]).await?;
        Ok(ids.pop().unwrap_or_default())
    }

    /// Records documents (replacing earlier records of the same ids) and
    /// forgets `removed` ones of `docs`' collection, in one transaction:
    /// one commit (one fsync) for a whole ingestion round.
    pub async fn put_documents(
        &self,
        docs: &[(&NewDocument<'_>, &[String])],
        removed: &[(&str, &str)],
    ) -> Result<Vec<i64>> {
        let mut tx = self.pool.begin().await?;
        let now = now_ms();
        let mut ids = Vec::with_capacity(docs.len());
        let forget = docs
            .iter()
            .map(|(d, _)| (d.collection, d.document_id))
            .chain(removed.iter().copied());
        for (collection, document_id) in forget {
            forget_document(&mut tx, collection, document_id).await?;
        }
        for (doc, point_ids) in docs {
            let id: i64 = sqlx::query(
                "INSERT INTO documents
                   (collection, document_id, source, title, content_hash, chunk_count, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
            )
            .bind(doc.collection)
            .bind(doc.document_id)
            .bind(doc.source)
            .bind(doc.title)
            .bind(doc.content_hash)
            .bind(point_ids.len() as i64)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
            for (i, point) in point_ids.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO chunks (document, chunk_index, point_id) VALUES ($1, $2, $3)",
                )
                .bind(id)
                .bind(i as i64)
                .bind(point.as_str())
                .execute(&mut *tx)
                .await?;
            }
            ids.push(id);
        }
        tx.commit().await?;
        Ok(ids)
    }

    /// Forgets a document and its chunks; `false` if it was not recorded.
    pub async fn delete_document(&self, collection: &str, document_id: &str) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let gone = forget_document(&mut tx, collection, document_id).await?;
        tx.commit().await?;
        Ok(gone)
    }

    pub async fn document_by_hash(
        &self,
        collection: &str,
        content_hash: &str,
    ) -> Result<Option<DocumentRow>> {
        let row = sqlx::query(&format!(
            "{} WHERE collection = $1 AND content_hash = $2",
            records::DOCUMENT_SELECT
        ))
        .bind(collection)
        .bind(content_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(DocumentRow::from_row).transpose()
    }

    pub async fn list_documents(
        &self,
        collection: &str,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<DocumentRow>> {
        let rows = sqlx::query(&format!(
            "{} WHERE collection = $1 ORDER BY document_id LIMIT $2 OFFSET $3",
            records::DOCUMENT_SELECT
        ))
        .bind(collection)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(DocumentRow::from_row).collect()
    }

    pub async fn chunk_points(&self, document: i64) -> Result<Vec<String>> {
        let rows =
            sqlx::query("SELECT point_id FROM chunks WHERE document = $1 ORDER BY chunk_index")
                .bind(document)
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|r: &AnyRow| r.try_get::<String, _>(0).map_err(Into::into))
            .collect()
    }

    // ---- ingestion runs ----

    pub async fn start_ingestion_run(&self, collection: &str) -> Result<i64> {
        Ok(sqlx::query(
            "INSERT INTO ingestion_runs (collection, started_at, status) VALUES ($1, $2, 'running')
             RETURNING id",
        )
        .bind(collection)
        .bind(now_ms())
        .fetch_one(&self.pool)
        .await?
        .try_get(0)?)
    }

    pub async fn finish_ingestion_run(
        &self,
        id: i64,
        status: &str,
        counts: [i64; 4],
        error: Option<&str>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE ingestion_runs SET finished_at = $1, status = $2, added = $3, updated = $4,
             skipped = $5, failed = $6, error = $7 WHERE id = $8",
        )
        .bind(now_ms())
        .bind(status)
        .bind(counts[0])
        .bind(counts[1])
        .bind(counts[2])
        .bind(counts[3])
        .bind(error)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    // ---- backups ----

    pub async fn start_backup(
        &self,
        id: &str,
        location: &str,
        collections: &[String],
        trigger: &str,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO backups (id, location, collections, status, started_at, trigger_kind)
             VALUES ($1, $2, $3, 'running', $4, $5)",
        )
        .bind(id)
        .bind(location)
        .bind(collections.join(","))
        .bind(now_ms())
        .bind(trigger)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Marks a backup run `good` (with its size and manifest digest) or
    /// `failed` (with the error).
    pub async fn finish_backup(
        &self,
        id: &str,
        good: bool,
        size: u64,
        sha256: Option<&str>,
        error: Option<&str>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE backups SET status = $1, size = $2, sha256 = $3, error = $4, finished_at = $5
             WHERE id = $6",
        )
        .bind(if good { "good" } else { "failed" })
        .bind(size as i64)
        .bind(sha256)
        .bind(error)
        .bind(now_ms())
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn mark_verified(&self, id: &str) -> Result<()> {
        sqlx::query("UPDATE backups SET verified_at = $1 WHERE id = $2")
            .bind(now_ms())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn backup(&self, id: &str) -> Result<Option<BackupRow>> {
        let row = sqlx::query(&format!("{} WHERE id = $1", records::BACKUP_SELECT))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(BackupRow::from_row).transpose()
    }

    pub async fn list_backups(&self) -> Result<Vec<BackupRow>> {
        let rows = sqlx::query(&format!(
            "{} ORDER BY started_at DESC",
            records::BACKUP_SELECT
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(BackupRow::from_row).collect()
    }

    /// When the newest good backup finished.
    pub async fn last_good_backup_ms(&self) -> Result<Option<i64>> {
        let row = sqlx::query("SELECT MAX(finished_at) FROM backups WHERE status = 'good'")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get::<Option<i64>, _>(0)?)
    }

    // ---- audit log ----

    pub async fn audit(
        &self,
        actor: &str,
        action: &str,
        collection: Option<&str>,
        detail: &str,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO audit_log (at, actor, action, collection, detail) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(now_ms())
        .bind(actor)
        .bind(action)
        .bind(collection)
        .bind(detail)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The newest `limit` entries, newest first.
    pub async fn audit_log(&self, limit: i64) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(
            "SELECT at, actor, action, collection, detail FROM audit_log ORDER BY id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(AuditEntry::from_row).collect()
    }
}

/// A database URL with its password hidden, for messages.
/// Deletes a document's row and its chunks' rows; `true` if it had one.
async fn forget_document(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    collection: &str,
    document_id: &str,
) -> Result<bool> {
    sqlx::query(
        "DELETE FROM chunks WHERE document IN
           (SELECT id FROM documents WHERE collection = $1 AND document_id = $2)",
    )
    .bind(collection)
    .bind(document_id)
    .execute(&mut **tx)
    .await?;
    let gone = sqlx::query("DELETE FROM documents WHERE collection = $1 AND document_id = $2")
        .bind(collection)
        .bind(document_id)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    Ok(gone > 0)
}

pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}
