//! NumPy `.npy` matrices of little-endian float32 in C order (format
//! versions 1.0, 2.0 and 3.0). Other dtypes are refused with a clear error.

use std::path::Path;

use crate::{format_err, read, Result, Vectors};

pub fn read_npy_f32(path: impl AsRef<Path>) -> Result<Vectors> {
    let path = path.as_ref();
    let bytes = read(path)?;
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return format_err(path, "not a .npy file (bad magic)");
    }
    let (header_len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes(bytes[8..12].try_into().expect("4")) as usize,
            12,
        ),
        v => return format_err(path, format!("unsupported .npy version {v}")),
    };
    let Some(header) = bytes.get(start..start + header_len) else {
        return format_err(path, "truncated header");
    };
    let header = String::from_utf8_lossy(header);
    let field = |name: &str| -> Option<String> {
        let at = header.find(&format!("'{name}'"))? + name.len() + 2;
        let rest = header[at..].trim_start().strip_prefix(':')?.trim_start();
        let end = if rest.starts_with('(') {
            rest.find(')')? + 1
        } else {
            rest.find(',')?
        };
        Some(rest[..end].trim().to_string())
    };
    if field("descr").as_deref() != Some("'<f4'") {
        return format_err(
            path,
            format!(
                "dtype {:?} is not little-endian float32 ('<f4')",
                field("descr")
            ),
        );
    }
    if field("fortran_order").as_deref() != Some("False") {
        return format_err(path, "Fortran-order arrays are not supported");
    }
    let shape: Vec<usize> = match field("shape") {
        Some(s) => s
            .trim_matches(|c| c == '(' || c == ')')
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| p.parse().map_err(|_| ()))
            .collect::<std::result::Result<_, _>>()
            .or_else(|_| format_err(path, format!("bad shape {s}")))?,
        None => return format_err(path, "header has no shape"),
    };
    let (rows, dim) = match shape[..] {
        [n] => (n, 1),
        [n, d] => (n, d),
        _ => {
            return format_err(
                path,
                format!("expected a 1-D or 2-D array, shape is {shape:?}"),
            )
        }
    };
    let body = &bytes[start + header_len..];
    if body.len() != rows * dim * 4 {
        return format_err(
            path,
            format!(
                "data is {} bytes, shape needs {}",
                body.len(),
                rows * dim * 4
            ),
        );
    }
    let data = body
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().expect("4")))
        .collect();
    Ok(Vectors { dim, data })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn npy(descr: &str, shape: &str, data: &[f32]) -> Vec<u8> {
        let mut header =
            format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
        while (10 + header.len() + 1) % 64 != 0 {
            header.push(' ');
        }
        header.push('\n');
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        out.extend_from_slice(&(header.len() as u16).to_le_bytes());
        out.extend_from_slice(header.as_bytes());
        data.iter()
            .for_each(|x| out.extend_from_slice(&x.to_le_bytes()));
        out
    }

    #[test]
    fn reads_float32_matrices_and_refuses_others() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("m.npy");
        std::fs::write(&p, npy("<f4", "(2, 3)", &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0])).expect("write");
        let v = read_npy_f32(&p).expect("read");
        assert_eq!((v.len(), v.dim), (2, 3));
        assert_eq!(v.row(1), &[4.0, 5.0, 6.0]);
        std::fs::write(&p, npy("<f8", "(1, 1)", &[1.0, 2.0])).expect("write");
        assert!(read_npy_f32(&p)
            .expect_err("f8")
            .to_string()
            .contains("float32"));
        std::fs::write(&p, npy("<f4", "(3, 3)", &[1.0])).expect("write");
        assert!(read_npy_f32(&p).is_err());
    }
}
