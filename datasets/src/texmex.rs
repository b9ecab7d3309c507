//! TEXMEX vector files: per record a little-endian `i32` dimension `d`, then
//! `d` values: `f32` (fvecs), `i32` (ivecs) or `u8` (bvecs). Every record of a
//! file must have the same `d`.

use std::io::Write;
use std::path::Path;

use crate::{format_err, read, DatasetError, Result, Vectors};

fn records<'a>(path: &Path, bytes: &'a [u8], width: usize) -> Result<(usize, Vec<&'a [u8]>)> {
    let mut out = Vec::new();
    let mut dim = None;
    let mut at = 0;
    while at < bytes.len() {
        let Some(head) = bytes.get(at..at + 4) else {
            return format_err(path, format!("truncated record header at byte {at}"));
        };
        let d = i32::from_le_bytes(head.try_into().expect("4 bytes"));
        if d <= 0 {
            return format_err(path, format!("record at byte {at} has dimension {d}"));
        }
        let d = d as usize;
        if *dim.get_or_insert(d) != d {
            return format_err(
                path,
                format!(
                    "record at byte {at} has dimension {d}, earlier ones {}",
                    dim.unwrap_or(0)
                ),
            );
        }
        let Some(body) = bytes.get(at + 4..at + 4 + d * width) else {
            return format_err(path, format!("truncated record at byte {at}"));
        };
        out.push(body);
        at += 4 + d * width;
    }
    Ok((dim.unwrap_or(0), out))
}

pub fn read_fvecs(path: impl AsRef<Path>) -> Result<Vectors> {
    let path = path.as_ref();
    let bytes = read(path)?;
    let (dim, recs) = records(path, &bytes, 4)?;
    let data = recs
        .iter()
        .flat_map(|r| {
            r.chunks_exact(4)
                .map(|c| f32::from_le_bytes(c.try_into().expect("4")))
        })
        .collect();
    Ok(Vectors { dim, data })
}

/// Reads an ivecs file as rows of ids (ground truth neighbour lists).
pub fn read_ivecs(path: impl AsRef<Path>) -> Result<Vec<Vec<u32>>> {
    let path = path.as_ref();
    let bytes = read(path)?;
    let (_, recs) = records(path, &bytes, 4)?;
    recs.iter()
        .map(|r| {
            r.chunks_exact(4)
                .map(|c| {
                    let v = i32::from_le_bytes(c.try_into().expect("4"));
                    u32::try_from(v).map_err(|_| DatasetError::Format {
                        path: path.to_path_buf(),
                        reason: format!("negative id {v}"),
                    })
                })
                .collect()
        })
        .collect()
}

/// Reads a bvecs file, widening bytes to `f32`.
pub fn read_bvecs(path: impl AsRef<Path>) -> Result<Vectors> {
    let path = path.as_ref();
    let bytes = read(path)?;
    let (dim, recs) = records(path, &bytes, 1)?;
    let data = recs
        .iter()
        .flat_map(|r| r.iter().map(|b| *b as f32))
        .collect();
    Ok(Vectors { dim, data })
}

pub fn write_fvecs(path: impl AsRef<Path>, vectors: &Vectors) -> Result<()> {
    write_records(path.as_ref(), vectors.rows(), |x: &f32| x.to_le_bytes())
}

/// Writes rows of ids (e.g. search results or ground truth) as `.ivecs`.
pub fn write_ivecs(path: impl AsRef<Path>, rows: &[Vec<u32>]) -> Result<()> {
    write_records(path.as_ref(), rows.iter().map(Vec::as_slice), |x: &u32| {
        x.to_le_bytes()
    })
}

fn write_records<'a, T: 'a>(
    path: &Path,
    rows: impl Iterator<Item = &'a [T]>,
    bytes: impl Fn(&T) -> [u8; 4],
) -> Result<()> {
    let io = |source| DatasetError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).map_err(io)?);
    for row in rows {
        out.write_all(&(row.len() as i32).to_le_bytes())
            .map_err(io)?;
        for x in row {
            out.write_all(&bytes(x)).map_err(io)?;
        }
    }
    out.flush().map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fvecs_round_trip_and_bad_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("a.fvecs");
        let v = Vectors {
            dim: 3,
            data: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        };
        write_fvecs(&p, &v).expect("write");
        assert_eq!(read_fvecs(&p).expect("read"), v);
        let bytes = std::fs::read(&p).expect("raw");
        std::fs::write(&p, &bytes[..bytes.len() - 1]).expect("truncate");
        assert!(read_fvecs(&p)
            .expect_err("truncated")
            .to_string()
            .contains("truncated"));
        // ivecs and bvecs share the framing.
        let mut iv = Vec::new();
        for row in [[1i32, 2], [3, 4]] {
            iv.extend_from_slice(&2i32.to_le_bytes());
            row.iter()
                .for_each(|x| iv.extend_from_slice(&x.to_le_bytes()));
        }
        std::fs::write(dir.path().join("g.ivecs"), &iv).expect("write");
        write_ivecs(dir.path().join("w.ivecs"), &[vec![1, 2], vec![3, 4]]).expect("write");
        assert_eq!(std::fs::read(dir.path().join("w.ivecs")).expect("w"), iv);
        assert_eq!(
            read_ivecs(dir.path().join("g.ivecs")).expect("ivecs"),
            vec![vec![1, 2], vec![3, 4]]
        );
        std::fs::write(dir.path().join("b.bvecs"), [2, 0, 0, 0, 7, 9]).expect("write");
        assert_eq!(
            read_bvecs(dir.path().join("b.bvecs")).expect("bvecs").data,
            vec![7.0, 9.0]
        );
    }
}
