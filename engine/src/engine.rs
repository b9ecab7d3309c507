//! The engine: a data directory holding named collections.
//!
//! Layout: `<data>/collections/<name>/` per collection, and `<data>/.lock`,
//! an OS file lock that keeps a second process out of the directory.
//! Creating a collection builds it under a hidden temporary name and renames
//! it into place; dropping renames it away before deleting, so a crash never
//! leaves a half-made or half-deleted collection visible.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::RwLock;

use crate::collection::Collection;
use crate::error::{EngineError, Result};
use crate::file_format::sync_dir;
use crate::types::CollectionConfig;

/// Tuning knobs of durability housekeeping.
#[derive(Clone, Debug)]
pub struct EngineOptions {
    /// Checkpoint a collection once its WAL holds this many bytes.
    pub wal_checkpoint_bytes: u64,
    /// Compact when at least this many tombstones exist …
    pub compaction_min_tombstones: usize,
    /// … and they are at least this fraction of the graph's nodes.
    pub compaction_tombstone_ratio: f64,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            wal_checkpoint_bytes: 64 << 20,
            compaction_min_tombstones: 1_000,
            compaction_tombstone_ratio: 0.2,
        }
    }
}

pub struct Engine {
    root: PathBuf,
    options: EngineOptions,
    collections: RwLock<BTreeMap<String, Arc<Collection>>>,
    _lock: File,
}

/// Collection names: 1..=255 of `[A-Za-z0-9_-]`, so a name is always a
/// single, safe path component.
pub fn validate_name(name: &str) -> Result<()> {
    let ok = (1..=255).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(EngineError::InvalidName(name.to_string()))
    }
}

pub(crate) fn unique_suffix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{}-{nanos}", std::process::id())
}

impl Engine {
    pub fn open(root: impl AsRef<Path>) -> Result<Engine> {
        Engine::open_with(root, EngineOptions::default())
    }

    /// Opens (creating if needed) a data directory, loads every collection
    /// and replays its WAL.
    pub fn open_with(root: impl AsRef<Path>, options: EngineOptions) -> Result<Engine> {
        let root = root.as_ref().to_path_buf();
        let dir = root.join("collections");
        fs::create_dir_all(&dir).map_err(EngineError::io(&dir))?;
        let lock_path = root.join(".lock");
        let lock = File::create(&lock_path).map_err(EngineError::io(&lock_path))?;
        lock.try_lock()
            .map_err(|_| EngineError::Locked(root.clone()))?;
        let mut collections = BTreeMap::new();
        for entry in fs::read_dir(&dir).map_err(EngineError::io(&dir))? {
            let entry = entry.map_err(EngineError::io(&dir))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                // An interrupted create or drop.
                let _ = fs::remove_dir_all(entry.path());
                continue;
            }
            if validate_name(&name).is_err() || !entry.path().is_dir() {
                tracing::warn!(entry = %entry.path().display(), "ignoring a stray entry in collections/");
                continue;
            }
            let collection = Collection::open(&name, &entry.path(), options.clone())?;
            collections.insert(name, Arc::new(collection));
        }
        let engine = Engine {
            root,
            options,
            collections: RwLock::new(collections),
            _lock: lock,
        };
        engine.clean_snapshot_leftovers();
        Ok(engine)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub(crate) fn options(&self) -> &EngineOptions {
        &self.options
    }

    pub(crate) fn collections_mut(
        &self,
    ) -> parking_lot::RwLockWriteGuard<'_, BTreeMap<String, Arc<Collection>>> {
        self.collections.write()
    }

    pub fn create_collection(
        &self,
        name: &str,
        config: CollectionConfig,
    ) -> Result<Arc<Collection>> {
        validate_name(name)?;
        config.validate()?;
        let mut collections = self.collections.write();
        if collections.contains_key(name) {
            return Err(EngineError::CollectionExists(name.to_string()));
        }
        let parent = self.root.join("collections");
        // Staging names must not embed the collection name: a 255-byte name
        // plus a prefix would exceed the file system's name limit.
        let staging = parent.join(format!(".creating-{}", unique_suffix()));
        let _ = fs::remove_dir_all(&staging);
        Collection::create_files(&staging, &config)?;
        let target = parent.join(name);
        fs::rename(&staging, &target).map_err(EngineError::io(&target))?;
        sync_dir(&parent)?;
        let collection = Arc::new(Collection::open(name, &target, self.options.clone())?);
        collections.insert(name.to_string(), collection.clone());
        Ok(collection)
    }

    pub fn list_collections(&self) -> Vec<String> {
        self.collections.read().keys().cloned().collect()
    }

    pub fn collection(&self, name: &str) -> Result<Arc<Collection>> {
        self.collections
            .read()
            .get(name)
            .cloned()
            .ok_or_else(|| EngineError::CollectionNotFound(name.to_string()))
    }

    pub fn drop_collection(&self, name: &str) -> Result<()> {
        let mut collections = self.collections.write();
        let collection = collections
            .remove(name)
            .ok_or_else(|| EngineError::CollectionNotFound(name.to_string()))?;
        collection.mark_dropped();
        let parent = self.root.join("collections");
        let doomed = parent.join(format!(".dropping-{}", unique_suffix()));
        let _ = fs::remove_dir_all(&doomed);
        fs::rename(parent.join(name), &doomed).map_err(EngineError::io(&doomed))?;
        sync_dir(&parent)?;
        let _ = fs::remove_dir_all(&doomed);
        Ok(())
    }

    /// Checkpoints every collection, so the next open replays nothing.
    pub fn checkpoint_all(&self) -> Result<()> {
        let collections: Vec<_> = self.collections.read().values().cloned().collect();
        for c in collections {
            c.checkpoint()?;
        }
        Ok(())
    }

    /// A clean shutdown: checkpoint everything, release the directory.
    pub fn close(self) -> Result<()> {
        self.checkpoint_all()
    }
}
