//! Snapshots: a collection — or the whole storage — as one archive file.
//!
//! A snapshot is a tar archive whose first entry is `manifest.json`: the
//! snapshot format version, the Cairn version that wrote it, what it holds
//! (one collection with its config and point count, or a set of collection
//! snapshots), when it was taken, and the size and SHA-256 of every other
//! entry. A collection snapshot holds the files of one checkpoint
//! (`checkpoint.bin`, `graph-<g>.bin`, `points-<g>.bin` and the valid prefix
//! of `vectors-<v>.bin`); its WAL is empty by construction, so none is
//! stored. A full snapshot holds one collection snapshot per collection.
//!
//! Writing: files are taken at a checkpoint under the collection's writer
//! lock (hard links, so this is instant), then archived after the lock is
//! released — writes continue meanwhile, and nothing they do can change the
//! linked files (checkpoint files are replaced by rename, never rewritten;
//! the vector file only grows past the recorded prefix). The archive is
//! written to `<name>.tmp`, fsync'd and renamed; its own SHA-256 is kept
//! beside it in `<name>.sha256`.
//!
//! Reading ([`unpack_verified`]): the manifest must be of a known version,
//! every entry must be listed with a matching size and digest, and every
//! listed file must be present — all checked while extracting into a staging
//! directory, before anything live is touched.

use std::fs::{self, File};
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{EngineError, Result};
use crate::file_format::{sync_dir, write_atomic};
use crate::types::CollectionConfig;

/// The snapshot format this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;
pub const MANIFEST_FILE: &str = "manifest.json";
/// Extension of snapshot archives.
pub const EXTENSION: &str = "snapshot";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SnapshotKind {
    /// One collection's checkpoint files.
    Collection,
    /// One collection snapshot per collection.
    Full,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    pub name: String,
    pub size: u64,
    pub sha256: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Manifest {
    pub format_version: u32,
    pub kind: SnapshotKind,
    pub cairn_version: String,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// The collection's name when the snapshot was taken (collection kind).
    #[serde(default)]
    pub collection: Option<String>,
    #[serde(default)]
    pub config: Option<CollectionConfig>,
    /// Live points (collection kind), or their sum (full kind).
    pub points_count: u64,
    pub files: Vec<FileEntry>,
}

impl Manifest {
    /// A manifest stamped now by this build; `files` are filled in when the
    /// archive is written.
    pub fn new(
        kind: SnapshotKind,
        collection: Option<&str>,
        config: Option<CollectionConfig>,
        points_count: u64,
    ) -> Manifest {
        Manifest {
            format_version: FORMAT_VERSION,
            kind,
            cairn_version: env!("CARGO_PKG_VERSION").to_string(),
            created_at: chrono::Utc::now().to_rfc3339(),
            collection: collection.map(str::to_string),
            config,
            points_count,
            files: Vec::new(),
        }
    }
}

/// A snapshot file as the API lists it (Qdrant's `SnapshotDescription`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotDescription {
    pub name: String,
    /// `YYYY-MM-DDTHH:MM:SS`, UTC, as Qdrant prints it.
    pub creation_time: Option<String>,
    pub size: u64,
    /// SHA-256 of the whole archive, hex.
    pub checksum: Option<String>,
}

/// A file to archive: where it is now, and how many of its bytes count.
pub(crate) struct SourceFile {
    pub name: String,
    pub path: PathBuf,
    pub len: u64,
}

fn bad(path: &Path, reason: impl Into<String>) -> EngineError {
    EngineError::BadSnapshot {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// A snapshot name must be one plain file name ending in `.snapshot`, so it
/// can never point outside the snapshot directory.
pub fn validate_snapshot_name(name: &str) -> Result<()> {
    let ok = name.len() <= 255
        && name.ends_with(&format!(".{EXTENSION}"))
        && name.len() > EXTENSION.len() + 1
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(EngineError::InvalidRequest(format!(
            "invalid snapshot name `{name}`: expected a file name like `docs-2026-01-02-03-04-05.snapshot`"
        )))
    }
}

/// `<prefix>-YYYY-MM-DD-HH-MM-SS-mmm.snapshot`, UTC.
pub fn new_snapshot_name(prefix: &str) -> String {
    let now = chrono::Utc::now();
    format!(
        "{prefix}-{}.{EXTENSION}",
        now.format("%Y-%m-%d-%H-%M-%S-%3f")
    )
}

/// SHA-256 of everything `reader` yields, hex, with the byte count.
pub fn sha256_of(mut reader: impl Read) -> io::Result<(String, u64)> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut total = 0u64;
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        total += n as u64;
    }
    Ok((hex::encode(hasher.finalize()), total))
}

pub fn sha256_file(path: &Path) -> Result<String> {
    let file = File::open(path).map_err(EngineError::io(path))?;
    sha256_of(BufReader::new(file))
        .map(|(digest, _)| digest)
        .map_err(EngineError::io(path))
}

/// A writer that hashes what passes through it.
struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    written: u64,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.written += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn tar_header(size: u64) -> tar::Header {
    let mut header = tar::Header::new_gnu();
    header.set_size(size);
    header.set_mode(0o644);
    header.set_mtime(0);
    header.set_entry_type(tar::EntryType::Regular);
    header
}

/// Writes `manifest` (its `files` filled in from `sources`) and the sources
/// to `dest` atomically, and `dest.sha256` beside it.
pub(crate) fn write_archive(
    dest: &Path,
    mut manifest: Manifest,
    sources: &[SourceFile],
) -> Result<SnapshotDescription> {
    manifest.files = sources
        .iter()
        .map(|s| {
            let file = File::open(&s.path).map_err(EngineError::io(&s.path))?;
            let (sha256, size) =
                sha256_of(BufReader::new(file).take(s.len)).map_err(EngineError::io(&s.path))?;
            if size != s.len {
                return Err(EngineError::corrupt(
                    &s.path,
                    format!("expected {} bytes, found {size}", s.len),
                ));
            }
            Ok(FileEntry {
                name: s.name.clone(),
                size,
                sha256,
            })
        })
        .collect::<Result<_>>()?;
    let manifest_json = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| EngineError::InvalidRequest(format!("cannot encode manifest: {e}")))?;

    let tmp = dest.with_extension(format!("{EXTENSION}.tmp"));
    let io_err = EngineError::io(&tmp);
    let result = (|| -> io::Result<(String, u64)> {
        let file = File::create(&tmp)?;
        let mut out = HashingWriter {
            inner: io::BufWriter::with_capacity(1 << 20, file),
            hasher: Sha256::new(),
            written: 0,
        };
        {
            let mut builder = tar::Builder::new(&mut out);
            let mut header = tar_header(manifest_json.len() as u64);
            builder.append_data(&mut header, MANIFEST_FILE, manifest_json.as_slice())?;
            for s in sources {
                let file = File::open(&s.path)?;
                let mut header = tar_header(s.len);
                builder.append_data(&mut header, &s.name, BufReader::new(file).take(s.len))?;
            }
            builder.finish()?;
        }
        out.flush()?;
        let HashingWriter {
            inner,
            hasher,
            written,
        } = out;
        let file = inner.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        Ok((hex::encode(hasher.finalize()), written))
    })();
    let (checksum, size) = match result {
        Ok(r) => r,
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            return Err(io_err(e));
        }
    };
    fs::rename(&tmp, dest).map_err(EngineError::io(dest))?;
    write_atomic(&checksum_path(dest), checksum.as_bytes())?;
    if let Some(parent) = dest.parent() {
        sync_dir(parent)?;
    }
    Ok(SnapshotDescription {
        name: file_name(dest),
        creation_time: Some(qdrant_time(&manifest.created_at)),
        size,
        checksum: Some(checksum),
    })
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Qdrant prints creation times without offset or fraction.
fn qdrant_time(rfc3339: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| {
            t.with_timezone(&chrono::Utc)
                .format("%Y-%m-%dT%H:%M:%S")
                .to_string()
        })
        .unwrap_or_else(|_| rfc3339.to_string())
}

pub fn checksum_path(snapshot: &Path) -> PathBuf {
    let mut name = snapshot.as_os_str().to_owned();
    name.push(".sha256");
    PathBuf::from(name)
}

/// Describes a snapshot file from its size, mtime and checksum sidecar.
pub fn describe(path: &Path) -> Result<SnapshotDescription> {
    let meta = fs::metadata(path).map_err(EngineError::io(path))?;
    let creation_time = meta.modified().ok().map(|t| {
        chrono::DateTime::<chrono::Utc>::from(t)
            .format("%Y-%m-%dT%H:%M:%S")
            .to_string()
    });
    let checksum = fs::read_to_string(checksum_path(path))
        .ok()
        .map(|s| s.trim().to_string());
    Ok(SnapshotDescription {
        name: file_name(path),
        creation_time,
        size: meta.len(),
        checksum,
    })
}

/// Snapshots in `dir`, oldest first.
pub fn list_dir(dir: &Path) -> Result<Vec<SnapshotDescription>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(EngineError::io(dir)(e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(EngineError::io(dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if validate_snapshot_name(&name).is_ok() {
            out.push(describe(&entry.path())?);
        }
    }
    out.sort_by(|a, b| (&a.creation_time, &a.name).cmp(&(&b.creation_time, &b.name)));
    Ok(out)
}

/// Deletes a snapshot and its checksum sidecar.
pub fn remove(path: &Path) -> Result<()> {
    fs::remove_file(path).map_err(EngineError::io(path))?;
    let _ = fs::remove_file(checksum_path(path));
    Ok(())
}

/// Checks the archive's overall SHA-256 against `expected` (hex).
pub fn verify_checksum(archive: &Path, expected: &str) -> Result<()> {
    let actual = sha256_file(archive)?;
    if actual.eq_ignore_ascii_case(expected.trim()) {
        Ok(())
    } else {
        Err(bad(
            archive,
            format!("checksum mismatch: expected {expected}, the file has {actual}"),
        ))
    }
}

/// Reads only the manifest (the archive's first entry).
pub fn read_manifest(archive: &Path) -> Result<Manifest> {
    let file = File::open(archive).map_err(EngineError::io(archive))?;
    let mut tar = tar::Archive::new(BufReader::new(file));
    let mut entries = tar
        .entries()
        .map_err(|e| bad(archive, format!("not a snapshot archive: {e}")))?;
    let mut first = entries
        .next()
        .ok_or_else(|| bad(archive, "empty archive"))?
        .map_err(|e| bad(archive, format!("not a snapshot archive: {e}")))?;
    parse_manifest(archive, &mut first)
}

fn parse_manifest(archive: &Path, entry: &mut tar::Entry<impl Read>) -> Result<Manifest> {
    let name = entry
        .path()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    if name != MANIFEST_FILE {
        return Err(bad(
            archive,
            format!("the first entry is `{name}`, expected {MANIFEST_FILE}"),
        ));
    }
    if entry.size() > 64 << 20 {
        return Err(bad(archive, "manifest is implausibly large"));
    }
    let mut json = Vec::new();
    entry
        .read_to_end(&mut json)
        .map_err(|e| bad(archive, format!("cannot read the manifest: {e}")))?;
    // Look at the version before the rest, so a newer format gets the
    // right complaint rather than a parse error.
    let version = serde_json::from_slice::<serde_json::Value>(&json)
        .map_err(|e| bad(archive, format!("manifest is not JSON: {e}")))?
        .get("format_version")
        .and_then(|v| v.as_u64());
    if version != Some(FORMAT_VERSION as u64) {
        return Err(bad(
            archive,
            format!(
                "snapshot format version {}, this build reads version {FORMAT_VERSION}",
                version.map_or("missing".to_string(), |v| v.to_string())
            ),
        ));
    }
    serde_json::from_slice(&json).map_err(|e| bad(archive, format!("invalid manifest: {e}")))
}

/// Extracts `archive` into `target` (created; must not exist), checking the
/// manifest's version and every entry's size and SHA-256. On any error
/// `target` is removed again and nothing else has been touched.
pub fn unpack_verified(archive: &Path, target: &Path) -> Result<Manifest> {
    let result = unpack_inner(archive, target);
    if result.is_err() {
        let _ = fs::remove_dir_all(target);
    }
    result
}

fn unpack_inner(archive: &Path, target: &Path) -> Result<Manifest> {
    fs::create_dir(target).map_err(EngineError::io(target))?;
    let file = File::open(archive).map_err(EngineError::io(archive))?;
    let mut tar = tar::Archive::new(BufReader::new(file));
    let truncated = |e: io::Error| bad(archive, format!("damaged or truncated archive: {e}"));
    let mut entries = tar.entries().map_err(truncated)?;
    let mut first = entries
        .next()
        .ok_or_else(|| bad(archive, "empty archive"))?
        .map_err(truncated)?;
    let manifest = parse_manifest(archive, &mut first)?;
    drop(first);
    let mut seen = Vec::new();
    for entry in entries {
        let mut entry = entry.map_err(truncated)?;
        let name = entry
            .path()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        let Some(listed) = manifest.files.iter().find(|f| f.name == name) else {
            return Err(bad(archive, format!("`{name}` is not in the manifest")));
        };
        if seen.contains(&name) || name.contains('/') || name.starts_with('.') {
            return Err(bad(archive, format!("unexpected entry `{name}`")));
        }
        let dest = target.join(&name);
        let mut out = HashingWriter {
            inner: io::BufWriter::new(File::create(&dest).map_err(EngineError::io(&dest))?),
            hasher: Sha256::new(),
            written: 0,
        };
        io::copy(&mut entry, &mut out).map_err(truncated)?;
        out.flush().map_err(EngineError::io(&dest))?;
        let digest = hex::encode(out.hasher.clone().finalize());
        if out.written != listed.size || digest != listed.sha256 {
            return Err(bad(
                archive,
                format!(
                    "`{name}` does not match the manifest ({} bytes, sha256 {digest}; expected {} bytes, sha256 {})",
                    out.written, listed.size, listed.sha256
                ),
            ));
        }
        let file = out.inner.into_inner().map_err(|e| e.into_error());
        file.and_then(|f| f.sync_all())
            .map_err(EngineError::io(&dest))?;
        seen.push(name);
    }
    if let Some(missing) = manifest.files.iter().find(|f| !seen.contains(&f.name)) {
        return Err(bad(
            archive,
            format!(
                "`{}` is listed but missing (truncated archive?)",
                missing.name
            ),
        ));
    }
    sync_dir(target)?;
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_names_stay_inside_their_directory() {
        assert!(validate_snapshot_name("docs-2026-01-01.snapshot").is_ok());
        for bad in [
            "../x.snapshot",
            "a/b.snapshot",
            ".snapshot",
            ".hidden.snapshot",
            "x.tar",
            "",
        ] {
            assert!(validate_snapshot_name(bad).is_err(), "{bad}");
        }
        assert!(validate_snapshot_name(&new_snapshot_name("docs")).is_ok());
    }
}
