//! Dense vector storage: one memory-mapped file per collection, holding
//! fixed-size f32 rows addressed by internal offset.
//!
//! The file is append-only between compactions: a row below the last
//! checkpoint's length is never rewritten, so those rows are covered by the
//! CRC that the checkpoint records. Rows past it were written since and are
//! re-written by WAL replay after a crash, so they need no fsync of their own.
//!
//! Layout: a 64-byte header (magic `CAIRNVEC`, version, dim), then rows.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use memmap2::MmapMut;

use crate::error::{EngineError, Result};

const MAGIC: &[u8; 8] = b"CAIRNVEC";
const VERSION: u32 = 1;
const HEADER: usize = 64;
const MIN_CAPACITY: usize = 64;

/// A read view of the rows stored so far; see [`VectorStorage::rows`].
#[derive(Clone, Copy)]
pub struct Rows<'a> {
    data: &'a [f32],
    dim: usize,
}

impl<'a> Rows<'a> {
    #[inline(always)]
    pub fn get(&self, offset: u32) -> &'a [f32] {
        let start = offset as usize * self.dim;
        &self.data[start..start + self.dim]
    }
}

pub struct VectorStorage {
    path: PathBuf,
    file: File,
    mmap: MmapMut,
    dim: usize,
    len: usize,
    capacity: usize,
}

impl VectorStorage {
    pub fn create(path: &Path, dim: usize) -> Result<Self> {
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
        // SAFETY: the file is private to this collection directory, which the
        // engine's directory lock keeps to one process.
        let mut mmap = unsafe { MmapMut::map_mut(&file) }.map_err(EngineError::io(path))?;
        mmap[..HEADER].copy_from_slice(&header);
        mmap.flush().map_err(EngineError::io(path))?;
        file.sync_all().map_err(EngineError::io(path))?;
        Ok(VectorStorage {
            path: path.to_path_buf(),
            file,
            mmap,
            dim,
            len: 0,
            capacity,
        })
    }

    /// Opens a storage whose first `len` rows are valid and whose CRC over
    /// those rows must equal `crc`.
    pub fn open(path: &Path, dim: usize, len: usize, crc: u32) -> Result<Self> {
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
        // SAFETY: see `create`.
        let mmap = unsafe { MmapMut::map_mut(&file) }.map_err(EngineError::io(path))?;
        let header = &mmap[..HEADER];
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
        let storage = VectorStorage {
            path: path.to_path_buf(),
            file,
            mmap,
            dim,
            len,
            capacity: (size - HEADER) / (dim * 4),
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
        // SAFETY: see `create`; the old map is dropped on assignment and no
        // reference into it outlives `&mut self`.
        self.mmap = unsafe { MmapMut::map_mut(&self.file) }.map_err(EngineError::io(&self.path))?;
        self.capacity = capacity;
        Ok(())
    }

    /// Appends a row (capacity must have been reserved) and returns its offset.
    pub fn push(&mut self, vector: &[f32]) -> u32 {
        debug_assert_eq!(vector.len(), self.dim);
        assert!(self.len < self.capacity, "reserve() before push()");
        let start = HEADER + self.len * self.dim * 4;
        self.mmap[start..start + self.dim * 4].copy_from_slice(bytemuck::cast_slice(vector));
        self.len += 1;
        (self.len - 1) as u32
    }

    #[inline(always)]
    pub fn get(&self, offset: u32) -> &[f32] {
        self.rows().get(offset)
    }

    /// Every stored row as one slice: what a graph walk reads from, so the
    /// map is sliced and cast once per walk and each row costs one bounds
    /// check (rows appended after this call are not in the view).
    pub fn rows(&self) -> Rows<'_> {
        Rows {
            data: bytemuck::cast_slice(&self.mmap[HEADER..HEADER + self.len * self.dim * 4]),
            dim: self.dim,
        }
    }

    /// CRC-32 of rows `[from, to)`, continuing from `crc` of rows `[0, from)`.
    pub fn crc_of_rows(&self, from: usize, to: usize, crc: u32) -> u32 {
        let row = self.dim * 4;
        let mut h = crc32fast::Hasher::new_with_initial(crc);
        h.update(&self.mmap[HEADER + from * row..HEADER + to * row]);
        h.finalize()
    }

    /// Flushes written rows to disk (msync).
    pub fn flush(&self) -> Result<()> {
        self.mmap.flush().map_err(EngineError::io(&self.path))
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

    /// Rows survive several doublings of the file and a reopen, under the
    /// checksum computed before it.
    #[test]
    fn rows_survive_growth_and_reopen() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("vectors.bin");
        let dim = 5;
        let mut s = VectorStorage::create(&path, dim).expect("create");
        for i in 0..300 {
            s.reserve(1).expect("reserve");
            assert_eq!(s.push(&row(i, dim)), i as u32);
        }
        s.flush().expect("flush");
        let crc = s.crc_of_rows(0, 300, 0);
        assert_eq!(s.crc_of_rows(100, 300, s.crc_of_rows(0, 100, 0)), crc);
        drop(s);
        let s = VectorStorage::open(&path, dim, 300, crc).expect("reopen");
        assert_eq!(s.len(), 300);
        for i in [0, 1, 63, 64, 200, 299] {
            assert_eq!(s.get(i as u32), row(i, dim).as_slice());
        }
    }

    #[test]
    fn a_wrong_checksum_dimension_or_length_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("vectors.bin");
        let mut s = VectorStorage::create(&path, 3).expect("create");
        s.reserve(2).expect("reserve");
        s.push(&[1.0, 2.0, 3.0]);
        s.push(&[4.0, 5.0, 6.0]);
        s.flush().expect("flush");
        let crc = s.crc_of_rows(0, 2, 0);
        drop(s);
        assert!(VectorStorage::open(&path, 3, 2, crc ^ 1).is_err());
        assert!(VectorStorage::open(&path, 4, 2, crc).is_err());
        assert!(VectorStorage::open(&path, 3, 1_000, crc).is_err());
        assert!(VectorStorage::open(&path, 3, 2, crc).is_ok());
    }
}
