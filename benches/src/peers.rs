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

/// The flags the harnesses that run `cairn` and Python peers share: where
/// results go and which programs to run.
#[derive(clap::Args, Debug)]
pub struct Tools {
    /// Where the results are written.
    #[arg(long, default_value = "benches/results")]
    pub out: PathBuf,
    /// The `cairn` binary (default: the one beside this binary).
    #[arg(long)]
    pub cairn_bin: Option<PathBuf>,
    /// Python with the peers installed (default: benches/.venv, created on
    /// first use).
    #[arg(long, env = "CAIRN_BENCH_PYTHON")]
    pub python: Option<PathBuf>,
}

impl Tools {
    /// `--python`, or the bench's own venv.
    pub fn python(&self) -> Result<PathBuf> {
        match &self.python {
            Some(p) => Ok(p.clone()),
            None => bench_python(),
        }
    }

    /// `--cairn-bin`, or the `cairn` built beside this binary.
    pub fn cairn_bin(&self) -> Result<PathBuf> {
        let bin = match &self.cairn_bin {
            Some(b) => b.clone(),
            None => std::env::current_exe()?.with_file_name("cairn"),
        };
        if !bin.exists() {
            bail!(
                "{} not found: build it with `cargo build --release -p cairn-server`, or pass --cairn-bin",
                bin.display()
            );
        }
        Ok(bin)
    }
}
