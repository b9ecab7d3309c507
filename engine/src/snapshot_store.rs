//! Where an engine keeps its snapshots, and how it takes and recovers them.
//!
//! ```text
//! <data>/snapshots/collections/<name>/<name>-<time>.snapshot (+ .sha256)
//! <data>/snapshots/full/full-<time>.snapshot (+ .sha256)
//! <data>/snapshots/.staging-*      hard links of a checkpoint being archived
//! ```
//!
//! Recovery unpacks and verifies into `collections/.restoring-*`, opens it
//! there (every checkpoint CRC checked), and only then swaps it in with two
//! renames, so a bad snapshot leaves the live collection exactly as it was.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::collection::Collection;
use crate::engine::{unique_suffix, validate_name, Engine};
use crate::error::{EngineError, Result};
use crate::file_format::sync_dir;
use crate::snapshot::{self, Manifest, SnapshotDescription, SnapshotKind, SourceFile};

/// Removes its directory when dropped, whatever happened.
struct Staging(PathBuf);

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

impl Engine {
    /// Where snapshot work happens; temp files for downloads go here too.
    pub fn snapshots_root(&self) -> PathBuf {
        self.root().join("snapshots")
    }

    /// Directory of a collection's snapshots.
    pub fn collection_snapshots_dir(&self, collection: &str) -> PathBuf {
        self.snapshots_root().join("collections").join(collection)
    }

    /// Directory of full-storage snapshots.
    pub fn full_snapshots_dir(&self) -> PathBuf {
        self.snapshots_root().join("full")
    }

    fn staging_dir(&self) -> Result<Staging> {
        let dir = self
            .snapshots_root()
            .join(format!(".staging-{}", unique_suffix()));
        fs::create_dir_all(&dir).map_err(EngineError::io(&dir))?;
        Ok(Staging(dir))
    }

    /// Removes staging directories and temp files an interrupted snapshot
    /// left behind.
    pub(crate) fn clean_snapshot_leftovers(&self) {
        let root = self.snapshots_root();
        let Ok(entries) = fs::read_dir(&root) else {
            return;
        };
        for entry in entries.flatten() {
            // `.staging-*` directories, and `.download-*` temp files the
            // server fetched snapshots into.
            if entry.file_name().to_string_lossy().starts_with('.') {
                let _ = fs::remove_dir_all(entry.path());
                let _ = fs::remove_file(entry.path());
            }
        }
    }

    /// Takes a snapshot of `collection` at a fresh checkpoint. Writes block
    /// only while the checkpoint is written and its files linked.
    pub fn create_snapshot(&self, collection: &str) -> Result<SnapshotDescription> {
        let c = self.collection(collection)?;
        let staging = self.staging_dir()?;
        let (sources, config, points) = c.snapshot_sources(&staging.0)?;
        let dir = self.collection_snapshots_dir(collection);
        fs::create_dir_all(&dir).map_err(EngineError::io(&dir))?;
        let manifest = Manifest::new(
            SnapshotKind::Collection,
            Some(collection),
            Some(config),
            points,
        );
        let dest = dir.join(snapshot::new_snapshot_name(collection));
        let description = snapshot::write_archive(&dest, manifest, &sources)?;
        tracing::info!(collection, snapshot = %description.name, points, "snapshot written");
        Ok(description)
    }

    /// A collection's snapshots, oldest first. The collection must exist.
    pub fn list_snapshots(&self, collection: &str) -> Result<Vec<SnapshotDescription>> {
        self.collection(collection)?;
        snapshot::list_dir(&self.collection_snapshots_dir(collection))
    }

    /// The path of an existing snapshot of `collection`.
    pub fn snapshot_path(&self, collection: &str, name: &str) -> Result<PathBuf> {
        self.collection(collection)?;
        existing(&self.collection_snapshots_dir(collection), name)
    }

    pub fn delete_snapshot(&self, collection: &str, name: &str) -> Result<()> {
        snapshot::remove(&self.snapshot_path(collection, name)?)
    }

    /// Takes a snapshot of every collection, bundled in one archive.
    pub fn create_full_snapshot(&self) -> Result<SnapshotDescription> {
        let staging = self.staging_dir()?;
        let mut sources = Vec::new();
        let mut total = 0;
        for name in self.list_collections() {
            let inner = self.staging_dir()?;
            let (files, config, points) = match self.collection(&name) {
                Ok(c) => c.snapshot_sources(&inner.0)?,
                Err(_) => continue, // dropped meanwhile
            };
            let manifest =
                Manifest::new(SnapshotKind::Collection, Some(&name), Some(config), points);
            let file = format!("{name}.{}", snapshot::EXTENSION);
            let path = staging.0.join(&file);
            let description = snapshot::write_archive(&path, manifest, &files)?;
            total += points;
            sources.push(SourceFile {
                name: file,
                path,
                len: description.size,
            });
        }
        let dir = self.full_snapshots_dir();
        fs::create_dir_all(&dir).map_err(EngineError::io(&dir))?;
        let manifest = Manifest::new(SnapshotKind::Full, None, None, total);
        let dest = dir.join(snapshot::new_snapshot_name("full"));
        snapshot::write_archive(&dest, manifest, &sources)
    }

    pub fn list_full_snapshots(&self) -> Result<Vec<SnapshotDescription>> {
        snapshot::list_dir(&self.full_snapshots_dir())
    }

    pub fn full_snapshot_path(&self, name: &str) -> Result<PathBuf> {
        existing(&self.full_snapshots_dir(), name)
    }

    pub fn delete_full_snapshot(&self, name: &str) -> Result<()> {
        snapshot::remove(&self.full_snapshot_path(name)?)
    }

    /// Replaces (or creates) collection `name` with the contents of the
    /// collection snapshot `archive`. If `checksum` is given, the archive's
    /// SHA-256 must equal it. Everything is verified before the live
    /// collection is touched; on any error it is left exactly as it was.
    pub fn recover_collection(
        &self,
        name: &str,
        archive: &Path,
        checksum: Option<&str>,
    ) -> Result<Arc<Collection>> {
        validate_name(name)?;
        if let Some(expected) = checksum {
            snapshot::verify_checksum(archive, expected)?;
        }
        let parent = self.root().join("collections");
        let staging = Staging(parent.join(format!(".restoring-{}", unique_suffix())));
        let manifest = snapshot::unpack_verified(archive, &staging.0)?;
        if manifest.kind != SnapshotKind::Collection {
            return Err(EngineError::BadSnapshot {
                path: archive.to_path_buf(),
                reason: "this is a full-storage snapshot; recover a collection snapshot".into(),
            });
        }
        Collection::create_empty_wal(&staging.0)?;
        // Opening checks every checkpoint CRC and the point count.
        let opened = Collection::open(name, &staging.0, self.options().clone())?;
        let points = opened.info().points_count as u64;
        drop(opened);
        if points != manifest.points_count {
            return Err(EngineError::BadSnapshot {
                path: archive.to_path_buf(),
                reason: format!(
                    "holds {points} points, its manifest says {}",
                    manifest.points_count
                ),
            });
        }
        self.swap_in(name, &staging.0)
    }

    /// Restores every collection of a full snapshot, each as
    /// [`Engine::recover_collection`] does. Returns their names.
    pub fn recover_full(&self, archive: &Path) -> Result<Vec<String>> {
        let staging = self.staging_dir()?;
        let unpacked = staging.0.join("full");
        let manifest = snapshot::unpack_verified(archive, &unpacked)?;
        if manifest.kind != SnapshotKind::Full {
            return Err(EngineError::BadSnapshot {
                path: archive.to_path_buf(),
                reason: "this is a collection snapshot, not a full-storage one".into(),
            });
        }
        let mut names = Vec::new();
        for file in &manifest.files {
            let path = unpacked.join(&file.name);
            let inner = snapshot::read_manifest(&path)?;
            let name = inner.collection.ok_or_else(|| EngineError::BadSnapshot {
                path: path.clone(),
                reason: "collection snapshot without a collection name".into(),
            })?;
            self.recover_collection(&name, &path, None)?;
            names.push(name);
        }
        Ok(names)
    }
}

fn existing(dir: &Path, name: &str) -> Result<PathBuf> {
    snapshot::validate_snapshot_name(name)?;
    let path = dir.join(name);
    if path.is_file() {
        Ok(path)
    } else {
        Err(EngineError::SnapshotNotFound(name.to_string()))
    }
}

impl Engine {
    /// Puts the verified collection directory `staged` in place of `name`.
    fn swap_in(&self, name: &str, staged: &Path) -> Result<Arc<Collection>> {
        let parent = self.root().join("collections");
        let target = parent.join(name);
        let mut collections = self.collections_mut();
        let doomed = parent.join(format!(".dropping-{}", unique_suffix()));
        let old = collections.get(name).cloned();
        if old.is_some() {
            fs::rename(&target, &doomed).map_err(EngineError::io(&doomed))?;
        }
        if let Err(e) = fs::rename(staged, &target) {
            if old.is_some() {
                // Put the live collection back where it was.
                let _ = fs::rename(&doomed, &target);
            }
            return Err(EngineError::io(&target)(e));
        }
        if let Some(old) = old {
            old.mark_dropped();
        }
        sync_dir(&parent)?;
        let collection = Arc::new(Collection::open(name, &target, self.options().clone())?);
        collections.insert(name.to_string(), collection.clone());
        drop(collections);
        let _ = fs::remove_dir_all(&doomed);
        tracing::info!(collection = name, "recovered from snapshot");
        Ok(collection)
    }
}
