//! Where the peer programs come from: the bench's own Python venv
//! (`benches/.venv`, pinned by `python/requirements.txt`), created on first
//! use by `scripts/python_env.sh`, never by hand.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};

/// The workspace root (benchmarks run from a checkout).
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// The venv's python, installing the pinned peers first if needed.
pub fn bench_python() -> Result<PathBuf> {
    let root = workspace();
    let out = Command::new(root.join("scripts/python_env.sh"))
        .args(["benches/python/requirements.txt", "benches/.venv"])
        .stderr(Stdio::inherit())
        .output()
        .context("running scripts/python_env.sh")?;
    if !out.status.success() {
        bail!("scripts/python_env.sh could not install the Python peers (see above)");
    }
    Ok(PathBuf::from(String::from_utf8(out.stdout)?.trim()))
}

/// A script under `benches/python/`.
pub fn script(name: &str) -> PathBuf {
    workspace().join("benches/python").join(name)
}
