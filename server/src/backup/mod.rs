//! Backups: collection snapshots uploaded to a [`Location`] (S3 or a
//! directory), self-describing so they can be listed and restored onto an
//! empty data directory.
//!
//! ```text
//! <prefix>/<id>/<collection>.snapshot   one per collection (multipart upload)
//! <prefix>/<id>/backup.json             the manifest, written last
//! ```
//!
//! A backup is complete exactly when its `backup.json` exists, and that is
//! written only after every snapshot was uploaded *and read back* with the
//! expected SHA-256. A failure anywhere before leaves no manifest (and
//! aborts the multipart upload), so nothing claims to be complete; `prune`
//! later removes the leftovers. Ids sort by time: `20261123T101500Z-1a2b`.

pub mod fetch;
pub mod location;
pub mod retention;
pub mod schedule;

use std::path::Path;

use anyhow::{bail, Context};
use chrono::{DateTime, Utc};
use futures::StreamExt;
use indicatif::ProgressBar;
use object_store::path::Path as ObjectPath;
use object_store::{PutPayload, WriteMultipart};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use cairn_engine::Engine;
pub use location::Location;

use crate::catalog::Catalog;

pub const MANIFEST: &str = "backup.json";
pub const FORMAT_VERSION: u32 = 1;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct BackupManifest {
    pub format_version: u32,
    pub id: String,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub cairn_version: String,
    pub collections: Vec<BackupEntry>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct BackupEntry {
    pub name: String,
    /// Object key relative to the backup's directory.
    pub file: String,
    pub size: u64,
    pub sha256: String,
    pub points_count: u64,
}

impl BackupManifest {
    pub fn created(&self) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(&self.created_at)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    pub fn size(&self) -> u64 {
        self.collections.iter().map(|c| c.size).sum()
    }
}

pub fn new_backup_id() -> String {
    let suffix = &uuid::Uuid::new_v4().simple().to_string()[..4];
    format!("{}-{suffix}", Utc::now().format("%Y%m%dT%H%M%SZ"))
}

/// Backup ids are generated, but `verify`/`restore` take them from users.
fn validate_id(id: &str) -> anyhow::Result<()> {
    if id.is_empty() || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        bail!("`{id}` is not a backup id (see `cairn backup list`)");
    }
    Ok(())
}

/// Takes a snapshot of each collection and uploads it; writes the manifest
/// last. The local snapshot files are removed afterwards.
pub async fn create(
    engine: &std::sync::Arc<Engine>,
    location: &Location,
    collections: &[String],
    part_bytes: usize,
    progress: &ProgressBar,
) -> anyhow::Result<BackupManifest> {
    create_with_id(
        engine,
        location,
        &new_backup_id(),
        collections,
        part_bytes,
        progress,
    )
    .await
}

pub async fn create_with_id(
    engine: &std::sync::Arc<Engine>,
    location: &Location,
    id: &str,
    collections: &[String],
    part_bytes: usize,
    progress: &ProgressBar,
) -> anyhow::Result<BackupManifest> {
    if collections.is_empty() {
        bail!("nothing to back up: there are no collections");
    }
    let mut entries = Vec::new();
    for name in collections {
        let (engine2, name2) = (engine.clone(), name.clone());
        let (description, path) = tokio::task::spawn_blocking(move || {
            let d = engine2.create_snapshot(&name2)?;
            let p = engine2.snapshot_path(&name2, &d.name)?;
            anyhow::Ok((d, p))
        })
        .await??;
        let manifest = cairn_engine::snapshot::read_manifest(&path)?;
        let file = format!("{name}.{}", cairn_engine::snapshot::EXTENSION);
        let key = location.key(&format!("{id}/{file}"));
        let checksum = description
            .checksum
            .clone()
            .context("snapshot has no checksum")?;
        progress.set_message(format!("uploading {name}"));
        let uploaded = upload_file(location, &key, &path, part_bytes, progress).await;
        // The snapshot's job ends with the upload, good or bad.
        let _ = cairn_engine::snapshot::remove(&path);
        uploaded.with_context(|| format!("uploading {name} to {}", location.url))?;
        progress.set_message(format!("reading back {name}"));
        let (digest, size) = read_back(location, &key).await?;
        if digest != checksum || size != description.size {
            bail!(
                "{name}: the uploaded object reads back as {size} bytes, sha256 {digest}; \
                 expected {} bytes, sha256 {checksum}",
                description.size
            );
        }
        entries.push(BackupEntry {
            name: name.clone(),
            file,
            size,
            sha256: digest,
            points_count: manifest.points_count,
        });
    }
    let manifest = BackupManifest {
        format_version: FORMAT_VERSION,
        id: id.to_string(),
        created_at: Utc::now().to_rfc3339(),
        cairn_version: env!("CARGO_PKG_VERSION").to_string(),
        collections: entries,
    };
    let json = serde_json::to_vec_pretty(&manifest)?;
    location
        .store
        .put(
            &location.key(&format!("{id}/{MANIFEST}")),
            PutPayload::from(json),
        )
        .await
        .context("writing the backup manifest")?;
    Ok(manifest)
}

/// Streams a file up, in parts of `part_bytes`; aborts the upload on error.
async fn upload_file(
    location: &Location,
    key: &ObjectPath,
    path: &Path,
    part_bytes: usize,
    progress: &ProgressBar,
) -> anyhow::Result<()> {
    let mut file = tokio::fs::File::open(path).await?;
    let len = file.metadata().await?.len();
    progress.inc_length(len);
    let upload = location.store.put_multipart(key).await?;
    let mut writer = WriteMultipart::new_with_chunk_size(upload, part_bytes.max(5 << 20));
    let mut buf = vec![0u8; 1 << 20];
    let result: anyhow::Result<()> = async {
        loop {
            let n = file.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            // At most two parts in flight: bounded memory, some overlap.
            writer.wait_for_capacity(2).await?;
            writer.write(&buf[..n]);
            progress.inc(n as u64);
        }
        Ok(())
    }
    .await;
    match result {
        Ok(()) => {
            writer.finish().await?;
            Ok(())
        }
        Err(e) => {
            let _ = writer.abort().await;
            Err(e)
        }
    }
}

/// Downloads an object, returning its SHA-256 and size.
async fn read_back(location: &Location, key: &ObjectPath) -> anyhow::Result<(String, u64)> {
    let mut stream = location.store.get(key).await?.into_stream();
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        hasher.update(&chunk);
        size += chunk.len() as u64;
    }
    Ok((hex::encode(hasher.finalize()), size))
}

/// Every complete backup at `location`, newest first.
pub async fn list(location: &Location) -> anyhow::Result<Vec<BackupManifest>> {
    let mut keys = Vec::new();
    let mut stream = location.store.list(Some(&location.prefix));
    while let Some(meta) = stream.next().await {
        let meta = meta.with_context(|| format!("listing {}", location.url))?;
        if meta.location.filename() == Some(MANIFEST) {
            keys.push(meta.location);
        }
    }
    let mut out = Vec::new();
    for key in keys {
        let bytes = location.store.get(&key).await?.bytes().await?;
        match serde_json::from_slice::<BackupManifest>(&bytes) {
            Ok(m) if m.format_version == FORMAT_VERSION => out.push(m),
            Ok(m) => {
                tracing::warn!(id = %m.id, version = m.format_version, "skipping a backup of an unknown format")
            }
            Err(e) => {
                tracing::warn!(key = %key, error = %e, "skipping an unreadable backup manifest")
            }
        }
    }
    out.sort_by(|a, b| b.id.cmp(&a.id));
    Ok(out)
}

pub async fn manifest(location: &Location, id: &str) -> anyhow::Result<BackupManifest> {
    validate_id(id)?;
    let key = location.key(&format!("{id}/{MANIFEST}"));
    let bytes = match location.store.get(&key).await {
        Ok(r) => r.bytes().await?,
        Err(object_store::Error::NotFound { .. }) => {
            bail!(
                "no complete backup `{id}` at {} (see `cairn backup list`)",
                location.url
            )
        }
        Err(e) => return Err(e.into()),
    };
    let manifest: BackupManifest = serde_json::from_slice(&bytes)
        .with_context(|| format!("backup `{id}` has an unreadable manifest"))?;
    if manifest.format_version != FORMAT_VERSION {
        bail!(
            "backup `{id}` has format version {}, this build reads {FORMAT_VERSION}",
            manifest.format_version
        );
    }
    Ok(manifest)
}

/// Downloads one collection of a backup into `dir`, checking its SHA-256.
async fn download(
    location: &Location,
    backup: &BackupManifest,
    entry: &BackupEntry,
    dir: &Path,
    progress: &ProgressBar,
) -> anyhow::Result<tempfile::TempPath> {
    let key = location.key(&format!("{}/{}", backup.id, entry.file));
    let temp = fetch::temp_file(dir)?;
    let (file, path) = temp.into_parts();
    let mut out = tokio::fs::File::from_std(file);
    let mut stream = location
        .store
        .get(&key)
        .await
        .with_context(|| format!("downloading {}", entry.file))?
        .into_stream();
    progress.inc_length(entry.size);
    let mut hasher = Sha256::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        hasher.update(&chunk);
        out.write_all(&chunk).await?;
        progress.inc(chunk.len() as u64);
    }
    out.flush().await?;
    out.sync_all().await?;
    let digest = hex::encode(hasher.finalize());
    if digest != entry.sha256 {
        bail!(
            "{} in backup {} is damaged: sha256 {digest}, the manifest says {}",
            entry.file,
            backup.id,
            entry.sha256
        );
    }
    Ok(path)
}

/// Restores a backup's collections into `engine` (`rename` gives a single
/// collection another name). Returns the restored names.
pub async fn restore(
    engine: &std::sync::Arc<Engine>,
    location: &Location,
    id: &str,
    rename: Option<&str>,
    progress: &ProgressBar,
) -> anyhow::Result<Vec<String>> {
    let backup = manifest(location, id).await?;
    if rename.is_some() && backup.collections.len() != 1 {
        bail!(
            "backup `{id}` holds {} collections; --as works with a single one",
            backup.collections.len()
        );
    }
    let mut names = Vec::new();
    for entry in &backup.collections {
        let path = download(location, &backup, entry, &engine.snapshots_root(), progress).await?;
        let name = rename.unwrap_or(&entry.name).to_string();
        let (engine, target, checksum) = (engine.clone(), name.clone(), entry.sha256.clone());
        tokio::task::spawn_blocking(move || {
            engine.recover_collection(&target, &path, Some(&checksum))?;
            drop(path);
            anyhow::Ok(())
        })
        .await??;
        names.push(name);
    }
    Ok(names)
}

#[derive(Debug, Serialize)]
pub struct VerifyReport {
    pub id: String,
    pub collections: Vec<VerifiedCollection>,
}

#[derive(Debug, Serialize)]
pub struct VerifiedCollection {
    pub name: String,
    pub expected_points: u64,
    pub restored_points: u64,
}

/// Downloads a backup, checks every checksum, restores it into a scratch
/// data directory and compares point counts with the manifest.
pub async fn verify(
    location: &Location,
    id: &str,
    progress: &ProgressBar,
) -> anyhow::Result<VerifyReport> {
    let backup = manifest(location, id).await?;
    let scratch = tempfile::tempdir().context("cannot create a scratch directory")?;
    let engine = std::sync::Arc::new(Engine::open(scratch.path())?);
    let restored = restore(&engine, location, id, None, progress).await?;
    let mut collections = Vec::new();
    for (entry, name) in backup.collections.iter().zip(&restored) {
        let restored_points = engine.collection(name)?.count(None) as u64;
        if restored_points != entry.points_count {
            bail!(
                "backup {id}: {name} restored with {restored_points} points, its manifest says {}",
                entry.points_count
            );
        }
        collections.push(VerifiedCollection {
            name: name.clone(),
            expected_points: entry.points_count,
            restored_points,
        });
    }
    Ok(VerifyReport {
        id: id.to_string(),
        collections,
    })
}

/// Deletes backups the retention rules do not keep, and leftovers of
/// failed runs (a directory without a manifest) older than an hour.
pub async fn prune(
    location: &Location,
    rules: retention::Retention,
) -> anyhow::Result<Vec<String>> {
    let complete = list(location).await?;
    let dated: Vec<(String, DateTime<Utc>)> = complete
        .iter()
        .map(|m| (m.id.clone(), m.created()))
        .collect();
    let keep = retention::keep(&dated, rules);
    let mut objects = Vec::new();
    let mut stream = location.store.list(Some(&location.prefix));
    while let Some(meta) = stream.next().await {
        objects.push(meta?);
    }
    let prefix_parts = location.prefix.parts().count();
    let complete_ids: std::collections::HashSet<&str> =
        complete.iter().map(|m| m.id.as_str()).collect();
    let cutoff = Utc::now() - chrono::Duration::hours(1);
    let mut deleted = std::collections::BTreeSet::new();
    for meta in &objects {
        let Some(id) = meta.location.parts().nth(prefix_parts) else {
            continue;
        };
        let id = id.as_ref().to_string();
        let doomed = if complete_ids.contains(id.as_str()) {
            !keep.contains(&id)
        } else {
            meta.last_modified < cutoff
        };
        if doomed {
            location.store.delete(&meta.location).await?;
            deleted.insert(id);
        }
    }
    Ok(deleted.into_iter().collect())
}

/// Runs a backup of every collection and records it in the catalog:
/// `running` first, then `good` or `failed` with the error.
pub async fn run_recorded(
    engine: &std::sync::Arc<Engine>,
    catalog: Option<&Catalog>,
    location: &Location,
    collections: Vec<String>,
    part_bytes: usize,
    trigger: &str,
    progress: &ProgressBar,
) -> anyhow::Result<BackupManifest> {
    let id = new_backup_id();
    if let Some(c) = catalog {
        c.start_backup(&id, &location.url, &collections, trigger)
            .await?;
    }
    let result = create_with_id(engine, location, &id, &collections, part_bytes, progress).await;
    if let Some(c) = catalog {
        let recorded = match &result {
            Ok(m) => c.finish_backup(&id, true, m.size(), None, None).await,
            Err(e) => {
                c.finish_backup(&id, false, 0, None, Some(&format!("{e:#}")))
                    .await
            }
        };
        if let Err(e) = recorded {
            tracing::warn!(error = %e, backup = %id, "cannot record the backup run");
        }
    }
    result
}
