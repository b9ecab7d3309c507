//! Dense vector storage: one file per collection, holding fixed-size f32
//! rows addressed by internal offset, and served from one of two places:
//!
//! - [`Residence::Memory`] (the default, Qdrant's `on_disk: false`): the rows
//!   live in anonymous memory, and the file is their persisted copy, written
//!   at each [`VectorStorage::flush`]. Measured on 100k×768 (the `ann`
//!   bench's `cairn-mapped` peer, interleaved): 1.03–1.23× the queries/s of
//!   the mapped file over four runs. Advising the rows for transparent huge
//!   pages was tried too and made no difference there (0.94–1.07×).
//! - [`Residence::Mapped`] (`on_disk: true`): the rows are the file,
//!   memory-mapped, so the page cache holds what is hot and a collection
//!   may outgrow RAM.
//!
//! The file is append-only between compactions: a row below the last
//! checkpoint's length is never rewritten, so those rows are covered by the
//! CRC that the checkpoint records. Rows past it were written since and are
//! re-written by WAL replay after a crash, so they need no fsync of their own.
//!
//! Layout: a 64-byte header (magic `CAIRNVEC`, version, dim), then rows.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicUsize, Ordering};

use memmap2::{MmapMut, RemapOptions};

use crate::error::{EngineError, Result};

const MAGIC: &[u8; 8] = b"CAIRNVEC";
const VERSION: u32 = 1;
const HEADER: usize = 64;
const MIN_CAPACITY: usize = 64;

/// Where a [`VectorStorage`] serves its rows from (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Residence {
    Memory,
    Mapped,
}

enum Rows {
    /// The file mapped whole, header included.
    Mapped(MmapMut),
    /// The rows alone (no header), in anonymous memory; `flushed` of them
    /// are in the file too.
    Memory { rows: MmapMut, flushed: AtomicUsize },
}

pub struct VectorStorage {
    path: PathBuf,
    file: File,
    rows: Rows,
    dim: usize,
    len: usize,
    capacity: usize,
}

/// Anonymous memory for `capacity` rows.
fn anonymous(capacity: usize, dim: usize, path: &Path) -> Result<MmapMut> {
    MmapMut::map_anon((capacity * dim * 4).max(1)).map_err(EngineError::io(path))
}

impl VectorStorage {
    pub fn create(path: &Path, dim: usize, residence: Residence) -> Result<Self> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(EngineError::io(path))?;
        let mut header = [0u8; HEADER];
        header[..8].copy_from_slice(MAGIC);
        header[8..12].copy_from_slice(&VERSION.to_le_bytes());
        header[12..16].copy_from_slice(&(dim as u32).to_le_bytes());
        let crc = crc32fast::hash(&header[..16]);
        header[16..20].copy_from_slice(&crc.to_le_bytes());
        let capacity = MIN_CAPACITY;
        file.set_len((HEADER + capacity * dim * 4) as u64)
            .map_err(EngineError::io(path))?;
        file.write_all_at(&header, 0)
            .map_err(EngineError::io(path))?;
        file.sync_all().map_err(EngineError::io(path))?;
        let rows = match residence {
            // SAFETY: the file is private to this collection directory, which
            // the engine's directory lock keeps to one process.
            Residence::Mapped => {
                Rows::Mapped(unsafe { MmapMut::map_mut(&file) }.map_err(EngineError::io(path))?)
            }
            Residence::Memory => Rows::Memory {
                rows: anonymous(capacity, dim, path)?,
                flushed: AtomicUsize::new(0),
            },
        };
        Ok(VectorStorage {
            path: path.to_path_buf(),
            file,
            rows,
            dim,
            len: 0,
            capacity,
        })
    }

    /// Opens a storage whose first `len` rows are valid and whose CRC over
    /// those rows must equal `crc`.
    pub fn open(
        path: &Path,
        dim: usize,
        len: usize,
        crc: u32,
        residence: Residence,
    ) -> Result<Self> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(EngineError::io(path))?;
        let size = file.metadata().map_err(EngineError::io(path))?.len() as usize;
        if size < HEADER + len * dim * 4 {
            return Err(EngineError::corrupt(
                path,
                format!("file holds fewer than the {len} vectors the checkpoint lists"),
            ));
        }
        let mut header = [0u8; HEADER];
        file.read_exact_at(&mut header, 0)
            .map_err(EngineError::io(path))?;
        if &header[..8] != MAGIC
            || crc32fast::hash(&header[..16])
                != u32::from_le_bytes(header[16..20].try_into().expect("4"))
        {
            return Err(EngineError::corrupt(path, "bad vector file header"));
        }
        let version = u32::from_le_bytes(header[8..12].try_into().expect("4"));
        if version != VERSION {
            return Err(EngineError::corrupt(
                path,
                format!("vector format version {version}"),
            ));
        }
        let stored_dim = u32::from_le_bytes(header[12..16].try_into().expect("4")) as usize;
        if stored_dim != dim {
            return Err(EngineError::corrupt(
                path,
                format!("file dim {stored_dim}, config dim {dim}"),
            ));
        }
        let capacity = (size - HEADER) / (dim * 4);
        let rows = match residence {
            // SAFETY: see `create`.
            Residence::Mapped => {
                Rows::Mapped(unsafe { MmapMut::map_mut(&file) }.map_err(EngineError::io(path))?)
            }
            Residence::Memory => {
                let mut rows = anonymous(capacity, dim, path)?;
                file.read_exact_at(&mut rows[..len * dim * 4], HEADER as u64)
                    .map_err(EngineError::io(path))?;
                Rows::Memory {
                    rows,
                    flushed: AtomicUsize::new(len),
                }
            }
        };
        let storage = VectorStorage {
            path: path.to_path_buf(),
            file,
            rows,
            dim,
            len,
            capacity,
        };
        if storage.crc_of_rows(0, len, 0) != crc {
            return Err(EngineError::corrupt(path, "vector checksum mismatch"));
        }
        Ok(storage)
    }

    pub fn len(&self) -> usize {
        self.len
    }

    /// Ensures `additional` more rows fit, growing the file by doubling.
    /// Done before a write is logged so that applying it cannot fail.
    pub fn reserve(&mut self, additional: usize) -> Result<()> {
        let needed = self.len + additional;
        if needed <= self.capacity {
            return Ok(());
        }
        let capacity = needed.max(self.capacity * 2).max(MIN_CAPACITY);
        self.file
            .set_len((HEADER + capacity * self.dim * 4) as u64)
            .map_err(EngineError::io(&self.path))?;
        let path = &self.path;
        match &mut self.rows {
            // SAFETY: see `create`; the old map is dropped on assignment and
            // no reference into it outlives `&mut self`.
            Rows::Mapped(map) => {
                *map = unsafe { MmapMut::map_mut(&self.file) }.map_err(EngineError::io(path))?
            }
            // mremap moves the pages rather than copying them, so growing
            // never holds two copies. SAFETY: as above, no reference into
            // the old address outlives `&mut self`.
            Rows::Memory { rows, .. } => {
                let bytes = capacity * self.dim * 4;
                unsafe { rows.remap(bytes, RemapOptions::new().may_move(true)) }
                    .map_err(EngineError::io(path))?;
            }
        }
        self.capacity = capacity;
        Ok(())
    }

    /// Appends a row (capacity must have been reserved) and returns its offset.
    pub fn push(&mut self, vector: &[f32]) -> u32 {
        debug_assert_eq!(vector.len(), self.dim);
        assert!(self.len < self.capacity, "reserve() before push()");
        let (start, row) = (self.len * self.dim * 4, self.dim * 4);
        self.bytes_mut()[start..start + row].copy_from_slice(bytemuck::cast_slice(vector));
        self.len += 1;
        (self.len - 1) as u32
    }

    #[inline(always)]
    pub fn get(&self, offset: u32) -> &[f32] {
        let start = offset as usize * self.dim * 4;
        bytemuck::cast_slice(&self.bytes()[start..start + self.dim * 4])
    }

    /// The rows' bytes, from row 0 to capacity.
    #[inline(always)]
    fn bytes(&self) -> &[u8] {
        match &self.rows {
            Rows::Mapped(map) => &map[HEADER..],
            Rows::Memory { rows, .. } => rows,
        }
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        match &mut self.rows {
            Rows::Mapped(map) => &mut map[HEADER..],
            Rows::Memory { rows, .. } => rows,
        }
    }

    /// CRC-32 of rows `[from, to)`, continuing from `crc` of rows `[0, from)`.
    pub fn crc_of_rows(&self, from: usize, to: usize, crc: u32) -> u32 {
        let row = self.dim * 4;
        let mut h = crc32fast::Hasher::new_with_initial(crc);
        h.update(&self.bytes()[from * row..to * row]);
        h.finalize()
    }

    /// Makes every pushed row durable in the file: msync for a mapped
    /// file; for resident rows, writes those not yet in the file, then
    /// fsyncs it.
    pub fn flush(&self) -> Result<()> {
        let io = EngineError::io(&self.path);
        match &self.rows {
            Rows::Mapped(map) => map.flush().map_err(io),
            Rows::Memory { rows, flushed } => {
                let row = self.dim * 4;
                let from = flushed.load(Ordering::Acquire);
                if from < self.len {
                    self.file
                        .write_all_at(
                            &rows[from * row..self.len * row],
                            (HEADER + from * row) as u64,
                        )
                        .and_then(|()| self.file.sync_data())
                        .map_err(io)?;
                    flushed.store(self.len, Ordering::Release);
                }
                Ok(())
            }
        }
    }

    /// Bytes of the file that hold the header and the first `rows` rows.
    pub fn bytes_for_rows(&self, rows: usize) -> u64 {
        (HEADER + rows * self.dim * 4) as u64
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(i: usize, dim: usize) -> Vec<f32> {
        (0..dim).map(|j| (i * dim + j) as f32 * 0.5).collect()
    }

    /// Both residences grow past several doublings, persist at `flush`, and
    /// reopen to the same rows under the same checksum.
    #[test]
    fn rows_survive_growth_flush_and_reopen_in_both_residences() {
        for residence in [Residence::Memory, Residence::Mapped] {
            let dir = tempfile::tempdir().expect("tempdir");
            let path = dir.path().join("vectors.bin");
            let dim = 5;
            let mut s = VectorStorage::create(&path, dim, residence).expect("create");
            for i in 0..300 {
                s.reserve(1).expect("reserve");
                assert_eq!(s.push(&row(i, dim)), i as u32);
            }
            s.flush().expect("flush");
            // Rows pushed after the last flush are the WAL's to restore.
            s.reserve(1).expect("reserve");
            s.push(&row(999, dim));
            let crc = s.crc_of_rows(0, 300, 0);
            drop(s);
            let s = VectorStorage::open(&path, dim, 300, crc, residence).expect("reopen");
            assert_eq!(s.len(), 300, "{residence:?}");
            for i in [0, 1, 63, 64, 200, 299] {
                assert_eq!(s.get(i as u32), row(i, dim).as_slice(), "{residence:?}");
            }
            // The file is the same whichever residence wrote it.
            let other = match residence {
                Residence::Memory => Residence::Mapped,
                Residence::Mapped => Residence::Memory,
            };
            drop(s);
            let s = VectorStorage::open(&path, dim, 300, crc, other).expect("cross-open");
            assert_eq!(s.get(299), row(299, dim).as_slice());
        }
    }

    #[test]
    fn a_wrong_checksum_or_dimension_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("vectors.bin");
        let mut s = VectorStorage::create(&path, 3, Residence::Memory).expect("create");
        s.reserve(2).expect("reserve");
        s.push(&[1.0, 2.0, 3.0]);
        s.push(&[4.0, 5.0, 6.0]);
        s.flush().expect("flush");
        let crc = s.crc_of_rows(0, 2, 0);
        drop(s);
        for residence in [Residence::Memory, Residence::Mapped] {
            assert!(VectorStorage::open(&path, 3, 2, crc ^ 1, residence).is_err());
            assert!(VectorStorage::open(&path, 4, 2, crc, residence).is_err());
            assert!(VectorStorage::open(&path, 3, 2, crc, residence).is_ok());
        }
    }
}
