//! The write-ahead log: every write is appended and fsync'd here before it is
//! applied or acknowledged, and replayed on open.
//!
//! Layout: a 16-byte header (magic `CAIRNWAL`, format version, CRC of both),
//! then records `[len: u32][crc: u32][seq: u64][bincode(Operation)]`, where
//! `len` and `crc` cover `seq` and the body. One record holds one whole write
//! (an upsert batch included), so a torn record at the tail — the only kind a
//! crash can leave — drops that write entirely: batches are all or nothing.
//!
//! A failed append is cut back off the file; if even that fails, the log
//! refuses further writes rather than risk appending after garbage.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::error::{EngineError, Result};
use crate::file_format::write_atomic;
use crate::operation::Operation;

const MAGIC: &[u8; 8] = b"CAIRNWAL";
const VERSION: u32 = 1;
const HEADER: u64 = 16;
const RECORD_HEADER: usize = 8;
/// Larger records are treated as corruption rather than allocated.
const MAX_RECORD: usize = 1 << 31;

pub struct Wal {
    path: PathBuf,
    file: File,
    len: u64,
    poisoned: bool,
}

fn header() -> [u8; HEADER as usize] {
    let mut h = [0u8; HEADER as usize];
    h[..8].copy_from_slice(MAGIC);
    h[8..12].copy_from_slice(&VERSION.to_le_bytes());
    let crc = crc32fast::hash(&h[..12]);
    h[12..16].copy_from_slice(&crc.to_le_bytes());
    h
}

impl Wal {
    /// Creates (or atomically replaces with) an empty log.
    pub fn create(path: &Path) -> Result<Wal> {
        write_atomic(path, &header())?;
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(EngineError::io(path))?;
        Ok(Wal {
            path: path.to_path_buf(),
            file,
            len: HEADER,
            poisoned: false,
        })
    }

    /// Opens a log and returns its intact records in order. A torn or
    /// damaged tail is cut off (it was never acknowledged).
    pub fn open(path: &Path) -> Result<(Wal, Vec<(u64, Operation)>)> {
        let bytes = std::fs::read(path).map_err(EngineError::io(path))?;
        if bytes.len() < HEADER as usize || bytes[..HEADER as usize] != header() {
            return Err(EngineError::corrupt(
                path,
                "bad WAL header (wrong kind or version)",
            ));
        }
        let mut records = Vec::new();
        let mut at = HEADER as usize;
        while let Some((seq, op, next)) = read_record(&bytes, at) {
            records.push((seq, op));
            at = next;
        }
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(EngineError::io(path))?;
        if at < bytes.len() {
            tracing::warn!(
                path = %path.display(),
                dropped_bytes = bytes.len() - at,
                "cutting off an incomplete WAL tail left by a crash"
            );
            file.set_len(at as u64).map_err(EngineError::io(path))?;
            file.sync_all().map_err(EngineError::io(path))?;
        }
        Ok((
            Wal {
                path: path.to_path_buf(),
                file,
                len: at as u64,
                poisoned: false,
            },
            records,
        ))
    }

    /// Appends one record and fsyncs it. Only after this returns Ok may the
    /// write be applied and acknowledged.
    pub fn append(&mut self, seq: u64, op: &Operation) -> Result<()> {
        if self.poisoned {
            return Err(EngineError::io(&self.path)(std::io::Error::other(
                "the WAL failed earlier and refuses writes; restart Cairn to recover",
            )));
        }
        let body = bincode::serialize(op)
            .map_err(|e| EngineError::InvalidRequest(format!("cannot encode the write: {e}")))?;
        let mut rec = Vec::with_capacity(RECORD_HEADER + 8 + body.len());
        rec.extend_from_slice(&((8 + body.len()) as u32).to_le_bytes());
        rec.extend_from_slice(&[0; 4]);
        rec.extend_from_slice(&seq.to_le_bytes());
        rec.extend_from_slice(&body);
        let crc = crc32fast::hash(&rec[RECORD_HEADER..]);
        rec[4..8].copy_from_slice(&crc.to_le_bytes());
        let written = self
            .file
            .write_all_at(&rec, self.len)
            .and_then(|_| self.file.sync_data());
        if let Err(e) = written {
            // Cut the partial record off so later appends follow good data.
            if self
                .file
                .set_len(self.len)
                .and_then(|_| self.file.sync_all())
                .is_err()
            {
                self.poisoned = true;
            }
            return Err(EngineError::io(&self.path)(e));
        }
        self.len += rec.len() as u64;
        Ok(())
    }

    /// Bytes of records since the log was last reset.
    pub fn bytes(&self) -> u64 {
        self.len - HEADER
    }

    /// Empties the log after a checkpoint made its records redundant.
    pub fn reset(&mut self) -> Result<()> {
        *self = Wal::create(&self.path)?;
        Ok(())
    }
}

fn read_record(bytes: &[u8], at: usize) -> Option<(u64, Operation, usize)> {
    let head = bytes.get(at..at + RECORD_HEADER)?;
    let len = u32::from_le_bytes(head[..4].try_into().ok()?) as usize;
    let crc = u32::from_le_bytes(head[4..8].try_into().ok()?);
    if !(8..MAX_RECORD).contains(&len) {
        return None;
    }
    let body = bytes.get(at + RECORD_HEADER..at + RECORD_HEADER + len)?;
    if crc32fast::hash(body) != crc {
        return None;
    }
    let seq = u64::from_le_bytes(body[..8].try_into().ok()?);
    let op = bincode::deserialize(&body[8..]).ok()?;
    Some((seq, op, at + RECORD_HEADER + len))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::PointId;

    #[test]
    fn torn_tail_is_cut_and_appends_continue() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("wal.log");
        let mut wal = Wal::create(&path).expect("create");
        wal.append(1, &Operation::Delete(vec![PointId::Num(1)]))
            .expect("append");
        wal.append(2, &Operation::Delete(vec![PointId::Num(2)]))
            .expect("append");
        drop(wal);
        let full = std::fs::read(&path).expect("read");
        std::fs::write(&path, &full[..full.len() - 3]).expect("tear");
        let (mut wal, records) = Wal::open(&path).expect("open");
        assert_eq!(records.iter().map(|r| r.0).collect::<Vec<_>>(), vec![1]);
        wal.append(3, &Operation::Delete(vec![PointId::Num(3)]))
            .expect("append");
        drop(wal);
        let (_, records) = Wal::open(&path).expect("reopen");
        assert_eq!(records.iter().map(|r| r.0).collect::<Vec<_>>(), vec![1, 3]);
    }
}
