//! The catalog's rows as Rust values.

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::Result;

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct MigrationState {
    pub version: i64,
    pub description: String,
    pub applied: bool,
}

/// A document to record.
pub struct NewDocument<'a> {
    pub collection: &'a str,
    pub document_id: &'a str,
    pub source: Option<&'a str>,
    pub title: Option<&'a str>,
    pub content_hash: &'a str,
}

pub(super) const DOCUMENT_SELECT: &str = "SELECT id, collection, document_id, source, title, \
     content_hash, chunk_count, created_at, updated_at FROM documents";

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct DocumentRow {
    #[serde(skip)]
    pub id: i64,
    pub collection: String,
    pub document_id: String,
    pub source: Option<String>,
    pub title: Option<String>,
    pub content_hash: String,
    pub chunk_count: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl DocumentRow {
    pub(super) fn from_row(r: &AnyRow) -> Result<Self> {
        Ok(DocumentRow {
            id: r.try_get(0)?,
            collection: r.try_get(1)?,
            document_id: r.try_get(2)?,
            source: r.try_get(3)?,
            title: r.try_get(4)?,
            content_hash: r.try_get(5)?,
            chunk_count: r.try_get(6)?,
            created_at: r.try_get(7)?,
            updated_at: r.try_get(8)?,
        })
    }
}

pub(super) const BACKUP_SELECT: &str = "SELECT id, location, collections, size, sha256, status, \
     started_at, finished_at, verified_at, error, trigger_kind FROM backups";

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct BackupRow {
    pub id: String,
    pub location: String,
    pub collections: String,
    pub size: i64,
    pub sha256: Option<String>,
    /// `running`, `good` or `failed`.
    pub status: String,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub verified_at: Option<i64>,
    pub error: Option<String>,
    pub trigger: String,
}

impl BackupRow {
    pub(super) fn from_row(r: &AnyRow) -> Result<Self> {
        Ok(BackupRow {
            id: r.try_get(0)?,
            location: r.try_get(1)?,
            collections: r.try_get(2)?,
            size: r.try_get(3)?,
            sha256: r.try_get(4)?,
            status: r.try_get(5)?,
            started_at: r.try_get(6)?,
            finished_at: r.try_get(7)?,
            verified_at: r.try_get(8)?,
            error: r.try_get(9)?,
            trigger: r.try_get(10)?,
        })
    }
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct AuditEntry {
    pub at: i64,
    /// The key id (`full:1a2b3c4d`, `read_only:…` or `anonymous`), never the key.
    pub actor: String,
    pub action: String,
    pub collection: Option<String>,
    pub detail: Option<String>,
}

impl AuditEntry {
    pub(super) fn from_row(r: &AnyRow) -> Result<Self> {
        Ok(AuditEntry {
            at: r.try_get(0)?,
            actor: r.try_get(1)?,
            action: r.try_get(2)?,
            collection: r.try_get(3)?,
            detail: r.try_get(4)?,
        })
    }
}
