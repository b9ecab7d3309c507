//! The framing shared by the engine's metadata files (checkpoint, graph,
//! points): an 8-byte magic naming the file kind, a format version, the body
//! length and a CRC-32 of the body. A file that fails any check is reported as
//! corrupt, never half-read.
//!
//! Files are replaced atomically: written to `<name>.tmp`, fsync'd, renamed
//! over the target, and the directory fsync'd so the rename itself is durable.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::Path;

use crate::error::{EngineError, Result};

const HEADER_LEN: usize = 8 + 4 + 8 + 4;

/// Writes `body` framed with `magic` and `version` to `path`, atomically.
pub fn write_framed(path: &Path, magic: &[u8; 8], version: u32, body: &[u8]) -> Result<()> {
    let mut bytes = Vec::with_capacity(HEADER_LEN + body.len());
    bytes.extend_from_slice(magic);
    bytes.extend_from_slice(&version.to_le_bytes());
    bytes.extend_from_slice(&(body.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&crc32fast::hash(body).to_le_bytes());
    bytes.extend_from_slice(body);
    write_atomic(path, &bytes)
}

/// Reads and checks a framed file, returning its body.
pub fn read_framed(path: &Path, magic: &[u8; 8], version: u32) -> Result<Vec<u8>> {
    read_framed_versions(path, magic, version..=version).map(|(_, body)| body)
}

/// As [`read_framed`] for a kind with several readable versions; returns
/// the version found with the body.
pub fn read_framed_versions(
    path: &Path,
    magic: &[u8; 8],
    versions: std::ops::RangeInclusive<u32>,
) -> Result<(u32, Vec<u8>)> {
    let mut bytes = fs::read(path).map_err(EngineError::io(path))?;
    if bytes.len() < HEADER_LEN {
        return Err(EngineError::corrupt(
            path,
            "file is shorter than its header",
        ));
    }
    if &bytes[..8] != magic {
        return Err(EngineError::corrupt(
            path,
            "wrong file kind (magic bytes differ)",
        ));
    }
    let found = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
    if !versions.contains(&found) {
        return Err(EngineError::corrupt(
            path,
            format!(
                "format version {found}, this build reads versions {}..={}",
                versions.start(),
                versions.end()
            ),
        ));
    }
    let len = u64::from_le_bytes(bytes[12..20].try_into().expect("8 bytes")) as usize;
    let crc = u32::from_le_bytes(bytes[20..24].try_into().expect("4 bytes"));
    if bytes.len() - HEADER_LEN != len {
        return Err(EngineError::corrupt(
            path,
            format!(
                "body is {} bytes, header says {len}",
                bytes.len() - HEADER_LEN
            ),
        ));
    }
    if crc32fast::hash(&bytes[HEADER_LEN..]) != crc {
        return Err(EngineError::corrupt(path, "checksum mismatch"));
    }
    bytes.drain(..HEADER_LEN);
    Ok((found, bytes))
}

/// Temp file + fsync + rename + directory fsync.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    {
        let mut f = File::create(&tmp).map_err(EngineError::io(&tmp))?;
        f.write_all(bytes).map_err(EngineError::io(&tmp))?;
        f.sync_all().map_err(EngineError::io(&tmp))?;
    }
    fs::rename(&tmp, path).map_err(EngineError::io(path))?;
    sync_parent(path)
}

/// Makes a rename or a create inside `path`'s directory durable.
pub fn sync_parent(path: &Path) -> Result<()> {
    match path.parent() {
        Some(dir) => sync_dir(dir),
        None => Ok(()),
    }
}

pub fn sync_dir(dir: &Path) -> Result<()> {
    let d = OpenOptions::new()
        .read(true)
        .open(dir)
        .map_err(EngineError::io(dir))?;
    d.sync_all().map_err(EngineError::io(dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_every_corruption_is_caught() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("x.bin");
        write_framed(&path, b"CAIRNTST", 3, b"hello").expect("write");
        assert_eq!(read_framed(&path, b"CAIRNTST", 3).expect("read"), b"hello");
        assert!(read_framed(&path, b"CAIRNXXX", 3).is_err());
        assert!(read_framed(&path, b"CAIRNTST", 4).is_err());
        let mut bytes = fs::read(&path).expect("read raw");
        *bytes.last_mut().expect("non-empty") ^= 1;
        fs::write(&path, &bytes).expect("write raw");
        let e = read_framed(&path, b"CAIRNTST", 3).expect_err("flipped bit");
        assert!(e.to_string().contains("checksum"));
        fs::write(&path, &bytes[..bytes.len() - 2]).expect("truncate");
        assert!(read_framed(&path, b"CAIRNTST", 3).is_err());
    }
}
